"""The speed harness still runs: benchmarks/run.py --smoke renders once from the working tree (its
serving benchmark runs on the champion of tests/test_gates_e2e_flow.py). Nothing here asserts a time."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, output, run

pytestmark = pytest.mark.e2e  # renders a project (~4 s)


def test_run_smoke_renders_once_and_reports_a_median(tmp_path: Path) -> None:
    bench = ROOT / "benchmarks" / "run.py"
    result = run(ROOT, sys.executable, str(bench), "--smoke", env={"TMPDIR": str(tmp_path)})
    out = output(result)
    assert "1 runs each" in out
    assert re.search(r"(?m)^render \(copy without tasks\) +[0-9.]+ s", out), out
    work = list(tmp_path.glob("slipway-bench-*/p1/pyproject.toml"))
    assert len(work) == 1, out  # the project it timed, rendered in this test's temp dir
