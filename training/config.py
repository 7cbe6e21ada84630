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

METHODS = ("lora", "qlora", "full")
ADAPTER_METHODS = ("lora", "qlora")  # train (and save) a LoRA adapter; `full` moves every weight
# `trainer.learning_rate: null` means the method's default: LoRA adapters start at zero and
# move slowly (QLoRA trains the same adapters on a 4-bit base); full fine-tuning moves every
# weight and needs a 10x smaller step.
DEFAULT_LEARNING_RATES = {"lora": 2e-4, "qlora": 2e-4, "full": 2e-5}
# drop by default: a cut example teaches a reply without its end (the model never stops) and an
# error stops a whole run for a few long rows; dropped rows are logged loudly and counted in the
# manifest, and a user who wants every row says truncate (whole turns) or error.
OVER_LENGTH_POLICIES = ("drop", "truncate", "error")
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
    method: str = "lora"  # lora | qlora (4-bit base, CUDA + bitsandbytes) | full
    seed: int = 0
    max_length: int = 1024  # tokens under the training template; longer rows: see over_length
    over_length: str = "drop"  # drop | truncate (to whole turns) | error; before TRL sees them
    chat_template: str = "chatml"  # chatml (lessmore's, trains <|im_end|>) | model | FILE.jinja
    dry_run: bool = False  # show rows as trained and the pre-flight checks, then exit
    dry_run_rows: int = 3  # rows the dry run shows
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
    lora: dict[str, Any] = field(default_factory=dict)  # peft.LoraConfig arguments (lora, qlora)


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
    if cfg.over_length not in OVER_LENGTH_POLICIES:
        raise UserError(f"unknown over_length {cfg.over_length!r}; choose one of "
                        f"{', '.join(OVER_LENGTH_POLICIES)}")
    if cfg.dry_run_rows < 0:
        raise UserError(f"dry_run_rows must be 0 or more, got {cfg.dry_run_rows}")


def resolve_learning_rate(method: str, learning_rate: float | None) -> float:
    return DEFAULT_LEARNING_RATES[method] if learning_rate is None else float(learning_rate)


register_schema("train_schema", TrainConfig)
