"""Check `dvc.yaml`: every stage lists in `deps` each project Python file its command runs.

DVC re-runs a stage only when one of its deps changes, so a module the stage imports but does not
list goes stale silently: edit it, `dvc repro` skips the stage, and the model no longer matches the
code. For stages whose `cmd` runs Python (`python -m MODULE ...` or `python SCRIPT.py ...`), the
hook follows `import` statements (also those inside functions; not `if TYPE_CHECKING:` ones)
through the files found under `src/` and beside `dvc.yaml`; installed packages are not followed.
A file counts as listed when it, or a directory above it, is in `deps`. A package's `__init__.py`
counts only when a stage imports a name from it. Runs on the `dvc.yaml` of each directory that
holds a passed file, or is above one.
"""

from __future__ import annotations

import argparse
import ast
import os
import shlex
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slipway.hooks import report

PYTHON_OPTIONS_WITH_VALUE = frozenset({"-X", "-W"})


@dataclass(frozen=True)
class Missing:
    stage: str
    file: Path  # relative to the directory of dvc.yaml
    imported_by: Path | None  # None: the file the command runs itself


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool  # an __init__.py: relative imports start from the module itself


def _entry(command: str) -> tuple[str, str] | None:
    """("module", NAME) or ("script", PATH) when the command runs Python, else None."""
    words = shlex.split(command)
    for index, word in enumerate(words):
        if Path(word).name.startswith("python"):
            rest = words[index + 1 :]
            break
    else:
        return None
    while rest and rest[0].startswith("-") and rest[0] != "-m":
        if rest[0] == "-c":
            return None  # inline code: no file to follow
        rest = rest[2:] if rest[0] in PYTHON_OPTIONS_WITH_VALUE else rest[1:]
    if len(rest) >= 2 and rest[0] == "-m":
        return "module", rest[1]
    if rest and rest[0].endswith(".py"):
        return "script", rest[0]
    return None


class _Finder:
    """Resolves module names to project files: under `src/`, then beside it, in the stage's working
    directory first, then in the directory of dvc.yaml."""

    def __init__(self, *directories: Path) -> None:
        self.roots = list(dict.fromkeys(root for d in directories for root in (d / "src", d)))

    def find(self, name: str) -> Module | None:
        parts = name.split(".")
        for base in self.roots:
            module = base.joinpath(*parts).with_suffix(".py")
            if module.is_file():
                return Module(name, module, is_package=False)
            package = base.joinpath(*parts, "__init__.py")
            if package.is_file():
                return Module(name, package, is_package=True)
        return None

    def imported(self, module: Module) -> Iterator[Module]:
        """Project modules that `module` imports."""
        for node in _runtime_imports([ast.parse(module.path.read_bytes())]):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found = self.find(alias.name)
                    if found:
                        yield found
                continue
            base = _absolute(module, node.level, node.module)
            if base is None:
                continue
            for alias in node.names:
                found = self.find(f"{base}.{alias.name}" if base else alias.name) or self.find(base)
                if found:
                    yield found


def _absolute(module: Module, level: int, name: str | None) -> str | None:
    """The absolute module a `from ... import` reads from; None when it climbs out of the package."""
    if level == 0:
        return name
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    if level - 1 > len(package):
        return None
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements anywhere under `nodes`, except in the body of `if TYPE_CHECKING:`."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_imports(node.orelse)
        else:
            yield from _runtime_imports(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING` or `typing.TYPE_CHECKING`: true only for type checkers, never at run time."""
    name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
    return name == "TYPE_CHECKING"


def _stage_files(root: Path, wdir: Path, command: str) -> list[tuple[Path, Path | None]]:
    """(file, imported_by) for the entry file of a command and every project file it imports."""
    finder = _Finder(wdir, root)
    entry = _entry(command)
    if entry is None or "${" in entry[1]:
        return []
    kind, target = entry
    if kind == "module":
        start = finder.find(target)
    else:
        path = _norm(wdir / target)
        start = Module(path.stem, path, is_package=False) if path.is_file() else None
    if start is None:
        return []
    found: dict[Path, Path | None] = {start.path: None}
    todo = [start]
    while todo:
        module = todo.pop()
        for imported in finder.imported(module):
            if imported.path not in found:
                found[imported.path] = module.path
                todo.append(imported)
    return list(found.items())


def _stages(pipeline: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    stages = pipeline.get("stages") if isinstance(pipeline, dict) else None
    for name, stage in (stages or {}).items():
        if isinstance(stage, dict):
            body = stage.get("do", stage)  # a foreach stage keeps cmd and deps under `do`
            if isinstance(body, dict):
                yield str(name), body


def _commands(stage: dict[str, Any]) -> list[str]:
    cmd = stage.get("cmd", [])
    return [cmd] if isinstance(cmd, str) else [c for c in cmd if isinstance(c, str)]


def _norm(path: Path) -> Path:
    return Path(os.path.normpath(path))


def missing(dvc_yaml: Path) -> list[Missing]:
    """Project files each stage runs but does not list in its deps."""
    root = dvc_yaml.parent
    pipeline = yaml.safe_load(dvc_yaml.read_text())
    problems = []
    for name, stage in _stages(pipeline):
        wdir = _norm(root / str(stage.get("wdir", ".")))  # cmd runs there; deps are relative to it
        deps = [_norm(wdir / d) for d in stage.get("deps", []) if isinstance(d, str) and "${" not in d]
        for command in _commands(stage):
            for file, imported_by in sorted(_stage_files(root, wdir, command), key=lambda pair: pair[0]):
                if not any(dep == file or dep in file.parents for dep in deps):
                    by = Path(os.path.relpath(imported_by, root)) if imported_by else None
                    problems.append(Missing(name, Path(os.path.relpath(file, root)), by))
    return problems


def check_file(dvc_yaml: Path) -> Iterator[str]:
    try:
        problems = missing(dvc_yaml)
    except (OSError, yaml.YAMLError, SyntaxError, UnicodeDecodeError) as exc:
        yield f"{dvc_yaml}: cannot be checked ({type(exc).__name__}) — fix the file it names"
        return
    for problem in problems:
        how = f"imported by {problem.imported_by}" if problem.imported_by else "its command runs it"
        yield (
            f"{dvc_yaml}: stage '{problem.stage}' runs {problem.file} ({how}) but its deps do not "
            "list it — add it to deps, or DVC skips the stage when that file changes"
        )


def _pipelines(filenames: list[str], dvc_file: str) -> list[Path]:
    """The dvc.yaml in the directory of each passed file or above it, each once."""
    found: set[Path] = set()
    for name in filenames:
        for directory in Path(name).parents:
            if (directory / dvc_file).is_file():
                found.add(directory / dvc_file)
                break
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slipway-check-stage-deps",
        description="Every stage of dvc.yaml lists in deps each project Python file its command runs.",
    )
    parser.add_argument("filenames", nargs="*", help="changed files (dvc.yaml, .py)")
    parser.add_argument(
        "--dvc-file", default="dvc.yaml", help="name of the pipeline file (default: dvc.yaml)"
    )
    args = parser.parse_args(argv)
    return report(line for path in _pipelines(args.filenames, args.dvc_file) for line in check_file(path))


if __name__ == "__main__":
    sys.exit(main())
