"""Prose a project writes in Markdown (docs/intended-use.md) as HTML for a self-contained page.

Only what such prose uses: headings, bullet and numbered lists, paragraphs, emphasis, strong and
code spans. Every character is escaped before any tag is added, so HTML in the file stays text;
HTML comments (the template's prompts and markers) are dropped.
"""

from __future__ import annotations

import html
import re

_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)[\s#]*$")
_ITEM = re.compile(r"^\s{0,3}(?:([-*+])|\d{1,9}[.)])\s+(.*)$")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*|__(\S(?:.*?\S)?)__")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])|(?<!\w)_(\S(?:.*?\S)?)_(?!\w)")


def without_comments(markdown: str) -> str:
    """The Markdown without its HTML comments (notes to whoever edits the file, not to readers)."""
    return _COMMENT.sub("", markdown)


def inline(text: str) -> str:
    """One line of prose: escaped, with code spans, strong and emphasis as tags."""
    parts = _CODE.split(text)  # odd indexes are code spans: no emphasis inside them
    out = []
    for index, part in enumerate(parts):
        escaped = html.escape(part)
        if index % 2:
            out.append(f"<code>{escaped}</code>")
            continue
        escaped = _STRONG.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", escaped)
        out.append(_EMPHASIS.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", escaped))
    return "".join(out)


def to_html(markdown: str) -> str:
    """The prose's blocks as HTML: a heading, a list or a paragraph per block, in order."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    ordered = False

    def flush() -> None:
        nonlocal ordered
        if paragraph:
            blocks.append("<p>" + inline(" ".join(line.strip() for line in paragraph)) + "</p>")
            paragraph.clear()
        if items:
            tag = "ol" if ordered else "ul"
            blocks.append(f"<{tag}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{tag}>")
            items.clear()

    for line in without_comments(markdown).splitlines():
        heading, item = _HEADING.match(line), _ITEM.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif item:
            if paragraph or (items and ordered != (item.group(1) is None)):
                flush()
            ordered = item.group(1) is None
            items.append(item.group(2).strip())
        elif items and line.startswith(" "):  # a wrapped list item
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return "\n".join(blocks)
