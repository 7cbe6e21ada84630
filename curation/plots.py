"""The curated set's plots (PNG): knowledge categories, score distributions, and a 2-D map of the
embedding space. Written with matplotlib's Agg backend and no metadata, so equal inputs give equal
bytes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .core.io import atomic_path
from .core.records import KnowledgeCategory

CATEGORY_ORDER = [c.value for c in KnowledgeCategory]


def _figure(width: float = 6.0, height: float = 3.6, rows: int = 1, cols: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(rows, cols, figsize=(width, height), dpi=100, squeeze=False)


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def plot_categories(probed: dict[str, int], kept: dict[str, int], path: Path) -> Path:
    """Bars per knowledge category: probed rows vs rows kept in the curated set."""
    plt, fig, axes = _figure()
    ax = axes[0, 0]
    x = np.arange(len(CATEGORY_ORDER))
    ax.bar(x - 0.2, [probed.get(c, 0) for c in CATEGORY_ORDER], 0.4, label="probed")
    ax.bar(x + 0.2, [kept.get(c, 0) for c in CATEGORY_ORDER], 0.4, label="kept")
    ax.set_xticks(x, CATEGORY_ORDER)
    ax.set_ylabel("rows")
    ax.set_title("Knowledge categories (SliCK)")
    ax.legend()
    return _save(plt, fig, path)


def plot_distributions(columns: dict[str, tuple[Sequence[float], Sequence[float]]],
                       path: Path) -> Path:
    """One histogram per score column, all rows scored vs rows kept (NaN and nulls left out)."""
    names = sorted(columns)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    plt, fig, axes = _figure(4.0 * cols, 3.0 * rows, rows, cols)
    axes = axes.ravel()
    for ax, name in zip(axes, names, strict=False):
        scored, kept = (_finite(v) for v in columns[name])
        bins = np.histogram_bin_edges(scored if len(scored) else [0.0, 1.0], bins=20)
        ax.hist(scored, bins=bins, alpha=0.6, label=f"scored ({len(scored)})")
        ax.hist(kept, bins=bins, alpha=0.8, label=f"kept ({len(kept)})")
        ax.set_title(name)
        ax.legend(fontsize=7)
    for ax in axes[len(names):]:
        ax.axis("off")
    return _save(plt, fig, path)


def plot_embedding_map(embeddings: np.ndarray, kept: np.ndarray, path: Path, *,
                       labels: Sequence[Any] | None = None, max_points: int = 20_000,
                       seed: int = 0) -> Path:
    """PCA of the (normalised) embeddings to 2-D: every row grey, kept rows coloured."""
    n = len(embeddings)
    idx = np.arange(n)
    if n > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    x = np.asarray(embeddings[idx], dtype=np.float32)
    x = x - x.mean(axis=0)
    # top-2 principal directions via SVD of the (sub)sample: deterministic, no sklearn needed
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T
    sign = np.sign(vt[:2, np.argmax(np.abs(vt[:2]), axis=1)].diagonal())  # fix SVD sign
    xy = xy * sign
    plt, fig, axes = _figure(6.0, 5.0)
    ax = axes[0, 0]
    keep = np.asarray(kept)[idx]
    ax.scatter(xy[~keep, 0], xy[~keep, 1], s=4, c="#bbbbbb", label="not kept")
    ax.scatter(xy[keep, 0], xy[keep, 1], s=8, c="#d62728", label="kept")
    ax.set_title("Embedding space (PCA of MiniLM embeddings)")
    ax.legend(fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    return _save(plt, fig, path)


def _finite(values: Sequence[float | None]) -> np.ndarray:
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    return arr[np.isfinite(arr)]
