"""The gate report `slipway evaluate` writes: reports/gate/report.md, report.html and their PNG plots.

Top to bottom: the verdict in one sentence, every bootstrap metric of the task for the candidate,
the champion and the naive baseline with the paired-bootstrap interval of each difference, the
gate's checks, plots, and a data summary. Every interval uses the gate run's one draw of resamples,
so the primary metric's row is the verdict's own interval. The Markdown links the plots as files
next to it; the HTML inlines them (see `slipway.report.page`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slipway.config import GatesConfig
from slipway.contract import Contract
from slipway.gates.checks import HEADER, Check
from slipway.gates.compare import Bootstrapped, Comparison, Resamples, compare
from slipway.gates.metrics import Array, metrics_for
from slipway.report import gate_plots, paths
from slipway.report.page import figure_tag, html_table, link_images, md_escape, md_table, styled_document

DIRECTORY = Path(paths.GATE_DIR)
MARKDOWN = paths.GATE_MARKDOWN
HTML = paths.GATE_HTML
TITLE = "Evaluation gate"
# Plots at their own pixel size, side by side while they fit (the shared grid squeezes wide ones);
# numbers and intervals never wrap inside a cell.
STYLE = """
.plots{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.plots img{width:auto;max-width:100%}
.plots figure{display:table}.plots figcaption{display:table-caption;caption-side:bottom}
td{white-space:nowrap}td:first-child{white-space:normal}
"""


@dataclass(frozen=True)
class Outcome:
    """What `evaluate` computed, as the report reads it: holdout scores, comparisons, checks, verdict.

    `y` and `train_y` are class indices in `contract.labels` order, or values (`bootstrap_target`).
    `resamples` is None when nothing was compared (the candidate is already champion).
    """

    model_name: str
    contract: Contract
    gates: GatesConfig
    verdict: str  # one sentence, read after "Evaluation gate: " (`evaluate.verdict_sentence`)
    passed: bool
    checks: Sequence[Check]
    y: Array
    candidate: Array
    train_y: Array | None = None
    champion: Array | None = None
    champion_version: str | None = None
    baseline: Array | None = None
    versus_champion: Bootstrapped | None = None  # the primary metric's comparisons the verdict used
    versus_baseline: Bootstrapped | None = None
    resamples: Resamples | None = None


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    bad: list[bool] = field(default_factory=list)  # rows to highlight (failed checks)


@dataclass(frozen=True)
class Figure:
    file: str  # the PNG's name in the report directory
    title: str
    image: bytes
    caption: str = ""


@dataclass(frozen=True)
class Report:
    """The report's content, rendered once as Markdown and once as HTML."""

    verdict: str
    passed: bool
    metrics: Table
    metrics_note: str
    checks: Table
    plots: list[Figure]
    data: Table | None = None
    contract_note: str = ""
    data_plots: list[Figure] = field(default_factory=list)


def value(number: float | None) -> str:
    return "" if number is None else ("n/a" if not np.isfinite(number) else f"{number:.4f}")


def interval(comparison: Comparison | None) -> list[str]:
    """The difference and its interval, as two cells."""
    if comparison is None:
        return ["", ""]
    return [f"{comparison.improvement:+.4f}", f"[{comparison.low:+.4f}, {comparison.high:+.4f}]"]


def _model_names(outcome: Outcome) -> dict[str, str]:
    names = {"candidate": "candidate"}
    if outcome.champion is not None:
        names["champion"] = f"champion v{outcome.champion_version}"
    if outcome.baseline is not None:
        names["baseline"] = "naive baseline"
    return names


def metric_table(outcome: Outcome) -> Table:
    """Every bootstrap metric of the task: each model's value, and the candidate's differences."""
    metrics = metrics_for(outcome.contract.task, len(outcome.contract.labels))
    primary = outcome.gates.primary(outcome.contract.task)
    names = _model_names(outcome)
    confidence = f"{outcome.resamples.confidence:.0%} interval" if outcome.resamples else "interval"
    header = ["metric", *names.values()]
    references = [
        (side, scores)
        for side, scores in (("champion", outcome.champion), ("baseline", outcome.baseline))
        if scores is not None
    ]
    for side, _ in references:
        header += [f"Δ vs {names[side]}", confidence]
    rows = []
    for metric in metrics.values():
        label = metric.name + (" (primary)" if metric.name == primary else "")
        label += "" if metric.greater_is_better else " (lower is better)"
        row = [label, value(metric.compute(outcome.y, outcome.candidate))]
        row += [value(metric.compute(outcome.y, scores)) for _, scores in references]
        candidate_values = None
        for side, scores in references:
            used = outcome.versus_champion if side == "champion" else outcome.versus_baseline
            if outcome.resamples is None:
                row += ["", ""]
            elif used is not None and metric.name == primary:
                row += interval(used.comparison)  # the verdict's own numbers
            else:
                if candidate_values is None:
                    candidate_values = outcome.resamples.values(metric, outcome.y, outcome.candidate)
                row += interval(
                    compare(
                        metric,
                        outcome.y,
                        scores,
                        outcome.candidate,
                        outcome.resamples,
                        candidate_values=candidate_values,
                    ).comparison
                )
        rows.append(row)
    return Table(header, rows)


def check_table(checks: Sequence[Check]) -> Table:
    return Table(list(HEADER), [c.row() for c in checks], [not c.passed for c in checks])


def model_plots(outcome: Outcome) -> list[Figure]:
    """Confusion matrices and curves (classification), or fit and residuals (regression)."""
    models = [gate_plots.Scored("candidate", outcome.candidate, gate_plots.CANDIDATE)]
    if outcome.champion is not None:
        names = _model_names(outcome)
        models.append(gate_plots.Scored(names["champion"], outcome.champion, gate_plots.CHAMPION))
    if not outcome.contract.is_classification:
        return [
            Figure(
                "regression.png",
                "predicted against actual, and residuals",
                gate_plots.regression(outcome.y, models),
            )
        ]
    labels = outcome.contract.labels
    positive = gate_plots.tick_labels(labels)[1] if len(labels) == 2 else None
    return [
        Figure("confusion.png", "confusion matrix", gate_plots.confusion(outcome.y, models, labels)),
        Figure(
            "curves.png", "ROC and precision-recall curves", gate_plots.curves(outcome.y, models, positive)
        ),
    ]


def improvement_plot(outcome: Outcome) -> list[Figure]:
    """The primary metric's bootstrap distribution against the champion (else the baseline)."""
    against, used = ("champion", outcome.versus_champion)
    if used is None:
        against, used = ("naive baseline", outcome.versus_baseline)
    if used is None:
        return []
    result = used.comparison
    if against == "champion":
        against = f"champion v{outcome.champion_version}"
    title = f"{result.metric}: improvement over the {against}"
    image = gate_plots.improvement(
        used.distribution, result.improvement, (result.low, result.high), outcome.gates.min_improvement, title
    )
    caption = (
        f"{len(used.distribution)} paired resamples of the holdout; the gate needs the interval's"
        f" lower bound ({result.low:+.4f}) to reach the bar ({outcome.gates.min_improvement:g})"
    )
    return [Figure("improvement.png", title, image, caption)]


def _share(n: int, total: int) -> str:
    return f"{n} ({n / total:.1%})" if total else "0"


def data_table(outcome: Outcome) -> Table:
    """Rows, then class counts (classification) or the target's spread (regression), per table."""
    sides = [("holdout", outcome.y)] + (
        [("training", outcome.train_y)] if outcome.train_y is not None else []
    )
    header = ["", *(name for name, _ in sides)]
    rows = [["rows", *(str(len(y)) for _, y in sides)]]
    if outcome.contract.is_classification:
        k = len(outcome.contract.labels)
        counts = [np.bincount(y.astype(int), minlength=k) for _, y in sides]
        for i, label in enumerate(outcome.contract.labels):
            rows.append([f"class {label}", *(_share(int(c[i]), int(c.sum())) for c in counts)])
    else:
        for name, stat in (("mean", np.mean), ("std", np.std), ("min", np.min), ("max", np.max)):
            rows.append([f"target {name}", *(f"{float(stat(y)):.4g}" for _, y in sides)])
    return Table(header, rows)


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def contract_note(contract: Contract) -> str:
    """The contract rules the pipeline checked before this holdout existed (`validate`, `featurize`)."""
    columns = contract.columns
    rules = [
        _counted(len(columns), "column type"),
        _counted(sum(not c.nullable for c in columns), "not-null column"),
    ]
    ranges = sum(c.range is not None for c in columns)
    categories = sum(bool(c.categories) and c.role == "feature" for c in columns)
    rules += [_counted(ranges, "range")] if ranges else []
    rules += [_counted(categories, "category list")] if categories else []
    if contract.is_classification:
        share = contract.target.min_class_share
        rules.append(f"{len(contract.labels)} target labels, each at least {share:g} of rows")
    elif contract.target.range is not None:
        rules.append("the target's range")
    rules += ["no duplicate rows"] if contract.no_duplicate_rows else []
    rules.append("no holdout row in the training rows")
    return (
        "Contract checks passed (the pipeline's validate and featurize stages stop at the first"
        f" broken rule, so this holdout exists only if they held): {', '.join(rules)}."
    )


def data_plots(outcome: Outcome) -> list[Figure]:
    if outcome.contract.is_classification:
        labels = outcome.contract.labels
        train = None if outcome.train_y is None else outcome.train_y.astype(int)
        return [
            Figure(
                "data.png", "class balance", gate_plots.class_balance(labels, outcome.y.astype(int), train)
            )
        ]
    return [
        Figure("data.png", "target distribution", gate_plots.target_distribution(outcome.y, outcome.train_y))
    ]


def build(outcome: Outcome) -> Report:
    """The report's content; plots only when something was compared (else a short report)."""
    if outcome.resamples is None:
        note = "Nothing was compared: the candidate is the champion."
        return Report(
            outcome.verdict, outcome.passed, metric_table(outcome), note, check_table(outcome.checks), []
        )
    note = (
        "Δ: candidate minus reference, signed so that positive is better (also where lower is better);"
        f" intervals: paired bootstrap, {len(outcome.resamples.index)} resamples of the holdout rows"
        f" (seed {outcome.gates.seed}), the same draw for every metric."
    )
    return Report(
        verdict=outcome.verdict,
        passed=outcome.passed,
        metrics=metric_table(outcome),
        metrics_note=note,
        checks=check_table(outcome.checks),
        plots=model_plots(outcome) + improvement_plot(outcome),
        data=data_table(outcome),
        contract_note=contract_note(outcome.contract),
        data_plots=data_plots(outcome),
    )


def markdown(report: Report) -> str:
    """GitHub-flavoured Markdown: the verdict first, plots as relative image links."""

    def images(figures: list[Figure]) -> list[str]:
        return [
            f"![{md_escape(f.title)}]({f.file})" + (f"\n\n_{md_escape(f.caption)}_" if f.caption else "")
            for f in figures
        ]

    parts = [
        f"**{md_escape(f'{TITLE}: {report.verdict}')}**",
        "### Metrics",
        md_table(report.metrics.header, report.metrics.rows),
        md_escape(report.metrics_note),
    ]
    if report.checks.rows:
        parts += ["### Checks", md_table(report.checks.header, report.checks.rows)]
    if report.plots:
        parts += ["### Plots", *images(report.plots)]
    if report.data is not None:
        parts += [
            "### Data",
            md_table(report.data.header, report.data.rows),
            md_escape(report.contract_note),
            *images(report.data_plots),
        ]
    return "\n\n".join(parts) + "\n"


def html_page(report: Report) -> str:
    """The same content as one self-contained page (plots inlined, no script)."""

    def grid(figures: list[Figure]) -> str:
        tags = "".join(figure_tag(f.title, f.image, f.caption) for f in figures)
        return f'<div class="plots">{tags}</div>'

    verdict = html.escape(f"{TITLE}: {report.verdict}")
    body = [
        f'<p class="verdict {"pass" if report.passed else "fail"}">{verdict}</p>',
        "<h2>Metrics</h2>",
        html_table(report.metrics.header, report.metrics.rows),
        f"<p>{html.escape(report.metrics_note)}</p>",
    ]
    if report.checks.rows:
        body += ["<h2>Checks</h2>", html_table(report.checks.header, report.checks.rows, report.checks.bad)]
    if report.plots:
        body += ["<h2>Plots</h2>", grid(report.plots)]
    if report.data is not None:
        body += [
            "<h2>Data</h2>",
            html_table(report.data.header, report.data.rows),
            f"<p>{html.escape(report.contract_note)}</p>",
            grid(report.data_plots),
        ]
    return styled_document(TITLE, "\n".join(body), STYLE)


def write(report: Report, directory: Path) -> Path:
    """Write report.md, report.html and the PNGs; old PNGs go first, so no stale plot survives."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    for figure in report.plots + report.data_plots:
        (directory / figure.file).write_bytes(figure.image)
    (directory / HTML).write_text(html_page(report), encoding="utf-8")
    path = directory / MARKDOWN
    path.write_text(markdown(report), encoding="utf-8")
    return path


def publish(outcome: Outcome, directory: Path) -> Path:
    """Build and write the report, and append its Markdown to the GitHub Actions job summary there."""
    report = build(outcome)
    path = write(report, directory)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(link_images(markdown(report), None) + "\n")
    return path
