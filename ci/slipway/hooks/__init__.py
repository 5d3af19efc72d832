"""pre-commit hooks shipped by slipway (declared in the repository's `.pre-commit-hooks.yaml`).

One module per hook, each with `main(argv) -> int` behind a `slipway-check-*` console script. A hook
takes the file list pre-commit passes, prints one line per problem as `path: problem — fix`, and
exits 1 when it found any. Only the standard library and PyYAML are imported, so hooks start fast.
"""

from __future__ import annotations

from collections.abc import Iterable


def report(problems: Iterable[str]) -> int:
    """Print each problem on its own line; the exit code pre-commit expects (1 if any, else 0)."""
    count = 0
    for line in problems:
        print(line)
        count += 1
    return 1 if count else 0
