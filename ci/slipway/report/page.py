"""What every report page shares: one style, PNG figures from matplotlib's Agg backend, escaping.

HTML pages are self-contained (plots inlined as data URIs, no script, no external fetch), so a
page opens from an artifact zip or a file browser. Markdown is GitHub-flavoured, for job
summaries, pull-request comments and the docs site.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Sequence
from typing import Any

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.verdict{padding:.8rem 1rem;border-radius:.4rem;font-weight:600}
.pass{background:#e6f4ea;color:#1e6b34}.fail{background:#fdecea;color:#a11d1d}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}tr.bad td{background:#fff3f2}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;color:#555}img{width:100%}
"""

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$])")  # $: GitHub renders $...$ as math


def fmt(value: float, digits: int = 3) -> str:
    """A number for people: `digits` significant digits, "n/a" for NaN or infinity."""
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}g}"


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display; imported only when a plot is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(figure: Any, dpi: int = 80) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps every open one in memory)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(figure)
    return buffer.getvalue()


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def figure_tag(title: str, image: bytes, caption: str = "") -> str:
    """An inlined <figure> with alt text (and an optional caption)."""
    text = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{html.escape(title)}" src="{data_uri(image)}">{text}</figure>'


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], bad: Sequence[bool] = ()) -> str:
    """An escaped HTML table; rows flagged in `bad` are highlighted."""
    flags = list(bad) + [False] * (len(rows) - len(bad))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="{"bad" if flag else ""}">' + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row, flag in zip(rows, flags, strict=True)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def document(title: str, body: str) -> str:
    """A whole self-contained HTML page: escaped title, the shared style, `body` as given."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
{body}
</body></html>
"""


def md_escape(text: str) -> str:
    """Text that GitHub Markdown shows as written (no links, emphasis, tags or table breaks)."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\r", " ").replace("\n", " "))


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GFM table; cells are escaped with `md_escape`."""
    lines = [[md_escape(h) for h in header], ["---"] * len(header)]
    lines += [[md_escape(c) for c in row] for row in rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def link_images(markdown: str, url: str | None) -> str:
    """Markdown whose relative image links become text for where a page has no files (a PR comment,
    a job summary): each `![alt](file.png)` becomes a link to `url` (the run's artifact), or plain text.
    """
    if url:
        return _MD_IMAGE.sub(lambda m: f"[{m.group(1)} (plot)]({url})", markdown)
    return _MD_IMAGE.sub(lambda m: f"_{m.group(1)} (plot in the report's HTML)_", markdown)


def styled_document(title: str, body: str, style: str) -> str:
    """`document` with CSS of the page's own after the shared style (in the head, where it belongs)."""
    return document(title, body).replace("</style></head>", f"{style}</style></head>", 1)
