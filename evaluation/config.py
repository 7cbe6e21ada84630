"""Typed schema of ``lessmore evaluate`` (``python -m evaluation``): a typo or a wrong type
fails at start-up."""

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


register_schema("evaluate_schema", EvalConfig)
