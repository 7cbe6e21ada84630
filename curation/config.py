"""Typed schema of ``lessmore curate``: a typo or a wrong type fails at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from .core.config import register_schema
from .core.models import ModelConfig
from .probes import ProbeConfig


@dataclass
class CurateConfig:
    """``lessmore curate input=PATH_OR_HUB_NAME out=DIR``."""

    input: Any = MISSING  # a path, folder, glob or hub name, or a list of them
    out: str = MISSING
    input_format: str = "auto"
    input_split: str = "train"  # split of a hub dataset
    # rows whose `split` field is not listed are filtered (keeps held-out facts out of training)
    splits: list[str] | None = None
    budget: int = 100
    seed: int = 0
    selection: str = "known_first"  # known_first | random
    max_length: int = 1024  # tokens under the training template
    overlong: str = "drop"  # drop | truncate | error
    max_message_chars: int = 100_000
    show_progress: bool = True
    model: ModelConfig = field(default_factory=ModelConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)


register_schema("curate_schema", CurateConfig)
