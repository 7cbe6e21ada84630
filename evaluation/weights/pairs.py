"""The (W₀, W) pairs a weight analysis compares, from a LoRA adapter or a full fine-tune.

A LoRA run (an adapter folder, or a training run holding one) is loaded unmerged in float32 on
the CPU, and each targeted module gives W₀ and W = W₀ + ΔW (peft's own ``get_delta_weight``, so
scaling, rsLoRA and fan-in/fan-out layouts are peft's). A full fine-tune is compared with its
base linear layer by linear layer; layers whose weights did not change are left out.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from curation.core.config import UserError
from curation.core.contract import read_run_base
from curation.core.models import (
    ModelConfig,
    is_adapter_dir,
    load_model,
    read_adapter_base,
    resolve_model_path,
)

log = logging.getLogger(__name__)

PEFT_PREFIX = "base_model.model."
_LAYER = re.compile(r"\.(\d+)\.")


@dataclass
class WeightPairs:
    """Matrices of one run and its base, in model order; ``model`` is the PeftModel for LoRA."""

    path: str
    base: str
    method: str  # lora | full
    names: list[str] = field(default_factory=list)
    layers: list[int | None] = field(default_factory=list)
    base_weights: list[torch.Tensor] = field(default_factory=list)
    tuned_weights: list[torch.Tensor] = field(default_factory=list)
    delta_factors: list[tuple[torch.Tensor, torch.Tensor] | None] = field(default_factory=list)
    model: Any = None
    tokenizer: Any = None
    left_out: list[str] = field(default_factory=list)  # changed, but outside the compared set

    def add(self, name: str, base: torch.Tensor, tuned: torch.Tensor,
            factors: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        """One pair; ``factors`` (B, A) when ΔW is exactly B A up to a transpose."""
        name = name.removeprefix(PEFT_PREFIX)
        layer = _LAYER.search(name)
        self.names.append(name)
        self.layers.append(int(layer.group(1)) if layer else None)
        self.base_weights.append(base.detach().float())
        self.tuned_weights.append(tuned.detach().float())
        self.delta_factors.append(factors and (factors[0].detach().float(),
                                               factors[1].detach().float()))


def load_weight_pairs(path: str, base: str | None = None,
                      only: frozenset[str] | None = None) -> WeightPairs:
    """The pairs of ``path`` (adapter folder, training run, or model folder) against ``base``
    (default: the adapter's base, else the training manifest's); ``only``: a full fine-tune's
    linear layers restricted to these names (a control compared on the run's own matrices)."""
    local = resolve_model_path(path)
    if is_adapter_dir(local):
        adapter_base = read_adapter_base(local)
        if base and resolve_model_path(base) != resolve_model_path(adapter_base):
            raise UserError(f"{path} is a LoRA adapter of {adapter_base}, not of base={base}")
        return load_lora_pairs(path, adapter_base)
    base = base or read_run_base(local)
    if base is None:
        raise UserError(f"{path} is neither a LoRA adapter nor a training run: name its base "
                        "model with base=...")
    return load_full_pairs(path, base, only)


def _cpu_float32(path: str) -> ModelConfig:
    return ModelConfig(name=Path(path).name, path=path, dtype="float32", device="cpu")


@torch.inference_mode()
def load_lora_pairs(path: str, base: str) -> WeightPairs:
    """Every LoRA-targeted module: W₀ and W merged as peft merges it (W₀ + ΔW, or the variant's
    own merge for DoRA and the like); plain linear LoRA also gives ΔW's factors."""
    from peft.tuners.lora import LoraLayer

    model, tokenizer = load_model(_cpu_float32(path), merge_adapter=False)
    pairs = WeightPairs(path=str(path), base=str(base), method="lora", model=model,
                        tokenizer=tokenizer)
    adapter = model.active_adapter
    for name, module in model.named_modules():
        if isinstance(module, LoraLayer) and adapter in module.scaling:
            weight = module.get_base_layer().weight
            variant = getattr(module, "lora_variant", {}).get(adapter)
            if variant is not None:
                pairs.add(name, weight, variant.merge_safe(module, adapter, weight.clone()))
            elif adapter in module.lora_A:  # linear LoRA: ΔW = scaling · B A (maybe transposed)
                factors = (module.lora_B[adapter].weight * module.scaling[adapter],
                           module.lora_A[adapter].weight)
                pairs.add(name, weight, weight + module.get_delta_weight(adapter), factors)
            else:  # embedding LoRA
                pairs.add(name, weight, weight + module.get_delta_weight(adapter))
    return pairs


@torch.inference_mode()
def load_full_pairs(path: str, base: str, only: frozenset[str] | None = None) -> WeightPairs:
    """Every linear layer of the tuned model that differs from the base's layer of that name
    (and, with ``only``, is one of those names; the changed layers left out are recorded in
    ``left_out``)."""
    tuned, _ = load_model(_cpu_float32(path))
    base_model, _ = load_model(_cpu_float32(base))
    base_linears = {n: m for n, m in base_model.named_modules() if isinstance(m, torch.nn.Linear)}
    pairs = WeightPairs(path=str(path), base=str(base), method="full")
    for name, module in tuned.named_modules():
        if not isinstance(module, torch.nn.Linear) or name not in base_linears:
            continue
        w, w0 = module.weight, base_linears[name].weight
        if w.shape != w0.shape:
            log.warning("%s: shape %s vs base %s (resized?), left out", name,
                        tuple(w.shape), tuple(w0.shape))
        elif not torch.equal(w, w0):
            if only is None or name in only:
                pairs.add(name, w0, w)
            else:
                pairs.left_out.append(name)
    return pairs
