"""Check `params.yaml` against `dvc.yaml`: valid YAML, every referenced parameter exists, none unused.

References are read as DVC's dvc.yaml format defines them (https://dvc.org/doc/user-guide/project-structure/dvcyaml-files):
- a stage's `params:` list: `- split.seed` (a key, dotted for nesting), `- model` (a whole section),
  `- other.yaml: [key, ...]` (keys of another file) or `- other.yaml:` (that whole file);
- `${...}` interpolation anywhere in a stage (`cmd`, `deps`, ...): values from `params.yaml` and
  `vars`, plus `${item...}` / `${key}` in `foreach` and `matrix` stages.
The hook runs for each directory holding a passed `params.yaml` or `dvc.yaml`, on the pair found there.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slipway.hooks import report

INTERPOLATION = re.compile(r"\$\{\s*([^}]*?)\s*\}")
SEGMENT = re.compile(r"[^.\[\]]+")
LOOP_NAMES = frozenset({"item", "key"})  # what foreach / matrix stages bind


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML keeps the last one silently; DVC refuses them)."""


def _construct_mapping(
    loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Hashable, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class ParamsError(Exception):
    """A file could not be read; the message is one problem line."""


@dataclass(frozen=True)
class Reference:
    stage: str
    file: Path  # the params file the key is looked up in
    key: tuple[str, ...] | None  # None: the whole file
    how: str  # "params" or "${...}", for messages


def _load(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read ({exc.strerror}) — check the path") from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        if path.suffix == ".toml":
            return tomllib.loads(text)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ParamsError(
            f"{path}{where}: not valid YAML ({exc.problem or exc.context}) — fix the syntax"
        ) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise ParamsError(
            f"{path}: not valid {path.suffix.lstrip('.').upper()} ({exc}) — fix the syntax"
        ) from None


def _split(key: str) -> tuple[str, ...]:
    return tuple(SEGMENT.findall(key))


def _lookup(tree: Any, key: tuple[str, ...]) -> bool:
    node = tree
    for part in key:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _vars_names(entries: Any, base: Path) -> set[str]:
    """Top-level names that `vars` (inline dicts or other files) put in the interpolation context."""
    names: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            names.update(str(k) for k in entry)
        elif isinstance(entry, str):
            file, _, keys = entry.partition(":")
            if keys:
                names.update(k.strip().split(".")[0] for k in keys.split(","))
                continue
            try:
                loaded = _load(base / file)
            except ParamsError:
                continue  # DVC itself reports a missing vars file
            if isinstance(loaded, dict):
                names.update(str(k) for k in loaded)
    return names


def _references(dvc: dict[str, Any], base: Path, params_name: str) -> Iterator[Reference | str]:
    """Every parameter reference of every stage; a plain string is a problem found on the way."""
    stages = dvc.get("stages") or {}
    if not isinstance(stages, dict):
        yield f"{base / 'dvc.yaml'}: `stages` must be a mapping of stage names — see dvc.yaml's format"
        return
    global_vars = _vars_names(dvc.get("vars"), base)
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            continue
        body = stage.get("do", stage) if "foreach" in stage else stage
        if not isinstance(body, dict):
            continue
        wdir = body.get("wdir", ".")
        stage_dir = base / wdir if isinstance(wdir, str) and "${" not in wdir else base
        default_file = stage_dir / params_name
        local_names = global_vars | _vars_names(body.get("vars"), stage_dir) | LOOP_NAMES
        for entry in body.get("params") or []:
            if isinstance(entry, str):
                if "${" not in entry:
                    yield Reference(str(name), default_file, _split(entry), "params")
            elif isinstance(entry, dict):
                for file, keys in entry.items():
                    if "${" in str(file):
                        continue
                    if not keys:
                        yield Reference(str(name), stage_dir / str(file), None, "params")
                        continue
                    for key in keys if isinstance(keys, list) else [keys]:
                        if "${" not in str(key):
                            yield Reference(str(name), stage_dir / str(file), _split(str(key)), "params")
        for text in _strings({k: v for k, v in body.items() if k != "vars"}):
            for match in INTERPOLATION.finditer(text):
                key = _split(match.group(1))
                if key and key[0] not in local_names:
                    yield Reference(str(name), base / params_name, key, f"${{{match.group(1)}}}")


def _unused(tree: Any, used: set[tuple[str, ...]], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The topmost keys of `tree` that no reference covers (a section counts as one key if wholly unused)."""
    if not isinstance(tree, dict):
        return
    for key, value in tree.items():
        path = (*prefix, str(key))
        if any(path[: len(u)] == u for u in used):
            continue  # this key or a section above it is referenced
        if isinstance(value, dict) and value and any(u[: len(path)] == path for u in used):
            yield from _unused(value, used, path)
        else:
            yield path


def check_directory(directory: Path, params_name: str, dvc_name: str) -> Iterator[str]:
    params_path, dvc_path = directory / params_name, directory / dvc_name
    params: Any = None
    if params_path.exists():
        try:
            params = _load(params_path)
        except ParamsError as exc:
            yield str(exc)
            return
        if params is not None and not isinstance(params, dict):
            yield f"{params_path}: must be a mapping of parameter names to values — write `key: value` lines"
            return
    if not dvc_path.exists():
        return
    try:
        dvc = _load(dvc_path)
    except ParamsError as exc:
        yield str(exc)
        return
    if not isinstance(dvc, dict):
        yield f"{dvc_path}: must be a mapping with a `stages:` section — see dvc.yaml's format"
        return
    used: set[tuple[str, ...]] = set()
    whole_file_used = False
    loaded: dict[Path, Any] = {params_path: params} if params_path.exists() else {}
    for ref in _references(dvc, directory, params_name):
        if isinstance(ref, str):
            yield ref
            continue
        if ref.file not in loaded:
            try:
                loaded[ref.file] = _load(ref.file) if ref.file.exists() else None
            except ParamsError as exc:
                loaded[ref.file] = None
                yield str(exc)
                continue
            if not ref.file.exists():
                yield (
                    f"{dvc_path}: stage '{ref.stage}' reads parameters from {ref.file}, which does not exist"
                    " — create it or fix the file name"
                )
        tree = loaded[ref.file]
        if ref.file == params_path:
            if ref.key is None:
                whole_file_used = True
            else:
                used.add(ref.key)
        if tree is None or ref.key is None:
            continue
        if not _lookup(tree, ref.key):
            dotted = ".".join(ref.key)
            where = "in its params" if ref.how == "params" else f"as {ref.how}"
            yield (
                f"{dvc_path}: stage '{ref.stage}' uses parameter '{dotted}' {where},"
                f" which {ref.file} does not define"
                f" — add `{dotted}` to {ref.file} or fix the name"
            )
    if isinstance(params, dict) and not whole_file_used:
        for path in _unused(params, used):
            dotted = ".".join(path)
            yield (
                f"{params_path}: parameter '{dotted}' is not used by any stage of {dvc_path}"
                f" — list it under a stage's `params:` (or use it as ${{{dotted}}}), or delete it"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slipway-check-params",
        description="params.yaml is valid, every parameter dvc.yaml references exists, and none is unused.",
    )
    parser.add_argument("filenames", nargs="*", help="changed files; their directories are checked")
    parser.add_argument(
        "--params", default="params.yaml", help="name of the params file (default: params.yaml)"
    )
    parser.add_argument(
        "--dvc-file", default="dvc.yaml", help="name of the pipeline file (default: dvc.yaml)"
    )
    args = parser.parse_args(argv)
    names = {args.params, args.dvc_file}
    directories = sorted({Path(f).parent for f in args.filenames if Path(f).name in names})
    return report(line for d in directories for line in check_directory(d, args.params, args.dvc_file))


if __name__ == "__main__":
    sys.exit(main())
