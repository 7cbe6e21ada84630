"""Typed schema of ``python -m training``: the run's own knobs are checked at start-up; the
``trainer`` and ``lora`` groups are ``trl.SFTConfig``'s and ``peft.LoraConfig``'s own arguments,
validated by those classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from curation.core.config import UserError, register_schema
from curation.core.models import ModelConfig

METHODS = ("lora", "full")
# `trainer.learning_rate: null` means the method's default: LoRA adapters start at zero and
# move slowly; full fine-tuning moves every weight and needs a 10x smaller step.
DEFAULT_LEARNING_RATES = {"lora": 2e-4, "full": 2e-5}
# SFTConfig arguments the stage sets itself; naming them under `trainer` would be ignored or
# contradict the run (the loss mask, the run directory, the top-level seed and length).
OWNED_TRAINER_ARGS = ("output_dir", "assistant_only_loss", "max_length", "seed", "eos_token",
                      "use_cpu", "disable_tqdm")


@dataclass
class CurvesConfig:
    """Train accuracy per knowledge category (needs rows with probe_category, question, answers)."""

    every_steps: int = 25  # measure every N optimizer steps (and before the first); 0: off
    sample_per_category: int = 8  # fixed, seeded sample of training rows per category
    max_new_tokens: int = 16
    batch_size: int = 16


@dataclass
class EarlyStoppingConfig:
    """A dev set (evaluated every eval_steps) and, with patience, early stopping on its loss."""

    patience: int | None = None  # evaluations without improvement before stopping; None: off
    threshold: float = 0.0  # smaller improvements of the dev loss count as none
    eval_steps: int = 10  # evaluate (and, with patience, checkpoint) every N steps
    dev_data: str | None = None  # a dev set in any SFT format, or
    dev_fraction: float = 0.0  # a seeded share of the data held out of training


@dataclass
class TrainConfig:
    """``python -m training data=CURATED_DIR_OR_DATASET out=RUN_DIR [method=lora|full]``."""

    data: str = MISSING  # a curated-set folder, or any file/folder/hub dataset in an SFT format
    out: str = MISSING  # the run directory
    method: str = "lora"  # lora | full
    seed: int = 0
    max_length: int = 1024  # tokens under the training template; longer rows are truncated
    show_progress: bool = True
    launcher: str = "none"  # none: this process | accelerate: re-run under accelerate launch
    accelerate_config: str = "ddp"  # a conf/accelerate/ name, or a path to such a file
    num_processes: int | None = None  # None: the config's count, or one per visible GPU
    resume: bool = False  # continue from the newest complete checkpoint in OUT/checkpoints
    merge: bool = False  # LoRA: also write the merged full model to OUT/merged
    curves: CurvesConfig = field(default_factory=CurvesConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    trainer: dict[str, Any] = field(default_factory=dict)  # trl.SFTConfig arguments
    lora: dict[str, Any] = field(default_factory=dict)  # peft.LoraConfig arguments (method=lora)


def check_config(cfg: Any) -> None:
    """Fail with one line on what a schema cannot express: the method and owned trainer keys."""
    if cfg.method not in METHODS:
        raise UserError(f"unknown method {cfg.method!r}; choose one of {', '.join(METHODS)}")
    owned = sorted(set(cfg.trainer) & set(OWNED_TRAINER_ARGS))
    if owned:
        raise UserError(f"trainer.{owned[0]} is set by the training stage; remove it "
                        f"(use the top-level seed / max_length / show_progress / model.device)")
    if cfg.max_length < 1:
        raise UserError(f"max_length must be positive, got {cfg.max_length}")


def resolve_learning_rate(method: str, learning_rate: float | None) -> float:
    return DEFAULT_LEARNING_RATES[method] if learning_rate is None else float(learning_rate)


register_schema("train_schema", TrainConfig)
