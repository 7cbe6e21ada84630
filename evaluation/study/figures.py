"""A study's headline figure: one line per measured quantity against the arms' ``x`` (the
Unknown share, the training-set size, the LoRA rank), each point the arm's value with its 95%
interval as a bar (a hollow point: no interval). Agg backend, no metadata: equal inputs give
equal bytes."""

from __future__ import annotations

from typing import Any

from ..report.plots import _figure, _png, plain


def plot_study(series: dict[str, list[tuple[float, float, float | None, float | None]]],
               xlabel: str, ylabel: str, title: str, zero: bool = True,
               logx: bool = False) -> bytes:
    """``series``: label -> [(x, value, low, high)], drawn in x order (``logx``: a log axis,
    for ranks and sizes that grow by factors). Where an ``x`` is a name, not a number, the
    axis is categorical: the names in the order first seen."""
    plt, fig, (ax,) = _figure(6.4, 3.8)
    names = list(dict.fromkeys(p[0] for points in series.values() for p in points
                               if isinstance(p[0], str)))
    if names:  # categorical: every x a name
        where = {n: k for k, n in enumerate(names)}
        series = {label: [(where[str(p[0])], *p[1:]) for p in points]
                  for label, points in series.items()}
        logx = False
    for j, (label, points) in enumerate(series.items()):
        colour = plt.get_cmap("tab10").colors[j % 10]
        points = sorted(points)
        ax.plot([p[0] for p in points], [p[1] for p in points], color=colour,
                label=plain(label), linewidth=1.2)
        for x, y, low, high in points:
            if low is None or high is None:
                ax.plot([x], [y], marker="o", markerfacecolor="white", color=colour)
            else:
                ax.errorbar([x], [y], yerr=[[y - low], [high - y]], fmt="o", color=colour,
                            capsize=3)
    if zero:
        ax.axhline(0, color="#888888", linewidth=0.8, linestyle="--")
    if logx:
        ax.set_xscale("log")
        xs = sorted({p[0] for points in series.values() for p in points})
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.minorticks_off()  # only the arms' own x values are labelled
    if names:
        ax.set_xticks(range(len(names)), [plain(n) for n in names])
        ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_xlabel(plain(xlabel))
    ax.set_ylabel(plain(ylabel))
    ax.set_title(plain(title), fontsize=10)
    if series:
        ax.legend(fontsize=8, frameon=False)
    return _png(plt, fig)


def figure_series(figure: dict[str, Any], arms: list[dict[str, Any]],
                  points: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """The figure's series from the measured points: per metric of ``figure.metrics`` (named
    by ``figure.labels`` where given), the arms that have an ``x`` (a number, or a name for a
    categorical axis) and a value; with ``figure.series`` (``{label: [arm, ...]}``) one line
    per metric and group of arms."""
    series, labels = {}, figure.get("labels") or {}
    groups = figure.get("series") or {"": [a["name"] for a in arms]}
    keys = figure.get("metrics") or []
    for key in keys:
        for group, members in groups.items():
            line = []
            for arm in (a for a in arms if a["name"] in members):
                p = points.get(arm["name"], {}).get(key)
                if arm.get("x") is None or p is None or p.get("value") is None:
                    continue
                x = arm["x"] if isinstance(arm["x"], str) else float(arm["x"])
                line.append((x, p["value"], p.get("low"), p.get("high")))
            label = labels.get(key, key)
            if group:  # one line per group of arms (e.g. early stop / convergence)
                label = group if len(keys) == 1 else f"{label}, {group}"
            if line:
                series[label] = line
    return series
