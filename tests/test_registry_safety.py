"""The registry cannot be used to run code or serve the wrong model (issue 14, sections 2, 4, 5, 7).

A small project (two float columns, a tiny scikit-learn model) in a temp dir with a real SQLite
MLflow store; the registry steps run in an environment with MLflow (tests/registry_driver.py) and
`slipway` runs as a user runs it. Loading refuses pickle and types the project does not trust; a
foreign version is refused everywhere; deploy and rollback need an evaluation record consistent with
the run; concurrent deploys promote once; a failing smoke test moves nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from slipway.config import load_project
from slipway.contract import ColumnSpec, Contract, TargetSpec
from slipway.contract.schema import dump_contract

ROOT = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).with_name("registry_driver.py")
OURS = "proj-ours"
API = """
import mlflow.sklearn
import numpy as np

TRUSTED_TYPES = []
load_model = mlflow.sklearn.load_model  # what api.py re-exported before 0.3.0: slipway must not call it


def predict_scores(model, features, contract):
    return np.asarray(model.predict_proba(features[list(contract.feature_names)]), dtype=float)


def score(y_true, scores, contract):
    predicted = np.asarray(contract.labels)[scores.argmax(axis=1)]
    return {"accuracy": float(np.mean(predicted == np.asarray(y_true)))}
"""
CONTRACT = Contract(
    task="classification",
    target=TargetSpec("target", "integer", labels=(0, 1)),
    columns=(ColumnSpec("x1", "feature", "float"), ColumnSpec("x2", "feature", "float")),
)


@pytest.fixture(scope="module")
def python(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """A Python with MLflow, skops and this slipway (a rendered project's), and its environment.

    SLIPWAY_TEST_PYTHON names another such Python (one with slipway installed editable, say)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_TRACKING", "VIRTUAL_ENV"))
    }
    if os.environ.get("SLIPWAY_TEST_PYTHON"):
        return os.environ["SLIPWAY_TEST_PYTHON"], env
    project: Path = request.getfixturevalue("default_project")
    # the copy task compiled the project's bytecode there: each process imports MLflow in ~1.5 s, not 4
    env |= {"PYTHONPYCACHEPREFIX": str(project / ".nox" / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
    return str(project / ".venv" / "bin" / "python"), env


@pytest.fixture(scope="module")
def empty_store(python: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store (slipway's cached one), copied by each test instead of remade."""
    exe, env = python
    where = tmp_path_factory.mktemp("store")
    init = f"from slipway.store_seed import seed; assert seed('sqlite:///{where}/mlflow.db')"
    subprocess.run([exe, "-c", init], cwd=where, env=env, check=True, capture_output=True)
    return where / "mlflow.db"


def make_project(root: Path) -> Path:
    """pyproject.toml, the package's api, contract.yaml and train/test tables of 80 rows each."""
    package = root / "src" / "mini_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "api.py").write_text(API)
    (root / "pyproject.toml").write_text(
        f'[tool.slipway]\npackage = "mini_pkg"\nproject_id = "{OURS}"\n\n'
        f'[tool.slipway.mlflow]\nmodel_name = "mini"\ntracking_uri = "sqlite:///{root}/mlflow.db"\n\n'
        "[tool.slipway.gates]\nbootstrap_samples = 200\n"
    )
    (root / "contract.yaml").write_text(dump_contract(CONTRACT))
    rng = np.random.default_rng(0)
    processed = root / "data" / "processed"
    processed.mkdir(parents=True)
    for name in ("train", "test"):
        x = rng.normal(size=(80, 2))
        frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "target": (x.sum(axis=1) > 0).astype(int)})
        frame.to_csv(processed / f"{name}.csv", index=False)
    frame.drop(columns="target").to_csv(root / "batch.csv", index=False)
    return root


Drive = Callable[..., dict[str, Any]]
Project = tuple[Path, Drive]


@pytest.fixture
def project(tmp_path: Path, python: tuple[str, dict[str, str]], empty_store: Path) -> Project:
    """The small project and `drive([name, step, args], ...)`: registry steps and `slipway` commands
    run in one process (tests/registry_driver.py), each result under its name."""
    root = make_project(tmp_path / "mini")
    shutil.copyfile(empty_store, root / "mlflow.db")
    exe, base = python
    env = {**base, "PYTHONPATH": str(root / "src")}

    def drive(*steps: list[Any]) -> dict[str, Any]:
        result = subprocess.run(
            [exe, str(DRIVER), "scenario", json.dumps(steps)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    return root, drive


def refusal(result: dict[str, Any]) -> str:
    """The one line a refused `slipway` command printed (no traceback), without its `slipway CMD:`."""
    assert result["code"] == 1, result
    assert "Traceback" not in result["err"], result["err"]
    lines = [line for line in result["err"].splitlines() if line.startswith("slipway ")]
    assert len(lines) == 1, result["err"]
    return lines[0].split(": ", 1)[1]


TAGS = {"slipway.verdict": "pass", "slipway.project": OURS}  # what a hand-made version claims


# ---- section 2: loading runs nobody's code --------------------------------------------------------


def test_a_pickle_champion_is_refused_by_every_loader_and_runs_nothing(project: Project) -> None:
    root, drive = project
    marker = root / "unpickled"
    seen = drive(
        ["hostile", "setup_hostile", ["pickle", str(marker)]],
        ["serve", "slipway", ["serve", "--port", "0"]],
        ["evaluate", "slipway", ["evaluate"]],
        ["monitor", "slipway", ["monitor", "batch.csv"]],
        ["load", "load", ["$hostile.uri"]],
    )
    version, uri = seen["hostile"]["version"], seen["hostile"]["uri"]
    expected = f"champion version {version} is saved as 'pickle': slipway loads only the 'skops' format"
    for command in ("serve", "evaluate", "monitor"):
        assert refusal(seen[command]).startswith(expected), command
    assert seen["load"].startswith(f"refused: {uri} is saved as 'pickle'")
    assert not marker.exists()


def test_a_model_trusting_its_own_types_is_refused(project: Project) -> None:
    """The tree's MLmodel lists sklearn.tree._tree.Tree as trusted; the project's TRUSTED_TYPES do not."""
    _, drive = project
    seen = drive(["hostile", "setup_hostile", ["tree"]], ["evaluate", "slipway", ["evaluate"]])
    assert refusal(seen["evaluate"]) == (
        f"champion version {seen['hostile']['version']} holds types the project does not trust:"
        " sklearn.tree._tree.Tree (TRUSTED_TYPES of the project's api lists what skops may rebuild)"
    )


# ---- section 5: the registered model belongs to this project --------------------------------------


def test_a_foreign_version_is_refused_by_every_gate_and_by_serve(project: Project) -> None:
    _, drive = project
    seen = drive(
        ["versions", "setup_foreign", []],
        ["serve", "slipway", ["serve", "--port", "0"]],
        ["evaluate", "slipway", ["evaluate"]],
        ["monitor", "slipway", ["monitor", "batch.csv"]],
        ["rollback", "slipway", ["rollback", "--to", "$versions.other"]],
        ["deploy", "slipway", ["deploy"]],
        ["state", "state", []],
    )
    versions = seen["versions"]

    def foreign(version: str) -> str:
        return (
            f"version {version} of 'mini' belongs to project proj-theirs, not this project ({OURS}):"
            " refusing it"
        )

    for command in ("serve", "evaluate", "monitor"):
        assert refusal(seen[command]) == foreign(versions["foreign"]), command
    assert refusal(seen["rollback"]) == foreign(versions["other"])
    assert refusal(seen["deploy"]) == foreign(versions["mislabeled"])
    assert seen["state"]["aliases"] == {"champion": versions["foreign"], "challenger": versions["mislabeled"]}


# ---- section 2: deploy and rollback check evidence, not a tag --------------------------------------


def test_deploy_and_rollback_need_an_evaluation_record_consistent_with_the_run(project: Project) -> None:
    _, drive = project
    forged = json.dumps({"champion": None, "verdict": "pass"})
    seen = drive(
        ["first", "train", ["logistic", OURS, True]],
        ["hand", "create_version", ["$first.run_id", "$first.model_uri", TAGS]],
        ["_", "set_alias", ["challenger", "$hand"]],
        ["hand_tagged", "slipway", ["deploy"]],
        ["gated", "passed", ["$first.run_id", "$first.model_uri"]],  # the gate ran: now it has a record
        ["deployed", "slipway", ["deploy"]],
        ["second", "train", ["logistic", OURS, True]],
        ["challenger", "passed", ["$second.run_id", "$second.model_uri"]],
        ["_", "set_run_tag", ["$second.run_id", "slipway.evaluation.2", forged]],
        ["forged", "slipway", ["deploy"]],
        ["_", "passed", ["$second.run_id", "$second.model_uri"]],  # a fresh, true record
        ["third", "train", ["logistic", OURS]],
        ["moved", "create_version", ["$third.run_id", "$third.model_uri", TAGS]],
        ["_", "set_alias", ["champion", "$moved"]],  # by hand, behind the gates' back
        ["champion_moved", "slipway", ["deploy"]],
        ["rolled_back", "slipway", ["rollback", "--to", "1"]],
        ["unproven", "slipway", ["rollback", "--to", "3"]],
    )
    assert (seen["hand"], seen["gated"], seen["challenger"], seen["moved"]) == ("1", "1", "2", "3")
    assert refusal(seen["hand_tagged"]) == (
        "version 1 of 'mini' has no evaluation record (a slipway.verdict tag alone is not evidence):"
        " run `nox -s evaluate` on its commit"
    )
    assert seen["deployed"]["code"] == 0, seen["deployed"]
    assert refusal(seen["forged"]) == (
        f"version 2 of 'mini': the evaluation record on run {seen['second']['run_id']}"
        " does not match its digest"
    )
    assert refusal(seen["champion_moved"]) == (
        "champion moved since evaluate (version 2 was compared against 1, champion is now 3):"
        " re-run `nox -s evaluate`"
    )
    assert seen["rolled_back"]["out"].strip().splitlines() == [
        "rollback: version 1 is champion again (was version 3)",
        "rollback: model card of version 1 restored in reports/card/",
    ]
    assert refusal(seen["unproven"]).startswith("version 3 of 'mini' has no evaluation record")


# ---- section 4: registry moves that cannot race ---------------------------------------------------

RACERS, TRIALS = 4, 3


def test_concurrent_deploys_promote_once_and_a_newer_challenger_survives(
    project: Project, python: tuple[str, dict[str, str]], empty_store: Path
) -> None:
    """Per trial: 4 deploys of challenger 2 at once, and another branch's evaluate moving challenger
    to 3 (0, 1.5 or 3 s later). Both were gated against champion 1: whichever moves first wins, the
    other is refused in one line; deploy promotes exactly once, with `previous` 1, and never removes
    challenger 3. Each trial has its own store; the racing processes go through all trials."""
    root, drive = project
    roots = [root.parent / f"trial{n}" for n in range(TRIALS)]
    for where in roots:
        shutil.copyfile(empty_store, make_project(where) / "mlflow.db")
    drive(["setups", "in_each", ["setup_race", *map(str, roots)]])
    exe, base = python
    env = {**base, "PYTHONPATH": str(root / "src")}
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    roles = ["deploy"] * RACERS + ["move"]
    racers = [
        subprocess.Popen([exe, str(DRIVER), "race", json.dumps([role, *map(str, roots)])], env=env, **pipes)
        for role in roles
    ]
    for where in roots:  # each trial starts when every racer has opened its store
        deadline = time.monotonic() + 240
        while len(list(where.glob("go.ready.*"))) < len(racers) and time.monotonic() < deadline:
            time.sleep(0.05)
        (where / "go").touch()
    outputs = [racer.communicate(timeout=300) for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * len(racers), [err[-2000:] for _, err in outputs]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    states = drive(["states", "in_each", ["state", *map(str, roots)]])["states"]
    for trial, state in enumerate(states):
        *deploys, mover = [by_racer[trial] for by_racer in results]
        promotions = [e for e in state["events"] if e[0] == "promote" and e[1] == "2"]
        codes = [result["code"] for result in [*deploys, mover]]
        summary = f"trial {trial}: exit codes {codes}, aliases {state['aliases']}, promotions {promotions}"
        print(summary, file=sys.stderr)
        assert all("Traceback" not in r["err"] for r in [*deploys, mover]), summary
        if mover["code"] == 0:  # the other branch moved first: no deploy may promote or touch its challenger
            assert state["aliases"] == {"champion": "1", "challenger": "3"}, summary
            assert promotions == [], summary
            refused = [
                r["err"] for r in deploys if "no passing challenger for this candidate" not in r["err"]
            ]
            assert all(r["code"] == 1 for r in deploys), summary
            assert refused == [], summary
        else:
            assert "champion moved during evaluate" in mover["err"], summary
            assert state["aliases"] == {"champion": "2"}, summary
            assert promotions == [["promote", "2", "1"]], summary
            assert all(r["code"] == 0 for r in deploys), summary
            said = sorted("is now champion" in r["out"] for r in deploys)
            assert said == [False] * (RACERS - 1) + [True], summary  # the others: "already champion"


def test_a_held_lock_names_its_holder_and_a_stale_one_is_taken_over(project: Project) -> None:
    _, drive = project
    seen = drive(
        ["first", "train", ["logistic", OURS, True]],
        ["_", "passed", ["$first.run_id", "$first.model_uri"]],
        ["_", "plant_lock", ["`slipway deploy` by ci on runner-7 (pid 42)"]],
        ["_", "setenv", ["SLIPWAY_LOCK_WAIT", "1"]],
        ["held", "slipway", ["deploy"]],
        ["_", "setenv", ["SLIPWAY_LOCK_STALE", "0"]],
        ["stale", "slipway", ["deploy"]],
        ["state", "state", []],
    )
    line = refusal(seen["held"])
    assert line.startswith("the registry is locked by `slipway deploy` by ci on runner-7 (pid 42) since ")
    assert line.endswith(
        "retry when it is done; if that process died, delete registered model 'mini.slipway-lock'"
        " (taken over anyway after 600 s)"
    )
    assert seen["stale"]["code"] == 0, seen["stale"]
    assert seen["state"]["aliases"] == {"champion": "1"}


# ---- section 7: smoke-test the challenger before the move -----------------------------------------


def test_a_failing_smoke_test_leaves_the_champion_unchanged(project: Project) -> None:
    _, drive = project
    seen = drive(
        ["first", "train", ["logistic", OURS, True]],
        ["_", "passed", ["$first.run_id", "$first.model_uri"]],
        ["deployed", "slipway", ["deploy"]],
        ["bare", "train", ["bare", OURS, True]],  # no input example, no signature: it cannot be served
        ["challenger", "passed", ["$bare.run_id", "$bare.model_uri"]],
        ["smoked", "slipway", ["deploy", "--smoke"]],
        ["state", "state", []],
    )
    assert seen["deployed"]["code"] == 0, seen["deployed"]
    assert refusal(seen["smoked"]) == "the server exited with code 1 before it was ready"
    assert seen["state"]["aliases"] == {"champion": "1", "challenger": "2"}


# ---- the model card (issue 15): logged before anything moves ---------------------------------------


def test_a_card_that_cannot_be_logged_moves_nothing(project: Project) -> None:
    """The run's artifact folder is blocked (a file where the card's folder goes): deploy fails in one
    line, with no record, no alias moved, no card tag and no local card; unblocked, it promotes."""
    root, drive = project
    seen = drive(
        ["first", "train", ["logistic", OURS, True]],
        ["_", "passed", ["$first.run_id", "$first.model_uri"]],
        ["artifacts", "block_card", ["$first.run_id"]],
        ["blocked", "slipway", ["deploy"]],
        ["blocked_state", "state", []],
        ["blocked_tags", "version_tags", ["1"]],
        ["blocked_card", "exists", ["reports/card"]],
        ["_", "unblock_card", ["$artifacts"]],
        ["deployed", "slipway", ["deploy"]],
        ["state", "state", []],
        ["tags", "version_tags", ["1"]],
    )
    run_id, artifacts = seen["first"]["run_id"], Path(seen["artifacts"])
    assert refusal(seen["blocked"]).startswith(f"logging model-card/version-1 to run {run_id} failed")
    assert seen["blocked_state"] == {"aliases": {"challenger": "1"}, "events": []}
    assert "slipway.model_card" not in seen["blocked_tags"]
    assert seen["blocked_card"] is False
    assert seen["deployed"]["code"] == 0, seen["deployed"]
    assert seen["state"]["aliases"] == {"champion": "1"}
    uri = f"runs:/{run_id}/model-card/version-1/model-card.md"
    assert seen["tags"]["slipway.model_card"] == uri
    assert f"logged to MLflow as {uri}" in seen["deployed"]["out"]
    # this small project has no docs/intended-use.md: the card and deploy say so, and deploy succeeds
    assert "deploy: warning: intended use not written: add docs/intended-use.md" in seen["deployed"]["err"]
    card = (root / "reports" / "card" / "model-card.md").read_text()
    assert card.startswith("# Model card: mini version 1\n\n> **Warning:** intended use not written")
    assert (artifacts / "model-card" / "version-1" / "model-card.md").read_text() == card


# ---- the project's identity is written once --------------------------------------------------------


def test_project_id_is_written_once_under_tool_slipway(tmp_path: Path) -> None:
    """The copy task and migration 0.3.0: a UUID after `package`, kept on every later run."""
    spec = importlib.util.spec_from_file_location(
        "project_id", ROOT / "hooks" / "migrations" / "project_id.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\n\n[tool.slipway]\npackage = "x"  # the package\ncoverage_floor = 80\n'
    )
    assert module.ensure_project_id(pyproject)
    first = pyproject.read_text()
    assert not module.ensure_project_id(pyproject)
    assert pyproject.read_text() == first
    lines = first.splitlines()
    assert re.fullmatch(
        r'project_id = "[0-9a-f-]{36}"  # .*', lines[lines.index('package = "x"  # the package') + 1]
    )
    assert load_project(pyproject).project_id == tomllib.loads(first)["tool"]["slipway"]["project_id"]


def test_a_verdict_only_evaluate_gates_without_touching_the_registry(project: Project) -> None:
    """Pull-request credentials that may only read the registry still get a verdict (train.yml)."""
    _, drive = project
    seen = drive(
        ["first", "train", ["logistic", OURS, True]],
        ["_", "setenv", ["SLIPWAY_VERDICT_ONLY", "1"]],
        ["verdict", "slipway", ["evaluate"]],
        ["after", "versions", []],
    )
    assert seen["verdict"]["code"] == 0, seen["verdict"]
    assert (
        seen["verdict"]["out"]
        .strip()
        .endswith("evaluate: pass; registry unchanged (verdict only: `nox -s deploy` registers and promotes)")
    )
    assert seen["after"] == []


# ---- section 6: a malformed record is skipped, not fatal ------------------------------------------

MALFORMED = {  # version -> tag -> value
    "2": {"slipway.event.not-json": "{promote", "slipway.event.list": '["promote", "2"]'},
    "1": {
        "slipway.event.missing": '{"kind": "promote", "version": "1"}',
        "slipway.event.extra": json.dumps(
            {"kind": "x", "version": "1", "previous": None, "at": "a", "by": "b", "details": {}, "y": 1}
        ),
        "slipway.event.mistyped": json.dumps(
            {"kind": "promote", "version": 1, "previous": None, "at": "a", "by": "b", "details": {}}
        ),
    },
}


def rows(table: str) -> list[list[str]]:
    """(event, version) of each row of `history`'s table."""
    return [line.split()[1:3] for line in table.splitlines() if line[:2] == "20"]


def test_a_malformed_promotion_record_is_skipped_with_a_warning_and_rollback_still_works(
    project: Project,
) -> None:
    _, drive = project
    seen = drive(
        ["first", "train", ["logistic", OURS, True]],
        ["_", "passed", ["$first.run_id", "$first.model_uri"]],
        ["_", "slipway", ["deploy"]],
        ["second", "train", ["logistic", OURS, True]],
        ["_", "passed", ["$second.run_id", "$second.model_uri"]],
        ["_", "slipway", ["deploy"]],
        ["_", "set_version_tags", [MALFORMED]],
        ["before", "slipway", ["history"]],
        ["rollback", "slipway", ["rollback"]],
        ["after", "slipway", ["history"]],
    )
    before, rollback, after = seen["before"], seen["rollback"], seen["after"]
    assert [before["code"], rollback["code"], after["code"]] == [0, 0, 0], rollback["err"]
    assert rows(before["out"]) == [["promote", "1"], ["promote", "2"]]
    assert "rollback: version 1 is champion again (was version 2)" in rollback["out"]
    assert rows(after["out"])[-1] == ["rollback", "1"]
    for run in (before, rollback, after):
        warnings = [line for line in run["err"].splitlines() if line.startswith("slipway")]
        assert len(warnings) == sum(map(len, MALFORMED.values())), run["err"]
        for version, tags in MALFORMED.items():
            for tag in tags:
                assert any(f"skipping malformed record {tag} on version {version}:" in w for w in warnings)
    assert "slipway: skipping malformed record slipway.event.not-json on version 2: not JSON" in warnings
