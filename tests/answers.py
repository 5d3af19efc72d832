"""The closed answers of copier.yml, read from copier.yml: the test matrices follow its `choices`, so a
new choice is tested (or fails a test) without anyone editing a list here."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
import jinja2.meta
import yaml

from tests.conftest import ROOT


@cache
def questions() -> dict[str, Any]:
    """copier.yml as YAML: questions by name, settings under their `_` names."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text())
    return loaded


def computed(name: str) -> Any:
    """A computed value whose default is a plain YAML literal (`python_releases`), parsed."""
    question = questions()[name]
    assert question.get("when") is False, f"{name} is asked, not computed"
    assert question["type"] == "yaml", f"{name} is not a YAML value"
    return yaml.safe_load(question["default"])


def choices(name: str) -> list[str]:
    """A closed question's choices, in copier.yml's order; a templated list is rendered as copier does."""
    listed = questions()[name]["choices"]
    if isinstance(listed, str):  # e.g. "{{ python_releases | list }}": rendered, then parsed as YAML
        context = {key: computed(key) for key in jinja2.meta.find_undeclared_variables(ENV.parse(listed))}
        listed = yaml.safe_load(ENV.from_string(listed).render(context))
    return [str(choice) for choice in listed]


ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # renders YAML, not HTML

PYTHONS = choices("python_version")  # oldest first
TASKS = choices("ml_task")
DEPLOY_TARGETS = choices("deploy_target")
