"""Bad answers are refused by copier's CLI with our one-line message last, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copier_cli

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
    ("python_version", "3.9", "python_version must be one of 3.11, 3.12, 3.13"),
    ("ml_task", "clustering", "ml_task must be classification or regression"),
    ("data_path", "customers.xlsx", "data_path must name a .csv or .parquet file"),
    ("data_path", "a.csv\nb.csv", "data_path must be a single-line file path"),
    ("slipway_requirement", "requests==2.0", "slipway_requirement must be one requirement naming slipway"),
    ("mlflow_tracking_uri", "postgresql://admin:secret@host/db", "must not hold credentials"),
    ("description", "one line\rthen another", "description must be one line of text"),
]


@pytest.mark.parametrize(("question", "value", "message"), BAD_ANSWERS)
def test_bad_answer_is_refused_in_one_line(
    template: Path, tmp_path: Path, question: str, value: str, message: str
) -> None:
    dest = tmp_path / "project"
    result = copier_cli(template, dest, **{question: value})
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ValueError: Validation error for question '{question}': ")
    assert message in last
    assert not dest.exists()
