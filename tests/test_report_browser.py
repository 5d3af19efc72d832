"""The report pages people open, in real headless Chromium: gate reports (binary, multiclass,
regression; passed and blocked), a model card and a drift report. Each loads without console errors,
fetches nothing, decodes every image, and shows something (the screenshot is not one colour)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from slipway.config import MonitorConfig
from slipway.monitor import report as drift_report
from slipway.monitor.check import compare
from slipway.report import card as model_card

from tests import penguins
from tests import test_model_card as cards
from tests.browser import chromium, open_page
from tests.gate_examples import write_example

# Real Chromium takes ~25 s for these three tests: they run with the e2e tests, not in the fast lane.
pytestmark = pytest.mark.e2e

TASKS = ("binary", "multiclass", "regression")


def pages(root: Path) -> dict[str, Path]:
    """The pages to open, written by the same code `evaluate`, `deploy` and `monitor` run."""
    found = {
        f"gate {task} {'passed' if passed else 'blocked'}": write_example(
            root / f"gate-{task}-{passed}", task, passed
        )
        for task in TASKS
        for passed in (True, False)
    }
    card_root = cards.project(root / "card")
    staged = root / "card-pages"
    staged.mkdir()
    (staged / model_card.HTML).write_text(model_card.html_page(cards.build(card_root)))
    found["model card"] = staged / model_card.HTML
    batch = penguins.table(150, seed=5)
    batch["bill"] = batch["bill"] + 8  # a shift, so a feature is past its threshold
    tables, contract = penguins.monitor_tables(batch)
    result = compare(tables, contract, MonitorConfig())
    _, found["drift report"] = drift_report.write(result, root / "monitor", tables, "batch.csv")
    return found


def test_report_pages_load_cleanly_and_show_their_plots(tmp_path: Path) -> None:
    opened = pages(tmp_path)
    with chromium() as browser:
        checks = {name: open_page(browser, page, tmp_path / f"{name}.png") for name, page in opened.items()}
    for name, check in checks.items():
        assert check.console_errors == [], name
        assert check.network == [], name  # self-contained: no fonts, scripts or images fetched
        assert check.broken_images == [], name
        assert check.colors > 50, f"{name}: the screenshot is blank ({check.colors} colours)"
    for name, check in checks.items():
        if name.startswith("gate"):  # every plot the Markdown links is inlined in the page, and shown
            linked = re.findall(
                r"!\[[^\]]*\]\(([^)]+\.png)\)", (opened[name].parent / "report.md").read_text()
            )
            assert check.images == len(linked) >= 3, (name, check.images, linked)
    assert checks["drift report"].images >= 2  # the prediction and at least one feature


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_a_broken_page_is_caught(tmp_path: Path, task: str) -> None:
    """The checks above can fail: a page with a broken image, a script error and a remote font."""
    page = write_example(tmp_path / task, task, True)
    text = page.read_text()
    text = text.replace('src="data:image/png;base64,', 'src="data:image/png;base64,AAAA', 1)
    text = text.replace("</body>", "<script>undefinedCall()</script></body>")
    text = text.replace("</head>", '<link rel="stylesheet" href="https://fonts.example.com/x.css"></head>')
    page.write_text(text)
    with chromium() as browser:
        check = open_page(browser, page, tmp_path / "shot.png")
    assert len(check.broken_images) == 1
    assert any("undefinedCall" in error for error in check.console_errors)
    assert check.network == ["https://fonts.example.com/x.css"]
