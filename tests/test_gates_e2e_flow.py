"""The registry gates in a rendered project, for real: first deploy, a worse model blocked, a better
one promoted, rollback, an unreachable registry, and bad gate settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import nox, output, render_project, run

pytestmark = pytest.mark.e2e

# Each model is a param set; quality rises from STUMP to TREE to FOREST on the breast cancer holdout.
STUMP = {"n_estimators": "1", "max_depth": "1"}
TREE = {"n_estimators": "1", "max_depth": "3"}
FOREST = {"n_estimators": "200", "max_depth": "8"}


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default project whose thresholds admit a single decision tree (so champions can differ)."""
    path = render_project(template, tmp_path_factory.mktemp("gates") / "my-model")
    pyproject = path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "thresholds = { roc_auc = { min = 0.95 }, accuracy = { min = 0.90 } }",
            "thresholds = { roc_auc = { min = 0.80 }, accuracy = { min = 0.80 } }",
        )
    )
    return path


def use_model(project: Path, model: dict[str, str]) -> None:
    params = project / "params.yaml"
    text = params.read_text()
    for key, value in model.items():
        text = re.sub(rf"(?m)^(  {key}): .*$", rf"\1: {value}", text)
    params.write_text(text)


def champion(project: Path) -> str:
    last = output(nox(project, "-s", "history")).split("champion: version ")[-1]
    return last.split()[0]


def test_first_deploy_promotes_on_thresholds_alone(project: Path) -> None:
    use_model(project, TREE)
    out = output(nox(project, "-s", "deploy"))
    assert "threshold roc_auc >= 0.8" in out
    assert "vs champion" not in out  # nothing to compare with yet
    assert "deploy: version 1 is now champion" in out
    assert champion(project) == "1"


def test_worse_model_fails_evaluate_and_changes_nothing(project: Path) -> None:
    use_model(project, STUMP)
    result = nox(project, "-s", "deploy", check=False)
    assert result.returncode != 0
    out = output(result)
    assert re.search(r"roc_auc vs champion \(CI low >= 0\)\s+\S+\s+\S+\s+-\S+\s+\[.*\]\s+FAIL", out), out
    assert "evaluate: FAIL against champion version 1" in out
    assert "registry unchanged" in out
    assert "slipway deploy" not in out  # deploy never ran
    assert champion(project) == "1"


def test_better_model_passes_and_deploys_with_a_record(project: Path) -> None:
    use_model(project, FOREST)
    out = output(nox(project, "-s", "deploy"))
    assert re.search(
        r"roc_auc vs champion \(CI low >= 0\)\s+\S+\s+\S+\s+\+\S+\s+\[\+\S+, \+\S+\]\s+pass", out
    ), out
    assert "deploy: version 2 is now champion (was version 1)" in out
    history = output(nox(project, "-s", "history"))
    assert re.search(r"promote\s+2\s+1\s+", history)


def test_rerunning_the_gates_on_the_champion_is_a_no_op(project: Path) -> None:
    """The gates themselves, as `nox -s deploy` runs them after an unchanged `train`."""
    slipway = str(project / ".venv" / "bin" / "slipway")
    evaluate, deploy = (output(run(project, slipway, gate)) for gate in ("evaluate", "deploy"))
    assert "is already champion (version 2): nothing to do" in evaluate
    assert "deploy: version 2 (this candidate) is already champion: nothing to do" in deploy
    assert champion(project) == "2"


def test_rollback_restores_the_previous_champion(project: Path) -> None:
    out = output(nox(project, "-s", "rollback"))
    assert "rollback: version 1 is champion again (was version 2)" in out
    assert champion(project) == "1"
    history = output(nox(project, "-s", "history"))
    assert re.search(r"rollback\s+1\s+2\s+", history)


def test_rollback_to_an_explicit_version(project: Path) -> None:
    out = output(nox(project, "-s", "rollback", "--", "--to", "2"))
    assert "rollback: version 2 is champion again (was version 1)" in out
    result = nox(project, "-s", "rollback", "--", "--to", "9", check=False)
    assert result.returncode != 0
    assert "slipway rollback: model 'my-model' has no version 9: it has 1, 2" in output(result)
    assert champion(project) == "2"


def test_unreachable_registry_is_one_line(project: Path) -> None:
    result = nox(project, "-s", "history", check=False, env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert result.returncode != 0
    lines = [line for line in output(result).splitlines() if line.startswith("slipway history:")]
    assert len(lines) == 1
    assert "tracking store http://127.0.0.1:9" in lines[0]
    assert "Traceback" not in output(result)


def test_bad_gates_config_is_one_line(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text()
    try:
        pyproject.write_text(original.replace("confidence = 0.95", "confidence = 2"))
        result = nox(project, "-s", "evaluate", check=False)
    finally:
        pyproject.write_text(original)
    assert result.returncode != 0
    assert (
        "slipway evaluate: [tool.slipway.gates] confidence must be a number in [0.5, 0.999], got 2"
        in output(result)
    )
    assert "Traceback" not in output(result)
