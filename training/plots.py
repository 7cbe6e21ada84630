"""The run's plots (PNG): the loss curve and the train accuracy per knowledge category. Written
with matplotlib's Agg backend and no metadata, so equal inputs give equal bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.core.contract import CATEGORY_PLOT, LOSS_PLOT
from curation.core.io import atomic_path
from curation.core.records import KnowledgeCategory


def _figure(width: float = 6.0, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")  # no display; and the same bytes on every machine
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return plt, fig, ax


def _save(plt: Any, fig: Any, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)


def plot_loss(log_history: list[dict[str, Any]], path: Path) -> None:
    """Training loss per logged step, and the dev loss where the run evaluated."""
    plt, fig, ax = _figure()
    for key, label in (("loss", "train"), ("eval_loss", "dev")):
        points = [(e["step"], e[key]) for e in log_history if key in e]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o" if len(points) < 30 else None,
                    markersize=3, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("Loss (assistant tokens)")
    ax.legend()
    _save(plt, fig, path)


def plot_category_accuracy(curves: list[dict[str, Any]], path: Path) -> None:
    """One line per knowledge category: greedy exact match on its training sample by step."""
    plt, fig, ax = _figure()
    for category in [c.value for c in KnowledgeCategory]:
        points = [(r["step"], r["accuracy"]) for r in curves if r["category"] == category]
        if points:
            n = next(r["n"] for r in curves if r["category"] == category)
            ax.plot(*zip(*points, strict=True), marker="o", markersize=3,
                    label=f"{category} (n={n})")
    ax.set_xlabel("step")
    ax.set_ylabel("train accuracy (exact match)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Fitting per knowledge category")
    ax.legend(fontsize=8)
    _save(plt, fig, path)


def write_plots(out: Path, log_history: list[dict[str, Any]], curves: list[dict[str, Any]]
                ) -> list[str]:
    """The plots there is data for, as paths relative to the run directory."""
    written = []
    if any("loss" in e for e in log_history):
        plot_loss(log_history, out / LOSS_PLOT)
        written.append(LOSS_PLOT)
    if curves:
        plot_category_accuracy(curves, out / CATEGORY_PLOT)
        written.append(CATEGORY_PLOT)
    return written
