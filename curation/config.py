"""Typed schema of ``lessmore curate``: a typo or a wrong type fails at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from .core.config import register_schema
from .core.models import ModelConfig
from .dedup import DEFAULT_EPS, DEFAULT_KEEP, DEFAULT_RULE
from .embeddings import DEFAULT_EMBEDDING_MODEL
from .memorization import MemorizationConfig
from .probes import ProbeConfig
from .selectors import SelectConfig


@dataclass
class FiltersConfig:
    """Quality filters (``curation/filters.py``), in order: ``{_target_: CLASS, **params}`` each,
    any :class:`~curation.steps.Filter` class (params checked against its signature)."""

    name: str = "default"
    steps: list[Any] = field(default_factory=list)


@dataclass
class ScoreConfig:
    """Response NLL and IFD of open-ended rows (DESIGN §3.3); IFD ≥ ``max_ifd`` is filtered."""

    enabled: bool = False
    max_ifd: float = 1.0
    drop_unscored: bool = False  # drop rows whose scoring failed (NaN) instead of keeping them
    model_path: str | None = None  # a smaller proxy model; null: the curate model
    batch_size: int = 8


@dataclass
class DedupConfig:
    """Semantic dedup (SemDeDup) on sentence embeddings, after exact dedup (DESIGN §3.4)."""

    semantic: bool = True
    eps: float = DEFAULT_EPS  # near-duplicate when cosine > 1 - eps (MiniLM)
    rule: str = DEFAULT_RULE  # original: vs every earlier row of the cluster | kept_only
    keep: str = DEFAULT_KEEP  # keep order: hard (farthest from the centroid) | easy | random | index
    k: int | None = None  # spherical k-means clusters; null: about N / 1000
    priority: str | None = None  # column whose highest value wins among near-duplicates
    # short-answer QA rows share one template per relation and embed close although every fact
    # differs: only open-ended rows are compared (exact dedup covers repeated questions)
    open_ended_only: bool = True
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    batch_size: int = 64


@dataclass
class CurateConfig:
    """``lessmore curate input=PATH_OR_HUB_NAME out=DIR``."""

    input: Any = MISSING  # a path, folder, glob or hub name, or a list of them
    out: str = MISSING
    input_format: str = "auto"
    input_split: str = "train"  # split of a hub dataset
    input_streaming: bool = False  # hub datasets: stream rows instead of downloading the set
    # rows whose `split` field is not listed are filtered (keeps held-out facts out of training)
    splits: list[str] | None = None
    budget: int = 100
    seed: int = 0
    max_length: int = 1024  # tokens under the training template
    over_length: str = "drop"  # drop | truncate (kept for training) | error; as in training
    max_message_chars: int = 100_000
    show_progress: bool = True
    model: ModelConfig = field(default_factory=ModelConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    filters: FiltersConfig = field(default_factory=FiltersConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    memorization: MemorizationConfig = field(default_factory=MemorizationConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    select: SelectConfig = field(default_factory=SelectConfig)
    # probing, scoring and embedding results, per row and config: a killed run resumes here
    cache_dir: str | None = None


register_schema("curate_schema", CurateConfig)
