"""The verdict cache's keys on synthetic projects: each input class changes the key of exactly the
gates that read it, a pipeline output changes none, and CI or SLIPWAY_FORCE=1 trusts nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from slipway import session_inputs, verdicts
from slipway.gates.evaluate import verdict_key
from slipway.project import Project
from slipway.registry import Version

from tests.conftest import git

PYPROJECT = """[tool.slipway]
package = "pkg"
project_id = "proj-1"

[tool.slipway.gates]
bootstrap_samples = 1000

[tool.mypy]
strict = true
"""
DVC_YAML = """stages:
  train:
    cmd: python -m pkg.train
    deps: [src/pkg/model.py]
    outs: [models/train.json]
    metrics:
      - reports/metrics.json:
          cache: false
"""
FILES = {
    "pyproject.toml": PYPROJECT,
    "uv.lock": "version = 1\n",
    "noxfile.py": "import slipway.sessions\n",
    "README.md": "# pkg\n",
    "params.yaml": "model:\n  n_estimators: 200\n",
    "contract.yaml": "target: y\n",
    "dvc.yaml": DVC_YAML,
    "dvc.lock": "schema: '2.0'\n",
    "reports/metrics.json": '{"auc": 0.9}\n',
    "src/pkg/__init__.py": "",
    "src/pkg/model.py": "DEPTH = 8\n",
    "tests/test_model.py": "def test_depth() -> None:\n    assert True\n",
    "data/raw/table.csv.dvc": "outs:\n- md5: 0123\n  size: 8\n  path: table.csv\n",
    "data/raw/.gitignore": "/table.csv\n",
    "data/raw/table.csv": "x,y\n1,0\n",
    ".gitignore": ".venv/\n.nox/\n",
    ".venv/pyvenv.cfg": "version = 3.11.7\n",
}
GATES = ("lint", "typecheck", "tests")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", "--all")
    return tmp_path


def keys(root: Path) -> dict[str, str]:
    env = root / ".venv"
    inputs = {
        "lint": session_inputs.lint(root, []),
        "typecheck": session_inputs.typecheck(root, ["src", "tests"], env),
        "tests": session_inputs.tests(root, [], env),
    }
    return {gate: verdicts.key(found, root) for gate, found in inputs.items() if found is not None}


def edit(name: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / name
        path.write_text(path.read_text().replace(old, new, 1))

    return change


def append(name: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        with (root / name).open("a") as file:
            file.write(text)

    return change


CHANGES: dict[str, tuple[Callable[[Path], None], set[str]]] = {
    "model.py": (edit("src/pkg/model.py", "8", "9"), set(GATES)),
    "a new module": (append("src/pkg/extra.py", "X = 1\n"), set(GATES)),
    "params.yaml": (edit("params.yaml", "200", "150"), {"lint", "tests"}),
    "the data": (append("data/raw/table.csv", "2,1\n"), {"tests"}),
    "uv.lock": (append("uv.lock", "# relocked\n"), set(GATES)),
    "gate settings": (edit("pyproject.toml", "1000", "999"), {"lint", "tests"}),
    "mypy settings": (edit("pyproject.toml", "strict = true", "strict = false"), set(GATES)),
    "the Python of the env": (edit(".venv/pyvenv.cfg", "3.11.7", "3.12.1"), {"typecheck", "tests"}),
    "the README": (append("README.md", "More.\n"), {"lint", "tests"}),
    "dvc.lock, written by dvc repro": (append("dvc.lock", "stages: {}\n"), set()),
    "a metrics file in dvc.yaml": (edit("reports/metrics.json", "0.9", "0.8"), set()),
    "the .gitignore DVC writes beside an output": (append("models/.gitignore", "/train.json\n"), set()),
    "the project's .gitignore": (append(".gitignore", "*.log\n"), {"lint", "tests"}),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_rekeys_exactly_the_gates_that_read_it(project: Path, change: str) -> None:
    apply, expected = CHANGES[change]
    before = keys(project)
    assert before == keys(project)  # nothing changed: the same keys
    apply(project)
    after = keys(project)
    assert {gate for gate in GATES if before[gate] != after[gate]} == expected


def test_a_deleted_test_file_rekeys_the_gates(project: Path) -> None:
    before = keys(project)
    (project / "tests" / "test_model.py").unlink()  # still in git's index: counted as missing
    assert all(before[gate] != key for gate, key in keys(project).items())


def test_arguments_are_part_of_the_key(project: Path) -> None:
    plain, selected = (session_inputs.tests(project, args, project / ".venv") for args in ([], ["-k", "x"]))
    assert plain is not None
    assert selected is not None
    assert verdicts.key(plain, project) != verdicts.key(selected, project)


def test_outside_git_there_is_no_key(tmp_path: Path) -> None:
    assert session_inputs.tests(tmp_path, [], tmp_path / ".venv") is None


def test_a_pass_is_found_by_its_key_and_never_in_ci_or_when_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(verdicts.FORCE_ENV, raising=False)
    assert not verdicts.cached(tmp_path, "tests", "a" * 64)
    verdicts.record(tmp_path, "tests", "a" * 64)
    verdicts.record(tmp_path, "tests", "b" * 64)
    assert verdicts.cached(tmp_path, "tests", "a" * 64)  # undoing an edit finds the earlier pass
    assert not verdicts.cached(tmp_path, "lint", "a" * 64)
    monkeypatch.setenv(verdicts.FORCE_ENV, "1")
    assert not verdicts.cached(tmp_path, "tests", "a" * 64)
    monkeypatch.delenv(verdicts.FORCE_ENV)
    monkeypatch.setenv("CI", "true")
    assert not verdicts.cached(tmp_path, "tests", "a" * 64)


def test_only_the_newest_keys_are_kept(tmp_path: Path) -> None:
    for n in range(verdicts.KEPT + 3):
        verdicts.record(tmp_path, "lint", f"{n:064x}")
        os.utime(tmp_path / verdicts.DIRECTORY / "lint" / f"{n:064x}", ns=(n, n))
    kept = sorted(path.name for path in (tmp_path / verdicts.DIRECTORY / "lint").iterdir())
    assert len(kept) == verdicts.KEPT
    assert kept[-1] == f"{verdicts.KEPT + 2:064x}"


def test_the_skip_message_names_the_key_and_how_to_force(tmp_path: Path) -> None:
    message = verdicts.skipped_message("0123456789abcdef" * 4)
    assert message == "verdict cached for key 0123456789ab (SLIPWAY_FORCE=1 to re-run)"


def champion(number: str) -> Version:
    return Version("pkg", number, f"run-{number}", f"models:/m-{number}", {})


EVALUATE_CHANGES: dict[str, Callable[[Path], None]] = {
    "gate settings": edit("pyproject.toml", "1000", "999"),
    "the holdout table": append("data/processed/test.csv", "2,1\n"),
    "the training table": append("data/processed/train.csv", "2,1\n"),
    "the contract": edit("contract.yaml", "y", "z"),
}


@pytest.mark.parametrize("change", EVALUATE_CHANGES)
def test_evaluate_key_follows_its_inputs(project: Path, change: str) -> None:
    for table in ("train", "test"):
        (project / "data" / "processed").mkdir(parents=True, exist_ok=True)
        (project / "data" / "processed" / f"{table}.csv").write_text("x,y\n1,0\n")
    before = verdict_key(Project.load(project), "run-9", champion("1"))
    assert before == verdict_key(Project.load(project), "run-9", champion("1"))
    assert before != verdict_key(Project.load(project), "run-8", champion("1"))  # another candidate
    assert before != verdict_key(Project.load(project), "run-9", champion("2"))  # the champion moved
    assert before != verdict_key(Project.load(project), "run-9", None)
    EVALUATE_CHANGES[change](project)
    assert before != verdict_key(Project.load(project), "run-9", champion("1"))


def test_an_unwritable_cache_leaves_the_pass_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(verdicts.FORCE_ENV, raising=False)
    (tmp_path / verdicts.DIRECTORY).parent.mkdir(parents=True)
    (tmp_path / verdicts.DIRECTORY).write_text("not a folder")
    verdicts.record(tmp_path, "tests", "a" * 64)  # no error: the gate passed all the same
    assert not verdicts.cached(tmp_path, "tests", "a" * 64)


def test_only_a_sqlite_store_has_a_file_to_stamp() -> None:
    assert session_inputs.local_store("sqlite:////srv/p/mlflow.db?timeout=5") == Path("/srv/p/mlflow.db")
    assert session_inputs.local_store("http://mlflow.internal:5000") is None
    assert session_inputs.local_store("postgresql://db/mlflow") is None


def test_the_stores_stamp_keys_evaluate_apart_from_what_the_gate_reads(project: Path) -> None:
    store = project / "mlflow.db"
    store.write_text("registry")
    uri = f"sqlite:///{store}"
    (project / "models").mkdir()
    (project / "models" / "train.json").write_text('{"run_id": "r1", "model_uri": "models:/m-1"}')
    before = session_inputs.evaluate(project, uri, [])
    assert before is not None
    assert session_inputs.evaluate(project, "http://mlflow:5000", []) is None
    os.utime(store, ns=(1, 1))  # a write to the registry: another champion, say
    after = session_inputs.evaluate(project, uri, [])
    assert after is not None
    assert after.full != before.full
    assert after.judged == before.judged  # what the gate reads is as it was
    (project / "models" / "train.json").write_text('{"run_id": "r2", "model_uri": "models:/m-2"}')
    candidate = session_inputs.evaluate(project, uri, [])
    assert candidate is not None
    assert candidate.judged != after.judged
