"""The one batched generation engine, shared by knowledge probing and by evaluation.

The decoding loop is written here rather than delegated to ``model.generate`` so that a
prompt's completions depend only on the prompt and the settings, never on the batch size or on
which other prompts share its batch: left padding with matching ``position_ids``, one seeded
``torch.Generator`` per sampled sequence, and batches built from length-sorted prompts.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache


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
class _Row:
    """One sequence being decoded: its generator, tokens so far, and whether it has ended."""

    generator: torch.Generator | None
    tokens: list[int] = field(default_factory=list)
    done: bool = False


class GenerationEngine:
    """Batched greedy/sampled generation and log-likelihood scoring for a causal LM."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16,
                 show_progress: bool = True, min_shared_prefix: int = 16) -> None:
        """``batch_size`` counts sequences decoded at once (prompts x sampled copies).

        When the prompts of a batch share at least ``min_shared_prefix`` leading tokens (a
        few-shot prefix), that prefix is encoded once and its KV cache shared by the batch;
        0 turns this off.
        """
        self.model, self.tokenizer = model, tokenizer
        self.batch_size = max(1, batch_size)
        self.show_progress = show_progress
        self.min_shared_prefix = min_shared_prefix
        self.device = next(model.parameters()).device
        self.eos_ids = _eos_ids(model, tokenizer)
        self.pad_id = next((t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id)
                            if t is not None), 0)
        # Empty inputs need one token to condition on; lm-eval uses BOS, else EOS.
        self.prefix_id = next((t for t in (tokenizer.bos_token_id, tokenizer.eos_token_id)
                               if t is not None), self.pad_id)
        params = inspect.signature(_unwrap(model).forward).parameters
        # transformers 5.x renamed ``past_key_values`` to ``cache``; support both spellings.
        self._cache_kwarg = "cache" if "cache" in params else "past_key_values"
        self._keeps_logits = "logits_to_keep" in params
        self.max_length = getattr(getattr(model, "config", None), "max_position_embeddings", None)

    # ---------------------------------------------------------------- generation

    def generate(self, prompts: list[str], settings: DecodeSettings, *,
                 desc: str = "generating") -> list[list[str]]:
        """For each prompt, settings.num_return_sequences completions (strings, in order)."""
        n = max(1, settings.num_return_sequences)
        if settings.max_new_tokens <= 0:
            return [[""] * n for _ in prompts]
        # Greedy copies are identical, so decode once and repeat the text.
        copies = n if _samples(settings) else 1
        ids = [self._encode(p) or [self.prefix_id] for p in prompts]
        # Sorting by token ids puts prompts that share a few-shot prefix side by side (and
        # similar lengths together), so a batch can encode its common prefix once.
        order = sorted(range(len(prompts)), key=lambda i: ids[i])
        per_batch = max(1, self.batch_size // copies)
        results: list[list[str]] = [[] for _ in prompts]
        with self._inference(), self._bar(len(prompts), desc) as bar:
            for chunk in self._plan_batches(ids, order, per_batch):
                outs = self._generate_batch([ids[i] for i in chunk], [prompts[i] for i in chunk],
                                            settings, copies)
                for i, texts in zip(chunk, outs, strict=True):
                    results[i] = texts * (n // copies)
                bar.update(len(chunk))
        return results

    def _generate_batch(self, ids: list[list[int]], prompts: list[str], s: DecodeSettings,
                        copies: int) -> list[list[str]]:
        """Decode one batch: prefill once, expand the cache for copies, then step token by token."""
        cache = DynamicCache(config=self.model.config)
        logits, mask = self._prefill(ids, cache)
        if copies > 1:  # the prompt is encoded once; its copies share the prefill's KV cache
            cache.batch_repeat_interleave(copies)
            logits, mask = logits.repeat_interleave(copies, 0), mask.repeat_interleave(copies, 0)
        rows = [_Row(_generator(s, p, j, self.device) if _samples(s) else None)
                for p in prompts for j in range(copies)]
        active = list(range(len(rows)))  # which row each batch position holds
        for step in range(s.max_new_tokens):
            next_ids = self._next_tokens(logits, [rows[r] for r in active], s)
            for r, token in zip(active, next_ids.tolist(), strict=True):
                self._append(rows[r], token, s.stop)
            if step == s.max_new_tokens - 1 or all(rows[r].done for r in active):
                break
            active, mask, next_ids = self._compact(rows, active, mask, next_ids, cache)
            mask = torch.cat([mask, mask.new_ones(len(active), 1)], dim=1)
            logits = self._forward(next_ids[:, None], mask, (mask.sum(1) - 1)[:, None], cache,
                                   keep=1)[:, -1]
        texts = [_cut_at_stop(self._decode(row.tokens), s.stop) for row in rows]
        return [texts[k * copies:(k + 1) * copies] for k in range(len(prompts))]

    def _plan_batches(self, ids: list[list[int]], order: list[int], per_batch: int
                      ) -> list[list[int]]:
        """Consecutive runs of ``order``, at most ``per_batch`` long, cut early where the next
        prompt would lose most of the few-shot prefix the batch's prompts share, but only once
        the batch is half full: prompts whose shots come in a different order per item (lm-eval's
        sampler) share ever shorter prefixes, and batches of 2 would cost more decode steps than
        the prefix saves."""
        batches: list[list[int]] = []
        shared = 0  # tokens every prompt of the current batch shares
        for i in order:
            if batches and len(batches[-1]) < per_batch:
                batch = batches[-1]
                joined = min(shared, _common_prefix_len([ids[batch[0]], ids[i]]))
                if not (self.min_shared_prefix and len(batch) > 1 and len(batch) * 2 >= per_batch
                        and shared >= self.min_shared_prefix and joined * 2 < shared):
                    batch.append(i)
                    shared = joined
                    continue
            batches.append([i])
            shared = len(ids[i])
        return batches

    def _prefill(self, ids: list[list[int]], cache: DynamicCache
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a batch of prompts into ``cache``; returns last-position logits and the mask.

        A prefix shared by every prompt is encoded once and its cache repeated; the suffixes
        follow, left-padded, so the padding sits between prefix and suffix (masked out, and
        position ids count real tokens only).
        """
        shared = _common_prefix_len(ids) if len(ids) > 1 and self.min_shared_prefix else 0
        shared = min(shared, min(len(x) for x in ids) - 1)  # every row keeps a suffix token
        if shared < max(1, self.min_shared_prefix):
            input_ids, mask = self._left_pad(ids)
            return self._forward(input_ids, mask, _positions(mask), cache, keep=1)[:, -1], mask
        prefix = torch.tensor([ids[0][:shared]], device=self.device)
        self._forward(prefix, torch.ones_like(prefix), _positions(torch.ones_like(prefix)), cache,
                      keep=1)
        cache.batch_repeat_interleave(len(ids))
        suffix_ids, suffix_mask = self._left_pad([x[shared:] for x in ids])
        mask = torch.cat([suffix_mask.new_ones(len(ids), shared), suffix_mask], dim=1)
        positions = shared + _positions(suffix_mask)
        return self._forward(suffix_ids, mask, positions, cache, keep=1)[:, -1], mask

    def _next_tokens(self, logits: torch.Tensor, rows: list[_Row],
                     s: DecodeSettings) -> torch.Tensor:
        """Greedy argmax, or one draw per row from that row's own generator."""
        if not _samples(s):
            return logits.argmax(dim=-1)
        probs = _filter_logits(logits.float(), s).softmax(dim=-1)
        picks = [torch.multinomial(probs[k], 1, generator=row.generator) if not row.done
                 else probs.new_full((1,), self.pad_id, dtype=torch.long)
                 for k, row in enumerate(rows)]
        return torch.cat(picks)

    def _append(self, row: _Row, token: int, stop: list[str]) -> None:
        """Record a token; EOS ends the row (and is not kept), so does a stop string in its text."""
        if row.done:
            return
        if token in self.eos_ids:
            row.done = True
            return
        row.tokens.append(token)
        # Checked on this row's own decoded text, since stop strings can span several tokens.
        if stop and any(st and st in self._decode(row.tokens) for st in stop):
            row.done = True

    def _compact(self, rows: list[_Row], active: list[int], mask: torch.Tensor,
                 next_ids: torch.Tensor, cache: DynamicCache
                 ) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        """Drop finished rows from the batch and cache once more than half have finished."""
        keep = [k for k, r in enumerate(active) if not rows[r].done]
        if len(keep) * 2 >= len(active):  # not worth the copy yet
            return active, mask, next_ids
        idx = torch.tensor(keep, device=mask.device)
        cache.batch_select_indices(idx)
        return [active[k] for k in keep], mask[idx], next_ids[idx]

    # ---------------------------------------------------------------- scoring

    def loglikelihood(self, requests: list[tuple[str, str]], *,
                      desc: str = "scoring") -> list[tuple[float, bool]]:
        """For each (context, continuation): the summed log-prob of the continuation tokens
        given the context, and whether greedy decoding would produce exactly those tokens.

        Context and continuation are encoded separately and their ids concatenated; an empty
        context is replaced by the BOS (else EOS) token, and over-long inputs are cut on the left.
        """
        encoded = [self._encode_request(c, x) for c, x in requests]
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i][0]))
        results: list[tuple[float, bool]] = [(0.0, True)] * len(requests)
        with self._inference(), self._bar(len(requests), desc) as bar:
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                scores = self._score_batch([encoded[i] for i in chunk])
                for i, score in zip(chunk, scores, strict=True):
                    results[i] = score
                bar.update(len(chunk))
        return results

    def _encode_request(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """(model input ids, continuation ids); the input is everything but the last token."""
        ctx = self._encode(context) or [self.prefix_id]
        cont = self._encode(continuation)
        whole = ctx + cont
        if self.max_length:
            whole = whole[-(self.max_length + 1):]
        return whole[:-1], cont

    def _score_batch(self, batch: list[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
        """Score one batch; left padding puts every continuation at the right edge of its row."""
        input_ids, mask = self._left_pad([inp for inp, _ in batch])
        # Only the positions that predict continuation tokens need the vocab projection.
        keep = max(1, max(len(cont) for _, cont in batch))
        logits = self._forward(input_ids, mask, _positions(mask), keep=keep)
        out = []
        for k, (_, cont) in enumerate(batch):
            if not cont:
                out.append((0.0, True))
                continue
            rows = logits[k, -len(cont):].float().log_softmax(dim=-1)
            target = torch.tensor(cont, device=rows.device)
            picked = rows.gather(-1, target[:, None]).sum().item()
            out.append((picked, bool((rows.argmax(dim=-1) == target).all())))
        return out

    # ---------------------------------------------------------------- helpers

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

    def _encode(self, text: str) -> list[int]:
        # The caller renders chat templates itself, so no BOS/EOS is added here.
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def _bar(self, total: int, desc: str) -> tqdm:
        return tqdm(total=total, desc=desc, disable=not self.show_progress, unit="prompt")

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        """inference_mode, with the model in eval mode (dropout off) and restored afterwards."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                yield
        finally:
            self.model.train(was_training)


def _samples(s: DecodeSettings) -> bool:
    # A zero temperature means "no randomness": treat it as greedy rather than divide by zero.
    return s.do_sample and s.temperature > 0


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that start at 0 on each row's first real token, whatever its left padding."""
    return (mask.cumsum(dim=-1) - 1).clamp(min=0)


def _filter_logits(logits: torch.Tensor, s: DecodeSettings) -> torch.Tensor:
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


def _generator(s: DecodeSettings, prompt: str, index: int, device: torch.device
               ) -> torch.Generator:
    """A generator seeded by (seed, prompt text, copy index): the same draws in any batch."""
    return torch.Generator(device=device).manual_seed(sample_seed(s, prompt, index))


def sample_seed(s: DecodeSettings, prompt: str, index: int) -> int:
    """The seed of one sampled sequence, from (settings seed, copy index, prompt text) alone."""
    key = f"{s.seed}\x00{index}\x00{prompt}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") & ((1 << 63) - 1)


def _common_prefix_len(seqs: list[list[int]]) -> int:
    first, n = seqs[0], min(len(x) for x in seqs)
    for k in range(n):
        if any(x[k] != first[k] for x in seqs):
            return k
    return n


def _cut_at_stop(text: str, stop: list[str]) -> str:
    """The text before the earliest occurrence of any stop string."""
    cuts = [i for i in (text.find(st) for st in stop if st) if i >= 0]
    return text[:min(cuts)] if cuts else text


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """EOS ids from the tokenizer and from the model's generation config (int or list)."""
    ids = {tokenizer.eos_token_id}
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(config_eos if isinstance(config_eos, list | tuple) else [config_eos])
    return {int(i) for i in ids if i is not None}


def _unwrap(model: Any) -> Any:
    # A PEFT wrapper forwards **kwargs; the base model's signature says which names it takes.
    return model.get_base_model() if hasattr(model, "get_base_model") else model
