"""What a training process knows of the launch it runs in, shared by the entry point
(``launch.py``), the stage (``run.py``) and the writer of its outputs (``artifacts.py``): whether
it is a launched rank, what the manifest records of the launch, and the gathering of sharded
weights onto the main process."""

from __future__ import annotations

import os
from typing import Any

CONFIG_ENV = "LESSMORE_ACCELERATE_CONFIG"  # tells the ranks' manifests which config ran them


def is_launched() -> bool:
    """Inside a process started by torchrun / accelerate launch (every rank has LOCAL_RANK)."""
    return "LOCAL_RANK" in os.environ


def describe_launch(args: Any) -> dict[str, Any]:
    """What the manifest records of the launch: launcher, processes, the accelerate config and
    distributed type, and the global batch (per-device batch x gradient accumulation x
    processes), which sets what the learning rate means."""
    state = args.distributed_state
    kind = state.distributed_type.value if state is not None else "NO"
    if not is_launched():
        launcher = "none"
    else:
        launcher = "accelerate" if "ACCELERATE_MIXED_PRECISION" in os.environ else "torchrun"
    return {"launcher": launcher, "accelerate_config": os.environ.get(CONFIG_ENV),
            "distributed_type": kind, "world_size": args.world_size,
            "per_device_batch_size": args.per_device_train_batch_size,
            "gradient_accumulation_steps": args.gradient_accumulation_steps,
            "global_batch_size": args.per_device_train_batch_size
            * args.gradient_accumulation_steps * args.world_size}


def gather_state_dict(trainer: Any) -> dict[str, Any] | None:
    """The full weights of a model sharded across ranks (FSDP, DeepSpeed ZeRO), gathered onto
    the main process; a collective, so every rank calls it. None where the model is whole in
    every process (one process, DDP) and ``save_pretrained`` reads it directly."""
    if not (trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled):
        return None
    return trainer.accelerator.get_state_dict(trainer.model_wrapped)
