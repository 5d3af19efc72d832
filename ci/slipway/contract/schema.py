"""The contract's dataclasses and its YAML form (`contract.yaml`), read and written with one-line errors.

Light on purpose (PyYAML only): the gates, the server and nox's own process read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from slipway.errors import SlipwayError

CONTRACT_FILE = "contract.yaml"  # beside params.yaml in the project root
METADATA_KEY = "slipway_contract"  # where a logged model's MLmodel metadata carries its contract

Task = Literal["classification", "regression"]
Role = Literal["feature", "identifier", "ignored"]
ColumnType = Literal["integer", "float", "boolean", "string"]
Label = int | str | bool

TASKS: tuple[Task, ...] = get_args(Task)
ROLES: tuple[Role, ...] = get_args(Role)
TYPES: tuple[ColumnType, ...] = get_args(ColumnType)
NUMERIC: frozenset[str] = frozenset({"integer", "float"})


class ContractError(SlipwayError):
    """A table breaks the contract, or the contract file itself is wrong; the message is one line."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the table besides the target."""

    name: str
    role: Role  # feature: the model sees it; identifier / ignored: kept out of the model
    type: ColumnType
    nullable: bool = False  # missing values allowed (the model imputes them)
    categories: tuple[str, ...] = ()  # string features: the allowed values
    range: tuple[float, float] | None = None  # numeric features: the plausible [low, high]
    note: str = ""  # why the role was chosen, for the reviewer

    @property
    def categorical(self) -> bool:
        """Encoded as categories by the model (strings); booleans and numbers are numeric."""
        return self.type == "string"


@dataclass(frozen=True)
class TargetSpec:
    """The column the model predicts."""

    name: str
    type: ColumnType
    labels: tuple[Label, ...] = ()  # classification: every class, sorted (the model's class order)
    min_class_share: float = 0.0  # classification: the rarest class's share may not fall below it
    range: tuple[float, float] | None = None  # regression: the plausible [low, high]


@dataclass(frozen=True)
class Contract:
    """What the project's table must look like, and what each column is for."""

    task: Task
    target: TargetSpec
    columns: tuple[ColumnSpec, ...]
    table: str = ""  # the table the contract was inferred from (for the reader)
    no_duplicate_rows: bool = True  # the table may not repeat a row (features and target)

    @property
    def features(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.role == "feature")

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.features]

    @property
    def labels(self) -> list[Label]:
        """The classes in the model's order (classification); empty for regression."""
        return list(self.target.labels)

    @property
    def is_classification(self) -> bool:
        return self.task == "classification"

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    def with_table(self, table: str) -> Contract:
        return replace(self, table=table)


# ---- reading ----------------------------------------------------------------------------------


def _fail(path: Path | str, where: str, problem: str) -> ContractError:
    return ContractError(f"{path}: {where} {problem}")


def _mapping(value: Any, path: Path | str, where: str, keys: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, where, f"must be a mapping, got {value!r}")
    unknown = sorted(set(map(str, value)) - keys)
    if unknown:
        raise _fail(path, where, f"has unknown key {unknown[0]!r}: expected {', '.join(sorted(keys))}")
    missing = sorted(required - set(value))
    if missing:
        raise _fail(path, where, f"lacks {missing[0]!r}")
    return value


def _choice(value: Any, path: Path | str, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _fail(path, where, f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _range(value: Any, path: Path | str, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == 2
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    if not ok or not (math.isfinite(value[0]) and math.isfinite(value[1])) or value[0] > value[1]:
        raise _fail(path, where, f"must be [low, high] with low <= high, got {value!r}")
    return float(value[0]), float(value[1])


def _bool(value: Any, path: Path | str, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, where, f"must be true or false, got {value!r}")
    return value


def _column(name: Any, raw: Any, path: Path | str) -> ColumnSpec:
    where = f"columns.{name}"
    keys = {"role", "type", "nullable", "categories", "range", "note"}
    raw = _mapping(raw, path, where, keys, {"role", "type"})
    categories = raw.get("categories", [])
    if not (isinstance(categories, list) and all(isinstance(c, str) for c in categories)):
        raise _fail(path, f"{where}.categories", f"must be a list of strings, got {categories!r}")
    return ColumnSpec(
        name=str(name),
        role=cast(Role, _choice(raw["role"], path, f"{where}.role", ROLES)),
        type=cast(ColumnType, _choice(raw["type"], path, f"{where}.type", TYPES)),
        nullable=_bool(raw.get("nullable", False), path, f"{where}.nullable"),
        categories=tuple(categories),
        range=_range(raw.get("range"), path, f"{where}.range"),
        note=str(raw.get("note", "")),
    )


def _target(raw: Any, path: Path | str, task: str) -> TargetSpec:
    keys = {"name", "type", "labels", "min_class_share", "range"}
    raw = _mapping(raw, path, "target", keys, {"name", "type"})
    kind = cast(ColumnType, _choice(raw["type"], path, "target.type", TYPES))
    labels = raw.get("labels", [])
    if task == "classification":
        if not (isinstance(labels, list) and len(labels) >= 2):
            raise _fail(path, "target.labels", f"must list at least two classes, got {labels!r}")
        expected: type | tuple[type, ...] = {"boolean": bool, "string": str}.get(kind, int)
        wrong = [
            v for v in labels if not isinstance(v, expected) or (expected is int and isinstance(v, bool))
        ]
        if wrong:
            raise _fail(path, "target.labels", f"must all be {kind} values like the data, got {wrong[0]!r}")
        if len(set(labels)) != len(labels):
            raise _fail(path, "target.labels", "lists a class twice")
    share = raw.get("min_class_share", 0.0)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        raise _fail(path, "target.min_class_share", f"must be a number in [0, 1), got {share!r}")
    return TargetSpec(
        name=str(raw["name"]),
        type=kind,
        labels=tuple(labels) if task == "classification" else (),
        min_class_share=float(share),
        range=_range(raw.get("range"), path, "target.range"),
    )


def parse_contract(data: Any, path: Path | str = CONTRACT_FILE) -> Contract:
    """A Contract from the YAML mapping (also the form stored with each logged model)."""
    raw = _mapping(
        data,
        path,
        "the contract",
        {"table", "task", "target", "checks", "columns"},
        {"task", "target", "columns"},
    )
    task = cast(Task, _choice(raw["task"], path, "task", TASKS))
    checks = _mapping(raw.get("checks", {}), path, "checks", {"no_duplicate_rows"}, set())
    columns = raw["columns"]
    if not isinstance(columns, dict):
        raise _fail(path, "columns", f"must map each column name to its description, got {columns!r}")
    contract = Contract(
        task=task,
        target=_target(raw["target"], path, task),
        columns=tuple(_column(name, spec, path) for name, spec in columns.items()),
        table=str(raw.get("table", "")),
        no_duplicate_rows=_bool(checks.get("no_duplicate_rows", True), path, "checks.no_duplicate_rows"),
    )
    if contract.target.name in {c.name for c in contract.columns}:
        raise _fail(
            path, "columns", f"lists the target {contract.target.name!r}: it belongs under target only"
        )
    if not contract.features:
        raise _fail(path, "columns", "has no column with role: feature: the model would see nothing")
    return contract


def load_contract(path: Path = Path(CONTRACT_FILE)) -> Contract:
    """Read and check `contract.yaml`; a missing or malformed file is one line naming the fix."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ContractError(
            f"{path} not found: infer one from your table with `nox -s data-adopt -- TABLE --target COLUMN`"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ContractError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_contract(data, path)


# ---- writing ----------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """One YAML flow scalar or list, quoted where YAML would misread it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else float(f"{value:.6g}")


def to_dict(contract: Contract) -> dict[str, Any]:
    """The plain mapping `parse_contract` reads (logged with each model for the server)."""
    target: dict[str, Any] = {"name": contract.target.name, "type": contract.target.type}
    if contract.is_classification:
        target["labels"] = list(contract.target.labels)
        target["min_class_share"] = contract.target.min_class_share
    if contract.target.range is not None:
        target["range"] = [_number(v) for v in contract.target.range]
    columns: dict[str, Any] = {}
    for column in contract.columns:
        spec: dict[str, Any] = {"role": column.role, "type": column.type, "nullable": column.nullable}
        if column.categories:
            spec["categories"] = list(column.categories)
        if column.range is not None:
            spec["range"] = [_number(v) for v in column.range]
        if column.note:
            spec["note"] = column.note
        columns[column.name] = spec
    return {
        "table": contract.table,
        "task": contract.task,
        "target": target,
        "checks": {"no_duplicate_rows": contract.no_duplicate_rows},
        "columns": columns,
    }


HEADER = """\
# The data contract of {table}: inferred once by `slipway adopt` (the copy task or
# `nox -s data-adopt`), then reviewed and owned by this project; a diff here shows what changed
# about the data. The `validate` stage refuses a table that breaks it; the model, the server and
# the drift monitor take their column types and categories from it.
#   role: feature (the model sees it), identifier (unique per row) or ignored (kept out)
#   type: integer, float, boolean or string (strings are categories); nullable: missing allowed
#   range: plausible [low, high] (the observed values, widened); categories: allowed strings
"""


def dump_contract(contract: Contract) -> str:
    """`contract.yaml` text: a header saying what it is, then one block per column, in table order."""
    data = to_dict(contract)
    lines = [HEADER.format(table=contract.table or "the project's table").rstrip("\n")]
    lines.append(f"table: {_scalar(data['table'])}")
    lines.append(f"task: {data['task']}")
    lines.append("target:")
    lines.extend(f"  {key}: {_scalar(value)}" for key, value in data["target"].items())
    lines.append("checks:")
    lines.append(f"  no_duplicate_rows: {_scalar(contract.no_duplicate_rows)}")
    lines.append("columns:")
    for name, spec in data["columns"].items():
        lines.append(f"  {_scalar(name)}:")
        lines.extend(f"    {key}: {_scalar(value)}" for key, value in spec.items())
    return "\n".join(lines) + "\n"
