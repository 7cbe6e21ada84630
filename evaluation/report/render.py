"""Render report blocks (tables, figures, notes, links, cards, side-by-side columns) as Markdown
and as one self-contained HTML file.

Every cell, caption and note is treated as untrusted text — predictions, questions, model and
group names come from datasets and models — and escaped on the way out; nothing from a results
file is ever written as markup. The HTML also carries a Content-Security-Policy that allows no
script and no fetch (images only as ``data:`` URIs), so even a missed escape could not run code
or reach the network.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from urllib.parse import quote

from .markdown import render_card_html, render_card_markdown

# no script, no fetch: images only as data: URIs, styles only inline
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")
_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:88rem;color:#1d2330;padding:0 1rem;
 line-height:1.45}h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #d8dde6;
 margin-top:2.4rem}h3{font-size:1.08rem;margin:1.4rem 0 .4rem}h4,h5{font-size:.95rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;margin:.3rem 0 1rem;font-size:.86rem}th{background:#f1f4f8}
th,td{border:1px solid #d8dde6;padding:.22rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.strong{font-weight:700}
td.better{color:#0a7a32}td.worse{color:#b42318}.note{color:#5b6474;font-size:.9rem}.warn{color:#b42318}
td.text{max-width:30rem;white-space:pre-wrap;word-break:break-word;font:.8rem ui-monospace,monospace}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr));gap:1.6rem}
.cols>div{min-width:0;overflow-x:auto}.cols td+td{white-space:nowrap}summary{cursor:pointer}
summary>*{display:inline}img{max-width:100%}figure{margin:.6rem 0}.card pre{white-space:pre-wrap}
.card{border:1px solid #d8dde6;border-radius:6px;padding:.4rem 1rem;background:#fbfcfd;
 max-height:40rem;overflow:auto}
"""


@dataclass
class Cell:
    """A table cell with a tone for HTML (``better``, ``worse``, plus ``strong``)."""

    text: str
    tone: str = ""


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str | Cell]]
    numeric: set[int] = field(default_factory=set)  # columns aligned right
    text: set[int] = field(default_factory=set)  # long free-text columns


@dataclass
class Figure:
    caption: str
    png: bytes


@dataclass
class Note:
    text: str
    warning: bool = False


@dataclass
class Links:
    caption: str
    links: list[tuple[str, str]]  # (label, relative path)


@dataclass
class Card:
    """A Markdown document from an artifact (a data card), shown escaped; ``images`` maps the
    paths it references to PNG bytes to embed."""

    text: str
    images: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    collapsed: bool = False  # HTML: folded under its title until clicked (no script needed)


@dataclass
class Columns:
    """Blocks shown side by side (stacked on a narrow screen and in Markdown)."""

    parts: list[Block]


Block = Table | Figure | Note | Links | Card | Section | Columns


# --- markdown -----------------------------------------------------------------------------------

def render_markdown(title: str, sections: list[Section]) -> str:
    lines = [f"# {_md(title)}", ""]
    for section in sections:
        lines += _markdown_block(section, 2)
    return "\n".join(lines).rstrip() + "\n"


def _markdown_block(block: Block, level: int) -> list[str]:
    if isinstance(block, Section):
        return [f"{'#' * level} {_md(block.title)}", "",
                *(line for b in block.blocks for line in _markdown_block(b, level + 1))]
    if isinstance(block, Columns):
        return [line for part in block.parts for line in _markdown_block(part, level)]
    if isinstance(block, Note):
        return [("**Warning:** " if block.warning else "") + _md(block.text), ""]
    if isinstance(block, Figure):
        return [f"*{_md(block.caption)}: see report.html.*", ""]
    if isinstance(block, Links):
        return [f"**{_md(block.caption)}**", "",
                *(f"- [{_md(label)}]({_href(path)})" for label, path in block.links), ""]
    if isinstance(block, Card):
        return [*render_card_markdown(block.text), ""]
    out = [f"{'#' * min(level, 6)} {_md(block.caption)}", "",
           "| " + " | ".join(map(_md, block.header)) + " |",
           "|" + "|".join("---:" if i in block.numeric else "---"
                          for i in range(len(block.header))) + "|"]
    out += ["| " + " | ".join(_md(_text(cell)) for cell in row) + " |" for row in block.rows]
    return [*out, ""]


def _md(text: str) -> str:
    """Escaped for a Markdown table cell: HTML-escaped, pipes escaped, one line."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\r", "").replace("\n", "⏎")


# --- html ---------------------------------------------------------------------------------------

def render_html(title: str, sections: list[Section]) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]
    parts += [_html_block(section, 2) for section in sections]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_block(block: Block, level: int) -> str:
    e = html.escape
    h = min(level, 6)
    if isinstance(block, Section):
        inner = "\n".join(_html_block(b, level + 1) for b in block.blocks)
        title = f"<h{h}>{e(block.title)}</h{h}>"
        if block.collapsed:
            return f"<details><summary>{title}</summary>\n{inner}</details>"
        return f"<section>{title}\n{inner}</section>"
    if isinstance(block, Columns):
        return '<div class="cols">' + "".join(
            f"<div>{_html_block(part, level)}</div>" for part in block.parts) + "</div>"
    if isinstance(block, Note):
        return f'<p class="{"note warn" if block.warning else "note"}">{e(block.text)}</p>'
    if isinstance(block, Figure):
        return _html_figure(block)
    if isinstance(block, Links):
        items = "".join(f'<li><a href="{e(_href(path))}">{e(label)}</a></li>'
                        for label, path in block.links)
        return f'<p class="note">{e(block.caption)}</p><ul>{items}</ul>'
    if isinstance(block, Card):
        return f'<div class="card">{render_card_html(block.text, block.images)}</div>'
    return _html_table(block, h)


def _html_table(block: Table, h: int) -> str:
    head = "".join(f"<th>{html.escape(x)}</th>" for x in block.header)
    body = "".join("<tr>" + "".join(_html_cell(block, i, c) for i, c in enumerate(row)) + "</tr>"
                   for row in block.rows)
    return f"<h{h}>{html.escape(block.caption)}</h{h}><table><tr>{head}</tr>{body}</table>"


def _html_figure(block: Figure) -> str:
    data, caption = base64.b64encode(block.png).decode("ascii"), html.escape(block.caption)
    return (f'<figure><img alt="{caption}" src="data:image/png;base64,{data}">'
            f'<figcaption class="note">{caption}</figcaption></figure>')


def _html_cell(block: Table, i: int, cell: str | Cell) -> str:
    classes = (["num"] if i in block.numeric else []) + (["text"] if i in block.text else [])
    if isinstance(cell, Cell) and cell.tone:
        classes += cell.tone.split()
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{attr}>{html.escape(_text(cell))}</td>"


def _text(cell: str | Cell) -> str:
    return cell.text if isinstance(cell, Cell) else str(cell)


def _href(path: str) -> str:
    """A relative link, percent-encoded: a ``:`` in a folder name cannot start a URL scheme."""
    return quote(str(path).replace("\\", "/"), safe="/")
