"""Typed schemas of ``python -m evaluation`` and ``python -m evaluation.report``: a typo or a
wrong type fails at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from curation.core.config import register_schema
from curation.core.models import ModelConfig


@dataclass
class SuiteConfig:
    """A named set of benchmarks (``conf/suite/*.yaml``); each entry's ``_target_`` names its
    :class:`~evaluation.benchmarks.Benchmark` class and the other keys are that class's fields,
    checked when the suite is built."""

    name: str = MISSING
    benchmarks: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProxyConfig:
    """Proxy tuning (Liu et al., 2024): decode ``model`` (the large base) with logits
    large + alpha * (tuned - base), where tuned and base are a small model pair sharing its
    vocabulary. Off while ``tuned`` is null."""

    tuned: str | None = None  # small tuned model: a training run, adapter or model folder
    base: str | None = None  # small base; null: the tuned run's base (manifest or adapter)
    alpha: float = 1.0  # 0 decodes the large base alone


@dataclass
class EvalConfig:
    """``python -m evaluation model.path=RUN_DIR_OR_MODEL out=DIR``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    out: str = MISSING
    suite: SuiteConfig = field(default_factory=SuiteConfig)
    compare_base: bool = True  # for a training run: also evaluate its base, same settings
    batch_size: int = 16  # sequences decoded at once; scores do not depend on it
    show_progress: bool = True
    limit: int | None = None  # first n items of every benchmark, for smoke runs
    cache_dir: str | None = None  # generations per (model, request, settings); None: no cache
    proxy: ProxyConfig = field(default_factory=ProxyConfig)  # proxy-tuned decoding when set


@dataclass
class WeightsConfig:
    """``python -m evaluation.weights run=RUN out=DIR [control=FULL_RUN]``: intruder dimensions
    and the effective rank of ΔW (DESIGN §5, Weights)."""

    run: str = MISSING  # training run, LoRA adapter folder, or model folder (then name base)
    out: str = MISSING
    base: str | None = None  # null: the run's manifest base_model_path or the adapter's base
    control: str | None = None  # a full fine-tune of the same base (expected ≈ 0 intruders)
    top_k: int = 10  # tuned singular vectors examined per matrix
    epsilon: float = 0.5  # intruder if max |cos| with every base singular vector is below
    sweep: list[float] = field(default_factory=lambda: [0.3, 0.4, 0.5, 0.6, 0.7])
    threads: int = 1  # BLAS threads for the decompositions (see conf/weights.yaml)
    peft_check: bool = False  # also run peft's reduce_intruder_dimension and compare (LoRA)
    mitigate: bool = False  # write peft's intruder-reduced adapter to OUT/mitigated (LoRA)
    mitigation_lambda: float = 0.75  # peft's default: 1 keeps the intruders, 0 removes them


@dataclass
class ReportConfig:
    """``python -m evaluation.report results=[DIR,...] out=DIR``."""

    results: list[str] = MISSING  # folders searched for results.json
    out: str = MISSING
    title: str = "lessmore evaluation report"
    samples_per_model: int = 5  # sample rows shown per model and benchmark
    bootstrap_samples: int = 1000  # paired resamples of items per delta interval
    bootstrap_seed: int = 0
    confidence: float = 0.95  # of the delta intervals


register_schema("evaluate_schema", EvalConfig)
register_schema("report_schema", ReportConfig)
register_schema("weights_schema", WeightsConfig)
