"""Generated projects pass Scientific Python's repo-review (`sp-repo-review`), their Markdown is as
their mdformat hook writes it, and they carry the license their answers chose. Every repo-review
check passes or is ignored in [tool.repo-review.ignore] with its reason, and every ignored check
really fails without its entry (so the list explains, and only explains)."""

from __future__ import annotations

import datetime
import tomllib
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mdformat
import pytest
from repo_review.processor import Result, process

from tests.conftest import ROOT, render_project

# One render per license, spread over the other answers that change which files exist.
VARIANTS: dict[str, dict[str, str]] = {
    "MIT": {},  # the defaults
    "Apache-2.0": {
        "ml_task": "regression",
        "deploy_target": "kubernetes",
        "dvc_remote": "s3://bucket/dvc",
        "project_name": "churn_model _v2_",
        "description": "Churn & *weekly* [beta] <b>x_y</b>",
    },
    "BSD-3-Clause": {
        "python_version": "3.13",
        "mlflow_tracking_uri": "postgresql://db.internal/mlflow",
        "description": "Plain words, 95% sure (weekly).",
    },
    "proprietary": {"deploy_target": "docker", "dvc_remote": "gs://bucket/dvc"},
}
SPDX = {"MIT": "MIT", "Apache-2.0": "Apache-2.0", "BSD-3-Clause": "BSD-3-Clause",
        "proprietary": "LicenseRef-Proprietary"}  # fmt: skip
NO_SUCH_CHECK = "XX000"  # an `ignore` of its own replaces the project's ignore list: every check runs


@dataclass(frozen=True)
class Rendered:
    license: str  # the answer
    path: Path


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(
    request: pytest.FixtureRequest, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Rendered:
    """A project rendered with one license (copy tasks skipped: repo-review reads only the files)."""
    answer: str = request.param
    dest = tmp_path_factory.mktemp(f"review-{answer}") / "my-model"
    return Rendered(answer, render_project(template, dest, tasks=False, license=answer, **VARIANTS[answer]))


def repo_review(project: Path, *, ignore: frozenset[str] = frozenset()) -> dict[str, Result]:
    """The checks of `sp-repo-review PROJECT` (its CLI calls this same function), by name."""
    return {result.name: result for result in process(project, ignore=ignore).results}


def pyproject(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text())


def test_each_failing_check_is_ignored_with_a_reason_and_no_other(project: Rendered) -> None:
    ignored: dict[str, str] = pyproject(project.path)["tool"]["repo-review"]["ignore"]
    checks = repo_review(project.path, ignore=frozenset({NO_SUCH_CHECK}))
    failed = {name for name, check in checks.items() if check.result is False}
    assert failed == set(ignored), {name: checks[name].description for name in failed ^ set(ignored)}
    assert all(reason.strip() for reason in ignored.values())


def test_repo_review_passes_with_the_projects_own_settings(project: Rendered) -> None:
    """What a user sees running `sp-repo-review .`: no failure, each ignored check shown with its reason."""
    ignored = pyproject(project.path)["tool"]["repo-review"]["ignore"]
    checks = repo_review(project.path)
    assert [name for name, check in checks.items() if check.result is False] == []
    assert {name: checks[name].skip_reason for name in ignored} == ignored


def test_markdown_is_as_the_projects_hook_writes_it(project: Rendered) -> None:
    """The mdformat hook (GitHub flavour, compact tables) would change no Markdown file of a new project,
    whatever its name and description hold (the README escapes them as mdformat would keep them)."""
    for path in sorted(project.path.rglob("*.md")):
        text = path.read_text()
        assert mdformat.text(text, options={"compact_tables": True}, extensions={"gfm"}) == text, path.name


def test_the_markdown_hook_runs_the_mdformat_these_tests_run() -> None:
    config = (ROOT / "template" / ".pre-commit-config.yaml.jinja").read_text()
    assert "entry: mdformat --compact-tables\n" in config
    pins = f'["mdformat=={version("mdformat")}", "mdformat-gfm=={version("mdformat-gfm")}"]'
    assert f"additional_dependencies: {pins}\n" in config


def test_license_file_and_field_follow_the_answer(project: Rendered) -> None:
    meta = pyproject(project.path)["project"]
    text = (project.path / "LICENSE").read_text()
    year = datetime.datetime.now(tz=datetime.UTC).year
    assert meta["license"] == SPDX[project.license]
    if project.license == "proprietary":
        assert text.startswith(f"Copyright (c) {year} ML Team. All rights reserved.\n")
        assert meta["classifiers"] == ["Private :: Do Not Upload"]  # and no OSI license classifier
        return
    assert "classifiers" not in meta  # the SPDX expression says it; PEP 639 forbids license classifiers too
    first, holder, last = {
        "MIT": ("MIT License", f"\nCopyright (c) {year} ML Team\n", "\nSOFTWARE.\n"),
        "Apache-2.0": ("Apache License", f"\n   Copyright {year} ML Team\n", "under the License.\n"),
        "BSD-3-Clause": (
            "BSD 3-Clause License",
            f"\nCopyright (c) {year} ML Team\nAll rights reserved.\n",
            "POSSIBILITY OF SUCH DAMAGE.\n",
        ),
    }[project.license]
    assert text.lstrip().startswith(first)
    assert holder in text
    assert text.endswith(last)  # the whole text, and one newline at the end (end-of-file-fixer's rule)
    assert "[yyyy]" not in text
