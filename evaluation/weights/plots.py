"""Plots of a weight analysis (PNG, matplotlib Agg, no metadata: equal inputs, equal bytes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from curation.core.io import atomic_path

from .spectra import count_intruders


def _figure(width: float, height: float, cols: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, cols, figsize=(width, height), dpi=100, squeeze=False,
                             layout="constrained")  # leaves room for the colorbar
    return plt, fig, axes[0]


def _save(plt: Any, fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def build_intruder_grid(report: Any) -> tuple[list[int], list[str], np.ndarray]:
    """(layers, modules, counts[layer, module]) of a RunReport's matrices that sit in a layer."""
    rows = [m for m in report.matrices if m.layer is not None]
    layers = sorted({m.layer for m in rows})
    modules = list(dict.fromkeys(m.module for m in rows))  # model order: q, k, v, o, gate, ...
    grid = np.zeros((len(layers), len(modules)), dtype=int)
    for m in rows:
        grid[layers.index(m.layer), modules.index(m.module)] += m.intruders
    return layers, modules, grid


def plot_intruder_map(runs: dict[str, Any], path: Path) -> Path:
    """Intruders per layer (rows) x module (columns), one panel per run, one colour scale."""
    grids = {role: build_intruder_grid(report) for role, report in runs.items()}
    top = max([1, *(int(g.max()) for _, _, g in grids.values() if g.size)])
    tallest = max([1, *(len(layers) for layers, _, _ in grids.values())])
    plt, fig, axes = _figure(3.2 * len(runs) + 1.0, 1.5 + 0.16 * tallest, len(runs))
    for ax, (role, (layers, modules, grid)) in zip(axes, grids.items(), strict=True):
        image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0, vmax=top)
        ax.set_xticks(range(len(modules)), modules, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(layers)), [str(x) for x in layers], fontsize=6)
        ax.set_ylabel("layer")
        ax.set_title(f"{role} ({runs[role].method}): {runs[role].intruders}", fontsize=9)
    fig.colorbar(image, ax=list(axes), label="intruders")
    return _save(plt, fig, path)


def plot_epsilon_sweep(runs: dict[str, Any], epsilons: list[float], path: Path) -> Path:
    """Intruders against epsilon: all matrices per run (left), per module of each run (right)."""
    plt, fig, (total, per_module) = _figure(9.0, 3.4, 2)
    modules = list(dict.fromkeys(m.module for r in runs.values() for m in r.matrices))
    for style, (role, report) in zip(("-", "--", ":"), runs.items(), strict=False):
        total.plot(epsilons, [_count(report.matrices, e) for e in epsilons], marker="o",
                   label=f"{role} ({report.method})")
        for k, module in enumerate(modules):  # one colour per module, one line style per run
            rows = [m for m in report.matrices if m.module == module]
            per_module.plot(epsilons, [_count(rows, e) for e in epsilons], marker=".",
                            color=f"C{k % 10}", linestyle=style,
                            label=module if style == "-" else None)
    total.set_title("all adapted matrices")
    per_module.set_title("per module" + (" (control dashed)" if len(runs) > 1 else ""))
    for ax in (total, per_module):
        ax.set_xlabel("epsilon (max |cos| threshold)")
        ax.set_ylabel("intruders")
        ax.legend(fontsize=6)
    return _save(plt, fig, path)


def _count(matrices: list[Any], epsilon: float) -> int:
    return sum(count_intruders(m.max_cos, epsilon) for m in matrices)
