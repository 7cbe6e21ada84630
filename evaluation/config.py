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
