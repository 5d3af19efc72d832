"""`[tool.slipway]` of a project's pyproject.toml: read once, validated, with one-line errors.

Light on purpose: nox's own process imports this (no mlflow, pandas or sklearn here).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.errors import SlipwayError


class ConfigError(SlipwayError):
    """A `[tool.slipway]` setting is missing or wrong; the message names the key and the fix."""


@dataclass(frozen=True)
class ProjectConfig:
    """Settings of one project; defaults documented beside each field."""

    package: str  # import name of the model package under src/ (required)
    coverage_floor: int = 80  # `tests` fails below this line+branch coverage, in percent
    typecheck_paths: tuple[str, ...] = ("src", "tests")  # what `typecheck` hands to mypy
    lint_paths: tuple[str, ...] = (".",)  # what `lint` hands to ruff


def _table(pyproject: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(pyproject.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{pyproject} not found: run nox from the project root") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("slipway")
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject} has no [tool.slipway] table: add one with `package = ...`")
    return table


def _paths(key: str, value: Any) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"[tool.slipway] {key} must be a non-empty list of paths, got {value!r}")
    return tuple(value)


def load_project(pyproject: Path = Path("pyproject.toml")) -> ProjectConfig:
    """Parse and validate `[tool.slipway]`; unknown keys are refused so typos do not pass silently."""
    table = dict(_table(pyproject))
    table.pop("gates", None)  # sub-tables are validated by their own readers
    known = set(ProjectConfig.__dataclass_fields__)
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"[tool.slipway] unknown key {unknown[0]!r}: expected one of {', '.join(sorted(known))}"
        )
    package = table.get("package")
    if not (isinstance(package, str) and package.isidentifier()):
        raise ConfigError(f"[tool.slipway] package must be the import name under src/, got {package!r}")
    floor = table.get("coverage_floor", ProjectConfig.coverage_floor)
    if isinstance(floor, bool) or not isinstance(floor, int) or not 0 <= floor <= 100:
        raise ConfigError(f"[tool.slipway] coverage_floor must be an integer 0-100, got {floor!r}")
    return ProjectConfig(
        package=package,
        coverage_floor=floor,
        typecheck_paths=_paths(
            "typecheck_paths", table.get("typecheck_paths", list(ProjectConfig.typecheck_paths))
        ),
        lint_paths=_paths("lint_paths", table.get("lint_paths", list(ProjectConfig.lint_paths))),
    )
