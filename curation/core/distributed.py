"""Splitting per-item work across processes when the run is launched on several devices
(``accelerate launch`` / ``torchrun``): each process computes a share, every process gets the
whole result in order. One process (or none launched) computes everything itself."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def local_device(device: str) -> str:
    """``cuda`` becomes this process's own GPU (``cuda:LOCAL_RANK``) under a multi-process
    launch, so the processes do not all load their model onto GPU 0."""
    if device == "cuda" and world_size() > 1:
        return f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    return device


def split_compute(items: Sequence[Any], compute: Callable[[list[Any]], list[Any]]
                  ) -> list[Any]:
    """``compute(items)``, with the items dealt round-robin to the launched processes and the
    results gathered back into the caller's order (every process gets all of them)."""
    n = world_size()
    if n == 1:
        return compute(list(items))
    import torch
    from accelerate import PartialState
    from accelerate.utils import gather_object

    # on CPU, accelerate only takes a torchrun launch as multi-process when told it is a CPU run
    state = PartialState(cpu=not torch.cuda.is_available())
    mine = list(range(state.process_index, len(items), n))
    local = compute([items[i] for i in mine]) if mine else []
    gathered = gather_object([list(zip(mine, local, strict=True))])
    out: list[Any] = [None] * len(items)
    for part in gathered:
        for i, value in part:
            out[i] = value
    return out
