"""Render report blocks (tables, figures, notes) as Markdown and as self-contained HTML.

Every cell, caption and note is treated as untrusted text — predictions, questions, model and
group names come from datasets and models — and escaped on the way out; nothing from a results
file is ever written as markup.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;
 color:#1d2330;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #d8dde6;padding-bottom:.2rem;
 margin-top:2.2rem}h3{font-size:1rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;margin:.3rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d8dde6;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f1f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.pos{color:#0a7a32}td.neg{color:#b42318}
.note{color:#5b6474;font-size:.9rem}.warn{color:#b42318}
td.text{max-width:32rem;white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace;
 font-size:.82rem}
img{max-width:100%}
"""


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # columns aligned right (and signed colour)
    text: set[int] = field(default_factory=set)  # long free-text columns


@dataclass
class Figure:
    caption: str
    png: bytes


@dataclass
class Note:
    text: str
    warning: bool = False


Block = Table | Figure | Note


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


# --- markdown -----------------------------------------------------------------------------------

def render_markdown(title: str, sections: list[Section]) -> str:
    lines = [f"# {_md(title)}", ""]
    for section in sections:
        lines += [f"## {_md(section.title)}", ""]
        for block in section.blocks:
            lines += _markdown_block(block) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _markdown_block(block: Block) -> list[str]:
    if isinstance(block, Note):
        return [("**Warning:** " if block.warning else "") + _md(block.text)]
    if isinstance(block, Figure):
        return [f"*{_md(block.caption)}: see report.html.*"]
    out = [f"### {_md(block.caption)}", "", "| " + " | ".join(map(_md, block.header)) + " |",
           "|" + "|".join("---:" if i in block.numeric else "---"
                          for i in range(len(block.header))) + "|"]
    out += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in block.rows]
    return out


def _md(text: str) -> str:
    """Escaped for a Markdown table cell: HTML-escaped, pipes escaped, one line."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\r", "").replace("\n", "⏎")


# --- html ---------------------------------------------------------------------------------------

def render_html(title: str, sections: list[Section]) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]
    for section in sections:
        parts.append(f"<section><h2>{e(section.title)}</h2>")
        parts += [_html_block(block) for block in section.blocks]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_block(block: Block) -> str:
    e = html.escape
    if isinstance(block, Note):
        return f'<p class="{"note warn" if block.warning else "note"}">{e(block.text)}</p>'
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure><img alt="{e(block.caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption class=\"note\">{e(block.caption)}</figcaption></figure>")
    head = "".join(f"<th>{e(h)}</th>" for h in block.header)
    body = "".join("<tr>" + "".join(_html_cell(block, i, c) for i, c in enumerate(row)) + "</tr>"
                   for row in block.rows)
    return f"<h3>{e(block.caption)}</h3><table><tr>{head}</tr>{body}</table>"


def _html_cell(block: Table, i: int, cell: str) -> str:
    classes = []
    if i in block.numeric:
        classes.append("num")
        if cell.startswith("+") and cell.strip("+0.") != "":
            classes.append("pos")
        elif cell.startswith("-"):
            classes.append("neg")
    if i in block.text:
        classes.append("text")
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{attr}>{html.escape(str(cell))}</td>"


# --- plots --------------------------------------------------------------------------------------

def plot_grouped_bars(labels: list[str], series: dict[str, list[float]], ylabel: str) -> bytes:
    """A grouped bar chart (one bar per series per label) as PNG bytes, without timestamps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(labels) + 2), 3.4), dpi=100)
    try:
        for k, (name, values) in enumerate(series.items()):
            xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(labels))]
            ax.bar(xs, values, width, label=_plain(name))
        ax.set_xticks(range(len(labels)), [_plain(x) for x in labels], rotation=30, ha="right")
        ax.set_ylabel(_plain(ylabel))
        ax.set_ylim(0, max([1.0, *(v for vs in series.values() for v in vs)]))
        ax.legend()
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def _plain(text: str) -> str:
    """Keep matplotlib from parsing ``$…$`` in data-derived labels as mathtext."""
    return str(text).replace("$", r"\$")
