"""Forward passes over prompts that share token runs, the part of the engine that encodes
prompts (prefill) for generation and scoring alike.

Runs of tokens several prompts share (few-shot shots, in any order per item) are found by a
radix tree over the prompts (:mod:`.prefix_tree`) and encoded once, each on top of its cached
ancestors; each prompt's own tail follows, in forwards of segments of similar length. The
batch's KV cache is then copied together, right-aligned, from the cached pieces, with room for
the tokens to come (:mod:`.kvcache`).
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import torch
from transformers import DynamicCache, PreTrainedModel
from transformers.cache_utils import DynamicLayer

from .kvcache import roomy_cache
from .prefix_tree import PrefixPlan

# Per shared node of a PrefixPlan (key: its index) and per prompt tail (key: ~prompt index):
# its keys and values per layer, each [kv heads, tokens, head dim].
NodeCache = dict[int, list[tuple[torch.Tensor, torch.Tensor]]]
# A forward pass costs about as much as this many more tokens in it (weights read, Python;
# fitted on SmolLM2-135M on 2 CPU cores): segments are batched to trade that against padding.
_FORWARD_COST_TOKENS = 48
# At most this many (padded) tokens per prefill forward of segments, bounding its activations.
_PREFILL_TOKENS = 8192


class PrefillEngine:
    """A causal LM's forward passes over batches of prompts with shared prefixes encoded once;
    :class:`~.engine.GenerationEngine` decodes and scores on top of it."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16,
                 min_shared_prefix: int = 16) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.batch_size = max(1, batch_size)
        self.min_shared_prefix = min_shared_prefix
        self.device = next(model.parameters()).device
        self.pad_id = next((t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id)
                            if t is not None), 0)
        params = inspect.signature(_unwrap(model).forward).parameters
        # transformers 5.x renamed ``past_key_values`` to ``cache``; support both spellings.
        self._cache_kwarg = "cache" if "cache" in params else "past_key_values"
        self._keeps_logits = "logits_to_keep" in params
        self._plain_cache = _shares_kv(model)

    def _plan(self, seqs: list[list[int]], shareable: list[int]) -> PrefixPlan:
        """The radix tree whose shared runs are encoded once (none when sharing is off)."""
        on = self.min_shared_prefix > 0 and self._plain_cache
        return PrefixPlan(seqs, shareable, self.min_shared_prefix if on else sys.maxsize)

    def _prefill(self, plan: PrefixPlan, rows: list[int], kv: NodeCache, *, keep: int,
                 room: int | None = None
                 ) -> tuple[list[torch.Tensor], torch.Tensor | None, DynamicCache | None]:
        """Encode the prompts ``rows``: per prompt, the logits of its last ``keep`` positions;
        unless ``room`` is None, also the batch's attention mask and KV cache (prompts
        right-aligned, with room for that many more tokens).

        For a model whose cache the engine cannot assemble (see ``_shares_kv``) this is one
        left-padded forward of the whole prompts. Otherwise the uncached nodes of the rows'
        paths and then the rows' own tails are encoded, each on top of its ancestors' cached
        keys and values, in forwards of segments of similar length (padding costs as much as
        tokens); the batch's cache is then copied together from the pieces, and nodes no later
        prompt needs are dropped.
        """
        if not self._plain_cache:  # e.g. a proxy's three models: let the model fill its cache
            logits, mask, cache = self._extend([[] for _ in rows], [plan.seqs[i] for i in rows],
                                               [0] * len(rows), kv, keep=keep)
            return list(logits), mask, cache
        # A job is a node (key: its index) or a prompt's tail (key: ~prompt index).
        def path(j: int) -> list[int]:
            return plan.path[~j] if j < 0 else plan.ancestors(plan.nodes[j])

        def tokens(j: int) -> list[int]:
            return plan.tail(~j) if j < 0 else plan.nodes[j].tokens

        def start(j: int) -> int:  # the length of its path's tokens
            return plan.split[~j] if j < 0 else plan.nodes[j].start

        todo = sorted({n for i in rows for n in plan.path[i] if n not in kv}) + [~i for i in rows]
        logits: dict[int, torch.Tensor] = {}
        while todo:
            ready = sorted((j for j in todo if all(n in kv for n in path(j))),
                           key=lambda j: len(tokens(j)))
            for chunk in _chunks([len(tokens(j)) for j in ready], self.batch_size,
                                 _FORWARD_COST_TOKENS, _PREFILL_TOKENS):
                jobs = [ready[k] for k in chunk]
                out, _, cache = self._extend(
                    [path(j) for j in jobs], [tokens(j) for j in jobs], [start(j) for j in jobs], kv,
                    keep=keep if any(j < 0 for j in jobs) else 1)
                for b, j in enumerate(jobs):
                    if j < 0:
                        logits[j] = out[b]
                    if j >= 0 or room is not None:
                        width = len(tokens(j))
                        kv[j] = [(layer.keys[b, :, -width:].clone(),
                                  layer.values[b, :, -width:].clone()) for layer in cache.layers]
            todo = [j for j in todo if j not in ready]
        mask = cache = None
        if room is not None:
            lengths = [len(plan.seqs[i]) for i in rows]
            width = max(lengths)
            cache = roomy_cache(self._gather([[*plan.path[i], ~i] for i in rows], lengths, width,
                                             room, kv), width, self.model.config)
            mask = _right_aligned(lengths, width, self.device)
        for i in rows:
            kv.pop(~i, None)
            for node in plan.path[i]:
                plan.nodes[node].users -= 1
                if not plan.nodes[node].users:
                    del kv[node]
        return [logits[~i] for i in rows], mask, cache

    def _extend(self, paths: list[list[int]], segments: list[list[int]], starts: list[int],
                kv: NodeCache, *, keep: int
                ) -> tuple[torch.Tensor, torch.Tensor, DynamicCache]:
        """One forward of ``segments`` (left-padded) on top of the cached nodes of ``paths``
        (also left-padded, so padding may sit between a row's path and its segment: masked,
        and position ids count real tokens only). Returns the last ``keep`` positions' logits,
        the mask and the cache."""
        width = max(starts)
        cache = (roomy_cache(self._gather(paths, starts, width, max(map(len, segments)), kv),
                             width, self.model.config) if width
                 else DynamicCache(config=self.model.config))
        input_ids, seg_mask = self._left_pad(segments)
        past = _right_aligned(starts, width, self.device)
        mask = torch.cat([past, seg_mask], dim=1)
        positions = torch.tensor(starts, device=self.device)[:, None] + _positions(seg_mask)
        return self._forward(input_ids, mask, positions, cache, keep=keep), mask, cache

    def _gather(self, paths: list[list[int]], lengths: list[int], width: int, room: int,
                kv: NodeCache) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer, the batch's keys and values: row b holds its path's pieces in order,
        right-aligned in ``width`` positions (zeros before them, which the mask hides), and
        ``room`` more positions after them for the tokens to come."""
        some = next(n for path in paths for n in path)
        data = []
        for layer, (k0, _) in enumerate(kv[some]):
            # Masked pads must still be finite (a zero weight times NaN is NaN), so they are
            # zeroed; the room is written before it is read.
            keys = k0.new_empty(len(paths), k0.shape[0], width + room, k0.shape[-1])
            values = torch.empty_like(keys)
            for b, path in enumerate(paths):
                at = width - lengths[b]
                keys[b, :, :at], values[b, :, :at] = 0, 0
                for node in path:
                    k, v = kv[node][layer]
                    keys[b, :, at:at + k.shape[1]], values[b, :, at:at + k.shape[1]] = k, v
                    at += k.shape[1]
            data.append((keys, values))
        return data

    def _forward(self, input_ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                 cache: DynamicCache | None = None, *, keep: int = 0) -> torch.Tensor:
        """Logits of one forward pass: of the last ``keep`` positions, or all when 0."""
        kwargs: dict[str, Any] = dict(input_ids=input_ids, attention_mask=mask,
                                      position_ids=positions, use_cache=cache is not None)
        if cache is not None:
            kwargs[self._cache_kwarg] = cache
        if keep and self._keeps_logits:
            kwargs["logits_to_keep"] = keep  # skip the vocab projection of the rest
        logits = self.model(**kwargs).logits
        return logits[:, -keep:] if keep else logits

    def _left_pad(self, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded ids and attention mask, so every row's next token is at the right edge."""
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for k, seq in enumerate(seqs):
            if seq:
                ids[k, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
                mask[k, width - len(seq):] = 1
        return ids.to(self.device), mask.to(self.device)


def _right_aligned(lengths: list[int], width: int, device: torch.device) -> torch.Tensor:
    """An attention mask [rows, width]: each row's last ``lengths[row]`` positions are real."""
    return torch.tensor([[0] * (width - n) + [1] * n for n in lengths], dtype=torch.long,
                        device=device).reshape(len(lengths), width)


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that start at 0 on each row's first real token, whatever its left padding."""
    return (mask.cumsum(dim=-1) - 1).clamp(min=0)


def _chunks(sizes: list[int], most: int, forward_cost: int, tokens: int) -> list[list[int]]:
    """Split ascending ``sizes`` into consecutive batches of at most ``most`` rows and (unless
    one row is longer) ``tokens`` padded tokens, minimising the padded tokens plus
    ``forward_cost`` per batch (each batch pads to its last size)."""
    best = [0] + [sys.maxsize] * len(sizes)  # best[k]: the cost of the first k sizes
    cut = [0] * (len(sizes) + 1)
    for k in range(1, len(sizes) + 1):
        for j in range(k - 1, max(0, k - most) - 1, -1):
            if j < k - 1 and (k - j) * sizes[k - 1] > tokens:
                break
            cost = best[j] + forward_cost + (k - j) * sizes[k - 1]
            if cost < best[k]:
                best[k], cut[k] = cost, j
    bounds, k = [], len(sizes)
    while k:
        bounds.append((cut[k], k))
        k = cut[k]
    return [list(range(a, b)) for a, b in reversed(bounds)]


def _shares_kv(model: Any) -> bool:
    """Whether the engine may build the model's KV cache from cached prefix nodes: a
    transformers model whose cache is one plain (not sliding, not shared) layer per layer."""
    inner = _unwrap(model)
    if not isinstance(inner, PreTrainedModel):
        return False
    config = inner.config.get_text_config(decoder=True)
    if getattr(config, "num_kv_shared_layers", 0):
        return False
    layers = DynamicCache(config=inner.config).layers
    return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)


def _unwrap(model: Any) -> Any:
    # A PEFT wrapper forwards **kwargs; the base model's signature says which names it takes.
    return model.get_base_model() if hasattr(model, "get_base_model") else model
