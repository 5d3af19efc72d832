"""Template release history for update tests: one temp clone holding the previous release and this one.

The previous release is real history: the commit before the one that set `__version__` to the working
tree's version (HEAD while that change is uncommitted), tagged with the version it declares. The
working tree, committed on top, is tagged `v<__version__>`. `copier update` between the two tags is
exactly what a project made from the previous release goes through.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = "ci/slipway/__init__.py"


def _git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=slipway tests", "-c", "user.email=tests@example.com"]
    result = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {cwd}: {result.stderr.strip()}")
    return result.stdout


def copy_working_tree(dest: Path) -> None:
    """Copy what git sees of the working tree (tracked and untracked, not ignored) into `dest`."""
    listed = _git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def version_of(text: str) -> str:
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no __version__ in {VERSION_FILE}")
    return found.group(1)


def current_version() -> str:
    return version_of((ROOT / VERSION_FILE).read_text())


@dataclass(frozen=True)
class Releases:
    repo: Path  # the template clone; `copier copy/update` take it as the source
    old: str  # tag of the previous release, e.g. "v0.1.0"
    new: str  # tag of the working tree, e.g. "v0.2.0"


def release_history(dest: Path) -> Releases:
    """Clone this repository into `dest`, tag the previous release, commit the working tree as the new one."""
    version = current_version()
    _git(ROOT.parent, "clone", "--quiet", "--no-tags", "--no-checkout", str(ROOT), str(dest))
    marker = f'__version__ = "{version}"'
    introduced = _git(dest, "log", "--format=%H", "-S", marker, "HEAD", "--", VERSION_FILE).split()
    old_commit = f"{introduced[-1]}^" if introduced else "HEAD"
    old_version = version_of(_git(dest, "show", f"{old_commit}:{VERSION_FILE}"))
    if old_version == version:
        raise RuntimeError(f"no release before {version} in the history of {ROOT}")
    _git(dest, "tag", f"v{old_version}", old_commit)
    # The working tree (tracked and untracked, not ignored) becomes the next commit on main.
    copy_working_tree(dest)
    _git(dest, "add", "--all")
    _git(dest, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", f"release {version}")
    _git(dest, "tag", f"v{version}")
    return Releases(dest, f"v{old_version}", f"v{version}")


CHANGED_LINE = "    timeout-minutes: 10\n"  # the lint job's, in template/.github/workflows/ci.yml.jinja


def next_release(releases: Releases, tag: str) -> str:
    """One more release on top: the lint job of ci.yml gets one more minute (a line users edit too)."""
    workflow = releases.repo / "template" / ".github" / "workflows" / "ci.yml.jinja"
    text = workflow.read_text()
    if CHANGED_LINE not in text:
        raise RuntimeError(f"{workflow} has no line {CHANGED_LINE.strip()!r} to change")
    workflow.write_text(text.replace(CHANGED_LINE, CHANGED_LINE.replace("10", "11"), 1))
    _git(releases.repo, "commit", "--quiet", "--no-verify", "-am", f"release {tag}")
    _git(releases.repo, "tag", tag)
    return tag
