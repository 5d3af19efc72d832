"""No message prints a password: `slipway.redact` masks it in any URI scheme (the CLI's one-line
errors, the registry's store errors and the tracking-URI hook pass their text through it)."""

from __future__ import annotations

import pytest
from slipway.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "reading the registry failed at tracking store postgresql://admin:secret@db:5432/mlflow: down",
            "reading the registry failed at tracking store postgresql://admin:***@db:5432/mlflow: down",
        ),
        ("postgresql+psycopg2://u:p%40ss@h/db", "postgresql+psycopg2://u:***@h/db"),
        ("https://user:token@mlflow.example.com/", "https://user:***@mlflow.example.com/"),
        (
            "ssh://deploy:hunter2@host/dvc and s3://k:s@bucket",
            "ssh://deploy:***@host/dvc and s3://k:***@bucket",
        ),
        (
            "postgresql://h/db?sslmode=require&password=secret",
            "postgresql://h/db?sslmode=require&password=***",
        ),
        ("'mysql://root:pw@h/db'", "'mysql://root:***@h/db'"),
    ],
)
def test_passwords_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["https://mlflow.example.com:5000/", "ssh://git@github.com/org/repo", "sqlite:////tmp/m.db", "no uri"],
)
def test_text_without_a_password_is_unchanged(text: str) -> None:
    assert redact(text) == text
