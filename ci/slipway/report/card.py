"""The model card of a champion: what it is for, the data that made it, its gate, who promoted it.

`deploy` builds it under the registry lock, logs it to the version's run in MLflow and tags the
version with its URI before anything moves; reports/card/ gets its copy only after the move. Every
value read from the registry is hostile input: clipped, then escaped for Markdown or HTML.
"""

from __future__ import annotations

import html
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slipway.contract import CONTRACT_FILE, Contract
from slipway.errors import SlipwayError, first_line
from slipway.gates.names import DATA_MD5, GATE_TAG
from slipway.gates.record import Event
from slipway.registry import PROJECT_TAG, Registry, Version
from slipway.report import page, paths, prose

CARD_DIR = paths.CARD_DIR
MARKDOWN, HTML = paths.CARD_MARKDOWN, paths.CARD_HTML
INTENDED_USE = "docs/intended-use.md"
UNFILLED = "<!-- slipway: fill in, then delete this line -->"  # the template's marker in INTENDED_USE
CARD_TAG = "slipway.model_card"  # on the version: the URI of its card's Markdown in MLflow
ARTIFACT_PATH = "model-card"  # in the version's run, one folder per version (a run may have several)
MAX_TEXT = 2048  # characters kept of any one value from the registry
MAX_ROWS = 50  # entries kept of any list from the registry
MAX_PROSE = 32_000  # characters kept of the intended-use file
MAX_JSON = 65_536  # a longer gate record is not parsed


@dataclass(frozen=True)
class Section:
    """One titled table of the card; `note` is a line above it (why it is empty, where it came from)."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Card:
    """Everything a card shows, as text not yet escaped."""

    model: str
    version: str
    summary: str  # one sentence: champion since when, replacing which version
    intended_use: str  # the project's Markdown, verbatim but for its title and HTML comments
    warning: str  # "" when the intended use is filled in
    sections: tuple[Section, ...]

    @property
    def title(self) -> str:
        return f"Model card: {self.model} version {self.version}"


@dataclass(frozen=True)
class StagedCard:
    """A card written to a staging folder and logged to MLflow, not yet in reports/card/."""

    folder: Path
    uri: str  # where MLflow keeps the Markdown (the version's `slipway.model_card` tag)
    warning: str

    def publish(self, root: Path) -> None:
        """Move the card into `root/reports/card/`, each file replaced whole."""
        target = root / CARD_DIR
        try:
            target.mkdir(parents=True, exist_ok=True)
            for name in (MARKDOWN, HTML):
                part = target / f".{name}.part"
                shutil.copyfile(self.folder / name, part)
                os.replace(part, target / name)
        except OSError as exc:
            raise SlipwayError(
                f"the model card is in MLflow ({self.uri}) but not in {CARD_DIR}: {first_line(exc)}"
            ) from None


# ---- facts, from the registry (hostile) and the project (its own files) ----------------------------


def clip(value: object, limit: int = MAX_TEXT) -> str:
    """A value as text of at most about `limit` characters, saying how much was cut."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def _number(value: Any, signed: bool = False) -> str:
    """A number from the registry for people; "n/a" for anything else (text, null, 1e999, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    try:
        number = float(value)  # JSON integers may be too large for a float
    except OverflowError:
        return "n/a"
    if signed and math.isfinite(number):
        return f"{number:+.4g}"
    return page.fmt(number, 4)


def _capped(rows: Sequence[tuple[str, ...]], what: str) -> tuple[tuple[str, ...], ...]:
    if len(rows) <= MAX_ROWS:
        return tuple(rows)
    width = len(rows[0])
    return (*rows[:MAX_ROWS], (f"… and {len(rows) - MAX_ROWS} more {what}", *[""] * (width - 1)))


def intended_use(root: Path) -> tuple[str, str]:
    """The project's intended use (Markdown) and a warning when it is missing or still the prompts."""
    path = root / INTENDED_USE
    if not path.is_file():
        return (
            "",
            f"intended use not written: add {INTENDED_USE} (`nox -s template-update` brings its prompts)",
        )
    text = clip(path.read_text(errors="replace"), MAX_PROSE)
    warning = f"intended use not filled in: edit {INTENDED_USE}" if UNFILLED in text else ""
    lines = prose.without_comments(text).strip().splitlines()
    if lines and lines[0].startswith("# "):  # the file's own title: the card has its own
        lines = lines[1:]
    return "\n".join(lines).strip(), warning


def gate_sections(tag: str | None) -> tuple[Section, Section]:
    """Holdout metrics, and the paired-bootstrap comparisons with their intervals, from `slipway.gate`."""
    metrics_header = ("metric", "holdout value")
    compare_header = ("against", "metric", "reference", "this model", "improvement", "interval")
    problem = ""
    data: Any = None
    if tag is None:
        problem = f"no {GATE_TAG} tag on the version: evaluate recorded no metrics for it"
    elif len(tag) > MAX_JSON:
        problem = f"the {GATE_TAG} tag is {len(tag)} characters long: not read"
    else:
        try:
            data = json.loads(tag)
        except (ValueError, RecursionError):
            problem = f"the {GATE_TAG} tag is not JSON"
    if problem or not isinstance(data, dict):
        problem = problem or f"the {GATE_TAG} tag is not a JSON object"
        return Section("Metrics", metrics_header, (), problem), Section("Comparisons", compare_header, ())
    metrics = data.get("metrics")
    rows = [(clip(k), _number(v)) for k, v in metrics.items()] if isinstance(metrics, dict) else []
    primary = data.get("primary_metric")
    note = f"on the holdout; the gate's primary metric is {clip(primary)}" if primary else "on the holdout"
    comparisons = []
    for label, key in (("naive baseline", "baseline_comparison"), ("champion it replaced", "comparison")):
        found = data.get(key)
        if isinstance(found, dict):
            interval = f"[{_number(found.get('low'), True)}, {_number(found.get('high'), True)}]"
            comparisons.append(
                (
                    label,
                    clip(found.get("metric", "")),
                    _number(found.get("reference")),
                    _number(found.get("candidate")),
                    _number(found.get("improvement"), True),
                    interval,
                )
            )
    return (
        Section("Metrics", metrics_header, _capped(rows, "metrics"), note),
        Section(
            "Comparisons",
            compare_header,
            tuple(comparisons),
            "paired bootstrap on the same holdout rows; the interval is the improvement's"
            if comparisons
            else "evaluate compared this model with nothing",
        ),
    )


def _lock_entries(root: Path) -> list[dict[str, Any]]:
    """Every dep and out of dvc.lock (none when there is no readable lock file)."""
    try:
        lock = yaml.safe_load((root / "dvc.lock").read_text())
    except (OSError, yaml.YAMLError):
        return []
    stages = lock.get("stages") if isinstance(lock, dict) else None
    if not isinstance(stages, dict):
        return []
    return [
        entry
        for stage in stages.values()
        if isinstance(stage, dict)
        for kind in ("deps", "outs")
        for entry in stage.get(kind) or []
        if isinstance(entry, dict) and isinstance(entry.get("path"), str)
    ]


def _holds(out: str, table: str) -> bool:
    return table == out or table.startswith(out.rstrip("/") + "/")


def data_versions(root: Path, version: Version, tables: Iterable[str]) -> Section:
    """The data's hashes: what the training run read (its `data_md5.*` tags) and, from dvc.lock, the
    DVC-tracked inputs (those with a .dvc pointer) and the outputs holding the training and holdout tables."""
    rows = [
        (clip(key.removeprefix(DATA_MD5)), clip(value), "training run")
        for key, value in sorted(version.tags.items())
        if key.startswith(DATA_MD5)
    ]
    tables = list(tables)
    seen = {(row[0], row[1]): index for index, row in enumerate(rows)}
    for entry in _lock_entries(root):
        path = entry["path"]
        if not ((root / f"{path}.dvc").is_file() or any(_holds(path, t) for t in tables)):
            continue
        key = (clip(path), clip(entry.get("md5") or entry.get("etag") or "?"))
        if key not in seen:
            seen[key] = len(rows)
            rows.append((*key, "dvc.lock"))
        elif rows[seen[key]][2] == "training run":  # the same file and content: both agree
            rows[seen[key]] = (*key, "training run and dvc.lock")
    note = "MD5 as DVC computes it (a folder's ends in .dir)" if rows else "no data hashes recorded"
    return Section("Data versions", ("path", "md5", "from"), _capped(rows, "paths"), note)


def table_rows(root: Path, tables: dict[str, str]) -> Section:
    """Rows of the training and holdout tables, as they are in this commit's workspace."""
    from slipway.contract.coerce import read_table

    rows = []
    for role, relative in tables.items():
        try:
            count = f"{len(read_table(root / relative)):,}"
        except SlipwayError:
            count = "missing or unreadable"
        rows.append((role, relative, count))
    return Section("Training data", ("table", "path", "rows"), tuple(rows))


def contract_summary(contract: Contract, root: Path) -> Section:
    """Task, target, classes or range, and the features by type, from the project's contract."""
    target = contract.target
    rows = [("task", contract.task), ("target", f"{target.name} ({target.type})")]
    if contract.is_classification:
        rows.append(("classes", ", ".join(map(str, contract.labels))))
    elif target.range is not None:
        rows.append(("target range", f"{page.fmt(target.range[0])} to {page.fmt(target.range[1])}"))
    by_type = Counter(c.type for c in contract.features)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(by_type.items()))
    rows.append(("features", f"{len(contract.features)} ({kinds})" if kinds else "0"))
    left_out = Counter(c.role for c in contract.columns if c.role != "feature")
    if left_out:
        rows.append(
            ("not seen by the model", ", ".join(f"{n} {role}" for role, n in sorted(left_out.items())))
        )
    digest = next((e.get("md5") for e in _lock_entries(root) if e["path"] == CONTRACT_FILE), None)
    if digest:
        rows.append((f"{CONTRACT_FILE} md5", str(digest)))
    return Section("Data contract", ("fact", "value"), tuple((k, clip(v)) for k, v in rows))


def promotion(event: Event) -> Section:
    return Section(
        "Promotion",
        ("fact", "value"),
        (
            ("promoted at (UTC)", clip(event.at)),
            ("by", clip(event.by)),
            ("replaced", f"version {clip(event.previous)}" if event.previous else "none: the first champion"),
        ),
    )


def lineage(version: Version) -> Section:
    tags = version.tags
    dirty = {"true": " (uncommitted changes)", "false": ""}.get(tags.get("git_dirty", ""), "")
    rows = (
        ("model", clip(version.name)),
        ("version", clip(version.version)),
        ("git commit", clip(tags.get("git_commit", "-")) + dirty),
        ("params hash", clip(tags.get("params_hash", "-"))),
        ("MLflow run", clip(version.run_id or "-")),
        ("model source", clip(version.source)),
        ("project", clip(tags.get(PROJECT_TAG, "-"))),
    )
    return Section("Lineage", ("fact", "value"), rows)


def build(root: Path, contract: Contract, tables: dict[str, str], version: Version, event: Event) -> Card:
    """The card of `version`, promoted by `event`; `tables` maps a role (training, holdout) to its path."""
    text, warning = intended_use(root)
    metrics, comparisons = gate_sections(version.tags.get(GATE_TAG))
    replaced = f", replacing version {clip(event.previous)}" if event.previous else ", the first champion"
    return Card(
        model=clip(version.name, 200),
        version=clip(version.version, 50),
        summary=f"Champion since {clip(event.at, 40)} (UTC), promoted by {clip(event.by, 200)}{replaced}.",
        intended_use=text,
        warning=warning,
        sections=(
            table_rows(root, tables),
            data_versions(root, version, tables.values()),
            contract_summary(contract, root),
            metrics,
            comparisons,
            promotion(event),
            lineage(version),
        ),
    )


# ---- pages ------------------------------------------------------------------------------------------

LEFT_ALIGNED = "<style>td,th{text-align:left!important}</style>"  # a card's tables hold text, not figures


def markdown(card: Card) -> str:
    """The card as GitHub-flavoured Markdown; the intended use is the project's own Markdown, as written."""
    parts = [f"# {page.md_escape(card.title)}"]
    if card.warning:
        parts.append(f"> **Warning:** {page.md_escape(card.warning)}")
    parts += [page.md_escape(card.summary), card.intended_use or "_No intended use written._"]
    for section in card.sections:
        parts.append(f"## {page.md_escape(section.title)}")
        if section.note:
            parts.append(f"_{page.md_escape(section.note)}_")
        if section.rows:
            parts.append(page.md_table(section.header, section.rows))
    return "\n\n".join(parts) + "\n"


def html_page(card: Card) -> str:
    """The card as one self-contained HTML page (page.document), every value escaped."""
    parts = [LEFT_ALIGNED]
    if card.warning:
        parts.append(f'<p class="verdict fail">Warning: {html.escape(card.warning)}</p>')
    parts += [
        f"<p>{html.escape(card.summary)}</p>",
        prose.to_html(card.intended_use) or "<p>No intended use written.</p>",
    ]
    for section in card.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.note:
            parts.append(f"<p><em>{html.escape(section.note)}</em></p>")
        if section.rows:
            parts.append(page.html_table(section.header, section.rows))
    return page.document(card.title, "\n".join(parts))


# ---- MLflow -----------------------------------------------------------------------------------------


def artifact_uri(version: Version) -> str:
    return f"runs:/{version.run_id}/{ARTIFACT_PATH}/version-{version.version}/{MARKDOWN}"


def stage(card: Card, registry: Registry, version: Version, folder: Path) -> StagedCard:
    """Write the card's pages to `folder`, log them to the version's run and tag the version with the
    Markdown's URI; a failure is one line and leaves no tag."""
    files = [folder / MARKDOWN, folder / HTML]
    try:
        files[0].write_text(markdown(card), encoding="utf-8")
        files[1].write_text(html_page(card), encoding="utf-8")
    except OSError as exc:
        raise SlipwayError(f"the model card could not be written: {first_line(exc)}") from None
    registry.log_artifacts(version.run_id, files, f"{ARTIFACT_PATH}/version-{version.version}")
    uri = artifact_uri(version)
    registry.set_tag(version.version, CARD_TAG, uri)
    return StagedCard(folder, uri, card.warning)


def restore(root: Path, registry: Registry, version: Version) -> str:
    """Put the card of `version` (champion again after a rollback) back in reports/card/.

    Only the card deploy logged for that version is fetched (the path is ours, not the tag's); a
    version without one leaves reports/card/ empty rather than showing another version's card.
    Returns a line for the log.
    """
    if version.tags.get(CARD_TAG) != artifact_uri(version):
        for name in (MARKDOWN, HTML):
            (root / CARD_DIR / name).unlink(missing_ok=True)
        return f"version {version.version} has no model card (promoted before cards): {CARD_DIR}/ emptied"
    with tempfile.TemporaryDirectory(prefix="slipway-card-") as staging:
        folder = registry.download_artifacts(
            version.run_id, f"{ARTIFACT_PATH}/version-{version.version}", Path(staging)
        )
        StagedCard(folder, artifact_uri(version), "").publish(root)
    return f"model card of version {version.version} restored in {CARD_DIR}/"
