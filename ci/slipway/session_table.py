"""The READMEs' table of nox sessions, written from `slipway.sessions.SESSIONS` so it cannot drift.

`python -m slipway.session_table FILE...` rewrites the table between the markers in each file;
`--check` changes nothing and exits 1 naming each file whose table differs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from slipway.errors import SlipwayError
from slipway.sessions import SESSIONS, Spec

# A Markdown file hides HTML comments; a Jinja template drops its own comments when rendered, and
# the dashes trim the marker's line, so the generated project's README shows only the table.
BEGIN = ("<!-- sessions: begin -->", "{# sessions: begin -#}")
END = ("<!-- sessions: end -->", "{#- sessions: end #}")
HEADER = ("session", "what it does", "in plain `nox`")
JINJA_SYNTAX = ("{{", "{%", "{#")


def table(sessions: Mapping[str, Spec]) -> str:
    """The Markdown table: one row per session, in `SESSIONS` order, ending with a newline."""
    for name, spec in sessions.items():
        if not spec.summary.strip() or "\n" in spec.summary:
            raise SlipwayError(f"session {name!r}: its Spec.summary must be one non-empty line")
    rows = [(f"`{name}`", spec.summary.replace("|", "\\|"), "yes" if spec.default else "no")
            for name, spec in sessions.items()]  # fmt: skip
    # mdformat's compact form (`--compact-tables`, the generated project's Markdown hook): one space
    # around each cell, `--` rules; a padded table would be rewritten by the hook on its first run.
    lines = ["| " + " | ".join(row) + " |" for row in (HEADER, ("--",) * len(HEADER), *rows)]
    return "".join(f"{line}\n" for line in lines)


@dataclass(frozen=True)
class Document:
    """A file split around its sessions table: the text up to the begin marker's line, and after the end's."""

    head: str
    table: str
    tail: str


def split(path: Path, text: str) -> Document:
    lines = text.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip() in BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() in END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise SlipwayError(
            f"{path}: needs one line `{BEGIN[0]}` (in a .jinja file `{BEGIN[1]}`) before the sessions "
            f"table and one `{END[0]}` (`{END[1]}`) after it"
        )
    first, last = begins[0] + 1, ends[0]
    return Document("".join(lines[:first]), "".join(lines[first:last]), "".join(lines[last:]))


def updated(path: Path, sessions: Mapping[str, Spec]) -> tuple[str, str]:
    """The file's text as it is, and with its sessions table written from `sessions`."""
    text = path.read_text(encoding="utf-8")
    document = split(path, text)
    fresh = table(sessions)
    if path.suffix == ".jinja" and any(syntax in fresh for syntax in JINJA_SYNTAX):
        raise SlipwayError(f"{path}: a session summary contains Jinja syntax ({JINJA_SYNTAX}): reword it")
    return text, document.head + fresh + document.tail


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slipway.session_table", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table differs")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    stale = []
    try:
        for path in args.files:
            old, new = updated(path, SESSIONS)
            if old == new:
                continue
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
                print(f"{path}: sessions table rewritten")
    except (SlipwayError, OSError) as exc:
        print(f"session_table: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for path in stale:
            print(
                f"{path}: the sessions table differs from slipway.sessions.SESSIONS: "
                f"run `uv run python -m slipway.session_table {path}`",
                file=sys.stderr,
            )
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
