"""Typed schema of ``python -m evaluation.study`` (a study's analysis)."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from curation.core.config import register_schema


@dataclass
class StudyReportConfig:
    out: str = MISSING  # the study's folder (study_spec.json and arms/ inside)
    check_only: bool = False  # check the claims against the arms, measure nothing
    samples_per_model: int = 3  # sample rows shown per model and benchmark in the arm sections
    bootstrap_samples: int = 1000  # paired resamples of items per interval
    bootstrap_seed: int = 0
    confidence: float = 0.95


register_schema("study_report_schema", StudyReportConfig)
