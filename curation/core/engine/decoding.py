"""How a completion is decoded, independent of the model: the settings, one seeded generator per
sampled sequence, logit filtering (temperature, top-k, top-p), stop strings and EOS ids.

A sampled sequence draws from a ``torch.Generator`` seeded by (settings seed, copy index, prompt
text) alone, so its tokens never depend on the batch it was decoded in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class DecodeSettings:
    """How to decode: greedy unless ``do_sample``; ``stop`` strings end a completion early."""

    max_new_tokens: int = 32
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 0  # 0 = off
    top_p: float = 1.0
    num_return_sequences: int = 1
    stop: list[str] = field(default_factory=list)  # output is cut before the first one
    seed: int = 0


@dataclass
class DecodeRow:
    """One sequence being decoded: its generator, tokens so far, and whether it has ended."""

    generator: torch.Generator | None
    tokens: list[int] = field(default_factory=list)
    done: bool = False


def is_sampling(s: DecodeSettings) -> bool:
    # A zero temperature means "no randomness": treat it as greedy rather than divide by zero.
    return s.do_sample and s.temperature > 0


def filter_logits(logits: torch.Tensor, s: DecodeSettings) -> torch.Tensor:
    """Temperature, then top-k, then top-p (nucleus): each row filtered on its own."""
    logits = logits / s.temperature
    if 0 < s.top_k < logits.shape[-1]:
        kth = torch.topk(logits, s.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if s.top_p < 1.0:
        ordered, idx = torch.sort(logits, dim=-1, descending=True)
        probs = ordered.softmax(dim=-1)
        # Keep the smallest prefix whose mass reaches top_p (the first token always survives).
        drop = (probs.cumsum(dim=-1) - probs) > s.top_p
        logits = logits.scatter(-1, idx, ordered.masked_fill(drop, float("-inf")))
    return logits


def build_generator(s: DecodeSettings, prompt: str, index: int, device: torch.device
               ) -> torch.Generator:
    """A generator seeded by (seed, prompt text, copy index): the same draws in any batch."""
    return torch.Generator(device=device).manual_seed(sample_seed(s, prompt, index))


def sample_seed(s: DecodeSettings, prompt: str, index: int) -> int:
    """The seed of one sampled sequence, from (settings seed, copy index, prompt text) alone."""
    key = f"{s.seed}\x00{index}\x00{prompt}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") & ((1 << 63) - 1)


def cut_at_stop(text: str, stop: list[str]) -> str:
    """The text before the earliest occurrence of any stop string."""
    cuts = [i for i in (text.find(st) for st in stop if st) if i >= 0]
    return text[:min(cuts)] if cuts else text


def find_eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """EOS ids from the tokenizer and from the model's generation config (int or list)."""
    ids = {tokenizer.eos_token_id}
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(config_eos if isinstance(config_eos, list | tuple) else [config_eos])
    return {int(i) for i in ids if i is not None}
