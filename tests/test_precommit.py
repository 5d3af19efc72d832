"""slipway's pre-commit hooks, called directly and through pre-commit; the generated config, for real.

Direct `main([...])` calls cover each rule fast; `pre-commit try-repo` against a snapshot of the
working tree proves the wiring (.pre-commit-hooks.yaml, console scripts, packaging); rendered
projects prove the generated `.pre-commit-config.yaml` installs from registries alone and judges.
Hook environments are built once per test run, in a PRE_COMMIT_HOME shared by the xdist workers.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest
import yaml
from slipway.hooks import check_data_in_dvc, check_params, check_stage_deps, check_tracking_uri

from tests.conftest import ROOT, Render, git, run

# pre-commit as the generated project's lint group installs it: with pre-commit-uv (faster installs).
PRE_COMMIT = ("uvx", "--quiet", "--from", "pre-commit==4.7.0", "--with", "pre-commit-uv==4.4.1", "pre-commit")


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook-environment store for the whole run (shared by xdist workers; pre-commit locks it)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    home = root / "pre-commit-home"
    home.mkdir(exist_ok=True)
    return home


PreCommit = Callable[..., "tuple[int, str]"]


@pytest.fixture
def pre_commit(pre_commit_home: Path) -> PreCommit:
    """Run pre-commit in `cwd`; returns (exit code, stdout + stderr) with colour off."""

    def _run(cwd: Path, *args: str) -> tuple[int, str]:
        env = {"PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never"}
        result = run(cwd, *PRE_COMMIT, *args, check=False, env=env)
        return result.returncode, result.stdout + result.stderr

    return _run


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---- check-data-in-dvc ---------------------------------------------------------------------------


def test_data_file_in_git_is_refused_with_the_dvc_add_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "data/raw/extra.csv", "a,b\n1,2\n")
    write(tmp_path, "data/raw/breast_cancer.csv.dvc", "outs:\n- md5: 0\n  path: breast_cancer.csv\n")
    write(tmp_path, "data/raw/.gitignore", "/breast_cancer.csv\n")
    write(tmp_path, "src/model.py", "x = 1\n")
    assert (
        check_data_in_dvc.main(
            ["data/raw/extra.csv", "data/raw/breast_cancer.csv.dvc", "data/raw/.gitignore", "src/model.py"]
        )
        == 1
    )
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "data/raw/extra.csv: data file under data/ is in git, not tracked by DVC — "
        "`git rm --cached data/raw/extra.csv && dvc add data/raw/extra.csv`,"
        " then commit data/raw/extra.csv.dvc"
    ]


def test_pointers_code_and_small_files_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "data/raw/x.csv.dvc", "outs: []\n")
    write(tmp_path, "data/README.md", "what the data is\n")
    write(tmp_path, "database.py", "x = 1\n")  # a name starting with "data" is not under data/
    assert check_data_in_dvc.main(["data/raw/x.csv.dvc", "data/README.md", "database.py"]) == 0
    assert capsys.readouterr().out == ""


def test_large_file_anywhere_and_custom_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.bin").write_bytes(b"\0" * 3 * 1024)
    write(tmp_path, "datasets/train.parquet", "x")
    write(tmp_path, "data/ok.txt", "x")
    code = check_data_in_dvc.main(
        ["--max-kb", "2", "--data-dir", "datasets/", "model.bin", "datasets/train.parquet", "data/ok.txt"]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert len(out) == 2
    assert out[0].startswith("model.bin: 3 KB is above the 2 KB limit for files in git — track it with DVC:")
    assert out[1].startswith("datasets/train.parquet: data file under datasets/ is in git")


def test_file_tracked_by_dvc_and_git_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "data/raw/x.csv", "a\n")
    write(tmp_path, "data/raw/x.csv.dvc", "outs: []\n")
    assert check_data_in_dvc.main(["data/raw/x.csv"]) == 1
    assert capsys.readouterr().out == (
        "data/raw/x.csv: tracked by DVC (data/raw/x.csv.dvc) and committed to git as well"
        " — `git rm --cached data/raw/x.csv` and let git ignore it\n"
    )


# ---- check-params --------------------------------------------------------------------------------

PARAMS = """\
data:
  raw: data/raw/iris.csv
  target: target
split:
  test_size: 0.25
  seed: 42
model:
  n_estimators: 200
  max_depth: 8
"""

DVC_YAML = """\
vars:
  - reports: reports
stages:
  featurize:
    cmd: python -m pkg.featurize ${data.raw} --seed ${split.seed} --out ${reports}/x.json
    deps: ["${data.raw}"]
    params: [split.test_size]
  train:
    cmd: python -m pkg.train
    params:
      - data.target
      - model
  per_fold:
    foreach: [1, 2]
    do:
      cmd: echo ${item}
"""


def check_params_in(root: Path, capsys: pytest.CaptureFixture[str], *files: str) -> tuple[int, list[str]]:
    code = check_params.main([str(root / f) for f in files])
    return code, [line.replace(f"{root}/", "") for line in capsys.readouterr().out.splitlines()]


def test_params_all_referenced_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "params.yaml", PARAMS)
    write(tmp_path, "dvc.yaml", DVC_YAML)
    assert check_params_in(tmp_path, capsys, "params.yaml", "dvc.yaml") == (0, [])


def test_params_without_a_pipeline_only_need_to_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "params.yaml", PARAMS)
    assert check_params_in(tmp_path, capsys, "params.yaml") == (0, [])


def test_missing_and_unused_params_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "params.yaml", PARAMS + "unused_section:\n  a: 1\n")
    broken = DVC_YAML.replace("[split.test_size]", "[split.tset_size]").replace(
        "${split.seed}", "${split.sed}"
    )
    write(tmp_path, "dvc.yaml", broken)
    code, out = check_params_in(tmp_path, capsys, "dvc.yaml")
    assert code == 1
    assert out == [
        "dvc.yaml: stage 'featurize' uses parameter 'split.tset_size' in its params, which params.yaml"
        " does not define — add `split.tset_size` to params.yaml or fix the name",
        "dvc.yaml: stage 'featurize' uses parameter 'split.sed' as ${split.sed}, which params.yaml"
        " does not define — add `split.sed` to params.yaml or fix the name",
        "params.yaml: parameter 'split.test_size' is not used by any stage of dvc.yaml — list it under"
        " a stage's `params:` (or use it as ${split.test_size}), or delete it",
        "params.yaml: parameter 'split.seed' is not used by any stage of dvc.yaml — list it under"
        " a stage's `params:` (or use it as ${split.seed}), or delete it",
        "params.yaml: parameter 'unused_section' is not used by any stage of dvc.yaml — list it under"
        " a stage's `params:` (or use it as ${unused_section}), or delete it",
    ]


def test_params_in_other_files_are_looked_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "params.yaml", "a: 1\n")
    write(tmp_path, "train.yaml", "lr: 0.1\n")
    write(
        tmp_path,
        "dvc.yaml",
        "stages:\n  s:\n    cmd: x\n    params:\n      - a\n"
        "      - train.yaml: [lr, epochs]\n      - missing.yaml:\n",
    )
    code, out = check_params_in(tmp_path, capsys, "params.yaml")
    assert code == 1
    assert out == [
        "dvc.yaml: stage 's' uses parameter 'epochs' in its params, which train.yaml does not define"
        " — add `epochs` to train.yaml or fix the name",
        "dvc.yaml: stage 's' reads parameters from missing.yaml, which does not exist"
        " — create it or fix the file name",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "split:\n  seed: 1\n  seed: 2\n",
            "params.yaml:3: not valid YAML (duplicate key 'seed') — fix the syntax",
        ),
        ("split: [1, 2\n", "params.yaml:2: not valid YAML"),
        ("- 1\n- 2\n", "params.yaml: must be a mapping of parameter names to values"),
    ],
)
def test_invalid_params_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    write(tmp_path, "params.yaml", text)
    code, out = check_params_in(tmp_path, capsys, "params.yaml")
    assert code == 1
    assert len(out) == 1
    assert out[0].startswith(problem)


# ---- check-stage-deps ----------------------------------------------------------------------------

STAGE_DVC_YAML = """\
stages:
  train:
    cmd: uv run python -u -m pkg.stages.train ${data.raw}
    deps: [src/pkg/stages/train.py, src/pkg/model.py]
  report:
    cmd: python scripts/report.py
    deps: [scripts/report.py, src/pkg]
  per_fold:
    foreach: [1, 2]
    do:
      cmd: python -m pkg.stages.fold ${item}
      deps: [src/pkg/stages/fold.py]
  shell:
    cmd: echo done
  inline:
    cmd: python -c "import pkg.features"
  nested:
    wdir: sub
    cmd: python -m job --out ../reports
    deps: [job.py]
"""

STAGE_SOURCES = {
    "src/pkg/__init__.py": "",
    "src/pkg/stages/__init__.py": "",
    # relative and absolute imports, one inside a function; typing-only and installed ones ignored
    "src/pkg/stages/train.py": (
        "from typing import TYPE_CHECKING\n\nimport numpy\n\nfrom ..model import fit\n\n"
        "if TYPE_CHECKING:\n    from pkg.typing_only import Alias\n\n\n"
        "def main() -> None:\n    from pkg import features\n"
    ),
    "src/pkg/model.py": "from pkg.params import load\n",
    "src/pkg/params.py": "import typing\n\nif not typing.TYPE_CHECKING:\n    import pkg.runtime\n",
    "src/pkg/runtime.py": "",
    "src/pkg/features.py": "",
    "src/pkg/typing_only.py": "",
    "src/pkg/stages/fold.py": "import pkg.params\n",
    "scripts/report.py": "from pkg import features, params\n",
    "sub/job.py": "from helper import name\n",  # a stage with `wdir: sub` runs (and imports) there
    "sub/helper.py": "name = 1\n",
}


def stage_project(root: Path) -> Path:
    for name, text in STAGE_SOURCES.items():
        write(root, name, text)
    return write(root, "dvc.yaml", STAGE_DVC_YAML)


def test_stage_deps_name_each_unlisted_module_and_who_imports_it(tmp_path: Path) -> None:
    missing = check_stage_deps.missing(stage_project(tmp_path))
    found = {(m.stage, str(m.file), str(m.imported_by)) for m in missing}
    assert found == {
        ("train", "src/pkg/params.py", "src/pkg/model.py"),  # followed through model.py
        ("train", "src/pkg/features.py", "src/pkg/stages/train.py"),  # imported inside main()
        ("per_fold", "src/pkg/params.py", "src/pkg/stages/fold.py"),  # a foreach stage's `do`
        ("train", "src/pkg/runtime.py", "src/pkg/params.py"),  # `if not TYPE_CHECKING:` runs
        ("per_fold", "src/pkg/runtime.py", "src/pkg/params.py"),
        ("nested", "sub/helper.py", "sub/job.py"),  # found and listed relative to its wdir
    }  # report: scripts/ file listed, pkg covered by its directory; shell and inline: no file


def test_stage_deps_hook_runs_on_the_pipeline_above_a_changed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stage_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert check_stage_deps.main(["src/pkg/model.py"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6  # in stage order, then by file
    assert lines[1] == (
        "dvc.yaml: stage 'train' runs src/pkg/params.py (imported by src/pkg/model.py) but its deps do "
        "not list it — add it to deps, or DVC skips the stage when that file changes"
    )
    (tmp_path / "dvc.yaml").write_text(
        STAGE_DVC_YAML.replace("src/pkg/model.py]", "src/pkg/model.py, src/pkg/features.py, PARAMS]")
        .replace("[src/pkg/stages/fold.py]", "[src/pkg/stages/fold.py, PARAMS]")
        .replace("PARAMS", "src/pkg/params.py, src/pkg/runtime.py")
        .replace("[job.py]", "[job.py, helper.py]")
    )
    assert check_stage_deps.main(["dvc.yaml"]) == 0
    assert check_stage_deps.main(["README.md"]) == 0  # nothing under a pipeline: nothing to check
    (tmp_path / "src/pkg/model.py").write_text("def broken(:\n")
    assert check_stage_deps.main(["src/pkg/model.py"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("dvc.yaml: cannot be checked (SyntaxError)")


# ---- check-tracking-uri --------------------------------------------------------------------------

BAD_SOURCE = {
    'mlflow.set_tracking_uri("http://mlflow.internal:5000")\n': "hard-coded MLflow URI in set_tracking_uri(",
    'MLFLOW_TRACKING_URI = "https://mlflow.example.com"\n': "hard-coded MLFLOW_TRACKING_URI = ",
    'os.environ["MLFLOW_TRACKING_URI"] = "databricks"\n': "hard-coded MLFLOW_TRACKING_URI = 'databricks'",
    'os.environ.setdefault("MLFLOW_TRACKING_URI", "sqlite:///m")\n': "hard-coded MLFLOW_TRACKING_URI default",
    'client = MlflowClient(tracking_uri="http://x:5000")\n': "MlflowClient(tracking_uri='http://x:5000')",
    'mlflow.set_tracking_uri(f"https://mlflow:{port}")\n': "set_tracking_uri('https://mlflow:...')",
    'STORE = "postgresql://admin:s3cret@db:5432/mlflow"\n': "credentials in URI 'postgresql://admin:***@'",
}

GOOD_SOURCE = """\
import os

import mlflow

mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
mlflow.set_tracking_uri(f"sqlite:///{os.getcwd()}/mlflow.db")
mlflow.set_tracking_uri(config.tracking_uri)
TEMPLATE = "https://${USER}:${PASSWORD}@mlflow.example.com"
DOC = "https://mlflow.example.com"  # a URL that is not handed to MLflow
mlflow.set_tracking_uri("http://localhost:5000")  # slipway: allow-tracking-uri
"""


@pytest.mark.parametrize(("source", "problem"), list(BAD_SOURCE.items()))
def test_hard_coded_uri_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, problem: str
) -> None:
    path = write(tmp_path, "train.py", "import os\nimport mlflow\n" + source)
    assert check_tracking_uri.main([str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{path}:3: ")
    assert problem in out[0]
    assert "s3cret" not in out[0]


def test_uri_from_env_or_config_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "train.py", GOOD_SOURCE)
    assert check_tracking_uri.main([str(path)]) == 0
    assert capsys.readouterr().out == ""


def notebook(source: str, *, outputs: bool = False) -> str:
    cell_outputs = [{"name": "stdout", "output_type": "stream", "text": ["hi\n"]}] if outputs else []
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# mlflow.set_tracking_uri('http://x')"]},
        {
            "cell_type": "code",
            "execution_count": 1 if outputs else None,
            "metadata": {},
            "outputs": cell_outputs,
            "source": source.splitlines(keepends=True),
        },
    ]
    nb = {
        "cells": cells,
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    return json.dumps(nb, indent=1) + "\n"


def test_notebook_cells_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "explore.ipynb",
        notebook('%pip install mlflow\nimport mlflow\nmlflow.set_tracking_uri("http://10.0.0.5:5000")\n'),
    )
    assert check_tracking_uri.main([str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        f"{path}: cell 2, line 3: hard-coded MLflow URI in set_tracking_uri('http://10.0.0.5:5000')"
    )
    assert out.count("\n") == 1  # the markdown cell is prose, not code


# ---- the real wiring: pre-commit try-repo against a snapshot of this repository ----------------


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "scratch"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    return repo


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("hook", "good", "bad", "message"),
    [
        (
            "check-data-in-dvc",
            {"data/raw/x.csv.dvc": "outs: []\n", "src/a.py": "x = 1\n"},
            {"data/raw/y.csv": "a,b\n"},
            "data/raw/y.csv: data file under data/ is in git, not tracked by DVC — `git rm --cached",
        ),
        (
            "check-params",
            {"params.yaml": PARAMS, "dvc.yaml": DVC_YAML},
            {"params.yaml": PARAMS + "lr: 0.1\n", "dvc.yaml": DVC_YAML},
            "params.yaml: parameter 'lr' is not used by any stage of dvc.yaml",
        ),
        (
            "check-stage-deps",
            {
                "dvc.yaml": "stages:\n  t:\n    cmd: python t.py\n    deps: [t.py, m.py]\n",
                "t.py": "import m\n",
            },
            {"m.py": "import n\n", "n.py": ""},
            "dvc.yaml: stage 't' runs n.py (imported by m.py) but its deps do not list it",
        ),
        (
            "check-tracking-uri",
            {"train.py": GOOD_SOURCE},
            {"nb.ipynb": notebook('import mlflow\nmlflow.set_tracking_uri("http://h:5000")\n')},
            "nb.ipynb: cell 2, line 2: hard-coded MLflow URI in set_tracking_uri('http://h:5000')",
        ),
    ],
)
def test_try_repo_runs_each_hook(
    template: Path,
    scratch_repo: Path,
    pre_commit: PreCommit,
    hook: str,
    good: dict[str, str],
    bad: dict[str, str],
    message: str,
) -> None:
    for name, text in good.items():
        write(scratch_repo, name, text)
    code, out = pre_commit(scratch_repo, "try-repo", str(template), hook, "--files", *good)
    assert code == 0, out
    assert "Passed" in out
    for name, text in bad.items():
        write(scratch_repo, name, text)
    code, out = pre_commit(scratch_repo, "try-repo", str(template), hook, "--files", *bad)
    assert code == 1, out
    assert message in out


HOOK_SETTINGS = ("name", "language", "files", "exclude", "types", "types_or")


def test_generated_config_declares_each_slipway_hook_as_the_hook_repository_does() -> None:
    """A project runs slipway's hooks as `repo: local` copies: each must select the same files and run
    the same command as .pre-commit-hooks.yaml (the source), or the two drift apart unnoticed."""
    shipped = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    env = jinja2.Environment(keep_trailing_newline=True)
    env.filters["to_json"] = json.dumps
    source = (ROOT / "template" / ".pre-commit-config.yaml.jinja").read_text()
    rendered = yaml.safe_load(env.from_string(source).render(project_name="P", slipway_pin="slipway"))
    local = {hook["id"]: hook for repo in rendered["repos"] for hook in repo["hooks"]}
    for hook in shipped:
        copy = local[hook["id"]]
        assert copy["entry"].split()[0] == hook["entry"], hook["id"]
        assert {k: copy.get(k) for k in HOOK_SETTINGS} == {k: hook.get(k) for k in HOOK_SETTINGS}, hook["id"]


# ---- the generated config in a rendered project --------------------------------------------------

NOTEBOOK_WITH_OUTPUTS = notebook('print("hi")\n', outputs=True)
BAD_WORKFLOW = """\
name: bad
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "${{ github.event.head_commit.message }}"
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
        with:
          persist-credentials: false
"""


@pytest.mark.e2e
def test_rendered_project_passes_pre_commit_and_committing_data_notebooks_or_uris_fails(
    render: Render, pre_commit: PreCommit, pre_commit_home: Path
) -> None:
    project = render()
    git(project, "add", "--all")
    assert not [f for f in git(project, "ls-files").splitlines() if f.endswith(".csv")], (
        "data leaked into git"
    )
    code, out = pre_commit(project, "run", "--all-files", "--show-diff-on-failure")
    assert code == 0, out
    for hook in (
        "ruff check",
        "check-jsonschema",
        "actionlint",
        "zizmor",
        "data is tracked by DVC, not git",
        "params.yaml matches dvc.yaml",
        "no hard-coded MLflow tracking URI",
        "spelling (codespell)",
        "Markdown format (mdformat",
    ):
        assert hook in out
    git(project, "commit", "--quiet", "--no-verify", "-m", "initial")
    code, out = pre_commit(project, "install")
    assert code == 0, out
    write(project, "data/raw/extra.csv", "f0,target\n1,0\n")
    write(project, "notebooks/explore.ipynb", NOTEBOOK_WITH_OUTPUTS)
    write(
        project,
        "src/my_model/remote.py",
        'import mlflow\n\nmlflow.set_tracking_uri("http://mlflow.internal")\n',
    )
    write(project, ".github/workflows/zz-bad.yml", BAD_WORKFLOW)  # sorts last: every file is linted
    write(project, "docs/notes.md", "# Notes\n\n* teh first finding\n")  # a typo, and `*` bullets
    git(project, "add", "data/raw/extra.csv", "notebooks/explore.ipynb", "src/my_model/remote.py", ".github")
    git(project, "add", "docs/notes.md")
    env = {"PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never"}
    result = run(project, "git", "commit", "-m", "add data and a notebook", check=False, env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1", "the commit went through"
    assert (
        "data/raw/extra.csv: data file under data/ is in git, not tracked by DVC"
        " — `git rm --cached data/raw/extra.csv && dvc add data/raw/extra.csv`"
    ) in out
    assert "- hook id: nbstripout\n- files were modified by this hook" in out
    assert '"outputs": []' in (project / "notebooks/explore.ipynb").read_text()
    assert (
        "src/my_model/remote.py:3: hard-coded MLflow URI in set_tracking_uri('http://mlflow.internal')" in out
    )
    assert (
        '.github/workflows/zz-bad.yml:8:24 "github.event.head_commit.message" is potentially untrusted' in out
    )
    assert "error[template-injection]" in out  # zizmor
    assert "docs/notes.md:3: teh ==> the" in out  # codespell
    assert "- hook id: mdformat\n- files were modified by this hook" in out
    assert (project / "docs/notes.md").read_text() == "# Notes\n\n- teh first finding\n"


@pytest.mark.e2e
def test_workflow_hooks_skip_a_project_without_workflows(render: Render, pre_commit: PreCommit) -> None:
    project = render(tasks=False)
    shutil.rmtree(project / ".github", ignore_errors=True)
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    for hook in ("check-github-workflows", "actionlint", "zizmor"):
        code, out = pre_commit(project, "run", hook, "--all-files")
        assert code == 0, out
        assert "(no files to check)Skipped" in out


@pytest.mark.e2e
def test_lint_session_checks_files_not_committed_yet(render: Render, pre_commit_home: Path) -> None:
    project = render()  # copier's task ran `git init`; nothing is added or committed
    # SLIPWAY_FORCE: the second run must really run, not reuse the first one's verdict.
    env = {"PRE_COMMIT_HOME": str(pre_commit_home), "SLIPWAY_FORCE": "1"}
    # Twice: hook environments must survive the session's own `uv sync` of its venv.
    for _ in range(2):
        result = run(project, "uvx", "nox", "-s", "lint", "--", "check-yaml", check=False, env=env)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        assert "files are not committed yet: checking them with the committed ones" in out
        assert "YAML files parse....." in out
    write(project, "src/my_model/remote.py", 'MLFLOW_TRACKING_URI = "http://mlflow.internal"\n')
    result = run(project, "uvx", "nox", "-s", "lint", "--", "check-tracking-uri", check=False, env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "src/my_model/remote.py:1: hard-coded MLFLOW_TRACKING_URI = 'http://mlflow.internal'" in out
