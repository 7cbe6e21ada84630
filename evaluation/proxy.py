"""Proxy tuning (Liu et al., 2024, "Tuning Language Models by Proxy"): decode a large base model
with the logits ``large + alpha * (small_tuned - small_base)`` at every step.

:class:`ProxyModel` is a ``torch.nn.Module`` holding the three models whose forward returns the
combined logits, so the one :class:`~curation.core.engine.GenerationEngine` drives it as it
drives any causal LM (generation with a KV cache, log-likelihood scoring, every suite). The three
models must share one vocabulary; anything else is refused before decoding.

The engine makes one ``DynamicCache`` per batch and repeats or selects its rows as sequences are
copied or finish. On first use the proxy gives each model its own cache and hands the engine's
cache every layer of the three, so those row operations reach all of them.
"""

from __future__ import annotations

import copy
import inspect
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import DynamicCache
from transformers.modeling_outputs import CausalLMOutputWithPast

from curation.core.cache import ResultCache, compute_key, compute_model_fingerprint
from curation.core.config import UserError
from curation.core.contract import read_run_base
from curation.core.engine import GenerationEngine
from curation.core.engine.cached import CACHE_FILE
from curation.core.models import ModelConfig, load_model, resolve_model_path

from .config import ProxyConfig
from .results import ModelInfo

ROLES = ("large", "tuned", "base")


@dataclass
class ProxySpec:
    """The three models of a proxy-tuned decoder and the weight of the small pair's offset."""

    large: ModelConfig
    tuned: ModelConfig
    base: ModelConfig
    alpha: float = 1.0


class ProxyModel(torch.nn.Module):
    """Forward = large + alpha * (tuned - base), in float32, over the first ``vocab_size``
    token ids (the shared vocabulary; default: the narrowest logits)."""

    def __init__(self, large: Any, tuned: Any, base: Any, alpha: float,
                 vocab_size: int | None = None) -> None:
        super().__init__()
        self.large, self.tuned, self.base, self.alpha = large, tuned, base, alpha
        self.vocab_size = vocab_size
        self.config = copy.deepcopy(large.config)
        # the engine reads its context limit from here: the smallest of the three
        self.config.max_position_embeddings = min(_max_positions(m) for m in self.parts)
        self.generation_config = copy.deepcopy(large.generation_config)
        self.generation_config.eos_token_id = sorted(set().union(*map(_eos_ids, self.parts)))
        self._caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._signatures = [inspect.signature(m.forward).parameters for m in self.parts]

    @property
    def parts(self) -> tuple[Any, Any, Any]:
        return self.large, self.tuned, self.base

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None, past_key_values: Any = None,
                use_cache: bool = False, logits_to_keep: int = 0) -> CausalLMOutputWithPast:
        caches = self._split_cache(past_key_values)
        large, tuned, base = (
            _logits(model, params, cache, input_ids=input_ids, attention_mask=attention_mask,
                    position_ids=position_ids, use_cache=use_cache, keep=logits_to_keep)
            for model, params, cache in zip(self.parts, self._signatures, caches, strict=True))
        # padded embeddings, or tokens one tokenizer added, lie beyond the shared vocabulary
        width = self.vocab_size or min(large.shape[-1], tuned.shape[-1], base.shape[-1])
        logits = large[..., :width] + self.alpha * (tuned[..., :width] - base[..., :width])
        return CausalLMOutputWithPast(logits=logits, past_key_values=past_key_values)

    def _split_cache(self, cache: Any) -> list[Any]:
        """Each model's own cache for the engine's ``cache`` (made on first use)."""
        if cache is None:
            return [None, None, None]
        if cache not in self._caches:
            parts = [DynamicCache(config=model.config) for model in self.parts]
            cache.layers = [layer for part in parts for layer in part.layers]
            self._caches[cache] = parts
        return self._caches[cache]


def _logits(model: Any, params: Any, cache: Any, *, keep: int, **inputs: Any) -> torch.Tensor:
    """One model's float32 logits (of the last ``keep`` positions; all when 0)."""
    if cache is not None:
        # transformers 5.x renamed ``past_key_values`` to ``cache``; support both spellings
        inputs["cache" if "cache" in params else "past_key_values"] = cache
    if keep and "logits_to_keep" in params:
        inputs["logits_to_keep"] = keep
    logits = model(**inputs).logits.float()
    return logits[:, -keep:] if keep else logits


def _max_positions(model: Any) -> int:
    return getattr(model.config, "max_position_embeddings", None) or 1 << 30


def _eos_ids(model: Any) -> set[int]:
    ids = set()
    for source in (model.config, getattr(model, "generation_config", None)):
        eos = getattr(source, "eos_token_id", None)
        ids.update(eos if isinstance(eos, list | tuple) else [eos])
    return {int(i) for i in ids if i is not None}


def check_shared_vocabulary(tokenizers: dict[str, Any], widths: dict[str, int]) -> int:
    """The size of the vocabulary the models share. Their tokenizers must be one tokenizer: the
    same learned vocabulary, and every token of the smallest with the same id in the others;
    only tokens added after it (a training run's extra special token) may differ, and are left
    out. Refused otherwise, or when some model's logits do not cover the shared ids."""
    learned = {role: _learned_vocab(tok) for role, tok in tokenizers.items()}
    full = {role: tok.get_vocab() for role, tok in tokenizers.items()}
    smallest = min(full, key=lambda role: len(full[role]))
    shared = full[smallest]
    for role in full:
        differ = (len(set(learned[role].items()) ^ set(learned[smallest].items()))
                  + sum(full[role].get(token) != i for token, i in shared.items()))
        if differ:
            raise UserError(f"proxy tuning needs one vocabulary: the {role} model's tokenizer "
                            f"({len(full[role])} tokens) and the {smallest} model's "
                            f"({len(shared)}) differ in {differ} token ids")
    if sorted(shared.values()) != list(range(len(shared))):  # the logits are sliced to [:n]
        raise UserError(f"proxy tuning: the {smallest} model's token ids are not 0..n-1")
    if min(widths.values()) < len(shared):
        raise UserError(f"proxy tuning: logits of widths {widths} do not cover the "
                        f"{len(shared)}-token shared vocabulary")
    return len(shared)


def _learned_vocab(tokenizer: Any) -> dict[str, int]:
    added = tokenizer.get_added_vocab()
    return {t: i for t, i in tokenizer.get_vocab().items() if t not in added}


def build_proxy_engine(spec: ProxySpec, *, batch_size: int = 16,
                       show_progress: bool = True) -> GenerationEngine:
    """Load the three models and drive their combination with the usual engine. Prompts are
    tokenised (and chat templates rendered) with the small tuned model's tokenizer."""
    loaded = {role: load_model(getattr(spec, role)) for role in ROLES}
    vocab_size = check_shared_vocabulary({role: tok for role, (_, tok) in loaded.items()},
                                         {role: m.get_output_embeddings().weight.shape[0]
                                          for role, (m, _) in loaded.items()})
    model = ProxyModel(*(loaded[role][0] for role in ROLES), alpha=spec.alpha,
                       vocab_size=vocab_size)
    return GenerationEngine(model, loaded["tuned"][1], batch_size=batch_size,
                            show_progress=show_progress)


def resolve_proxy_targets(model_cfg: ModelConfig, proxy: ProxyConfig, *, compare_base: bool
                          ) -> list[tuple[ModelInfo, ProxySpec | ModelConfig]]:
    """The proxy as role ``tuned`` (its base: the large model) and, with ``compare_base``, the
    large model alone as ``base``, evaluated with the same settings."""
    base_path = proxy.base or read_run_base(proxy.tuned)
    if base_path is None:
        raise UserError(f"proxy.tuned={proxy.tuned} is neither an adapter nor a training run: "
                        "name the small base with proxy.base=...")

    def small(path: str) -> ModelConfig:
        return ModelConfig(name=Path(path).name, path=path, dtype=model_cfg.dtype,
                           device=model_cfg.device, trust_remote_code=model_cfg.trust_remote_code)

    spec = ProxySpec(model_cfg, small(proxy.tuned), small(base_path), proxy.alpha)
    name = f"proxy({model_cfg.name} + {proxy.alpha:g}*({spec.tuned.name} - {spec.base.name}))"
    large = {"name": model_cfg.name, "path": model_cfg.path}
    targets = [(ModelInfo(name, proxy.tuned, "tuned", large), spec)]
    if compare_base:
        targets.append((ModelInfo(model_cfg.name, model_cfg.path, "base"), model_cfg))
    return targets


def open_proxy_cache(cache_dir: str | Path, spec: ProxySpec, engine: GenerationEngine
                     ) -> ResultCache:
    """The evaluation's result cache for a proxy: keyed by all three models and alpha, so it
    never reads back the large model's own results (evaluated beside it as ``base``)."""
    parts = [compute_model_fingerprint(cfg.path, cfg.revision, resolve_model_path(cfg.path), model)
             for cfg, model in zip((spec.large, spec.tuned, spec.base), engine.model.parts,
                                   strict=True)]
    return ResultCache(Path(cache_dir) / CACHE_FILE,
                       model=compute_key(["proxy", *parts, spec.alpha]))
