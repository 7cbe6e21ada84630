"""Typed schema of ``lessmore evaluate`` (``python -m evaluation``): a typo or a wrong type
fails at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from curation.core.config import register_schema
from curation.core.models import ModelConfig


@dataclass
class FactsConfig:
    """The closed-book facts a suite scores by knowledge category. ``lessmore pipeline`` (and a
    study) probes them with the base model first — a second ``curate`` run over the rows of
    ``splits`` in ``data`` — and points the suite's ``key`` at the probed copy, whose rows carry
    the SliCK category the benchmark splits its metrics by."""

    data: str = MISSING  # the QA file the suite reads (interpolate the benchmark's own field)
    splits: list[str] = field(default_factory=list)  # its rows that are probed: scored + exemplars
    key: str = MISSING  # the suite field, below ``suite.``, that reads ``data``


@dataclass
class SuiteConfig:
    """A named set of benchmarks (``conf/suite/*.yaml``); each entry's ``_target_`` names its
    :class:`~evaluation.benchmarks.base.Benchmark` class and the other keys are that class's
    fields, checked when the suite is built. ``facts`` declares the suite's closed-book facts
    for whoever probes them first (see :class:`FactsConfig`); null when it has none."""

    name: str = MISSING
    benchmarks: dict[str, Any] = field(default_factory=dict)
    facts: FactsConfig | None = None


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
