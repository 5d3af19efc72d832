"""Migration v0.2.0: `model_name` and `tracking_uri` move from [tool.slipway] to [tool.slipway.mlflow].

Text editing, so comments and layout survive; stdlib only (runs with copier's Python), idempotent.

- A key still in [tool.slipway] moves, with the comment lines right above it, into
  [tool.slipway.mlflow] (created below [tool.slipway] when missing). If the new table already has
  the key with the template's default (the answers passed as --model-name/--tracking-uri) or the
  same value, the old line replaces it; a different value there is never overwritten: both stay and
  a one-line notice says so (slipway then refuses the duplicate until one is deleted).
- The 3-way merge of `copier update` leaves a conflict where the user had edited one of these
  lines, since the template deleted it. A conflict block whose "before updating" side holds nothing
  but those keys and lines present elsewhere in the file is resolved: the template's side is kept
  and the user's values move into the new table. Other conflicts are left alone.

Usage: python mlflow_table.py [--model-name DEFAULT] [--tracking-uri DEFAULT] [PYPROJECT]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OLD, NEW = "tool.slipway", "tool.slipway.mlflow"
KEY_LINE = re.compile(r"^\s*(model_name|tracking_uri)\s*=\s*(.*?)\s*$")
HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
START, BASE, MIDDLE, END = "<<<<<<< ", "||||||| ", "=======", ">>>>>>> "
NOTICE = "slipway migration 0.2.0:"
MOVED = "model_name and tracking_uri"


def value_of(line: str) -> Any:
    """The TOML value of a `key = value  # comment` line (its raw text if it does not parse)."""
    rhs = line.split("=", 1)[1]
    try:
        return tomllib.loads(f"v = {rhs}")["v"]
    except tomllib.TOMLDecodeError:
        return rhs.strip()


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _name(line: str) -> str | None:
    found = HEADER.match(line)
    return re.sub(r"\s*\.\s*", ".", found.group(1)) if found else None


@dataclass
class Table:
    header: int  # line index of `[name]`
    end: int  # index of the next header (or len(lines))

    def keys(self, lines: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for index in range(self.header + 1, self.end):
            match = KEY_LINE.match(lines[index])
            if match:
                found.setdefault(match.group(1), index)
        return found

    def comments_above(self, lines: list[str], index: int) -> int:
        """First line of the comment block right above `index`; none when it reaches the header."""
        first = index
        while first - 1 > self.header and _comment(lines[first - 1]):
            first -= 1
        return index if first - 1 == self.header and first != index else first

    def last_content(self, lines: list[str]) -> int:
        """Last line that belongs to the table: trailing blanks and the next table's comments excluded."""
        last = self.end - 1
        if self.end < len(lines):
            while last > self.header and _comment(lines[last]):
                last -= 1
        while last > self.header and not lines[last].strip():
            last -= 1
        return last


def tables(lines: list[str]) -> dict[str, Table]:
    headers = [(i, name) for i, line in enumerate(lines) if (name := _name(line)) is not None]
    found: dict[str, Table] = {}
    for position, (index, name) in enumerate(headers):
        end = headers[position + 1][0] if position + 1 < len(headers) else len(lines)
        found.setdefault(name, Table(index, end))
    return found


def resolve_conflicts(lines: list[str]) -> tuple[list[str], list[list[str]], int]:
    """Resolve the conflict blocks that only stand for the moved keys.

    Returns the lines, the user's key lines taken from resolved blocks, and how many blocks are left.
    """
    blocks: list[tuple[int, int, int, int]] = []  # start, middle, end, base-or-middle
    start = base = middle = -1
    for index, line in enumerate(lines):
        if line.startswith(START):
            start, base, middle = index, -1, -1
        elif line.startswith(BASE) and start >= 0 and middle < 0:
            base = index
        elif line.rstrip("\r\n") == MIDDLE and start >= 0:
            middle = index
        elif line.startswith(END) and start >= 0 and middle >= 0:
            blocks.append((start, middle, index, base if base >= 0 else middle))
            start = -1
    if not blocks:
        return lines, [], 0
    inside = {i for first, _, last, _ in blocks for i in range(first, last + 1)}
    outside = {line.rstrip() for i, line in enumerate(lines) if i not in inside}
    result: list[str] = []
    moved: list[list[str]] = []
    left, cursor = 0, 0
    for first, middle, last, ours_end in blocks:
        result.extend(lines[cursor:first])
        ours, theirs = lines[first + 1 : ours_end], lines[middle + 1 : last]
        known = outside | {line.rstrip() for line in theirs}
        keys = [line for line in ours if KEY_LINE.match(line)]
        if keys and all(not line.strip() or KEY_LINE.match(line) or line.rstrip() in known for line in ours):
            result.extend(theirs)
            moved.extend([line] for line in keys)
        else:
            result.extend(lines[first : last + 1])
            left += 1
        cursor = last + 1
    result.extend(lines[cursor:])
    return result, moved, left


def move_keys(
    lines: list[str], defaults: dict[str, str], pending: list[list[str]]
) -> tuple[list[str], list[str]]:
    """Move old-place key lines (and `pending` ones, from resolved conflicts) into the new table."""
    found = tables(lines)
    old, new = found.get(OLD), found.get(NEW)
    entries: list[tuple[str, list[str], set[int]]] = []  # key, lines to place, old indices to delete
    if old is not None:
        for key, index in old.keys(lines).items():
            first = old.comments_above(lines, index)
            entries.append((key, lines[first : index + 1], set(range(first, index + 1))))
    for block in pending:
        match = KEY_LINE.match(block[-1])
        assert match is not None
        entries.append((match.group(1), block, set()))
    if not entries:
        return lines, []
    delete: set[int] = set()
    replace: dict[int, list[str]] = {}
    append: list[str] = []
    notes = []
    new_keys = new.keys(lines) if new is not None else {}
    for key, block, indices in entries:
        if key not in new_keys:
            append.extend(block)
            delete |= indices
            continue
        target = new_keys[key]
        current, wanted = value_of(lines[target]), value_of(block[-1])
        if current not in (wanted, defaults.get(key)):
            notes.append(f"{key} differs in [{OLD}] and [{NEW}]: kept both, delete the one you do not want")
            continue
        assert new is not None
        has_comments = len(block) > 1
        first = new.comments_above(lines, target) if has_comments else target
        replace[first] = block
        delete |= set(range(first + 1, target + 1)) | indices
    if append:
        table = new or old
        if table is None:  # keys from a conflict in a file without either table: leave them out
            return lines, [f"no [{OLD}] table found: add [{NEW}] by hand"]
        at = table.last_content(lines)
        while at > table.header and (at in delete or not lines[at].strip()):
            at -= 1
        if new is not None:
            insert = append
        else:
            follows = next((lines[i] for i in range(at + 1, len(lines)) if i not in delete), "")
            insert = ["\n", f"[{NEW}]\n", *append, *(["\n"] if follows.strip() else [])]
        replace[at] = [*replace.get(at, [lines[at]]), *insert]
    result = []
    for index, line in enumerate(lines):
        if index in replace:
            result.extend(replace[index])
        elif index not in delete:
            result.append(line)
    return result, notes


def migrate(text: str, defaults: dict[str, str]) -> tuple[str, list[str], int]:
    """The migrated text, notices, and how many conflict blocks are left."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines, pending, left = resolve_conflicts(lines)
    if left:
        notes = [f"conflicts left in pyproject.toml: resolve them, then move {MOVED} to [{NEW}]"]
        return "".join(lines), notes, left
    lines, notes = move_keys(lines, defaults, pending)
    return "".join(lines), notes, 0


def _clear_unmerged(path: Path) -> None:
    """After resolving every conflict block, drop copier's unmerged index entries for `path`."""
    cwd = path.parent.resolve()
    listed = subprocess.run(
        ["git", "ls-files", "-u", "--", path.name], cwd=cwd, capture_output=True, text=True, check=False
    )
    if listed.returncode == 0 and listed.stdout.strip():
        reset = ["git", "reset", "--quiet", "--", path.name]
        subprocess.run(reset, cwd=cwd, capture_output=True, check=False)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject", nargs="?", type=Path, default=Path("pyproject.toml"))
    parser.add_argument("--model-name", help="the template's model_name (answer project_slug)")
    parser.add_argument("--tracking-uri", help="the template's tracking_uri (answer mlflow_tracking_uri)")
    args = parser.parse_args(argv)
    if not args.pyproject.is_file():
        print(f"{NOTICE} {args.pyproject} not found, nothing to migrate", file=sys.stderr)
        return 0
    defaults = {
        key: value
        for key, value in (("model_name", args.model_name), ("tracking_uri", args.tracking_uri))
        if value is not None
    }
    text = args.pyproject.read_text()
    had_conflicts = START in text
    migrated, notes, left = migrate(text, defaults or {"model_name": "", "tracking_uri": ""})
    if migrated != text:
        args.pyproject.write_text(migrated)
    if had_conflicts and not left:
        _clear_unmerged(args.pyproject)
    for note in notes:
        print(f"{NOTICE} {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
