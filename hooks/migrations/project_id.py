"""Migration v0.3.0 (and the copy task): give the project its id, `project_id` in [tool.slipway].

Every run and model version the project makes carries it (tag `slipway.project`), and the gates and
the server refuse versions without it, so a model another project registered under the same name is
never served. A random UUID, written once; an existing id is kept. Text editing, so comments and
layout survive; stdlib only (runs with copier's Python), idempotent.

Usage: python project_id.py [PYPROJECT]
"""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*slipway\s*\]\s*(#.*)?$")
ANY_HEADER = re.compile(r"^\s*\[")
KEY = re.compile(r"^\s*project_id\s*=")
PACKAGE = re.compile(r"^\s*package\s*=")
COMMENT = "  # this project's models in a shared registry; never copy it to another project"


def ensure_project_id(pyproject: Path) -> bool:
    """Add `project_id = "<uuid4>"` under [tool.slipway] unless it is there; True when written."""
    lines = pyproject.read_text().splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if HEADER.match(line)), None)
    if start is None:
        return False
    end = next((i for i in range(start + 1, len(lines)) if ANY_HEADER.match(lines[i])), len(lines))
    if any(KEY.match(line) for line in lines[start + 1 : end]):
        return False
    after = next((i for i in range(start + 1, end) if PACKAGE.match(lines[i])), start)
    lines.insert(after + 1, f'project_id = "{uuid.uuid4()}"{COMMENT}\n')
    pyproject.write_text("".join(lines))
    return True


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("pyproject.toml")
    if ensure_project_id(target):
        print(
            f"slipway migration 0.3.0: {target} [tool.slipway] has a project_id now (tags its model versions)"
        )
