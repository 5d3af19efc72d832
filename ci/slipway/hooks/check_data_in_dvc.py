"""Refuse data committed to git: files under the data directories, and any file above a size limit.

Such files belong in DVC: `dvc add <path>` moves the content to DVC's cache and leaves a small
`<path>.dvc` pointer for git. Allowed under the data directories: `*.dvc` pointers, `.gitignore`,
`.gitkeep` and READMEs.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from slipway.hooks import report

DEFAULT_DATA_DIRS = ("data",)
DEFAULT_MAX_KB = 500
ALLOWED_NAMES = frozenset({".gitignore", ".gitkeep", ".keep", "README", "README.md", "README.txt"})


def _under(path: PurePosixPath, directory: PurePosixPath) -> bool:
    return path.parts[: len(directory.parts)] == directory.parts and path != directory


def _fix(path: str) -> str:
    quoted = shlex.quote(path)
    return f"`git rm --cached {quoted} && dvc add {quoted}`, then commit {quoted}.dvc"


def problems(paths: Sequence[str], data_dirs: Sequence[str], max_kb: int) -> Iterator[str]:
    dirs = [PurePosixPath(d.strip("/")) for d in data_dirs]
    for name in paths:
        path = PurePosixPath(Path(name).as_posix())
        if path.suffix == ".dvc" or path.name in ALLOWED_NAMES:
            continue
        tracked_by_dvc = Path(f"{name}.dvc").exists()
        if tracked_by_dvc:
            yield (
                f"{name}: tracked by DVC ({name}.dvc) and committed to git as well"
                f" — `git rm --cached {shlex.quote(name)}` and let git ignore it"
            )
            continue
        data_dir = next((d for d in dirs if _under(path, d)), None)
        if data_dir is not None:
            yield f"{name}: data file under {data_dir}/ is in git, not tracked by DVC — {_fix(name)}"
            continue
        try:
            size = Path(name).stat().st_size
        except OSError:
            continue  # deleted or a broken link: nothing is being committed
        if size > max_kb * 1024:
            yield (
                f"{name}: {size // 1024} KB is above the {max_kb} KB limit for files in git"
                f" — track it with DVC: {_fix(name)}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slipway-check-data-in-dvc", description="Refuse data files committed to git instead of DVC."
    )
    parser.add_argument("filenames", nargs="*", help="files to check (pre-commit passes them)")
    parser.add_argument(
        "--data-dir",
        action="append",
        dest="data_dirs",
        metavar="DIR",
        help=f"directory whose files must be tracked by DVC; repeatable (default: {DEFAULT_DATA_DIRS[0]})",
    )
    parser.add_argument(
        "--max-kb",
        type=int,
        default=DEFAULT_MAX_KB,
        help=f"largest file allowed in git anywhere, in KB (default: {DEFAULT_MAX_KB})",
    )
    args = parser.parse_args(argv)
    data_dirs: list[str] = args.data_dirs or list(DEFAULT_DATA_DIRS)
    return report(problems(args.filenames, data_dirs, args.max_kb))


if __name__ == "__main__":
    sys.exit(main())
