"""The gate report from synthetic holdouts (tests/gate_examples.py): binary, five classes and
regression, each passing and blocked. What a reviewer relies on: the verdict first, every metric with
its interval, images that resolve, Markdown that parses as GFM, self-contained HTML."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from slipway.gates.compare import improvement, paired_bootstrap
from slipway.gates.metrics import metric_for, metrics_for
from slipway.report import gate
from slipway.report.page import md_escape

from tests.gate_examples import LABELS, TASKS, outcome, write_example

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(
    scope="module",
    params=[(t, p) for t in TASKS for p in (True, False)],
    ids=lambda c: f"{c[0]}-{'pass' if c[1] else 'blocked'}",
)
def written(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, bool, Path]:
    task, passed = request.param
    directory = tmp_path_factory.mktemp(f"gate-{task}")
    (directory / "stale.png").write_bytes(PNG)  # a plot from an earlier run must not survive
    html = write_example(directory, task, passed)
    assert html == directory / "report.html"
    return task, passed, directory


def test_the_verdict_comes_first_in_one_sentence(written: tuple[str, bool, Path]) -> None:
    _, passed, directory = written
    first = (directory / "report.md").read_text().splitlines()[0]
    if passed:
        expected = "passed all 4 checks (thresholds, the naive baseline, champion version 3)."
        assert first == f"**Evaluation gate: {md_escape(expected)}**"
    else:
        assert first.startswith(r"**Evaluation gate: blocked against champion version 3: ")
        assert first.endswith(r"; registry unchanged\.**")
        assert "vs champion" in first


def test_every_metric_has_its_values_and_both_intervals(written: tuple[str, bool, Path]) -> None:
    task, _, directory = written
    tokens = MarkdownIt("commonmark").enable("table").parse((directory / "report.md").read_text())
    tables = [i for i, t in enumerate(tokens) if t.type == "table_open"]
    assert len(tables) == 3  # metrics, checks, data
    rows = table_cells(tokens, tables[0])
    assert rows[0] == [
        "metric",
        "candidate",
        "champion v3",
        "naive baseline",
        "Δ vs champion v3",
        "95% interval",
        "Δ vs naive baseline",
        "95% interval",
    ]
    k = 2 if task == "binary" else 5
    expected = metrics_for("regression" if task == "regression" else "classification", k)
    assert [row[0].split(" ")[0] for row in rows[1:]] == list(expected)
    for row in rows[1:]:
        assert all(re.fullmatch(r"-?\d+\.\d{4}", cell) for cell in row[1:4]), row
        for delta, interval in (row[4:6], row[6:8]):
            bounds = re.fullmatch(r"\[([-+]\d+\.\d+), ([-+]\d+\.\d+)\]", interval)
            assert bounds, row
            low, high = map(float, bounds.groups())
            assert low <= float(delta) <= high, row


def test_the_primary_rows_are_the_verdicts_own_numbers(written: tuple[str, bool, Path]) -> None:
    task, passed, _ = written
    seen = outcome(task, passed)
    table = gate.metric_table(seen)
    primary = next(row for row in table.rows if "(primary)" in row[0])
    assert seen.versus_champion is not None
    versus = seen.versus_champion.comparison
    assert primary[4:6] == [f"{versus.improvement:+.4f}", f"[{versus.low:+.4f}, {versus.high:+.4f}]"]
    check = next(c for c in seen.checks if c.name.endswith("vs champion (CI low >= 0)"))
    assert check.interval == primary[5]
    assert check.passed is passed


def test_the_data_summary_counts_rows_and_classes(written: tuple[str, bool, Path]) -> None:
    task, _, directory = written
    text = (directory / "report.md").read_text()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows = table_cells(tokens, [i for i, t in enumerate(tokens) if t.type == "table_open"][2])
    assert rows[:2] == [["", "holdout", "training"], ["rows", "240", "720"]]
    if task == "regression":
        assert [row[0] for row in rows[2:]] == ["target mean", "target std", "target min", "target max"]
    else:
        classes = rows[2:]
        assert [row[0] for row in classes] == [f"class {label}" for label in LABELS[task]]
        assert sum(int(row[1].split(" ")[0]) for row in classes) == 240
    assert "Contract checks passed" in text


def test_every_image_link_is_a_real_png_in_the_directory(written: tuple[str, bool, Path]) -> None:
    task, _, directory = written
    tokens = MarkdownIt("commonmark").enable("table").parse((directory / "report.md").read_text())
    images = [
        child for t in tokens if t.type == "inline" for child in t.children or [] if child.type == "image"
    ]
    sources = [str(image.attrs["src"]) for image in images]
    expected = {"confusion.png", "curves.png"} if task != "regression" else {"regression.png"}
    assert set(sources) == expected | {"improvement.png", "data.png"}
    assert all(image.content for image in images)  # alt text
    for source in sources:
        data = (directory / source).read_bytes()
        assert data.startswith(PNG)
        assert len(data) > 5_000  # a drawn plot, not an empty canvas
    assert sorted(p.name for p in directory.glob("*.png")) == sorted(sources)  # the stale one is gone


def test_the_html_is_self_contained(written: tuple[str, bool, Path]) -> None:
    _, passed, directory = written
    page = (directory / "report.html").read_text()
    assert "<script" not in page.lower()
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) == len(list(directory.glob("*.png")))
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(PNG)
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from elsewhere
    assert ('class="verdict pass"' in page) is passed


def test_the_job_summary_gets_the_markdown_without_image_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    gate.publish(outcome("binary", False), tmp_path / "report")
    text = summary.read_text()
    assert text.startswith("earlier step\n**Evaluation gate: blocked against champion version 3")
    assert "](" not in text
    assert ".png" not in text
    assert "_confusion matrix (plot in the report's HTML)_" in text


def test_the_nothing_to_do_report_is_short(tmp_path: Path) -> None:
    from dataclasses import replace

    seen = replace(
        outcome("regression", True),
        verdict="nothing to do: candidate run abc is already champion (version 3).",
        champion=None,
        baseline=None,
        versus_champion=None,
        versus_baseline=None,
        resamples=None,
        checks=[],
    )
    text = gate.write(gate.build(seen), tmp_path).read_text()
    assert text.startswith("**Evaluation gate: nothing to do: candidate run abc is already champion")
    assert "![" not in text
    assert not list(tmp_path.glob("*.png"))
    assert "| rmse \\(primary\\) \\(lower is better\\) |" in text


@pytest.mark.parametrize(("metric", "k"), [("roc_auc", 2), ("log_loss", 5), ("rmse", 0)])
def test_the_shared_resamples_give_scipys_percentile_bootstrap(metric: str, k: int) -> None:
    """The verdict is numerically what `scipy.stats.bootstrap` gave before the draw was shared."""
    from scipy import stats

    rng = np.random.default_rng(11)
    y = rng.normal(0, 1, 150) if k == 0 else rng.integers(0, k, 150)
    task = "regression" if k == 0 else "classification"

    def scores() -> np.ndarray:
        if k == 0:
            return y + rng.normal(0, 0.5, 150)
        p = rng.dirichlet(np.ones(k), 150)
        p[np.arange(150), y] += 0.3
        return p / p.sum(axis=1, keepdims=True)

    chosen = metric_for(metric, task, k)
    reference, candidate = scores(), scores()
    ours = paired_bootstrap(chosen, y, reference, candidate, samples=400, confidence=0.9, seed=4)
    scipy = stats.bootstrap(
        (np.arange(150),),
        lambda i: improvement(chosen, y[i.astype(int)], reference[i.astype(int)], candidate[i.astype(int)]),
        vectorized=False,
        n_resamples=400,
        confidence_level=0.9,
        method="percentile",
        rng=np.random.default_rng(4),
    ).confidence_interval
    assert (ours.low, ours.high) == (float(scipy.low), float(scipy.high))


def table_cells(tokens: list[Token], start: int) -> list[list[str]]:
    """The rows of the GFM table opening at `start`, as the rendered text of each cell."""
    rows: list[list[str]] = []
    for token in tokens[start:]:
        if token.type == "table_close":
            break
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline":
            rows[-1].append(token.content.replace("\\", ""))
    return rows


def test_the_curves_are_sklearns() -> None:
    """The plotted ROC and precision-recall points, with tied scores, are what scikit-learn computes."""
    from sklearn.metrics import precision_recall_curve, roc_curve
    from slipway.report.gate_plots import pr_points, roc_points

    rng = np.random.default_rng(0)
    positive = rng.integers(0, 2, 300).astype(bool)
    score = np.round(rng.random(300) + 0.3 * positive, 2)  # rounded: many ties
    fpr, tpr, _ = roc_curve(positive, score, drop_intermediate=False)
    np.testing.assert_allclose(roc_points(positive, score), (fpr, tpr))
    precision, recall, _ = precision_recall_curve(positive, score, drop_intermediate=False)
    np.testing.assert_allclose(pr_points(positive, score), (recall[::-1][1:], precision[::-1][1:]))


def test_class_names_are_plotted_as_written(tmp_path: Path) -> None:
    """A user's labels are text to matplotlib: `$` opens no math (an unmatched one would raise)."""
    from dataclasses import replace

    seen = outcome("binary", True)
    labels = ("$5 or less", "over $5, and a name far longer than a tick label should be")
    contract = replace(seen.contract, target=replace(seen.contract.target, labels=labels))
    gate.publish(replace(seen, contract=contract), tmp_path)
    assert (tmp_path / "confusion.png").read_bytes().startswith(PNG)
    assert "class over $5, and a name far" in (tmp_path / "report.md").read_text().replace("\\", "")
