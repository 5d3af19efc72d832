"""The model card from synthetic inputs: what it shows, hostile registry values kept as text, the
unfilled intended-use warning, and bounded sizes (deploy's flow is in tests/test_gates_e2e_flow.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from slipway.contract import ColumnSpec, Contract, TargetSpec
from slipway.gates.history import card_uri
from slipway.gates.record import Event
from slipway.registry import Version
from slipway.report import card as model_card
from slipway.report.prose import to_html

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_INTENDED_USE = ROOT / "template" / "docs" / "intended-use.md"
CONTRACT = Contract(
    task="classification",
    target=TargetSpec("churned", "string", labels=("no", "yes")),
    columns=(
        ColumnSpec("tenure", "feature", "float"),
        ColumnSpec("spend", "feature", "float"),
        ColumnSpec("plan", "feature", "string", categories=("basic", "pro")),
        ColumnSpec("customer_id", "identifier", "string"),
    ),
)
TABLES = {"training": "data/processed/train.csv", "holdout": "data/processed/test.csv"}
FILLED = """# Intended use

## Intended use

Flags customers likely to **churn** next month, for the retention team's _weekly_ call list.

## Limitations

- Trained on 2025 customers only
- Not for `enterprise` plans
"""
LOCK = """schema: '2.0'
stages:
  featurize:
    deps:
    - path: data/raw/customers.csv
      md5: 11111111111111111111111111111111
    - path: src/pkg/data.py
      md5: 22222222222222222222222222222222
    - path: contract.yaml
      md5: 33333333333333333333333333333333
    outs:
    - path: data/processed
      md5: 44444444444444444444444444444444.dir
"""
GATE = {
    "metrics": {"accuracy": 0.91234, "roc_auc": 0.95},
    "primary_metric": "roc_auc",
    "baseline_comparison": {
        "metric": "roc_auc",
        "reference": 0.5,
        "candidate": 0.95,
        "improvement": 0.45,
        "low": 0.41,
        "high": 0.49,
    },
    "comparison": {
        "metric": "roc_auc",
        "reference": 0.93,
        "candidate": 0.95,
        "improvement": 0.02,
        "low": 0.005,
        "high": 0.034,
    },
}
TRAIN_MD5 = "55555555555555555555555555555555"


def project(tmp_path: Path, intended_use: str | None = FILLED) -> Path:
    """A project folder with the files a card reads: intended use, dvc.lock, a .dvc pointer, tables."""
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "customers.csv.dvc").write_text("outs: []\n")
    (tmp_path / "data" / "processed").mkdir()
    for name, rows in (("train", 12), ("test", 5)):
        lines = ["tenure,spend,plan,customer_id,churned"] + [f"{i},1.5,basic,c{i},no" for i in range(rows)]
        (tmp_path / "data" / "processed" / f"{name}.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "dvc.lock").write_text(LOCK)
    if intended_use is not None:
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "intended-use.md").write_text(intended_use)
    return tmp_path


def version(**tags: str) -> Version:
    base = {
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "params_hash": "abcd1234abcd1234",
        "data_md5.data/processed/train.csv": TRAIN_MD5,
        "slipway.gate": json.dumps(GATE),
        "slipway.project": "proj-1",
    }
    return Version("churn", "7", "runid0123", "models:/m-abc", {**base, **tags})


EVENT = Event("promote", "7", "6", at="2026-12-01T10:00:00.000000Z", by="octocat")


def build(root: Path, found: Version | None = None) -> model_card.Card:
    return model_card.build(root, CONTRACT, TABLES, found or version(), EVENT)


def test_the_card_shows_use_data_metrics_promotion_and_lineage(tmp_path: Path) -> None:
    card = build(project(tmp_path))
    md, page = model_card.markdown(card), model_card.html_page(card)
    assert md.startswith("# Model card: churn version 7\n")
    assert "<title>Model card: churn version 7</title>" in page
    assert "warning" not in md.lower()
    # the intended use as the team wrote it (but for its title), in Markdown and as HTML
    assert FILLED.split("\n", 1)[1].strip() in md
    assert "<strong>churn</strong>" in page
    assert "<em>weekly</em>" in page
    assert "<li>Not for <code>enterprise</code> plans</li>" in page
    # training data: rows, hashes from the run and dvc.lock (code is not data), the contract
    assert "| training | data/processed/train\\.csv | 12 |" in md
    assert "| holdout | data/processed/test\\.csv | 5 |" in md
    assert f"| data/processed/train\\.csv | {TRAIN_MD5} | training run |" in md
    assert "| data/raw/customers\\.csv | 11111111111111111111111111111111 | dvc\\.lock |" in md
    assert "| data/processed | 44444444444444444444444444444444\\.dir | dvc\\.lock |" in md
    assert "2222" not in md
    assert "| contract\\.yaml md5 | 33333333333333333333333333333333 |" in md
    assert "| classes | no, yes |" in md
    assert "| features | 3 \\(2 float, 1 string\\) |" in md
    assert "| not seen by the model | 1 identifier |" in md
    # metrics and both comparisons with their intervals
    assert "| accuracy | 0\\.9123 |" in md
    assert "| naive baseline | roc\\_auc | 0\\.5 | 0\\.95 | \\+0\\.45 | \\[\\+0\\.41, \\+0\\.49\\] |" in md
    assert (
        "| champion it replaced | roc\\_auc | 0\\.93 | 0\\.95 | \\+0\\.02 | \\[\\+0\\.005, \\+0\\.034\\] |"
        in md
    )
    # the promotion record and lineage
    assert "promoted by octocat, replacing version 6" in md
    assert "| by | octocat |" in md
    assert "| git commit | 0123456789abcdef0123456789abcdef01234567 |" in md
    assert "| MLflow run | runid0123 |" in md
    assert "| model source | models:/m\\-abc |" in md
    for fact in ("0123456789abcdef0123456789abcdef01234567", "runid0123", "[+0.41, +0.49]", TRAIN_MD5):
        assert fact in page


def test_a_version_gated_without_metrics_or_champion_still_gets_a_card(tmp_path: Path) -> None:
    tags = {"slipway.gate": json.dumps({"metrics": {}, "comparison": None})}
    md = model_card.markdown(build(project(tmp_path), version(**tags)))
    assert "_evaluate compared this model with nothing_" in md
    no_tag = Version("churn", "7", "runid0123", "models:/m-abc", {})
    md = model_card.markdown(build(tmp_path, no_tag))
    assert "no slipway\\.gate tag on the version" in md
    assert "| git commit | \\- |" in md


HOSTILE = (
    "<script>alert(1)</script>\n| x | [click](javascript:alert(1)) <img src=x onerror=alert(2)> **bold**"
)


def test_hostile_registry_values_stay_text_in_markdown_and_html(tmp_path: Path) -> None:
    gate = {**GATE, "metrics": {HOSTILE: 0.5, "huge": 10**400, "text": "1"}, "primary_metric": HOSTILE}
    hostile = version(
        git_commit=HOSTILE, **{"slipway.gate": json.dumps(gate), f"data_md5.{HOSTILE}": HOSTILE}
    )
    event = Event("promote", "7", HOSTILE, by=HOSTILE)
    card = model_card.build(project(tmp_path), CONTRACT, TABLES, hostile, event)
    md, page = model_card.markdown(card), model_card.html_page(card)
    assert not re.search(r"(?<!\\)<", md)  # every < of a value is escaped: no tag, no autolink
    for tag in ("<script", "<img"):
        assert tag not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "| huge | n/a |" in md
    assert "| text | n/a |" in md
    assert "](javascript" not in md
    assert "**bold**" not in md
    # every table row stays one row of its table: no raw pipe or line break from a value
    for line in md.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == line.count(" | ") + 2, line


def test_an_unfilled_or_missing_intended_use_is_a_visible_warning(tmp_path: Path) -> None:
    template = TEMPLATE_INTENDED_USE.read_text()
    assert model_card.UNFILLED in template
    card = build(project(tmp_path / "unfilled", template))
    assert card.warning == "intended use not filled in: edit docs/intended-use.md"
    assert "> **Warning:** intended use not filled in: edit docs/intended\\-use\\.md" in model_card.markdown(
        card
    )
    page = model_card.html_page(card)
    assert (
        '<p class="verdict fail">Warning: intended use not filled in: edit docs/intended-use.md</p>' in page
    )
    assert "<h2>Out of scope</h2>" in page  # the prompts show, under the warning
    assert "slipway: fill in" not in model_card.markdown(card) + page
    missing = build(project(tmp_path / "missing", None))
    assert missing.warning.startswith("intended use not written: add docs/intended-use.md")
    assert "_No intended use written._" in model_card.markdown(missing)
    filled = build(project(tmp_path / "filled", template.replace(model_card.UNFILLED, "")))
    assert filled.warning == ""


def test_sizes_are_bounded_whatever_the_registry_holds(tmp_path: Path) -> None:
    many = {f"data_md5.data/part-{i:04}.csv": "f" * 32 for i in range(500)}
    big = version(git_commit="a" * 100_000, **many)
    md = model_card.markdown(build(project(tmp_path), big))
    assert f"{'a' * model_card.MAX_TEXT}… \\(97952 more characters\\)" in md
    assert "part\\-0049" in md
    assert "part\\-0050" not in md
    assert "… and 453 more paths" in md  # 500 hostile tags, the run's own and 2 from dvc.lock
    assert len(md) < 20_000
    nested = version(**{"slipway.gate": "[" * 100_000 + "]" * 100_000})
    assert "the slipway\\.gate tag is 200000 characters long: not read" in model_card.markdown(
        build(tmp_path, nested)
    )
    deep = version(**{"slipway.gate": "[" * 30_000 + "]" * 30_000})
    assert "the slipway\\.gate tag is not JSON" in model_card.markdown(build(tmp_path, deep))


def test_publish_replaces_the_previous_champions_card(tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    for name in (model_card.MARKDOWN, model_card.HTML):
        (staged / name).write_text(f"new {name}")
    target = tmp_path / "project" / model_card.CARD_DIR
    target.mkdir(parents=True)
    (target / model_card.MARKDOWN).write_text("old")
    model_card.StagedCard(staged, "runs:/r/model-card/version-2/model-card.md", "").publish(
        tmp_path / "project"
    )
    assert sorted(p.name for p in target.iterdir()) == [model_card.HTML, model_card.MARKDOWN]
    assert (target / model_card.MARKDOWN).read_text() == f"new {model_card.MARKDOWN}"


def test_history_shows_a_card_only_where_a_version_has_one() -> None:
    uri = "runs:/abc/model-card/version-2/model-card.md"
    assert card_uri({model_card.CARD_TAG: uri}) == uri
    assert card_uri({}) == "-"
    assert card_uri({model_card.CARD_TAG: "runs:/x\x1b[31m"}) == "-"


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("<b>hi</b> & <!-- hidden -->bye", "<p>&lt;b&gt;hi&lt;/b&gt; &amp; bye</p>"),
        ("## Use\nline one\nline two", "<h2>Use</h2>\n<p>line one line two</p>"),
        (
            "1. first\n2. second\n\n- a\n  wrapped",
            "<ol><li>first</li><li>second</li></ol>\n<ul><li>a wrapped</li></ul>",
        ),
        (
            "`*not em*` and *em* and snake_case_name",
            "<p><code>*not em*</code> and <em>em</em> and snake_case_name</p>",
        ),
    ],
)
def test_prose_becomes_safe_html(markdown: str, expected: str) -> None:
    assert to_html(markdown) == expected
