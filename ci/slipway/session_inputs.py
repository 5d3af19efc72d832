"""What lint, typecheck and tests read, as `verdicts.Inputs`: the key of each one's cached verdict.

Sources are the files git lists (tracked, and untracked unless ignored), so a deleted, edited or new
file changes the key; files the pipeline writes (dvc.lock, the outputs in dvc.yaml and the .gitignore
lines DVC adds for them) are left out, their inputs are in. DVC-tracked data counts by size and
modification time. Stdlib and PyYAML only.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from slipway.config import ConfigError, load_gates
from slipway.gates.names import VERDICT_ONLY_ENV
from slipway.verdicts import Inputs, key, stamp

PINS = ("uv.lock", "noxfile.py")  # what pins the tools (and slipway) the gates run
MYPY_FILES = ("mypy.ini", ".mypy.ini", "setup.cfg")  # where else mypy finds its settings


def listed(root: Path) -> list[str] | None:
    """Every file git lists, tracked or untracked-but-not-ignored; None outside a git repository."""
    result = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return sorted({name for name in result.stdout.decode().split("\0") if name})


def _entries(items: Any) -> list[str]:
    """Paths of a dvc.yaml list of outputs: plain strings or one-key mappings with options."""
    names = []
    for item in items or ():
        names += [item] if isinstance(item, str) else list(item) if isinstance(item, dict) else []
    return [name for name in names if "${" not in name]  # a templated path stays an input


def pipeline_outputs(root: Path) -> list[str]:
    """What `dvc repro` writes from inputs in the key: dvc.lock, the outputs of dvc.yaml's stages,
    and the .gitignore beside each output, where DVC adds its line on the first run."""
    try:
        stages = (yaml.safe_load((root / "dvc.yaml").read_text()) or {}).get("stages") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return ["dvc.lock"]
    outputs = ["dvc.lock"]
    for stage in stages.values():
        if isinstance(stage, dict):
            for kind in ("outs", "metrics", "plots"):
                outputs += _entries(stage.get(kind))
    ignores = {(PurePosixPath(out).parent / ".gitignore").as_posix() for out in outputs[1:]}
    return [*outputs, *sorted(ignores - {".gitignore"})]  # the root's own .gitignore is people's


def _under(name: str, prefixes: Iterable[str]) -> bool:
    parts = PurePosixPath(name).parts
    return any(parts[: len(PurePosixPath(p).parts)] == PurePosixPath(p).parts for p in prefixes)


def sources(root: Path) -> list[str] | None:
    """The files git lists, less the pipeline's outputs; None outside a git repository."""
    names = listed(root)
    if names is None:
        return None
    outputs = pipeline_outputs(root)
    return [name for name in names if not _under(name, outputs)]


def dvc_pointer_outs(pointers: Iterable[Path]) -> list[Path]:
    """The data paths that `.dvc` pointer files name, relative to where the pointers are."""
    outs = []
    for pointer in pointers:
        try:
            record = yaml.safe_load(pointer.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        for out in (record.get("outs") or ()) if isinstance(record, dict) else ():
            if isinstance(out, dict) and isinstance(out.get("path"), str):
                outs.append(pointer.parent / out["path"])
    return outs


def tracked_data(root: Path, names: Iterable[str]) -> list[str]:
    """Every file of the DVC-tracked data the listed `.dvc` pointers name, relative to the root."""
    files = []
    for out in dvc_pointer_outs(root / name for name in names if name.endswith(".dvc")):
        found = sorted(p for p in out.rglob("*") if p.is_file()) if out.is_dir() else [out]
        files += [p.relative_to(root).as_posix() for p in found]
    return files


def _env_files(env_dir: Path, root: Path) -> list[str]:
    """The environment's pyvenv.cfg (its Python version), as a path the key can read."""
    cfg = (env_dir / "pyvenv.cfg").resolve()
    return [cfg.relative_to(root.resolve()).as_posix() if cfg.is_relative_to(root.resolve()) else str(cfg)]


def lint(root: Path, posargs: Sequence[str]) -> Inputs | None:
    """pre-commit reads every source file (its own config among them) and takes `-- HOOK_ID`."""
    names = sources(root)
    if names is None:
        return None
    return Inputs(files=names, facts={"gate": "lint", "posargs": json.dumps(list(posargs))})


def typecheck(root: Path, paths: Sequence[str], env_dir: Path) -> Inputs | None:
    """mypy reads the sources under `paths`, its settings, and what the lock file installs."""
    names = sources(root)
    if names is None:
        return None
    try:
        mypy = tomllib.loads((root / "pyproject.toml").read_text()).get("tool", {}).get("mypy", {})
    except (OSError, tomllib.TOMLDecodeError):
        mypy = None
    checked = [name for name in names if _under(name, paths)]
    return Inputs(
        files=[*checked, *PINS, *MYPY_FILES, *_env_files(env_dir, root)],
        facts={"gate": "typecheck", "paths": json.dumps(list(paths)), "mypy": json.dumps(mypy, default=str)},
    )


def tests(root: Path, posargs: Sequence[str], env_dir: Path) -> Inputs | None:
    """Tests may read any source file (params, contract, data pointers) and the data itself."""
    names = sources(root)
    if names is None:
        return None
    return Inputs(
        files=[*names, *_env_files(env_dir, root)],
        stamps=tracked_data(root, names),
        facts={"gate": "tests", "posargs": json.dumps(list(posargs))},
    )


def local_store(uri: str) -> Path | None:
    """The file of a `sqlite:///` tracking store; None for a server, whose changes no file shows."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri.removeprefix("sqlite:///").split("?", 1)[0])


@dataclass(frozen=True)
class EvaluateKeys:
    """Keys of the gate's inputs (`judged`) and of those with the local store's stamp (`full`)."""

    judged: str
    full: str


def evaluate(root: Path, uri: str, posargs: Sequence[str]) -> EvaluateKeys | None:
    """What the gate reads, with the local store's stamp standing for the registry: any write there
    (a new champion, a moved or deleted alias, a new record) changes it. None for a tracking server."""
    store = local_store(uri)
    try:
        gates = load_gates(root / "pyproject.toml")
    except ConfigError:
        return None  # the gate itself says what is wrong, in one line
    if store is None:
        return None
    inputs = Inputs(
        files=(gates.candidate, "contract.yaml", "pyproject.toml", *PINS),  # PINS: the gate's own code
        stamps=(gates.holdout, gates.train),
        facts={
            "gate": "evaluate",
            "posargs": json.dumps(list(posargs)),
            "verdict_only": os.environ.get(VERDICT_ONLY_ENV, ""),
        },
    )
    judged = key(inputs, root)
    stamps = ";".join(stamp(Path(f"{store}{suffix}")) for suffix in ("", "-wal", "-journal"))
    return EvaluateKeys(judged, key(Inputs(facts={"judged": judged, "store": stamps}), root))
