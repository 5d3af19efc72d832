"""`copier update` loses nothing: real updates between real template releases.

One temp clone of this repository holds the previous release (real history, tagged e.g. v0.1.0),
the working tree as the new release (v0.2.0) and, for updates between recent releases, one more
commit (v0.2.1, tests/releases.py). Projects are rendered at a tag, edited and committed the way a
team would, then updated with copier's API or `nox -s template-update` (the copier CLI).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import copier
import pytest
from slipway.hooks import check_stage_deps
from slipway.sessions import COPIER

from tests.conftest import ROOT, commit_all, git, nox, output, run
from tests.releases import Releases, next_release, release_history

pytestmark = pytest.mark.e2e

MIGRATIONS = ROOT / "hooks" / "migrations"
NEXT = "v0.2.1"
MARKERS = re.compile(rb"^(<<<<<<< |>>>>>>> |=======$)", re.MULTILINE)
# Rendered by the template and never merged afterwards (copier.yml `_skip_if_exists`).
NEW_FILES = {
    "mkdocs.yml",
    "docs/intended-use.md",
    "LICENSE",
}  # new in this release: the docs site, the model card's prose, the license the answers name
USER_OWNED = ("params.yaml", "dvc.yaml", "README.md", "src/", "tests/", "data/", "uv.lock")


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    found = release_history(tmp_path_factory.mktemp("releases") / "slipway")
    next_release(found, NEXT)
    return found


Project = Callable[..., Path]


@pytest.fixture
def project(releases: Releases, tmp_path: Path) -> Project:
    """Render at a tag and commit: `project(tag, tasks=False, **answers)`."""

    def make(tag: str, *, tasks: bool = False, name: str = "my-model", **data: str) -> Path:
        dest = tmp_path / name
        copier.run_copy(
            str(releases.repo), str(dest), data=data, defaults=True, unsafe=True, vcs_ref=tag,
            quiet=True, skip_tasks=not tasks,
        )  # fmt: skip
        if not tasks:
            git(dest, "init", "--quiet", "--initial-branch=main")
        commit_all(dest, f"rendered at {tag}")
        return dest

    return make


def update(dest: Path, tag: str) -> None:
    copier.run_update(
        str(dest), defaults=True, overwrite=True, unsafe=True, conflict="inline", vcs_ref=tag, quiet=True
    )


def changed(dest: Path) -> dict[str, str]:
    """`git status` as {path: status}, untracked and ignored `.rej` files included."""
    lines = git(dest, "status", "--porcelain", "--untracked-files=all").splitlines()
    return {line[3:]: line[:2] for line in lines}


def with_markers(dest: Path) -> list[str]:
    tracked = git(dest, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return sorted(
        {
            name
            for name in tracked
            if name and (dest / name).is_file() and MARKERS.search((dest / name).read_bytes())
        }
    )


def rejects(dest: Path) -> list[str]:
    return sorted(str(path.relative_to(dest)) for path in dest.rglob("*.rej"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


def answers(dest: Path) -> str:
    return (dest / ".copier-answers.yml").read_text()


# ---- the copy task ----------------------------------------------------------------------------


def test_copy_task_writes_the_same_bytes_anywhere(releases: Releases, tmp_path: Path) -> None:
    """git init, `uv lock`, example data + `dvc add`: two copies in different places are identical."""
    copies = []
    for where in ("a", "b/deeper"):
        dest = tmp_path / where / "my-model"
        copier.run_copy(
            str(releases.repo), str(dest), defaults=True, unsafe=True, vcs_ref=releases.new, quiet=True
        )
        copies.append(dest)
    first, second = (
        {
            name: (dest / name).read_bytes()
            for name in git(dest, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
            if name
        }
        for dest in copies
    )
    assert {"uv.lock", "data/raw/breast_cancer.csv.dvc", "data/raw/.gitignore"} <= set(first)
    ids = [re.findall(rb'^project_id = "[0-9a-f-]{36}"', c["pyproject.toml"], re.M) for c in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1
    assert ids[0] != ids[1]
    assert first.pop("pyproject.toml").replace(ids[0][0], ids[1][0]) == second.pop("pyproject.toml")
    assert first == second
    data = "data/raw/breast_cancer.csv"
    assert (copies[0] / data).read_bytes() == (copies[1] / data).read_bytes()
    assert git(copies[0], "rev-parse", "--is-inside-work-tree").strip() == "true"


# ---- the update a team makes: user edits everywhere, plain `copier update` from the last release ----

USER_TEST = """from __future__ import annotations

from {package}.model import build_model
from {package}.params import ModelParams


def test_max_features_reaches_the_forest() -> None:
    params = ModelParams(
        n_estimators=5, max_depth=3, min_samples_leaf=1, seed=0, max_features="sqrt"
    )
    assert build_model(params).max_features == "sqrt"
"""

EXTRA_SESSION = '''

@nox.session(venv_backend="none")
def notes(session: nox.Session) -> None:
    """Where the team keeps its notes."""
    session.log("README.md, section 'Team notes'")
'''


TEAM_STEP = '      - name: Report\n        run: echo "all green" >> "$GITHUB_STEP_SUMMARY"\n'


def make_user_edits(dest: Path) -> dict[str, bytes]:
    """A team's first weeks: new param and the model code using it, an extra test, a pipeline dep,
    README notes; and in template-owned files a dependency, a workflow step, an ignore rule, a nox
    session, and the model name. Returns the user-owned files' bytes as committed."""
    pkg = dest / "src" / "my_model"
    edit(dest / "params.yaml", "  n_estimators: 200\n", "  n_estimators: 120\n  max_features: sqrt\n")
    seed = "    seed: int\n\n\n@dataclass(frozen=True)\nclass Params:"
    edit(pkg / "params.py", seed, seed.replace("int\n", "int\n    max_features: str | None = None\n", 1))
    edit(pkg / "model.py", "        random_state=params.seed,\n",
         "        random_state=params.seed,\n        max_features=params.max_features,\n")  # fmt: skip
    (dest / "tests" / "unit" / "test_team.py").write_text(USER_TEST.format(package="my_model"))
    edit(
        dest / "dvc.yaml",
        "      - src/my_model/model.py\n",
        "      - src/my_model/model.py\n      - src/my_model/params.py\n",
    )
    with (dest / "README.md").open("a") as readme:
        readme.write("\n## Team notes\n\nThe forest uses `max_features` from params.yaml.\n")
    # template-owned, merged 3-way
    edit(dest / "pyproject.toml", '  "skops>=0.13",\n', '  "skops>=0.13",\n  "joblib>=1.4",\n')
    edit(dest / "pyproject.toml", 'model_name = "my-model"', 'model_name = "churn-forest"')
    # (in a job the release leaves alone: an edit next to a changed line is a conflict to resolve)
    step = "        run: exit 1\n"
    edit(dest / ".github/workflows/ci.yml", step, f"{step}{TEAM_STEP}")
    with (dest / ".gitignore").open("a") as ignore:
        ignore.write("\n# team scratch space\n/scratch/\n")
    edit(dest / "noxfile.py", "import slipway.sessions\n", "import nox\nimport slipway.sessions\n")
    with (dest / "noxfile.py").open("a") as noxfile:
        noxfile.write(EXTRA_SESSION)
    commit_all(dest, "team edits")
    owned = git(dest, "ls-files", "-z").split("\0")
    return {name: (dest / name).read_bytes() for name in owned if name.startswith(USER_OWNED)}


def test_update_from_the_last_release_keeps_every_edit(releases: Releases, project: Project) -> None:
    dest = project(releases.old, tasks=True)
    run(dest, "uv", "sync", "--quiet", "--frozen", "--all-groups")  # a working .venv, as after `nox`
    user_files = make_user_edits(dest)
    data = (dest / "data/raw/breast_cancer.csv").read_bytes()

    # What a 0.1.0 README says to run: plain `copier update`, copy tasks not skipped.
    update(dest, releases.new)

    assert rejects(dest) == []
    assert with_markers(dest) == []
    status = changed(dest)
    assert not [path for path in status if path.startswith(USER_OWNED)], status
    assert set(status) >= {".copier-answers.yml", "noxfile.py", ".pre-commit-config.yaml", "pyproject.toml"}
    added = {path for path, code in status.items() if code == "??"}
    assert added == NEW_FILES, status  # the files this release adds, the team's to commit
    assert all(code == " M" for path, code in status.items() if path not in added), (
        status
    )  # the rest modified only: nothing lost or unmerged
    for name, content in user_files.items():
        assert (dest / name).read_bytes() == content, f"{name} changed"
    # what 0.1.0's copy task made survives the update (parked by the 0.2.0 migration)
    assert (dest / "data/raw/breast_cancer.csv").read_bytes() == data
    assert (dest / ".venv" / "pyvenv.cfg").is_file()
    assert any((dest / ".dvc" / "cache").rglob("*"))
    assert not (dest / ".slipway-update-parking").exists()

    assert f"_commit: {releases.new}\n" in answers(dest)
    pyproject = (dest / "pyproject.toml").read_text()
    assert '  "skops>=0.13",\n  "joblib>=1.4",\n' in pyproject
    assert (
        '[tool.slipway.mlflow]\nmodel_name = "churn-forest"  # MLflow experiment and registered model\n'
        in (pyproject)
    )
    assert "model_name" not in pyproject.split("[tool.slipway]", 1)[1].split("[tool.slipway.mlflow]")[0]
    assert f"        run: exit 1\n{TEAM_STEP}" in (dest / ".github/workflows/ci.yml").read_text()
    assert (dest / ".gitignore").read_text().endswith("/scratch/\n")
    noxfile = (dest / "noxfile.py").read_text()
    assert noxfile.endswith(EXTRA_SESSION)
    assert "import nox\nimport slipway.sessions\n" in noxfile
    assert "check-merge-conflict --assume-in-merge" in (dest / ".pre-commit-config.yaml").read_text()

    # The team's next steps: re-lock (what `nox -s template-update` does last), commit, run the gates.
    run(dest, "uv", "lock", "--quiet")
    commit_all(dest, "update to the new template")
    listed = nox(dest, "-l")
    assert "template-update" in output(listed)
    assert "notes" in output(listed)
    # The new check-stage-deps hook finds the deps the old dvc.yaml (the project's own) lacks and
    # names each; the team adds them, as the CHANGELOG says, and the gates pass.
    linted = nox(dest, "-s", "lint", check=False)
    named = {
        match.groups()
        for match in re.finditer(r"^dvc\.yaml: stage '([\w-]+)' runs (\S+) ", output(linted), re.MULTILINE)
    }
    missing = check_stage_deps.missing(dest / "dvc.yaml")
    assert linted.returncode != 0
    assert named == {(problem.stage, str(problem.file)) for problem in missing} != set()
    add_stage_deps(dest / "dvc.yaml", missing)
    commit_all(dest, "dvc.yaml: list what each stage imports")
    result = nox(dest, "-s", "lint", "typecheck", "tests", check=False)
    assert result.returncode == 0, output(result)[-4000:]
    assert "[tool.slipway] model_name is deprecated" not in output(result)  # moved, not left behind


def add_stage_deps(dvc_yaml: Path, missing: list[check_stage_deps.Missing]) -> None:
    """What the hook's message asks for: each named file added to its stage's deps (comments kept)."""
    lines = dvc_yaml.read_text().splitlines(keepends=True)
    for problem in missing:
        stage = lines.index(f"  {problem.stage}:\n")
        deps = next(i for i in range(stage, len(lines)) if lines[i] == "    deps:\n")
        lines.insert(deps + 1, f"      - {problem.file}\n")
    dvc_yaml.write_text("".join(lines))


# ---- conflicts: reported by the session, refused by the hook ----------------------------------


def test_conflicting_edit_is_reported_and_rejected(releases: Releases, project: Project) -> None:
    dest = project(releases.new)
    run(dest, "uv", "lock", "--quiet")
    workflow = dest / ".github" / "workflows" / "ci.yml"
    edit(workflow, "    timeout-minutes: 10\n", "    timeout-minutes: 20\n")  # the line the release changes
    commit_all(dest, "a longer lint job")

    result = nox(dest, "-s", "template-update", "--", "--vcs-ref", NEXT, check=False)

    assert result.returncode != 0
    assert "template-update left conflicts in .github/workflows/ci.yml:" in output(result)
    assert with_markers(dest) == [".github/workflows/ci.yml"]
    assert "<<<<<<< before updating\n    timeout-minutes: 20\n=======\n    timeout-minutes: 11\n" in (
        workflow.read_text()
    )
    assert rejects(dest) == []
    hook = nox(dest, "-s", "lint", "--", "check-merge-conflict", check=False)
    assert hook.returncode != 0
    assert re.search(r"\.github/workflows/ci\.yml:\d+: Merge conflict string", output(hook)), output(hook)[
        -3000:
    ]


def test_session_refuses_a_dirty_tree_in_one_line(releases: Releases, project: Project) -> None:
    dest = project(releases.new)
    (dest / "scratch.txt").write_text("work in progress\n")
    result = nox(dest, "-s", "template-update", "--", "--vcs-ref", NEXT, check=False)
    assert result.returncode != 0
    reason = [line for line in output(result).splitlines() if "clean git tree" in line]
    assert len(reason) == 1, output(result)
    assert (
        "template-update needs a clean git tree, 1 paths are changed or untracked: commit or stash them first"
        in reason[0]
    )
    assert f"_commit: {releases.new}\n" in answers(dest)


def test_changed_answer_rerenders_consistently(releases: Releases, project: Project) -> None:
    """`-- --data dvc_remote=s3://...`: the DVC config and the DVC extra follow; user files stay."""
    dest = project(releases.new)
    run(dest, "uv", "lock", "--quiet")
    commit_all(dest, "locked")
    readme = (dest / "README.md").read_bytes()

    result = nox(
        dest, "-s", "template-update", "--", "--vcs-ref", NEXT, "--data", "dvc_remote=s3://team-bucket/dvc"
    )

    assert result.returncode == 0, output(result)
    text = answers(dest)
    assert f"_commit: {NEXT}\n" in text
    assert "dvc_remote: s3://team-bucket/dvc\n" in text
    assert "url = s3://team-bucket/dvc\n" in (dest / ".dvc" / "config").read_text()
    assert 'pipeline = ["dvc[s3]>=3.67,<4"]' in (dest / "pyproject.toml").read_text()
    assert 'name = "dvc-s3"' in (dest / "uv.lock").read_text()  # re-locked by the session
    assert "    timeout-minutes: 11\n" in (dest / ".github/workflows/ci.yml").read_text()
    assert "aws-actions/configure-aws-credentials@" in (dest / ".github/workflows/train.yml").read_text()
    assert (dest / "README.md").read_bytes() == readme  # user-owned: not re-rendered
    assert set(changed(dest)) == {
        ".copier-answers.yml", ".dvc/config", ".github/workflows/ci.yml", ".pre-commit-config.yaml",
        "noxfile.py", "pyproject.toml", "uv.lock",
        # the jobs that pull data log in to the new remote's cloud (OIDC)
        ".github/workflows/train.yml", ".github/workflows/deploy.yml", ".github/workflows/monitor.yml",
    }  # fmt: skip


# ---- migrations: each on a project rendered before it, twice -----------------------------------


def migrate(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a migration the way copier does, but with -I -S: the standard library alone."""
    return run(cwd, sys.executable, "-I", "-S", str(MIGRATIONS / script), *args)


def test_mlflow_migration_on_a_project_of_the_last_release(releases: Releases, project: Project) -> None:
    old = project(releases.old, name="old")
    new = project(releases.new, name="new")
    defaults = ("--model-name", "my-model", "--tracking-uri", "")
    migrate("mlflow_table.py", *defaults, cwd=old)
    once = (old / "pyproject.toml").read_text()
    migrate("mlflow_table.py", *defaults, cwd=old)
    assert (old / "pyproject.toml").read_text() == once
    # the tables the migration rewrites read as the new release renders them
    assert slipway_tables(once) == slipway_tables((new / "pyproject.toml").read_text())


def slipway_tables(pyproject: str) -> str:
    """`[tool.slipway]` and `[tool.slipway.mlflow]` as text, comments included."""
    return pyproject[pyproject.index("[tool.slipway]") : pyproject.index("[tool.slipway.gates]")]


def test_migrations_run_through_the_copier_cli_with_tasks_skipped(
    releases: Releases, project: Project
) -> None:
    """What `nox -s template-update` runs, from the last release: migrations still run."""
    dest = project(releases.old, mlflow_tracking_uri="https://mlflow.example.com")
    edit(
        dest / "pyproject.toml",
        'tracking_uri = "https://mlflow.example.com"',
        'tracking_uri = "https://mlflow.team.example"',
    )
    ours = "Copyright (c) 2025 The Team. All rights reserved.\n"
    (dest / "LICENSE").write_text(ours)  # a license the project chose before the template had one
    commit_all(dest, "our server, our license")
    cli = ("uvx", "--from", COPIER, "copier", "update", "--trust", "--defaults", "--skip-tasks")
    run(dest, *cli, "--conflict", "inline", "--vcs-ref", releases.new)
    assert (dest / "LICENSE").read_text() == ours  # _skip_if_exists: never replaced, never merged
    pyproject = (dest / "pyproject.toml").read_text()
    assert '[tool.slipway.mlflow]\nmodel_name = "my-model"' in pyproject
    assert 'tracking_uri = "https://mlflow.team.example"\n' in pyproject
    assert pyproject.count("tracking_uri =") == 1
    assert with_markers(dest) == []
    assert "U" not in "".join(changed(dest).values())  # the resolved conflict is not left unmerged


OLD_LAYOUT = """[project]
name = "m"

[tool.slipway]
# Settings read by the shared gates.
package = "m"
model_name = "churn"  # ours: the registry name
# Our team server; MLFLOW_TRACKING_URI wins.
tracking_uri = "https://mlflow.team.example"
coverage_floor = 90

# Gate settings below.
[tool.slipway.gates]
primary_metric = "roc_auc"
"""


def test_mlflow_migration_moves_keys_with_their_comments(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(OLD_LAYOUT)
    migrate("mlflow_table.py", "--model-name", "m", "--tracking-uri", "", cwd=tmp_path)
    expected = OLD_LAYOUT.replace(
        'model_name = "churn"  # ours: the registry name\n# Our team server; MLFLOW_TRACKING_URI wins.\n'
        'tracking_uri = "https://mlflow.team.example"\ncoverage_floor = 90\n',
        'coverage_floor = 90\n\n[tool.slipway.mlflow]\nmodel_name = "churn"  # ours: the registry name\n'
        '# Our team server; MLFLOW_TRACKING_URI wins.\ntracking_uri = "https://mlflow.team.example"\n',
    )
    assert path.read_text() == expected
    migrate("mlflow_table.py", cwd=tmp_path)
    assert path.read_text() == expected


def test_mlflow_migration_never_clobbers_a_value_set_in_the_new_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    both = '[tool.slipway]\npackage = "m"\nmodel_name = "old"\n\n[tool.slipway.mlflow]\nmodel_name = "new"\n'
    path.write_text(both)
    result = migrate("mlflow_table.py", "--model-name", "m", cwd=tmp_path)
    assert path.read_text() == both
    assert "model_name differs in [tool.slipway] and [tool.slipway.mlflow]: kept both" in result.stderr
    default = '[tool.slipway]\npackage = "m"\nmodel_name = "old"\n\n[tool.slipway.mlflow]\nmodel_name = "m"\n'
    path.write_text(default)
    migrate("mlflow_table.py", "--model-name", "m", cwd=tmp_path)
    assert path.read_text() == '[tool.slipway]\npackage = "m"\n\n[tool.slipway.mlflow]\nmodel_name = "old"\n'


def test_mlflow_migration_leaves_other_conflicts_alone(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    text = (
        '[tool.slipway]\npackage = "m"\n<<<<<<< before updating\ncoverage_floor = 90\n=======\n'
        'coverage_floor = 85\n>>>>>>> after updating\nmodel_name = "x"\n'
    )
    path.write_text(text)
    result = migrate("mlflow_table.py", cwd=tmp_path)
    assert path.read_text() == text
    assert "conflicts left in pyproject.toml" in result.stderr


TASK_OUTPUTS = (".venv/pyvenv.cfg", ".dvc/cache/files/md5/ab/cdef", "uv.lock", "data/raw/diabetes.csv")


def test_parking_migration_is_idempotent_and_never_overwrites(tmp_path: Path) -> None:
    for name in TASK_OUTPUTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / "data/raw/own.csv").write_text("user data\n")
    for _ in range(2):
        migrate("park_task_outputs.py", "park", cwd=tmp_path)
    assert not any((tmp_path / name).exists() for name in TASK_OUTPUTS)
    assert (tmp_path / "data/raw/own.csv").exists()  # only what 0.1.0's task wrote is parked
    (tmp_path / "uv.lock").write_text("made during the update\n")
    for _ in range(2):
        result = migrate("park_task_outputs.py", "restore", cwd=tmp_path)
    assert "uv.lock exist again" in result.stderr
    assert (tmp_path / "uv.lock").read_text() == "made during the update\n"
    assert all((tmp_path / name).read_text() == name for name in TASK_OUTPUTS if name != "uv.lock")
    assert sorted(p.name for p in (tmp_path / ".slipway-update-parking").rglob("*") if p.is_file()) == [
        "uv.lock"
    ]


# ---- slipway reads both places until a project is migrated -------------------------------------


def test_config_reads_the_new_table_and_still_the_old_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from slipway import config

    monkeypatch.setattr(config, "_warned", set())
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.slipway]\npackage = "m"\n\n[tool.slipway.mlflow]\nmodel_name = "new"\n')
    assert config.load_project(path).model_name == "new"
    assert capsys.readouterr().err == ""
    path.write_text('[tool.slipway]\npackage = "m"\nmodel_name = "old"\ntracking_uri = "http://h"\n')
    for _ in range(2):
        loaded = config.load_project(path)
    assert (loaded.model_name, loaded.tracking_uri) == ("old", "http://h")
    notices = capsys.readouterr().err.splitlines()
    assert notices == [
        f"slipway: [tool.slipway] {key} is deprecated, move it to [tool.slipway.mlflow] "
        "(the 0.2.0 migration of `nox -s template-update` does it)"
        for key in ("model_name", "tracking_uri")
    ]
    path.write_text(
        '[tool.slipway]\npackage = "m"\nmodel_name = "a"\n[tool.slipway.mlflow]\nmodel_name = "b"\n'
    )
    with pytest.raises(config.ConfigError, match=r"model_name is set in both \[tool.slipway\] and"):
        config.load_project(path)
    path.write_text('[tool.slipway]\npackage = "m"\n[tool.slipway.mlflow]\nmodel = "b"\n')
    with pytest.raises(config.ConfigError, match=r"\[tool.slipway.mlflow\] unknown key 'model'"):
        config.load_project(path)
