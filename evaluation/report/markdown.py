"""A Markdown document from an artifact (the curated set's data card), shown in the report.

Only a subset is rendered — YAML front matter, headings, pipe tables, bullet lists, images,
paragraphs, ``code`` and ``**bold**`` — because the card's text is data: every line is
HTML-escaped first, and the few inline conversions run on the escaped text, so nothing in the
card can become markup. Images are embedded only when the caller supplied their bytes.
"""

from __future__ import annotations

import base64
import html
import re

_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)$")
_INLINE = [(re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
           (re.compile(r"\*\*([^*]+)\*\*"), r"<b>\1</b>")]


def render_card_html(text: str, images: dict[str, bytes]) -> str:
    """The card as escaped HTML."""
    lines = text.replace("\r", "").split("\n")
    out, i = [], 0
    if lines and lines[0].strip() == "---" and "---" in (x.strip() for x in lines[1:]):
        end = 1 + [x.strip() for x in lines[1:]].index("---")
        out.append(f"<pre>{html.escape(chr(10).join(lines[:end + 1]))}</pre>")
        i = end + 1
    while i < len(lines):
        block = _take_block(lines, i)
        out.append(_render_block(lines[i:i + block], images))
        i += block
    return "\n".join(x for x in out if x)


def _take_block(lines: list[str], i: int) -> int:
    """How many lines from ``i`` form one block: a run of table rows, of list items, or of
    paragraph text; a heading, an image or a blank line alone."""
    kinds = [_kind(x) for x in lines[i:]]
    if kinds[0] in ("table", "list", "text"):
        return next((k for k, kind in enumerate(kinds) if kind != kinds[0]), len(kinds))
    return 1


def _kind(line: str) -> str:
    s = line.strip()
    if not s:
        return "blank"
    if s.startswith("#"):
        return "heading"
    if s.startswith("|"):
        return "table"
    if s.startswith(("- ", "* ")):
        return "list"
    return "image" if _IMAGE.match(s) else "text"


def _render_block(lines: list[str], images: dict[str, bytes]) -> str:
    kind, first = _kind(lines[0]), lines[0].strip()
    if kind == "heading":
        level = min(len(first) - len(first.lstrip("#")) + 3, 6)  # below the report's own
        return f"<h{level}>{_inline(first.lstrip('#').strip())}</h{level}>"
    if kind == "table":
        rows = [_cells(x) for x in lines if not re.fullmatch(r"[|:\-\s]+", x.strip())]
        body = "".join("<tr>" + "".join(f"<{'th' if r == 0 else 'td'}>{_inline(c)}"
                                        f"</{'th' if r == 0 else 'td'}>" for c in row) + "</tr>"
                       for r, row in enumerate(rows))
        return f"<table>{body}</table>"
    if kind == "list":
        return "<ul>" + "".join(f"<li>{_inline(x.strip()[2:])}</li>" for x in lines) + "</ul>"
    if kind == "image":
        alt, path = _IMAGE.match(first).groups()
        if path not in images:
            return f'<p class="note">[image {html.escape(path)} not embedded]</p>'
        data = base64.b64encode(images[path]).decode("ascii")
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
    return f"<p>{_inline(' '.join(x.strip() for x in lines))}</p>" if kind == "text" else ""


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _inline(text: str) -> str:
    out = html.escape(text)
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    return out


def render_card_markdown(text: str) -> list[str]:
    """The card for report.md: escaped, quoted (its headings stay inside the quote), images
    left as their paths (they are relative to the card's folder, not the report's)."""
    lines = []
    for line in text.replace("\r", "").split("\n"):
        match = _IMAGE.match(line.strip())
        shown = f"(image: {match.group(2)})" if match else line
        lines.append(("> " + html.escape(shown, quote=False)).rstrip())
    return lines
