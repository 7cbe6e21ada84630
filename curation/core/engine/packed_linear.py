"""Pre-packed oneDNN weights for a model's linear layers during CPU inference.

``torch.nn.functional.linear`` on CPU calls MKL's sgemm, which re-packs the weight matrix on
every call. For a decode step (a few dozen rows per matrix) that re-packing and the weight
stream dominate: on 2 CPU cores oneDNN with weights packed once ran all of SmolLM2-135M's linears
2.4x faster at 5 rows, 1.5x at 50, 1.2x at 256 and 1.1x at 4,096 (benchmarks/bench_linear.py,
figures in benchmarks/RESULTS.md). This is the kernel PyTorch's own compiler (inductor) uses for
frozen CPU linears.

The packed copies are float32 and live beside the original weights (twice the linear weights'
memory while held), so by default they are used only when the model is on the CPU in float32 and
its linear weights take at most a quarter of the machine's memory. A weight changed in place
since it was packed (a training step, a LoRA merge) is packed again on the next use. The sums run
in a different order than MKL's, so logits move in the last float digits; each row's result
does not depend on the other rows in the batch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import types
from collections.abc import Iterator
from typing import Any

import torch

log = logging.getLogger(__name__)
_MEMORY_SHARE = 4  # auto mode packs when the weights take at most 1/_MEMORY_SHARE of RAM


def _ops() -> Any | None:
    """torch's oneDNN linear ops, or None when this build has none."""
    ops = getattr(torch.ops, "mkldnn", None)
    try:
        if (ops is None or not torch.backends.mkldnn.is_available()
                or not hasattr(ops, "_reorder_linear_weight")
                or not hasattr(ops, "_linear_pointwise")):
            return None
    except (AttributeError, RuntimeError):
        return None
    return ops


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


class PackedLinears:
    """Swap each plain float32 CPU ``nn.Linear``'s forward for a pre-packed oneDNN one.

    ``enabled``: True packs whenever possible, False never, None (auto) when the linear weights
    take at most a quarter of physical memory. Use :meth:`active` around inference.
    """

    def __init__(self, model: Any, enabled: bool | None = None) -> None:
        self._modules = _linears(model) if enabled is not False else []
        self._packs: dict[int, tuple[tuple[Any, ...], Any]] = {}
        self._warned = False
        if self._modules and enabled is None:
            size = sum(m.weight.numel() * m.weight.element_size() for m in self._modules)
            memory = _physical_memory()
            if memory is None or size * _MEMORY_SHARE > memory:
                self._modules = []
        if self._modules and _ops() is None:
            if enabled:
                log.warning("packed linears requested, but this torch has no oneDNN linear ops")
            self._modules = []

    @property
    def used(self) -> bool:
        """Whether :meth:`active` swaps any layer."""
        return bool(self._modules)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Within this block the swapped layers run on packed weights (packed on first use)."""
        swapped = []
        try:
            for module in self._modules:
                packed = self._packed(module)
                if packed is None:
                    continue
                module.forward = types.MethodType(_make_forward(packed), module)
                swapped.append(module)
            yield
        finally:
            for module in swapped:
                module.__dict__.pop("forward", None)

    def _packed(self, module: torch.nn.Linear) -> Any | None:
        weight, bias = module.weight, module.bias
        key = (weight.data_ptr(), weight._version,
               None if bias is None else (bias.data_ptr(), bias._version))
        held = self._packs.get(id(module))
        if held is not None and held[0] == key:
            return held[1]
        ops = _ops()
        try:
            with torch.no_grad():
                packed = ops._reorder_linear_weight(weight.detach(), 64)
        except RuntimeError as err:  # an unusual shape or layout: leave this layer alone
            if not self._warned:
                log.warning("oneDNN could not pack a linear weight (%s); using the default "
                            "kernel for it", err)
                self._warned = True
            return None
        bias = bias.detach() if bias is not None else None
        self._packs[id(module)] = (key, (packed, bias))
        return packed, bias


def _make_forward(packed: tuple[Any, torch.Tensor | None]):
    weight, bias = packed
    ops = torch.ops.mkldnn

    def forward(self: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float32 or x.device.type != "cpu" or x.requires_grad:
            return torch.nn.functional.linear(x, self.weight, self.bias)
        return ops._linear_pointwise(x, weight, bias, "none", [], "")

    return forward


def _linears(model: Any) -> list[torch.nn.Linear]:
    """The exact ``nn.Linear`` layers (not quantised or adapter subclasses) held in float32 on
    the CPU; an adapter's base layer is one of them."""
    modules = getattr(model, "modules", None)
    if modules is None:
        return []
    return [m for m in modules()
            if type(m) is torch.nn.Linear and m.weight.dtype == torch.float32
            and m.weight.device.type == "cpu"]
