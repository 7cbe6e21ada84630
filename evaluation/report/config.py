"""Typed schema of ``lessmore report`` (``python -m evaluation.report``): a typo or a wrong
type fails at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from curation.core.config import register_schema


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


register_schema("report_schema", ReportConfig)
