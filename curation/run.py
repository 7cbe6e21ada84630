"""``lessmore curate``: read → validate → dedup → filter → measure → probe → score → select →
write. ``run(cfg)`` is the table of contents; every step lives in its own module."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from datasets import Dataset

from .artifacts import build_manifest, write_outputs
from .core.config import save_resolved_config, to_container
from .core.distributed import is_main_process
from .core.models import ModelConfig, load_model, load_tokenizer, resolve_model_path
from .core.readers import read_records
from .selectors import BudgetSelector, KnowledgePolicyStep
from .steps import ExactDedupFilter, SplitFilter, Step, TokenLengthStep

log = logging.getLogger(__name__)


def run(cfg: Any) -> dict[str, Any]:
    """Curate ``cfg.input`` into the directory ``cfg.out``; returns the manifest."""
    out = Path(cfg.out)
    save_resolved_config(cfg, out)
    read = read_records(cfg.input, cfg.input_format, split=cfg.input_split,
                        max_chars=cfg.max_message_chars)
    log.info("read %d rows: %d records, %d rejected", read.rows_in, len(read.records),
             len(read.rejections))
    ds = build_dataset(read.records)
    context = StageContext(cfg)
    try:
        ds, candidates, filtered, step_stats = apply_steps(ds, build_steps(cfg, ds, context))
    finally:
        context.close()
    manifest = build_manifest(cfg, read, ds, candidates, filtered, step_stats)
    if not is_main_process():  # a launched helper process: the main one writes the outputs
        return manifest
    write_outputs(out, ds, candidates, filtered, read, manifest, context.embedder)
    log.info("curated set: %d kept, %d filtered, %d rejected -> %s", manifest["counts"]["kept"],
             manifest["counts"]["filtered"], manifest["counts"]["rejected"], out)
    return manifest


def build_dataset(records: list[dict[str, Any]]) -> Dataset:
    ds = Dataset.from_list(records)
    # a content-derived fingerprint (not a random one) keeps saved bytes identical across runs
    key = "\n".join(r["id"] for r in records).encode()
    return Dataset(ds.data, fingerprint=hashlib.sha256(key).hexdigest()[:16])


def build_steps(cfg: Any, ds: Dataset, context: StageContext) -> list[Step]:
    """The curation steps in order; models are loaded once and only when a step needs one."""
    from .filters import build_filters

    model_tag = f"{cfg.model.path}@{cfg.model.revision}"
    has_qa, has_open = any(ds["answers"]), not all(ds["answers"])
    steps: list[Step] = [SplitFilter(cfg.splits)] if cfg.splits else []
    steps += [ExactDedupFilter(), *build_filters(cfg.filters.steps),
              TokenLengthStep(load_tokenizer(cfg.model), cfg.max_length, cfg.overlong, model_tag)]
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
        from .core.generation import GenerationEngine

        if path not in self.engines:
            model, tokenizer = load_model(ModelConfig(**{**to_container(self.cfg.model),
                                                         "path": path}))
            self.engines[path] = GenerationEngine(model, tokenizer, batch_size=batch_size,
                                                  show_progress=self.cfg.show_progress)
        return self.engines[path]

    def cache(self, path: str):
        """The on-disk result cache for one model (None when ``cache_dir`` is unset)."""
        if not self.cfg.cache_dir:
            return None
        if path not in self.caches:
            from .cache import ResultCache, compute_model_fingerprint

            model = self.engines[path].model if path in self.engines else None
            fingerprint = compute_model_fingerprint(path, self.cfg.model.revision,
                                                    resolve_model_path(path), model)
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


def apply_steps(ds: Dataset, steps: list[Step]):
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
