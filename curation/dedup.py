"""Semantic dedup (SemDeDup, Abbas et al., 2023) on sentence embeddings.

Within each k-means cluster, rows are put in keep order (``keep``, after an optional
``priority`` column) and a row is dropped when its cosine to an earlier row of its cluster
exceeds ``1 - eps``: any earlier row under the paper's rule (``rule="original"``, the default),
or only an earlier *kept* row (``rule="kept_only"``); see :func:`~curation.diversity.semdedup`.
The defaults (original rule, ``keep="hard"``: the row farthest from its centroid is kept) are
those of facebookresearch/SemDeDup; ``benchmarks/calibrate_dedup.py --rules`` measured both
rules and every keep order on planted duplicates (its docstring holds the table).

DEITA's 0.9 was tuned on 4096-d LLaMA embeddings and does not transfer;
:data:`DEFAULT_EPS` was measured for all-MiniLM-L6-v2 on ``record_text`` by
``benchmarks/calibrate_dedup.py`` (its docstring holds the measured table): at cosine > 0.90
every planted near-duplicate of ``data/chats`` and 99.4% of lightly edited copies of Alpaca rows
are caught, and no random pair of Alpaca rows is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from datasets import Dataset

from .core.config import UserError
from .diversity import (
    KEEP_ORDERS,
    SEMDEDUP_RULES,
    assign_clusters,
    default_num_clusters,
    fit_spherical_kmeans,
    semdedup,
)
from .steps import Filter

log = logging.getLogger(__name__)

DEFAULT_EPS = 0.1  # MiniLM calibration: benchmarks/calibrate_dedup.py
DEFAULT_RULE = "original"  # the paper's: compared with every earlier row of the cluster
DEFAULT_KEEP = "hard"  # the reference code's which_to_keep default: farthest from the centroid


class SemanticDedupStep(Filter):
    """Tags the rows it compares with their ``sel_cluster`` and drops near-duplicates (SemDeDup).

    ``embeddings(ds)`` gives one L2-normalised row per dataset row: a
    :class:`~curation.embeddings.RecordEmbedder`, or any provider that serves rows it embedded
    before from memory, since it is asked once to cluster and once to walk the clusters. Rows
    are clustered by spherical k-means (``k`` ≈ N/1000 by default); within each cluster they are
    walked by descending ``priority`` column when one is named (missing or None: lowest), ties
    in ``keep`` order (``hard``: farthest from the centroid first; ``easy``: nearest; ``random``:
    seeded; ``index``: input order), and a row whose cosine to an earlier row (``rule=original``)
    or to an earlier kept row (``rule=kept_only``) exceeds ``1 - eps`` is dropped.

    With ``open_ended_only`` only open-ended rows are compared: short-answer QA rows made from one
    template per relation ("Where was X born?") embed close together although every fact
    differs, so they pass with a null ``sel_cluster`` (exact dedup has already removed repeated
    questions).
    """

    name = "semantic_dedup"

    def __init__(self, embeddings: Callable[[Dataset], np.ndarray], eps: float = DEFAULT_EPS,
                 k: int | None = None, seed: int = 0, priority: str | None = None,
                 open_ended_only: bool = True, rule: str = DEFAULT_RULE,
                 keep: str = DEFAULT_KEEP):
        if not 0 < eps < 2:
            raise UserError(f"semantic dedup eps must be in (0, 2), got {eps}")
        if rule not in SEMDEDUP_RULES:
            raise UserError(f"dedup.rule must be one of {SEMDEDUP_RULES}, not {rule!r}")
        if keep not in KEEP_ORDERS:
            raise UserError(f"dedup.keep must be one of {KEEP_ORDERS}, not {keep!r}")
        self.embeddings, self.eps, self.k, self.seed = embeddings, eps, k, seed
        self.priority, self.rule, self.keep = priority, rule, keep
        self.open_ended_only = open_ended_only

    @classmethod
    def from_config(cls, cfg, ds, context):
        d = cfg.dedup
        if not d.semantic:
            return []
        # rule and keep: read with defaults, so a config schema without them runs the defaults
        return [cls(context.embeddings(), d.eps, d.k, cfg.seed, d.priority, d.open_ended_only,
                    rule=getattr(d, "rule", DEFAULT_RULE), keep=getattr(d, "keep", DEFAULT_KEEP))]

    def annotate(self, ds: Dataset) -> Dataset:
        """``sel_cluster``: each compared row's k-means cluster; null for rows not compared."""
        if len(ds) == 0:
            return ds
        rows = self._compared_rows(ds)
        column: list[int | None] = [None] * len(ds)
        if rows:
            emb = self._embed(ds, rows)
            k = self.k if self.k is not None else default_num_clusters(len(rows))
            labels = assign_clusters(emb, fit_spherical_kmeans(emb, k, seed=self.seed))
            for i, label in zip(rows, labels.tolist(), strict=True):
                column[i] = label
        if "sel_cluster" in ds.column_names:
            ds = ds.remove_columns("sel_cluster")
        return ds.add_column("sel_cluster", column)

    def drops(self, ds: Dataset) -> dict[int, str]:
        """Within each cluster, every row too close to an earlier row, naming that row."""
        rows = self._compared_rows(ds)
        if not rows:
            return {}
        part = ds if len(rows) == len(ds) else ds.select(rows)
        emb = self._embed(ds, rows)
        keep, duplicate_of = semdedup(emb, self._priorities(part), eps=self.eps,
                                      labels=np.array(part["sel_cluster"]), seed=self.seed,
                                      rule=self.rule, keep=self.keep)
        dropped = np.flatnonzero(~keep)
        cosines = np.einsum("ij,ij->i", np.asarray(emb[dropped], dtype=np.float32),
                            np.asarray(emb[duplicate_of[dropped]], dtype=np.float32))
        ids = part["id"]
        # under the original rule the row a drop names may be dropped itself (a chain): say so
        chained = {int(i): "; that row is dropped too" for i in dropped
                   if not keep[duplicate_of[i]]}
        return {rows[i]: f"near-duplicate of {ids[duplicate_of[i]]} (cosine {c:.3f} > 1 - eps "
                         f"= {1 - self.eps:.3f}{chained.get(int(i), '')})"
                for i, c in zip(dropped, cosines, strict=True)}

    def _compared_rows(self, ds: Dataset) -> list[int]:
        if self.open_ended_only and "answers" in ds.column_names:
            return [i for i, a in enumerate(ds["answers"]) if not a]
        return list(range(len(ds)))

    def _embed(self, ds: Dataset, rows: list[int]) -> np.ndarray:
        emb = self.embeddings(ds if len(rows) == len(ds) else ds.select(rows))
        if emb.ndim != 2 or len(emb) != len(rows):
            raise RuntimeError(f"embeddings have shape {emb.shape} for {len(rows)} rows")
        return emb

    def _priorities(self, ds: Dataset) -> np.ndarray:
        if self.priority is None:
            return np.zeros(len(ds))
        if self.priority not in ds.column_names:
            raise UserError(f"semantic dedup priority column {self.priority!r} is not in the "
                            f"data (columns: {', '.join(ds.column_names)})")
        return np.array([-np.inf if v is None else float(v) for v in ds[self.priority]])
