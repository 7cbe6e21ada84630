"""``lessmore curate``: read → validate → dedup → measure → probe → select → write."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from datasets import Dataset

from .card import build_card
from .core.config import save_resolved_config, to_container
from .core.io import (
    atomic_path,
    collect_versions,
    compute_file_fingerprint,
    write_json,
    write_jsonl,
    write_text,
)
from .core.models import ModelConfig, load_model, load_tokenizer
from .core.readers import read_records
from .selectors import BudgetSelector
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
    ds, filtered, step_stats = apply_steps(ds, build_steps(cfg, ds))
    manifest = build_manifest(cfg, read, ds, filtered, step_stats)
    write_outputs(out, ds, filtered, read, manifest)
    log.info("curated set: %d kept, %d filtered, %d rejected -> %s", manifest["counts"]["kept"],
             manifest["counts"]["filtered"], manifest["counts"]["rejected"], out)
    return manifest


def build_dataset(records: list[dict[str, Any]]) -> Dataset:
    ds = Dataset.from_list(records)
    # a content-derived fingerprint (not a random one) keeps saved bytes identical across runs
    return Dataset(ds.data, fingerprint=compute_records_fingerprint(records))


def compute_records_fingerprint(records: list[dict[str, Any]]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(r["id"] for r in records).encode()).hexdigest()[:16]


def build_steps(cfg: Any, ds: Dataset) -> list[Step]:
    """The curation steps in order; models are loaded once and only when a step needs one."""
    from .filters import build_filters

    tokenizer = load_tokenizer(cfg.model)
    model_tag = f"{cfg.model.path}@{cfg.model.revision}"
    steps: list[Step] = [SplitFilter(cfg.splits)] if cfg.splits else []
    steps += [ExactDedupFilter(), *build_filters(cfg.filters.steps),
              TokenLengthStep(tokenizer, cfg.max_length, cfg.overlong, model_tag)]
    engines = EngineCache(cfg)
    if cfg.probe.enabled and any(ds["answers"]):
        from .probes import SlickProbe

        steps.append(SlickProbe(engines.get(cfg.model.path, cfg.probe.batch_size), cfg.probe,
                                cfg.seed))
    if cfg.score.enabled and not all(ds["answers"]):
        from .scores import IFDFilter, ResponseScoreStep

        path = cfg.score.model_path or cfg.model.path
        steps += [ResponseScoreStep(engines.get(path, cfg.score.batch_size), f"{path}@score",
                                    max_length=cfg.max_length),
                  IFDFilter(cfg.score.max_ifd, cfg.score.drop_unscored)]
    steps.append(BudgetSelector(cfg.budget, cfg.seed, cfg.selection))
    return steps


class EngineCache:
    """One generation engine per model path, built on first use (a model is loaded once)."""

    def __init__(self, cfg: Any):
        self.cfg, self.engines = cfg, {}

    def get(self, path: str, batch_size: int):
        from .core.generation import GenerationEngine

        if path not in self.engines:
            model_cfg = ModelConfig(**{**to_container(self.cfg.model), "path": path})
            model, tokenizer = load_model(model_cfg)
            self.engines[path] = GenerationEngine(model, tokenizer, batch_size=batch_size,
                                                  show_progress=self.cfg.show_progress)
        return self.engines[path]


def apply_steps(ds: Dataset, steps: list[Step]):
    """Run the steps in order, counting rows in and out of each."""
    filtered: list[dict[str, Any]] = []
    stats = []
    for step in steps:
        n_in = len(ds)
        result = step(ds)
        ds = result.dataset
        filtered += result.filtered
        stats.append({"name": step.name, "rows_in": n_in, "rows_out": len(ds),
                      "filtered": len(result.filtered), **step.stats()})
        log.info("step %-12s %6d -> %6d (%d filtered)", step.name, n_in, len(ds),
                 len(result.filtered))
        if n_in - len(result.filtered) != len(ds):
            raise RuntimeError(f"step {step.name} lost rows: {n_in} in, {len(ds)} out, "
                               f"{len(result.filtered)} filtered")
    return ds, filtered, stats


def build_manifest(cfg, read, ds: Dataset, filtered, step_stats) -> dict[str, Any]:
    counts = {"rows_in": read.rows_in, "kept": len(ds), "filtered": len(filtered),
              "rejected": len(read.rejections)}
    if counts["rows_in"] != counts["kept"] + counts["filtered"] + counts["rejected"]:
        raise RuntimeError(f"row accounting broken: {counts}")
    config = to_container(cfg)
    probed = Counter(c for c in _column(ds, "probe_category") if c)
    return {
        "stage": "curate",
        "config": config,
        "inputs": read.files,
        "input_fingerprints": {f: compute_file_fingerprint(f) for f in read.files
                               if Path(f).exists()},
        "formats": dict(sorted(read.formats.items())),
        "counts": counts,
        "steps": step_stats,
        "filtered_by_step": dict(sorted(Counter(f["step"] for f in filtered).items())),
        "rejected_by_field": dict(sorted(Counter(r.field for r in read.rejections).items())),
        "categories_kept": dict(sorted(probed.items())),
        "categories_probed": dict(sorted(_probed_before_selection(ds, filtered).items())),
        "tokens": {"total": sum(_column(ds, "len_tokens")),
                   "assistant": sum(_column(ds, "len_assistant_tokens")),
                   "truncated_rows": sum(bool(t) for t in _column(ds, "len_truncated"))},
        "model": config["model"],
        "probe": config["probe"],
        "seed": cfg.seed,
        "versions": collect_versions(),
    }


def _column(ds: Dataset, name: str) -> list[Any]:
    return ds[name] if name in ds.column_names else []


def _probed_before_selection(ds, filtered) -> Counter:
    # categories of every probed row, kept or not selected, from the selector's view
    return Counter(c for c in _column(ds, "probe_category") if c) + Counter(
        f.get("probe_category") for f in filtered if f.get("probe_category"))


def write_outputs(out: Path, ds: Dataset, filtered, read, manifest) -> None:
    with atomic_path(out / "dataset") as tmp:
        ds.save_to_disk(str(tmp))
    write_jsonl(out / "train.jsonl", ds.to_list())
    write_jsonl(out / "filtered.jsonl", filtered)
    write_jsonl(out / "rejected.jsonl", (r.to_dict() for r in read.rejections))
    write_json(out / "manifest.json", manifest)
    write_text(out / "README.md", build_card(manifest))
