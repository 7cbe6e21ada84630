"""What ``lessmore curate`` leaves behind (DESIGN §1): the dataset, ``train.jsonl``,
``filtered.jsonl``, ``rejected.jsonl``, ``manifest.json``, the ``README.md`` card and ``plots/``.
Every file is written atomically; nothing here depends on time, so equal runs give equal bytes."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from .card import build_card
from .core.config import to_container
from .core.contract import CARD, DATASET, FILTERED, MANIFEST, PLOTS, REJECTED, TRAIN_ROWS
from .core.io import (
    atomic_path,
    collect_versions,
    compute_file_fingerprint,
    write_json,
    write_jsonl,
    write_text,
)
from .plots import plot_categories, plot_distributions, plot_embedding_map

log = logging.getLogger(__name__)
SCORE_COLUMNS = ("probe_p_greedy", "probe_mem_rate", "score_nll", "score_ifd", "len_tokens")


def build_manifest(cfg: Any, read: Any, ds: Dataset, candidates: Dataset,
                   filtered: list[dict[str, Any]], step_stats: list[dict[str, Any]]
                   ) -> dict[str, Any]:
    counts = {"rows_in": read.rows_in, "kept": len(ds), "filtered": len(filtered),
              "rejected": len(read.rejections)}
    if counts["rows_in"] != counts["kept"] + counts["filtered"] + counts["rejected"]:
        raise RuntimeError(f"row accounting broken: {counts}")
    config = to_container(cfg)
    return {
        "stage": "curate",
        "config": config,
        "inputs": read.files,
        "input_fingerprints": {f: compute_file_fingerprint(f) for f in read.files
                               if Path(f).exists()},
        "formats": dict(sorted(read.formats.items())),
        "counts": counts,
        "steps": step_stats,
        "filtered_by_step": _histogram(f["step"] for f in filtered),
        "rejected_by_field": _histogram(r.field for r in read.rejections),
        # "probed": every row that reached selection; "kept": the curated set
        "categories_probed": _histogram(_column(candidates, "probe_category")),
        "categories_kept": _histogram(_column(ds, "probe_category")),
        "memorization_levels_kept": _histogram(_column(ds, "probe_mem_level")),
        "sources_kept": _histogram(_column(ds, "source")),
        "tokens": {"total": sum(_column(ds, "len_tokens")),
                   "assistant": sum(_column(ds, "len_assistant_tokens")),
                   "truncated_rows": sum(bool(t) for t in _column(ds, "len_truncated"))},
        "model": config["model"],
        "probe": config["probe"],
        "seed": cfg.seed,
        "versions": collect_versions(),
    }


def write_outputs(out: Path, ds: Dataset, candidates: Dataset, filtered, read, manifest,
                  embedder=None) -> None:
    with atomic_path(out / DATASET) as tmp:
        ds.save_to_disk(str(tmp))
    write_jsonl(out / TRAIN_ROWS, ds.to_list())
    write_jsonl(out / FILTERED, filtered)
    write_jsonl(out / REJECTED, (r.to_dict() for r in read.rejections))
    manifest["plots"] = write_plots(out / PLOTS, ds, candidates, embedder)
    write_json(out / MANIFEST, manifest)
    write_text(out / CARD, build_card(manifest))


def write_plots(folder: Path, ds: Dataset, candidates: Dataset, embedder=None) -> list[str]:
    """Category histogram, score distributions and the embedding map, where there is data."""
    written = []
    if manifest_has(candidates, "probe_category"):
        plot_categories(_histogram(_column(candidates, "probe_category")),
                        _histogram(_column(ds, "probe_category")), folder / "categories.png")
        written.append("plots/categories.png")
    columns = {c: (_column(candidates, c), _column(ds, c)) for c in SCORE_COLUMNS
               if manifest_has(candidates, c)}
    if columns:
        plot_distributions(columns, folder / "scores.png")
        written.append("plots/scores.png")
    if embedder is not None and len(candidates) > 2:
        kept = set(ds["id"])
        plot_embedding_map(embedder(candidates),
                           np.array([i in kept for i in candidates["id"]]),
                           folder / "embedding_map.png")
        written.append("plots/embedding_map.png")
    return written


def manifest_has(ds: Dataset, column: str) -> bool:
    return column in ds.column_names and any(v is not None for v in ds[column])


def _column(ds: Dataset, name: str) -> list[Any]:
    return [v for v in ds[name] if v is not None] if name in ds.column_names else []


def _histogram(values) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(values).items(), key=lambda kv: str(kv[0]))}
