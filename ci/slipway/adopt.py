"""`slipway adopt TABLE --target COLUMN`: make a table the project's data, with zero hand edits.

Reads and checks the table first (a bad one is one line and changes nothing), then: copies it into
data/raw/, infers contract.yaml, points params.yaml at it, tracks it with DVC, takes the previous
table out of the workspace and of DVC tracking, drops gate settings made for the previous data,
and prints each change. The copy task runs it on a new project; `nox -s data-adopt` on an old one.
If a step fails half-way, every file it touched is put back.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from slipway.contract.schema import CONTRACT_FILE, Contract, Task, dump_contract
from slipway.errors import SlipwayError

RAW_DIR = Path("data/raw")
PARAMS = Path("params.yaml")
PYPROJECT = Path("pyproject.toml")
DVC_YAML = Path("dvc.yaml")
RAW_LINE = re.compile(r"(?m)^(  raw:[ \t]*)(\S.*)$")  # `data.raw` in params.yaml's `data:` block
# Gate settings that describe one table's numbers: they go when another table arrives.
DATA_GATE_KEYS = ("primary_metric", "thresholds", "guarded")
PLOT_TEMPLATE = re.compile(r"(?m)^(\s+template:[ \t]*)(confusion|scatter)[ \t]*$")


def safe_name(path: Path) -> str:
    """The table's file name under data/raw/ (letters, digits, '.', '-', '_' kept)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path.name)


@dataclass
class Snapshot:
    """Bytes of the files a step may change, to put back if a later step fails."""

    saved: dict[Path, bytes | None] = field(default_factory=dict)

    def keep(self, *paths: Path) -> None:
        for path in paths:
            if path not in self.saved:
                self.saved[path] = path.read_bytes() if path.is_file() else None

    def restore(self) -> None:
        for path, content in self.saved.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)


def dvc(*args: str) -> None:
    """Run DVC from this environment; a failure is one line with DVC's last words."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SlipwayError(f"`dvc {' '.join(args)}` failed: {tail[0]}")


def current_table(params: str) -> Path | None:
    match = RAW_LINE.search(params)
    return Path(match.group(2).strip().strip("'\"")) if match else None


def without_data_gates(pyproject: str) -> tuple[str, list[str]]:
    """pyproject.toml without the one-line gate settings of DATA_GATE_KEYS; the keys removed."""
    kept, removed, in_gates = [], [], False
    for line in pyproject.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            in_gates = stripped == "[tool.slipway.gates]"
        elif in_gates and "=" in stripped and stripped.split("=", 1)[0].strip() in DATA_GATE_KEYS:
            removed.append(stripped.split("=", 1)[0].strip())
            continue
        kept.append(line)
    text = "".join(kept)
    gates = tomllib.loads(text).get("tool", {}).get("slipway", {}).get("gates", {})
    left = [key for key in DATA_GATE_KEYS if key in gates]
    if left:
        raise SlipwayError(
            f"{PYPROJECT}: [tool.slipway.gates] {left[0]} spans several lines: remove it by hand first"
        )
    return text, removed


@dataclass(frozen=True)
class Plan:
    """Everything adopting the table changes, computed before anything is touched."""

    source: Path
    rows: int
    table: Path  # where it lives in the project, data/raw/NAME
    previous: Path | None  # the table params.yaml pointed at, when it is another file
    contract: Contract
    params: str
    pyproject: str
    removed_gates: list[str]
    dvc_yaml: str | None


def plan(source: Path, target: str, task: str | None, root: Path) -> Plan:
    from slipway.contract.check import validate
    from slipway.contract.coerce import read_table
    from slipway.contract.infer import infer_contract

    table = RAW_DIR / safe_name(source)
    frame = read_table(source)
    contract = infer_contract(frame, target, task, table=table.as_posix())  # type: ignore[arg-type]
    if not contract.no_duplicate_rows:
        validate(frame.drop_duplicates(), contract)
    else:
        validate(frame, contract)
    params = (root / PARAMS).read_text()
    before = current_table(params)
    if before is None:
        raise SlipwayError(f"{PARAMS} has no `raw:` line under `data:`: add `data: {{raw: {table}}}`")
    new_params = RAW_LINE.sub(lambda m: m.group(1) + table.as_posix(), params, count=1)
    previous = before if before != table else None
    pyproject = (root / PYPROJECT).read_text()
    new_pyproject, removed = without_data_gates(pyproject) if previous else (pyproject, [])
    dvc_yaml = root / DVC_YAML
    plot = "confusion" if contract.is_classification else "scatter"
    new_dvc = (
        PLOT_TEMPLATE.sub(lambda m: m.group(1) + plot, dvc_yaml.read_text()) if dvc_yaml.exists() else None
    )
    return Plan(source, len(frame), table, previous, contract, new_params, new_pyproject, removed, new_dvc)


def apply(plan: Plan, root: Path) -> list[str]:
    """Make the planned changes; on any failure put every touched file back, then re-raise."""
    table = root / plan.table
    pointer = table.with_name(table.name + ".dvc")
    snapshot = Snapshot()
    snapshot.keep(
        root / PARAMS,
        root / PYPROJECT,
        root / DVC_YAML,
        root / CONTRACT_FILE,
        pointer,
        table.parent / ".gitignore",
    )
    if plan.previous is not None:
        old = root / plan.previous
        snapshot.keep(old.with_name(old.name + ".dvc"))
    if table.resolve() != plan.source.resolve():
        snapshot.keep(table)  # absent before: restore() deletes the copy
    done = []
    try:
        table.parent.mkdir(parents=True, exist_ok=True)
        if table.resolve() != plan.source.resolve():
            shutil.copyfile(plan.source, table)
            done.append(f"copied {plan.source} to {plan.table}")
        (root / CONTRACT_FILE).write_text(dump_contract(plan.contract))
        done.append(f"wrote {CONTRACT_FILE} (review it: roles, ranges, categories)")
        (root / PARAMS).write_text(plan.params)
        (root / PYPROJECT).write_text(plan.pyproject)
        if plan.dvc_yaml is not None:
            (root / DVC_YAML).write_text(plan.dvc_yaml)
        dvc("add", "--quiet", plan.table.as_posix())
        done.append(f"tracked {plan.table} with DVC ({plan.table}.dvc)")
        if plan.previous is not None:
            done.append(f"{PARAMS}: data.raw is now {plan.table} (was {plan.previous})")
            previous_pointer = plan.previous.with_name(plan.previous.name + ".dvc")
            if (root / previous_pointer).exists():
                dvc("remove", "--outs", previous_pointer.as_posix())
                done.append(f"removed {plan.previous} from the workspace and from DVC tracking")
        if plan.removed_gates:
            done.append(
                f"[tool.slipway.gates]: removed {', '.join(plan.removed_gates)} (set for the previous data);"
                " the bar is now the naive baseline, then the champion"
            )
    except BaseException:
        snapshot.restore()
        raise
    return done


def describe(contract: Contract, rows: int) -> list[str]:
    """What the table became: the task, the features, what is kept out of the model and why."""
    target = contract.target
    if contract.is_classification:
        shown = ", ".join(map(str, contract.labels[:8])) + (" ..." if len(contract.labels) > 8 else "")
        task = f"classification of {target.name!r} into {len(contract.labels)} classes: {shown}"
    else:
        task = f"regression of {target.name!r}"
    features = ", ".join(
        f"{c.name} ({c.type}{', missing values' if c.nullable else ''})" for c in contract.features
    )
    out = [f"{contract.table}: {rows} rows, {task}", f"features: {features}"]
    kept_out = [c for c in contract.columns if c.role != "feature"]
    if kept_out:
        out.append("not features: " + ", ".join(f"{c.name} ({c.role}: {c.note})" for c in kept_out))
    return out


def run(args: argparse.Namespace) -> int:
    root = Path.cwd()
    adopted = plan(Path(args.table).expanduser(), args.target, args.task, root)
    changes = apply(adopted, root)
    for line in [*describe(adopted.contract, adopted.rows), *changes]:
        print(f"adopt: {line}")
    return 0


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("adopt", help="make a CSV or Parquet table the project's data")
    parser.add_argument("table", help="the table: a .csv or .parquet file")
    parser.add_argument("--target", required=True, help="the column the model predicts")
    parser.add_argument("--task", choices=get_args(Task), help="default: inferred from the target")
    parser.set_defaults(handler=run)
