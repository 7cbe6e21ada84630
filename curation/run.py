"""``lessmore curate``: read → validate → dedup → filter → measure → probe → score → select →
write. ``run(cfg)`` is the table of contents of the stage, :data:`STEPS` that of its steps; every
step lives in its own module and :func:`~curation.steps.apply_step` applies each."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .artifacts import build_manifest, write_outputs
from .core.config import save_resolved_config, to_container
from .core.distributed import is_main_process
from .core.models import ModelConfig, resolve_model_path
from .dedup import SemanticDedupStep
from .filters import ResponseFilter
from .memorization import MemorizationLevelFilter, MemorizationStep
from .probes import SlickProbe
from .scores import IFDFilter, ResponseScoreStep
from .selectors import BudgetSelector, KnowledgePolicyStep
from .steps import ExactDedupFilter, Selector, SplitFilter, Step, TokenLengthStep, apply_step
from .store import RecordStore

log = logging.getLogger(__name__)

# The run's table of contents: each class adds its step(s) from the config (Step.from_config).
STEPS: tuple[type[Step], ...] = (
    SplitFilter,  # rows of the listed splits only (keeps held-out facts out of training)
    ExactDedupFilter,
    ResponseFilter,  # the quality filters filters.steps names, in order
    TokenLengthStep,  # len_* columns and the over-length policy
    SlickProbe,  # probe_* columns of QA rows (probe.enabled)
    MemorizationStep,  # probe_mem_* columns of QA rows (memorization.enabled)
    MemorizationLevelFilter,  # facts of memorization.select_levels only
    ResponseScoreStep,  # score_* columns of open-ended rows (score.enabled)
    IFDFilter,  # drops IFD >= score.max_ifd
    SemanticDedupStep,  # sel_cluster and near-duplicates (dedup.semantic)
    KnowledgePolicyStep,  # select.unknown: keep | drop | relabel_idk
    BudgetSelector,  # the budget, by select.strategy; adds sel_rank
)


def run(cfg: Any) -> dict[str, Any]:
    """Curate ``cfg.input`` into the directory ``cfg.out``; returns the manifest."""
    out = Path(cfg.out)
    save_resolved_config(cfg, out)
    store, context = RecordStore(cfg.cache_dir), StageContext(cfg)
    try:
        # records stream into a memory-mapped arrow file: none are held in memory
        read, ds = store.read(cfg.input, cfg.input_format, split=cfg.input_split,
                              max_chars=cfg.max_message_chars, streaming=cfg.input_streaming)
        log.info("read %d rows: %d records, %d rejected", read.rows_in, len(ds),
                 len(read.rejections))
        try:
            ds, candidates, filtered, step_stats = apply_steps(ds, build_steps(cfg, ds, context))
        finally:
            context.close()
        manifest = build_manifest(cfg, read, ds, candidates, filtered, step_stats)
        if is_main_process():  # a launched helper process: the main one writes the outputs
            write_outputs(out, ds, candidates, filtered, read, manifest, context.embedder)
    finally:
        store.close()
    if not is_main_process():
        return manifest
    log.info("curated set: %d kept, %d filtered, %d rejected -> %s", manifest["counts"]["kept"],
             manifest["counts"]["filtered"], manifest["counts"]["rejected"], out)
    return manifest


def build_steps(cfg: Any, ds: Any, context: StageContext) -> list[Step]:
    """The curation steps in order: each class in :data:`STEPS` builds its own from the config
    (none where switched off or not applicable to the data); models load once, on first need."""
    return [step for cls in STEPS for step in cls.from_config(cfg, ds, context)]


class StageContext:
    """What steps share: one engine per model, one result cache per model, one embedder."""

    def __init__(self, cfg: Any):
        self.cfg, self.engines, self.caches, self.embedder = cfg, {}, {}, None

    def engine(self, path: str, batch_size: int):
        from .core.engine import build_engine

        if path not in self.engines:
            self.engines[path] = build_engine(
                ModelConfig(**{**to_container(self.cfg.model), "path": path}),
                batch_size=batch_size, show_progress=self.cfg.show_progress)
        return self.engines[path]

    def cache(self, path: str):
        """The on-disk result cache for one model (None when ``cache_dir`` is unset)."""
        if not self.cfg.cache_dir:
            return None
        if path not in self.caches:
            from .core.cache import ResultCache, compute_model_fingerprint

            engine = self.engines.get(path)
            # vLLM decodes differently from transformers: its results get their own key
            spec = path + ("#vllm" if getattr(engine, "llm", None) is not None else "")
            fingerprint = compute_model_fingerprint(spec, self.cfg.model.revision,
                                                    resolve_model_path(path),
                                                    getattr(engine, "model", None))
            self.caches[path] = ResultCache(Path(self.cfg.cache_dir) / "probe.sqlite",
                                            model=fingerprint)
        return self.caches[path]

    def embeddings(self):
        if self.embedder is None:
            from .embeddings import RecordEmbedder

            d = self.cfg.dedup
            self.embedder = RecordEmbedder(d.embedding_model, cache_dir=self.cfg.cache_dir,
                                           batch_size=d.batch_size,
                                           show_progress=self.cfg.show_progress)
        return self.embedder

    def close(self) -> None:
        for cache in self.caches.values():
            log.info("result cache: %s", cache.stats)  # logs only: resumed runs differ here
            cache.close()


def apply_steps(ds: Any, steps: list[Step]):
    """Apply the steps in order, counting rows in and out of each. Returns the kept rows, the
    rows the selector chose from (for plots and histograms), every filtered row and stats."""
    filtered: list[dict[str, Any]] = []
    stats = []
    candidates = ds
    for step in steps:
        n_in = len(ds)
        if isinstance(step, Selector):
            candidates = ds
        ds, dropped = apply_step(step, ds)
        filtered += dropped
        stats.append({"name": step.name, "rows_in": n_in, "rows_out": len(ds),
                      "filtered": len(dropped), **step.stats()})
        log.info("step %-16s %6d -> %6d (%d filtered)", step.name, n_in, len(ds), len(dropped))
    return ds, candidates, filtered, stats
