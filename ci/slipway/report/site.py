"""The docs site's pages, staged for MkDocs: the README, the latest gate report, the champion's model
card, the drift report and the project's own `docs/`; a report not written yet becomes a short page
naming the session that writes it, so a fresh project's site builds in strict mode too.

Stdlib only: `nox -s docs` stages in nox's own process, then runs `mkdocs build --strict` on the
project's `mkdocs.yml`, whose `docs_dir` is STAGE and whose nav names the paths of PAGES.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

from slipway.report import paths

STAGE = "build/docs"  # rebuilt on each run, ignored by git
DOCS = "docs"  # the project's own pages (docs/intended-use.md among them), staged as they are


@dataclass(frozen=True)
class Page:
    """One page of the site's nav: the project file it shows, and what writes that file."""

    title: str
    path: str  # in the site, as mkdocs.yml's nav names it
    source: str  # in the project
    writer: str  # how the source comes to be, for the page that stands in for it
    plots: str = ""  # a glob of project files the page shows, staged beside it

    @property
    def framed(self) -> bool:
        """A standalone HTML report: copied beside the page, which shows it in a frame."""
        return self.source.endswith(".html")


PAGES = (
    Page("Overview", "index.md", "README.md", "it is the project's front page"),
    Page(
        "Gate report",
        "gate/report.md",
        f"{paths.GATE_DIR}/{paths.GATE_MARKDOWN}",
        "`nox -s evaluate` writes it, with the verdict on the last candidate, its metrics and plots",
        plots=f"{paths.GATE_DIR}/*.png",
    ),
    Page(
        "Model card",
        "card/model-card.md",
        f"{paths.CARD_DIR}/{paths.CARD_MARKDOWN}",
        "`nox -s deploy` writes it for each new champion",
        plots=f"{paths.CARD_DIR}/*.png",
    ),
    Page(
        "Drift report",
        "monitor/index.md",
        f"{paths.MONITOR_DIR}/{paths.MONITOR_HTML}",
        "`nox -s monitor -- BATCH.csv` writes it when it checks a batch against the training data",
    ),
    Page(
        "Intended use",
        "intended-use.md",
        "docs/intended-use.md",
        "the project writes it once: what the model is for, and what it must not be used for",
    ),
)

_FENCE = re.compile(r"(?ms)^ {0,3}(`{3,}|~{3,}).*?(?:^ {0,3}\1[ \t]*$|\Z)")
# A code span (left alone), or an inline link or image: [text](target "title").
_LINK = re.compile(r"(`+).*?(?<!`)\1(?!`)|(!?)\[([^\]\n]*)\]\(([^)\s]+)((?:\s+\"[^\"\n]*\")?)\)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _relocate(target: str, origin: str, page: str, files: Mapping[str, str]) -> str | None:
    """Where a link written in project file `origin` points from staged `page`; None: not in the site."""
    if _SCHEME.match(target) or target.startswith(("#", "/")):
        return target  # a URL, an anchor on the same page, or a site-absolute path: as written
    path, hash_, fragment = target.partition("#")
    project_path = posixpath.normpath(posixpath.join(posixpath.dirname(origin), unquote(path)))
    staged = files.get(project_path)
    if staged is None:
        return None
    return posixpath.relpath(staged, posixpath.dirname(page) or ".") + hash_ + fragment


def relink(markdown: str, origin: str, page: str, files: Mapping[str, str]) -> str:
    """Markdown from project file `origin`, staged as `page`: links to staged files point at their
    staged copies; links to files the site lacks (contract.yaml, src/) become their text, naming the
    file, since strict mode fails on a link to a missing page. Code is left as written."""

    def link(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(0)
        bang, text, target, title = match.group(2, 3, 4, 5)
        url = _relocate(target, origin, page, files)
        if url is not None:
            return f"{bang}[{text}]({url}{title})"
        if bang or text.strip("`") == target:
            return text
        return f"{text} (`{target}`)"

    parts, start = [], 0
    for fence in _FENCE.finditer(markdown):
        parts += [_LINK.sub(link, markdown[start : fence.start()]), fence.group(0)]
        start = fence.end()
    parts.append(_LINK.sub(link, markdown[start:]))
    return "".join(parts)


def _placeholder(page: Page) -> str:
    return (
        f"# {page.title}\n\n`{page.source}` is not written yet: {page.writer}.\n"
        "Then `nox -s docs` builds this site again.\n"
    )


def _frame(page: Page, name: str) -> str:
    """A page showing the standalone HTML report `name` (staged beside it) inline, with a link to it."""
    return (
        f"# {page.title}\n\n[Open the report on its own]({name}) (`{page.source}`).\n\n"
        f'<iframe src="{name}" title="{page.title}" style="width:100%;height:80vh;border:0"></iframe>\n'
    )


def pages(monitor_dir: str = paths.MONITOR_DIR) -> tuple[Page, ...]:
    """PAGES, with the drift report read from the project's `[tool.slipway.monitor] report_dir`."""
    drift = f"{paths.MONITOR_DIR}/{paths.MONITOR_HTML}"
    return tuple(
        replace(page, source=f"{monitor_dir}/{paths.MONITOR_HTML}") if page.source == drift else page
        for page in PAGES
    )


def _sources(project: Path, site_pages: tuple[Page, ...]) -> dict[str, str]:
    """Every project file the site holds (posix path in the project -> path in the site)."""
    files: dict[str, str] = {}
    docs = project / DOCS
    for path in sorted(docs.rglob("*")) if docs.is_dir() else []:
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(docs).parts):
            files[path.relative_to(project).as_posix()] = path.relative_to(docs).as_posix()
    for page in site_pages:
        here = posixpath.dirname(page.path)
        if (project / page.source).is_file():
            framed = posixpath.join(here, posixpath.basename(page.source))
            files[page.source] = framed if page.framed else page.path
        for plot in sorted(project.glob(page.plots)) if page.plots else []:
            files[plot.relative_to(project).as_posix()] = posixpath.join(here, plot.name)
    return files


def stage(project: Path, monitor_dir: str = paths.MONITOR_DIR) -> list[Page]:
    """Write the site's pages into `project/STAGE`, afresh; returns the pages still placeholders."""
    out = project / STAGE
    shutil.rmtree(out, ignore_errors=True)
    site_pages = pages(monitor_dir)
    files = _sources(project, site_pages)
    origins = {staged: source for source, staged in files.items()}
    for staged, source in origins.items():
        dest = out / staged
        dest.parent.mkdir(parents=True, exist_ok=True)
        if staged.endswith(".md"):
            text = (project / source).read_text(encoding="utf-8")
            dest.write_text(relink(text, source, staged, files), encoding="utf-8")
        else:
            shutil.copyfile(project / source, dest)
    missing = []
    for page in site_pages:
        dest = out / page.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if page.source not in files:
            dest.write_text(_placeholder(page), encoding="utf-8")
            missing.append(page)
        elif page.framed:
            dest.write_text(_frame(page, posixpath.basename(files[page.source])), encoding="utf-8")
    return missing
