"""Typed schema of ``lessmore weights`` (``python -m evaluation.weights``): a typo or a wrong
type fails at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from curation.core.config import register_schema


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


register_schema("weights_schema", WeightsConfig)
