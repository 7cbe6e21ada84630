"""The report's figures as PNG bytes: forest plots of the panels' deltas, grouped bars and line
curves. Agg backend, fixed sizes and no metadata, so equal inputs give equal bytes; labels come
from data and are passed through :func:`plain` so matplotlib never parses them as mathtext."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

BETTER_SHADE = "#e6f4ea"  # the side of zero where the tuned model improved


@dataclass
class ForestRow:
    """One metric: per run (aligned with the plot's ``runs``) (delta, low, high), or None.
    ``higher_is_better``: which side of zero is better (for a style statistic, the side toward
    the reference); None: neither (shaded nowhere)."""

    label: str
    higher_is_better: bool | None
    points: list[tuple[float, float, float] | None]


def _figure(width: float, height: float, rows: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(width, height), dpi=100, squeeze=False)
    return plt, fig, [row[0] for row in axes]


def _png(plt: Any, fig: Any, tight: bool = True) -> bytes:
    try:
        if tight:
            fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def plot_forest(rows: list[ForestRow], runs: list[str], title: str) -> bytes:
    """One strip per metric, each on its own scale (a perplexity and a rate do not share an
    axis): a dot per run at tuned − base, its bootstrap interval as a bar (a hollow dot: point
    only), zero marked, and the side where the tuned model is better shaded."""
    height = 0.9 + 0.5 * len(rows) * max(1.0, 0.6 * len(runs))
    plt, fig, axes = _figure(6.4, height, len(rows))
    # fixed margins instead of tight_layout, which draws the many strips twice
    fig.subplots_adjust(left=0.4, right=0.97, top=1 - 0.55 / height, bottom=0.3 / height,
                        hspace=0.9)
    colours = [plt.get_cmap("tab10").colors[j % 10] for j in range(len(runs))]
    for ax, row in zip(axes, rows, strict=True):
        _forest_strip(ax, row, colours)
    handles = [plt.Line2D([], [], color=c, marker="o", linestyle="") for c in colours]
    fig.legend(handles, [plain(r) for r in runs], loc="upper right", fontsize=8, frameon=False)
    fig.suptitle(plain(title) + " (tuned − base; shaded: better)", fontsize=10, x=0.02,
                 ha="left")
    return _png(plt, fig, tight=False)


def _forest_strip(ax: Any, row: ForestRow, colours: list[Any]) -> None:
    from matplotlib.ticker import FixedLocator, MaxNLocator

    finite = [abs(v) for p in row.points if p for v in p if math.isfinite(v)]
    scale = max(finite, default=0.0)
    limit = 1.15 * scale if scale > 0 else 1e-3
    if row.higher_is_better is not None:
        ax.axvspan(*((0, limit) if row.higher_is_better else (-limit, 0)), color=BETTER_SHADE)
    ax.axvline(0, color="#5b6474", linewidth=0.8)
    for j, point in enumerate(row.points):
        if point is not None:
            _plot_point(ax, point, 0.25 * (j - (len(colours) - 1) / 2), colours[j])
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-0.5, 0.5)
    ax.set_yticks([0], [plain(row.label)], fontsize=8)
    # all deltas zero: no scale to show, only the zero line
    ax.xaxis.set_major_locator(MaxNLocator(7) if scale > 0 else FixedLocator([0.0]))
    ax.tick_params(axis="x", labelsize=7)


def _plot_point(ax: Any, point: tuple[float, float, float], y: float, colour: Any) -> None:
    delta, low, high = point
    if math.isfinite(low) and math.isfinite(high):
        # the reported delta can sit outside the interval of a matched subset of items
        xerr = [[max(0.0, delta - low)], [max(0.0, high - delta)]]
        ax.errorbar([delta], [y], xerr=xerr, fmt="o", color=colour,
                    markersize=5, capsize=3, linewidth=1.4)
    else:
        ax.plot([delta], [y], "o", markerfacecolor="white", color=colour, markersize=5)


def plot_grouped_bars(labels: list[str], series: dict[str, list[float]], ylabel: str,
                      title: str = "") -> bytes:
    """A grouped bar chart: one bar per series per label."""
    plt, fig, (ax,) = _figure(max(5.0, 0.9 * len(labels) + 2), 3.4)
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(labels))]
        ax.bar(xs, values, width, label=plain(name))
    ax.set_xticks(range(len(labels)), [plain(x) for x in labels], rotation=30, ha="right")
    ax.set_ylabel(plain(ylabel))
    ax.set_ylim(0, max([1.0, *(v for vs in series.values() for v in vs)]))
    if title:
        ax.set_title(plain(title), fontsize=10)
    ax.legend(fontsize=8)
    return _png(plt, fig)


def plot_curves(series: dict[str, list[tuple[float, float]]], xlabel: str, ylabel: str,
                title: str) -> bytes:
    """One line per series of (x, y) points."""
    plt, fig, (ax,) = _figure(6.0, 3.6)
    for name, points in series.items():
        ax.plot(*zip(*points, strict=True), marker="o", markersize=3, label=plain(name))
    ax.set_xlabel(plain(xlabel))
    ax.set_ylabel(plain(ylabel))
    ax.set_title(plain(title), fontsize=10)
    ax.legend(fontsize=8)
    return _png(plt, fig)


def plain(text: str) -> str:
    """Keep matplotlib from parsing ``$…$`` in data-derived labels as mathtext."""
    return str(text).replace("$", r"\$")
