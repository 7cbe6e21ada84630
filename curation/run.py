"""``lessmore curate``: read → validate → dedup → filter → measure → probe → score → select →
write. ``run(cfg)`` is the table of contents; every step lives in its own module."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .artifacts import build_manifest, write_outputs
from .core.config import save_resolved_config, to_container
from .core.distributed import is_main_process
from .core.models import ModelConfig, load_tokenizer, resolve_model_path
from .selectors import BudgetSelector, KnowledgePolicyStep
from .steps import ExactDedupFilter, SplitFilter, Step, TokenLengthStep
from .store import RecordStore

log = logging.getLogger(__name__)


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
    """The curation steps in order; models are loaded once and only when a step needs one."""
    from .filters import build_filters

    model_tag = f"{cfg.model.path}@{cfg.model.revision}"
    has_qa, has_open = any(ds["answers"]), not all(ds["answers"])
    steps: list[Step] = [SplitFilter(cfg.splits)] if cfg.splits else []
    steps += [ExactDedupFilter(), *build_filters(cfg.filters.steps),
              TokenLengthStep(load_tokenizer(cfg.model), cfg.max_length, cfg.over_length,
                              model_tag)]
    if cfg.probe.enabled and has_qa:
        from .probes import SlickProbe

        steps.append(SlickProbe(context.engine(cfg.model.path, cfg.probe.batch_size), cfg.probe,
                                cfg.seed, context.cache(cfg.model.path)))
    if cfg.memorization.enabled and has_qa:
        from .memorization import MemorizationStep

        steps.append(MemorizationStep(context.engine(cfg.model.path, cfg.probe.batch_size),
                                      cfg.memorization, cfg.seed, context.cache(cfg.model.path)))
    if cfg.score.enabled and has_open:
        from .scores import IFDFilter, ResponseScoreStep

        path = cfg.score.model_path or cfg.model.path
        steps += [ResponseScoreStep(context.engine(path, cfg.score.batch_size), f"{path}@score",
                                    max_length=cfg.max_length, cache=context.cache(path)),
                  IFDFilter(cfg.score.max_ifd, cfg.score.drop_unscored)]
    if cfg.dedup.semantic:
        from .dedup import SemanticDedupStep

        steps.append(SemanticDedupStep(context.embeddings(), cfg.dedup.eps, cfg.dedup.k,
                                       cfg.seed, cfg.dedup.priority, cfg.dedup.open_ended_only))
    steps += [KnowledgePolicyStep(cfg.select.unknown, cfg.select.idk_answer),
              BudgetSelector(cfg.budget, cfg.seed, cfg.select,
                             embeddings=context.embeddings()
                             if cfg.select.strategy in ("score_first", "kcenter") else None)]
    return steps


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
    """Run the steps in order, counting rows in and out of each. Returns the kept rows, the
    rows the selector chose from (for plots and histograms), every filtered row and stats."""
    filtered: list[dict[str, Any]] = []
    stats = []
    candidates = ds
    for step in steps:
        n_in = len(ds)
        if isinstance(step, BudgetSelector):
            candidates = ds
        result = step(ds)
        ds = result.dataset
        filtered += result.filtered
        stats.append({"name": step.name, "rows_in": n_in, "rows_out": len(ds),
                      "filtered": len(result.filtered), **step.stats()})
        log.info("step %-16s %6d -> %6d (%d filtered)", step.name, n_in, len(ds),
                 len(result.filtered))
        if n_in - len(result.filtered) != len(ds):
            raise RuntimeError(f"step {step.name} lost rows: {n_in} in, {len(ds)} out, "
                               f"{len(result.filtered)} filtered")
    return ds, candidates, filtered, stats
