"""Registry steps for tests/test_registry_safety.py, run in an environment with MLflow and skops.

`python registry_driver.py STEP JSON_ARGS` (cwd: a small project made by the test) prints the step's
JSON result. Real MLflow, a real SQLite store, real scikit-learn models: no mocks.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd


class Payload:
    """What an attacker logs as a pickle model: unpickling it creates a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _project() -> Any:
    from slipway.project import Project

    return Project.load()


def enter(root: str) -> None:
    """Work in another project: its directory, and its store (mlflow.set_tracking_uri sets the env)."""
    os.chdir(root)
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def train(kind: str, project_id: str, candidate: bool = False, marker: str = "") -> dict[str, str]:
    """Fit and log a model in a run tagged with `project_id`; optionally make it the candidate."""
    import mlflow
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"  # MLflow checks the example by loading
    frame = pd.read_csv("data/processed/train.csv")
    features, target = frame[["x1", "x2"]], frame["target"]
    mlflow.set_tracking_uri(_project().tracking_uri)
    with mlflow.start_run(tags={"slipway.project": project_id} if project_id else {}) as run:
        if kind == "pickle":
            info = mlflow.sklearn.log_model(
                Payload(marker), name="model", serialization_format="pickle", pip_requirements=[]
            )
        elif kind == "tree":
            info = mlflow.sklearn.log_model(
                DecisionTreeClassifier(max_depth=2).fit(features, target),
                name="model",
                skops_trusted_types=["sklearn.tree._tree.Tree"],  # the model's own list
                pip_requirements=[],
            )
        else:  # "logistic", or "bare": no input example, so the smoke test has nothing to send
            info = mlflow.sklearn.log_model(
                LogisticRegression().fit(features, target),
                name="model",
                input_example=features.head(2) if kind == "logistic" else None,
                pip_requirements=[],
            )
    record = {"run_id": run.info.run_id, "model_uri": info.model_uri}
    if candidate:
        Path("models").mkdir(exist_ok=True)
        Path("models/train.json").write_text(json.dumps(record))
    return record


def create_version(run_id: str, model_uri: str, tags: dict[str, str]) -> str:
    """A version made by hand (no gate), with whatever tags an attacker chooses."""
    return _project().registry().create_version(model_uri, run_id, tags).version


def set_alias(alias: str, version: str) -> None:
    _project().registry().set_alias(alias, version)


def passed(run_id: str, model_uri: str) -> str:
    """A version as a passing `evaluate` leaves it: a new version with evidence, made challenger."""
    from slipway.gates.evaluate import Verdict, promote_to_challenger

    project = _project()
    registry = project.registry()
    champion = registry.alias("champion")
    verdict = Verdict(None, None)
    return promote_to_challenger(registry, project, run_id, model_uri, {}, verdict, champion).version


def passed_aside(run_id: str, model_uri: str) -> str:
    """A passing version with its evidence, compared against today's champion, not made challenger."""
    from slipway.gates.evaluate import Verdict, gate_tags, write_evidence

    project = _project()
    registry = project.registry()
    champion = registry.alias("champion")
    tags = gate_tags(registry, project, run_id, {}, Verdict(None, None), champion)
    version = registry.create_version(model_uri, run_id, tags)
    write_evidence(registry, project, version, champion)
    return version.version


def set_run_tag(run_id: str, key: str, value: str) -> None:
    _project().registry().set_run_tag(run_id, key, value)


def set_version_tags(tags: dict[str, dict[str, str]]) -> None:
    """Tags written straight to versions ({version: {key: value}}), as anyone with registry access can."""
    registry = _project().registry()
    for version, pairs in tags.items():
        for key, value in pairs.items():
            registry.set_tag(version, key, value)


def block_card(run_id: str) -> str:
    """A file where the run's model-card folder would go (logging the card fails); returns the folder."""
    folder = Path(str(_project().registry().client.get_run(run_id).info.artifact_uri).removeprefix("file://"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model-card").write_text("in the way")
    return str(folder)


def exists(path: str) -> bool:
    return Path(path).exists()


def unblock_card(folder: str) -> None:
    (Path(folder) / "model-card").unlink()


def version_tags(version: str) -> dict[str, str]:
    return _project().registry().get(version).tags


def versions() -> list[str]:
    """Every version of the model (none when nothing was ever registered)."""
    return [version.version for version in _project().registry().versions()]


def state() -> dict[str, Any]:
    from slipway.gates import record

    registry = _project().registry()
    aliases = dict(registry.client.get_registered_model(registry.name).aliases)
    events = [[e.kind, e.version, e.previous] for e in record.events(registry)]
    return {"aliases": {k: str(v) for k, v in aliases.items()}, "events": events}


def load(model_uri: str) -> str:
    """The template's own path: tracking.load_model is slipway.model_file.load_model with its types."""
    from slipway.errors import SlipwayError
    from slipway.model_file import load_model

    try:
        return type(load_model(model_uri, [], tracking_uri=_project().tracking_uri)).__name__
    except SlipwayError as exc:
        return f"refused: {exc}"


# ---- one process per scenario: each process pays seconds of imports ----------------------------


def ours() -> str:
    from slipway.config import load_project

    return load_project().project_id


def setup_hostile(kind: str, marker: str = "") -> dict[str, str]:
    """A candidate of ours, and as champion a hand-tagged `kind` model (pickle payload or tree)."""
    candidate = train("logistic", ours(), candidate=True)
    hostile = train(kind, ours(), marker=marker)
    version = create_version(
        hostile["run_id"], hostile["model_uri"], {"slipway.verdict": "pass", "slipway.project": ours()}
    )
    set_alias("champion", version)
    return {"version": version, "uri": hostile["model_uri"], "candidate": candidate["run_id"]}


def setup_foreign() -> dict[str, str]:
    """Our candidate; versions 1 and 2 from another project (champion: 1); version 3 our run, their tag."""
    candidate = train("logistic", ours(), candidate=True)
    theirs = {"slipway.verdict": "pass", "slipway.project": "proj-theirs"}
    versions = [create_version(**train("logistic", "proj-theirs"), tags=theirs) for _ in range(2)]
    mislabeled = create_version(candidate["run_id"], candidate["model_uri"], theirs)
    set_alias("champion", versions[0])
    set_alias("challenger", mislabeled)
    return {"foreign": versions[0], "other": versions[1], "mislabeled": mislabeled}


def setup_race() -> dict[str, str]:
    """Champion 1 (deployed); challenger 2 (this candidate, gated against 1); 3 gated against 1, aside."""
    from slipway import cli

    first = train("logistic", ours(), candidate=True)
    passed(**first)
    assert cli.main(["deploy"]) == 0
    second = train("logistic", ours(), candidate=True)
    challenger = passed(**second)
    other = passed_aside(**train("logistic", ours()))
    return {"challenger": challenger, "other": other}


def in_each(step: str, *roots: str) -> list[Any]:
    """A step in each project directory (one store each), from this one process."""
    found = []
    for root in roots:
        enter(root)
        found.append(globals()[step]())
    return found


def race(role: str, *roots: str) -> list[dict[str, Any]]:
    """One racer through every trial: in each project, open the store, say ready, wait for `go`, then
    `slipway deploy` (role "deploy") or move challenger to 3 as another branch's evaluate would
    (role "move", 1.5 s later per trial number, so the trials see different interleavings)."""
    import sklearn  # noqa: F401 - paid before the start signal, so the racers overlap
    from slipway.errors import SlipwayError
    from slipway.gates import deploy, lock  # noqa: F401
    from slipway.gates.evaluate import move_challenger

    results = []
    for trial, root in enumerate(roots):
        enter(root)
        registry = _project().registry()
        registry.alias("champion")  # MLflow keeps the opened store for the move to come
        Path(f"go.ready.{os.getpid()}").touch()
        while not Path("go").exists():
            time.sleep(0.01)
        if role == "deploy":
            results.append(slipway("deploy"))
            continue
        time.sleep(1.5 * trial)
        try:
            move_challenger(registry, registry.get("3"), "1")
            results.append({"code": 0, "out": "challenger: 3", "err": ""})
        except SlipwayError as exc:
            results.append({"code": 1, "out": "", "err": f"refused: {exc}"})
    return results


def plant_lock(holder: str) -> None:
    """The lock as a killed deploy leaves it."""
    from slipway.gates.lock import HOLDER_TAG, TOKEN_TAG, lock_name

    registry = _project().registry()
    registry.client.create_registered_model(lock_name(registry), tags={HOLDER_TAG: holder, TOKEN_TAG: "t1"})


def setenv(name: str, value: str) -> None:
    os.environ[name] = value


def slipway(*argv: str) -> dict[str, Any]:
    """`slipway ARGV` in this process: its exit code and output; an escaping exception is a traceback."""
    import contextlib
    import io
    import traceback

    from slipway import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: Any = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code
        except Exception:
            code = "traceback"
            traceback.print_exc()
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def resolve(value: Any, results: dict[str, Any]) -> Any:
    """`"$name"` or `"$name.key"`: an earlier step's result (or one of its keys)."""
    if isinstance(value, list):
        return [resolve(item, results) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, results) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("$"):
        name, _, key = value[1:].partition(".")
        return results[name][key] if key else results[name]
    return value


def scenario(*steps: list[Any]) -> dict[str, Any]:
    """Run `[name, step, args]` steps in order in this one process (imports are paid once)."""
    results: dict[str, Any] = {}
    for name, step, args in steps:
        results[name] = globals()[step](*resolve(args, results))
    return results


if __name__ == "__main__":
    step, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "[]"
    args = json.loads(raw)
    result = globals()[step](*args) if isinstance(args, list) else globals()[step](**args)
    print(json.dumps(result if result is not None else {}, default=str))
