"""Bad answers are refused in one line naming the question, and nothing is written; through copier's
CLI our message is the last line, and for a closed question copier's own, naming the choices.
Includes the hostile answers of issue 14 (section 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.answers import choices, questions
from tests.conftest import copier_cli, render_project

BAD_ANSWERS = [
    ("project_name", "", "project_name must not be empty"),
    ("project_name", "9 lives", "must start with a letter"),
    ("project_slug", "../escape", "project_slug must be lowercase letters"),
    ("project_slug", "my/model", "no '/'"),
    ("package_name", "class", "is a Python keyword"),
    ("package_name", "json", "would shadow the module"),
    ("package_name", "mlflow", "would shadow the module"),
    ("package_name", "My-Model", "must be a lowercase Python identifier"),
    ("author_email", "not-an-email", "is not an email address"),
    ("author_name", " ", "author_name must not be empty"),
    ("data_path", "customers.xlsx", "data_path must name a .csv or .parquet file"),
    ("data_path", "a.csv\nb.csv", "data_path must be a single-line file path"),
    ("slipway_requirement", "requests==2.0", "slipway_requirement must be one requirement naming slipway"),
    # the hostile answers of issue 14: each would inject code, config or a dependency, or store a secret
    ("description", "one line\rthen a TOML key", "description must be one line of text"),
    ("description", "tab\there", "description must be one line of text"),
    ("author_name", 'Eve\nversion = "6.6.6"', "author_name must be one line of text"),
    ("author_email", "eve@example.com\x7f", "author_email must be one line of text"),
    (
        "slipway_requirement",
        'slipway @ git+https://example.invalid/s.git","evil-pkg',
        "slipway_requirement must be one requirement naming slipway",
    ),
    ("slipway_requirement", "slipway==0.1.0, evil-pkg", "slipway_requirement must be one requirement"),
    ("slipway_requirement", 'slipway==0.1; os_name == "nt"', "slipway_requirement must be one requirement"),
    ("slipway_requirement", "slipway @ git+https://ghp_token@github.com/o/s", "must not hold a password"),
    ("mlflow_tracking_uri", "postgresql://admin:secret@host/db", "must not hold credentials"),
    ("mlflow_tracking_uri", "postgresql://admin@host/db", "must not hold credentials"),
    ("mlflow_tracking_uri", "postgresql://host/db?password=secret", "must not hold credentials"),
    ("mlflow_tracking_uri", "https://user:pw@mlflow.example.com", "must not hold credentials"),
    ("dvc_remote", "ssh://deploy:secret@host/dvc", "dvc_remote must not hold a password"),
    ("dvc_remote", "s3://bucket/path#comment", "dvc_remote must not contain quotes, '#'"),
    ("dvc_remote", "s3://bucket/a,b", "dvc_remote must not contain quotes, '#'"),
    ("dvc_remote", "s3://bucket/\x1b[2J", "dvc_remote must not contain spaces or control characters"),
    ("mlflow_tracking_uri", "https://mlflow.example.com/\x00", "must be one line of text"),
    ("slipway_requirement", "slipway @ git+https://h/s.git\x7f", "must be one line of text"),
    ("description", "two\u2028lines", "description must be one line of text"),
]


# Through copier's CLI as a user types them (copier prints a traceback above; ours is the last line).
CLI_CASES = [
    ("project_name", "", "project_name must not be empty"),
    ("description", "one line\rthen a TOML key", "description must be one line of text"),
    ("mlflow_tracking_uri", "postgresql://admin:secret@host/db", "must not hold credentials"),
]


@pytest.mark.parametrize(("question", "value", "message"), BAD_ANSWERS)
def test_bad_answer_is_refused_in_one_line(
    template: Path, tmp_path: Path, question: str, value: str, message: str
) -> None:
    dest = tmp_path / "project"
    with pytest.raises(ValueError, match=r"^Validation error for question") as refused:
        render_project(template, dest, tasks=False, **{question: value})
    text = str(refused.value)
    assert text.startswith(f"Validation error for question '{question}': "), text
    assert message in text
    assert "\n" not in text.strip()
    assert "secret" not in text.split(": ", 1)[1]  # a refusal does not echo a password back
    assert not dest.exists()


@pytest.mark.parametrize(("question", "value", "message"), CLI_CASES)
def test_cli_prints_the_refusal_last(
    template: Path, tmp_path: Path, question: str, value: str, message: str
) -> None:
    dest = tmp_path / "project"
    result = copier_cli(template, dest, **{question: value})
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ValueError: Validation error for question '{question}': ")
    assert message in last
    assert not dest.exists()


# Every closed question (copier `choices`): copier checks the choices before any validator could run.
CLOSED = sorted(name for name, asked in questions().items() if isinstance(asked, dict) and "choices" in asked)


@pytest.mark.parametrize("question", CLOSED)
def test_cli_refuses_an_answer_outside_the_choices_in_its_last_line(
    template: Path, tmp_path: Path, question: str
) -> None:
    dest = tmp_path / "project"
    result = copier_cli(template, dest, **{question: "helm"})
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"ValueError: Invalid choice for '{question}': 'helm' is not in {choices(question)}"
    assert not dest.exists()
