"""``python -m evaluation``: evaluate a model (or a training run and its base) on a suite.

Layout of ``out``::

    config.yaml                      the resolved config
    <role>/results.json              role: tuned and base for a training run, else model
    <role>/samples/<benchmark>.jsonl prompt, raw generation, prediction, references, score
"""

from __future__ import annotations

import gc
import logging
from dataclasses import fields
from pathlib import Path
from typing import Any

from curation.core.config import save_resolved_config, to_container
from curation.core.contract import RESULTS, SAMPLES, read_train_manifest
from curation.core.engine import CachedEngine, GenerationEngine, build_engine, open_cache
from curation.core.io import collect_versions, redact_secrets, write_json, write_jsonl
from curation.core.models import ModelConfig

from .benchmarks.base import Benchmark, build_benchmarks
from .config import EvalConfig
from .proxy import ProxySpec, build_proxy_engine, open_proxy_cache, resolve_proxy_targets
from .results import ModelInfo, Results

log = logging.getLogger(__name__)


def run(cfg: EvalConfig) -> dict[str, dict[str, Any]]:
    """Evaluate every model the config names; returns ``{role: results.json content}``."""
    # everything that can fail without a model fails before one is loaded
    benchmarks = build_benchmarks(cfg.suite.benchmarks, limit=cfg.limit)
    data = [benchmark.load_data() for benchmark in benchmarks]
    model_cfg = ModelConfig(**to_container(cfg.model))
    targets = (resolve_proxy_targets(model_cfg, cfg.proxy, compare_base=cfg.compare_base)
               if cfg.proxy.tuned else resolve_targets(model_cfg, compare_base=cfg.compare_base))
    out = Path(cfg.out)
    save_resolved_config(cfg, out)
    config = redact_secrets(to_container(cfg))
    results = {}
    for info, target_cfg in targets:
        log.info("evaluating %s (%s: %s)", info.name, info.role, info.path)
        engine = load_engine(target_cfg, cfg.batch_size, cfg.show_progress)
        if cfg.cache_dir:  # a killed run resumes; another suite on the same prompts is free
            engine = CachedEngine(engine, open_proxy_cache(cfg.cache_dir, target_cfg, engine)
                                  if isinstance(target_cfg, ProxySpec)
                                  else open_cache(cfg.cache_dir, target_cfg, engine))
        try:
            doc = evaluate_model(engine, benchmarks, info, suite=cfg.suite.name, config=config,
                                 out_dir=out / info.role, data=data)
        finally:
            if isinstance(engine, CachedEngine):
                log.info("generation cache: %s", engine.cache.stats)
                engine.close()
        del engine
        gc.collect()  # one model in memory at a time
        results[info.role] = doc
        for key, metric in doc["metrics"].items():
            log.info("%s %s = %.4f (n=%d)", info.role, key, metric["value"], metric["n"])
    return results


def resolve_targets(model_cfg: ModelConfig, *, compare_base: bool
                    ) -> list[tuple[ModelInfo, ModelConfig]]:
    """[(who, how to load)]: a training run gives tuned (+ base), anything else one model.

    The base is loaded with the evaluation's own dtype and device, not the training run's,
    so base and tuned are scored under the same settings.
    """
    manifest = read_train_manifest(model_cfg.path)
    if manifest is None:
        return [(ModelInfo(model_cfg.name, model_cfg.path, "model"), model_cfg)]
    known = {f.name for f in fields(ModelConfig)} - {"dtype", "device"}
    base_cfg = ModelConfig(**{**{k: v for k, v in manifest["base_model"].items() if k in known},
                              "dtype": model_cfg.dtype, "device": model_cfg.device})
    tuned_name = Path(model_cfg.path).expanduser().resolve().name  # the run folder
    tuned_cfg = ModelConfig(name=tuned_name, path=model_cfg.path, dtype=model_cfg.dtype,
                            device=model_cfg.device,
                            trust_remote_code=model_cfg.trust_remote_code)
    base = {"name": base_cfg.name, "path": base_cfg.path}
    targets = [(ModelInfo(tuned_name, model_cfg.path, "tuned", base), tuned_cfg)]
    if compare_base:
        targets.append((ModelInfo(base_cfg.name, base_cfg.path, "base"), base_cfg))
    return targets


def load_engine(model_cfg: ModelConfig | ProxySpec, batch_size: int, show_progress: bool
                ) -> GenerationEngine:
    """transformers or vLLM (``model.backend``), or a proxy-tuned decoder (transformers);
    ModelLoadError is a one-line UserError."""
    if isinstance(model_cfg, ProxySpec):
        return build_proxy_engine(model_cfg, batch_size=batch_size, show_progress=show_progress)
    return build_engine(model_cfg, batch_size=batch_size, show_progress=show_progress)


def evaluate_model(engine: Any, benchmarks: list[Benchmark], info: ModelInfo, *, suite: str,
                   config: dict[str, Any], out_dir: Path, data: list[Any] | None = None
                   ) -> dict[str, Any]:
    """Run every benchmark with one engine; write ``results.json`` and the samples."""
    data = data or [None] * len(benchmarks)
    outcomes = [b.evaluate(engine, d) for b, d in zip(benchmarks, data, strict=True)]
    results = Results(
        model=info, suite=suite,
        metrics={k: m for o in outcomes for k, m in o.metrics.items()},
        settings={o.name: o.settings for o in outcomes},
        data_fingerprint={o.name: o.data_fingerprint for o in outcomes},
        config=config, versions=collect_versions())
    for outcome in outcomes:
        write_jsonl(out_dir / SAMPLES / f"{outcome.name}.jsonl", outcome.samples)
    doc = results.to_dict()
    write_json(out_dir / RESULTS, doc)
    return doc
