"""The verdict cache: a passing gate's key, so a re-run whose inputs did not change is skipped.

A key is a sha256 over everything that decides a verdict: the contents of the input files, the size
and mtime of large DVC-tracked data, and named facts (arguments, settings, the champion). A pass is
kept as `.nox/verdicts/<gate>/<key>` (git-ignored), written only after the gate passed. Local only:
with `CI` set nothing is trusted (a runner's cache could come from another tree), and
`SLIPWAY_FORCE=1` ignores it too. Stdlib only: nox's own process imports it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

FORCE_ENV = "SLIPWAY_FORCE"  # 1: run every gate, whatever the cache says
DIRECTORY = Path(".nox") / "verdicts"  # under the project root
SHOWN = 12  # hex digits of a key in messages
KEPT = 16  # passing keys kept per gate


@dataclass(frozen=True)
class Inputs:
    """What a gate's verdict depends on; paths are relative to the project root."""

    files: Iterable[str] = ()  # read in full: source, settings, lock files
    stamps: Iterable[str] = ()  # large data: size and modification time, not content
    facts: Mapping[str, str] = field(default_factory=dict)  # arguments, settings, versions


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return "missing"


def stamp(path: Path) -> str:
    """A file's size and modification time ("missing" if absent): a change without reading it."""
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def key(inputs: Inputs, root: Path) -> str:
    """The sha256 of the inputs: any change to a file, a stamp or a fact gives another key."""
    digest = hashlib.sha256()
    for name, value in sorted(inputs.facts.items()):
        digest.update(f"fact\0{name}\0{value}\0".encode())
    for relative in sorted(set(inputs.files)):
        digest.update(f"file\0{relative}\0{_file_digest(root / relative)}\0".encode())
    for relative in sorted(set(inputs.stamps)):
        digest.update(f"stamp\0{relative}\0{stamp(root / relative)}\0".encode())
    return digest.hexdigest()


def trusted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether cached verdicts may be used: not in CI (keys are local facts), not when forced."""
    forced = environ.get(FORCE_ENV, "").lower() in ("1", "true", "yes")
    return not forced and not environ.get("CI")


def _path(root: Path, gate: str, current: str) -> Path:
    return root / DIRECTORY / gate / current


def cached(root: Path, gate: str, current: str) -> bool:
    """True when the gate passed under exactly this key and the cache may be trusted."""
    return trusted() and _path(root, gate, current).is_file()


def record(root: Path, gate: str, current: str) -> None:
    """Remember a pass under this key (call only after the gate passed); keeps the newest KEPT keys,
    so undoing an edit finds the verdict of the state it returns to."""
    path = _path(root, gate, current)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        older = sorted(path.parent.iterdir(), key=lambda p: p.stat().st_mtime_ns, reverse=True)[KEPT:]
        for stale in older:
            stale.unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be written only means the next run checks again


def skipped_message(current: str) -> str:
    """Why a gate did not run, naming its key and how to run it anyway."""
    return f"verdict cached for key {current[:SHOWN]} ({FORCE_ENV}=1 to re-run)"
