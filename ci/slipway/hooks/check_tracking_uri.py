"""Refuse MLflow tracking URIs hard-coded in Python source and notebooks, and URIs with credentials.

The tracking URI comes from the environment (`MLFLOW_TRACKING_URI`) or `[tool.slipway]`, never
from code: a literal pins every run of every colleague to one server, and a password in a URI
ends up in git history. Refused:
- `mlflow.set_tracking_uri("...")` / `set_registry_uri("...")` with a literal (an f-string only when
  it spells out a host, so `f"sqlite:///{tmp_path}/mlflow.db"` in tests stays allowed);
- `MlflowClient(tracking_uri="...")` / `registry_uri=...` with such a literal;
- `MLFLOW_TRACKING_URI = "..."`, `os.environ["MLFLOW_TRACKING_URI"] = "..."`,
  `os.environ.setdefault("MLFLOW_TRACKING_URI", "...")` and `{"MLFLOW_TRACKING_URI": "..."}`;
- any `scheme://user:password@host` in the text.
A line ending in `# slipway: allow-tracking-uri` is skipped.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from slipway.hooks import report
from slipway.redact import redact

ALLOW = "slipway: allow-tracking-uri"
URI_SETTERS = frozenset({"set_tracking_uri", "set_registry_uri"})
URI_KEYWORDS = frozenset({"tracking_uri", "registry_uri", "uri"})
ENV_NAMES = frozenset({"MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"})
# user:password@ in a URI; a password that is a placeholder (${X}, $X, {x}, <x>, %(x)s, ***) is fine.
CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://)([^\s/:@'\"]+):(?![$<{%*])([^\s/@'\"]+)@", re.IGNORECASE)
HOST_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*://[^/{]", re.IGNORECASE)
# Fallback for source that does not parse (e.g. notebook cells with magics the stripper missed).
TEXT_PATTERNS = (
    re.compile(r"set_(?:tracking|registry)_uri\(\s*['\"]"),
    re.compile(r"\bMLFLOW_(?:TRACKING|REGISTRY)_URI['\"]?\s*[\]:=,]\s*['\"]"),
)
FIX = "read it from the MLFLOW_TRACKING_URI environment variable or [tool.slipway] instead"


def _literal(node: ast.expr | None) -> str | None:
    """The text of a hard-coded URI: a string constant, or an f-string that starts with scheme://host."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str) and HOST_PREFIX.match(head.value):
            return head.value + "..."
    return None


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    return None


def _ast_findings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = _name(node.func)
            if func in URI_SETTERS:
                args = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "uri")]
                for uri in filter(None, map(_literal, args)):
                    yield node.lineno, f"hard-coded MLflow URI in {func}({redact(uri)!r})"
            elif func == "MlflowClient":
                for kw in node.keywords:
                    value = _literal(kw.value)
                    if kw.arg in URI_KEYWORDS and value is not None:
                        literal = f"{kw.arg}={redact(value)!r}"
                        yield node.lineno, f"hard-coded MLflow URI in MlflowClient({literal})"
            elif func == "setdefault" and len(node.args) >= 2:
                key, value = _literal(node.args[0]), _literal(node.args[1])
                if key in ENV_NAMES and value is not None:
                    yield node.lineno, f"hard-coded {key} default {redact(value)!r}"
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = _literal(node.value)
            for target in targets:
                if value is not None and _name(target) in ENV_NAMES:
                    yield node.lineno, f"hard-coded {_name(target)} = {redact(value)!r}"
        elif isinstance(node, ast.Dict):
            for key_node, value_node in zip(node.keys, node.values, strict=True):
                key, value = _literal(key_node), _literal(value_node)
                if key in ENV_NAMES and value is not None:
                    yield value_node.lineno, f"hard-coded {key}: {redact(value)!r}"


def _findings(source: str) -> Iterator[tuple[int, str]]:
    """(line, problem) pairs in one piece of Python source."""
    lines = source.splitlines()
    found: dict[int, list[str]] = {}
    try:
        # Notebook magics (`%pip`, `!ls`) are not Python: blank them, keeping line numbers.
        tree = ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines))
        pairs = list(_ast_findings(tree))
    except SyntaxError:
        pairs = [
            (number, f"hard-coded MLflow URI: {redact(line.strip())}")
            for number, line in enumerate(lines, 1)
            if any(p.search(line) for p in TEXT_PATTERNS)
        ]
    for number, problem in pairs:
        found.setdefault(number, []).append(f"{problem} — {FIX}")
    for number, line in enumerate(lines, 1):
        for match in CREDENTIALS.finditer(line):
            found.setdefault(number, []).append(
                f"credentials in URI {redact(match.group(0))!r} — move them to an environment variable"
                " or a secret store, and rotate the password: it is in the file now"
            )
    for number in sorted(found):
        if number <= len(lines) and ALLOW in lines[number - 1]:
            continue
        for problem in found[number]:
            yield number, problem


def check_file(name: str) -> Iterator[str]:
    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if path.suffix != ".ipynb":
        for line, problem in _findings(text):
            yield f"{name}:{line}: {problem}"
        return
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        yield f"{name}: not a valid notebook (JSON) — re-save it from Jupyter"
        return
    for index, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for line, problem in _findings(source):
            yield f"{name}: cell {index}, line {line}: {problem}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slipway-check-tracking-uri",
        description="Refuse hard-coded MLflow tracking URIs and URIs with credentials in .py/.ipynb files.",
    )
    parser.add_argument("filenames", nargs="*", help="Python files and notebooks to check")
    args = parser.parse_args(argv)
    return report(line for name in args.filenames for line in check_file(name))


if __name__ == "__main__":
    sys.exit(main())
