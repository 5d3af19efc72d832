"""Migration v0.2.0: keep what slipway 0.1.0's copy task made while `copier update` runs.

Up to 0.1.0 the copy task (git init, `uv lock`, example data + `dvc add`) ran on update too, in
copier's throwaway render of the old version. After the merge copier deletes from the project every
path that the old render has and the new one lacks; from 0.2.0 the task runs on the first copy only,
so without this migration an update from 0.1.0 would delete `uv.lock`, the example data and its
`.dvc` file, and hollow out `.venv` and `.dvc/cache`.

`park` (stage before) moves those paths into PARKING; `restore` (stage after) moves them back.
Renames only: instant, whatever the size. Both are idempotent, never overwrite anything, and do
nothing when there is nothing to move. Stdlib only (runs with copier's Python).
Usage: python park_task_outputs.py {park|restore} [PROJECT]
"""

from __future__ import annotations

import sys
from pathlib import Path

PARKING = Path(".slipway-update-parking")
# Everything 0.1.0's task writes into a fresh render (besides .git, which copier's cleanup ignores).
TASK_OUTPUTS = (
    ".venv",
    ".dvc/cache",
    ".dvc/tmp",
    "uv.lock",
    "data/raw/.gitignore",
    "data/raw/breast_cancer.csv",
    "data/raw/breast_cancer.csv.dvc",
    "data/raw/diabetes.csv",
    "data/raw/diabetes.csv.dvc",
)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _prune(directory: Path, stop: Path) -> None:
    """Remove `directory` and its parents up to `stop` (inclusive) while they are empty."""
    while directory != stop.parent and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def park(root: Path) -> list[str]:
    moved = []
    for name in TASK_OUTPUTS:
        source, target = root / name, root / PARKING / name
        if _exists(source) and not _exists(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            source.rename(target)
            moved.append(name)
    return moved


def restore(root: Path) -> tuple[list[str], list[str]]:
    """Move parked paths back; a path that exists again in the project stays parked (reported)."""
    back, kept = [], []
    for name in TASK_OUTPUTS:
        source, target = root / PARKING / name, root / name
        if not _exists(source):
            continue
        if _exists(target):
            kept.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)
        back.append(name)
        _prune(source.parent, root / PARKING)
    return back, kept


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or argv[0] not in ("park", "restore"):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = Path(argv[1]) if len(argv) == 2 else Path()
    if argv[0] == "park":
        park(root)
        return 0
    _, kept = restore(root)
    if kept:
        print(
            f"slipway migration 0.2.0: {', '.join(kept)} exist again, the earlier ones stay in {PARKING}/",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
