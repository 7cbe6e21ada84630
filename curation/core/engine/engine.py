"""The one batched generation engine, shared by knowledge probing and by evaluation.

The decoding loop is written here rather than delegated to ``model.generate`` so that a
prompt's completions depend only on the prompt and the settings, never on the batch size or on
which other prompts share its batch: left padding with matching ``position_ids``, one seeded
``torch.Generator`` per sampled sequence, and batches of prompts in token order. Token runs that
several prompts share are encoded once (:mod:`.prefill`, :mod:`.prefix_tree`). On the CPU, generation runs the
float32 linear layers on weights packed once for oneDNN (:mod:`.packed_linear`), scoring on
PyTorch's default kernel. The batching and the kernel can change the order of float sums, so
log-likelihoods may differ in the last digits (~1e-7) and a near-tie could flip a greedy token;
nothing else depends on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache

from .decoding import (
    DecodeRow,
    DecodeSettings,
    build_generator,
    cut_at_stop,
    filter_logits,
    find_eos_ids,
    is_sampling,
)
from .packed_linear import PackedLinears
from .prefill import NodeCache, PrefillEngine
from .prefix_tree import PrefixPlan


class GenerationEngine(PrefillEngine):
    """Batched greedy/sampled generation and log-likelihood scoring for a causal LM."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16,
                 show_progress: bool = True, min_shared_prefix: int = 16,
                 packed_linear: bool | None = None) -> None:
        """``batch_size`` counts sequences decoded at once (prompts x sampled copies).

        Runs of at least ``min_shared_prefix`` tokens that several prompts share (few-shot
        shots, in any order per item) are encoded once and their KV cache reused by each prompt
        (a radix tree over the prompts, :mod:`.prefix_tree`); 0 turns this off.

        ``packed_linear``: generate with the model's float32 CPU linear layers on weights
        pre-packed for oneDNN (:mod:`.packed_linear`); None = when they fit a quarter of memory.
        Log-likelihood scoring keeps PyTorch's default kernel, whose float sums are the ones
        lm-evaluation-harness gets (most scores agree with it to the last digit).
        """
        super().__init__(model, tokenizer, batch_size=batch_size,
                         min_shared_prefix=min_shared_prefix)
        self.show_progress = show_progress
        self.eos_ids = find_eos_ids(model, tokenizer)
        # Empty inputs need one token to condition on; lm-eval uses BOS, else EOS.
        self.prefix_id = next((t for t in (tokenizer.bos_token_id, tokenizer.eos_token_id)
                               if t is not None), self.pad_id)
        self.max_length = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        self._linears = PackedLinears(model, packed_linear)
        # Which linear kernel generates (result caches key on it: sums differ in the last digits)
        self.kernel = "onednn-packed" if self._linears.used else "default"

    # ---------------------------------------------------------------- generation

    def generate(self, prompts: list[str], settings: DecodeSettings, *,
                 desc: str = "generating") -> list[list[str]]:
        """For each prompt, settings.num_return_sequences completions (strings, in order)."""
        n = max(1, settings.num_return_sequences)
        if settings.max_new_tokens <= 0:
            return [[""] * n for _ in prompts]
        # Greedy copies are identical, so decode once and repeat the text.
        copies = n if is_sampling(settings) else 1
        ids = [self._encode(p) or [self.prefix_id] for p in prompts]
        # Every prompt keeps its last token for its own forward, which gives its first logits.
        plan = self._plan(ids, [len(x) - 1 for x in ids])
        per_batch = max(1, self.batch_size // copies)
        results: list[list[str]] = [[] for _ in prompts]
        kv: NodeCache = {}
        with self._inference(packed=True), self._bar(len(prompts), desc) as bar:
            for start in range(0, len(plan.order), per_batch):
                chunk = plan.order[start:start + per_batch]
                outs = self._generate_batch(plan, chunk, kv, [prompts[i] for i in chunk],
                                            settings, copies)
                for i, texts in zip(chunk, outs, strict=True):
                    results[i] = texts * (n // copies)
                bar.update(len(chunk))
        return results

    def _generate_batch(self, plan: PrefixPlan, chunk: list[int], kv: NodeCache,
                        prompts: list[str], s: DecodeSettings, copies: int) -> list[list[str]]:
        """Decode one batch: prefill once, expand the cache for copies, then step token by token."""
        firsts, mask, cache = self._prefill(plan, chunk, kv, keep=1, room=s.max_new_tokens)
        logits = torch.stack([x[-1] for x in firsts])
        if copies > 1:  # the prompt is encoded once; its copies share the prefill's KV cache
            cache.batch_repeat_interleave(copies)
            logits, mask = logits.repeat_interleave(copies, 0), mask.repeat_interleave(copies, 0)
        rows = [DecodeRow(build_generator(s, p, j, self.device) if is_sampling(s) else None)
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
        texts = [cut_at_stop(self._decode(row.tokens), s.stop) for row in rows]
        return [texts[k * copies:(k + 1) * copies] for k in range(len(prompts))]

    # ---------------------------------------------------------------- shared prefixes

    def _next_tokens(self, logits: torch.Tensor, rows: list[DecodeRow],
                     s: DecodeSettings) -> torch.Tensor:
        """Greedy argmax, or one draw per row from that row's own generator."""
        if not is_sampling(s):
            return logits.argmax(dim=-1)
        probs = filter_logits(logits.float(), s).softmax(dim=-1)
        picks = [torch.multinomial(probs[k], 1, generator=row.generator) if not row.done
                 else probs.new_full((1,), self.pad_id, dtype=torch.long)
                 for k, row in enumerate(rows)]
        return torch.cat(picks)

    def _append(self, row: DecodeRow, token: int, stop: list[str]) -> None:
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

    def _compact(self, rows: list[DecodeRow], active: list[int], mask: torch.Tensor,
                 next_ids: torch.Tensor, cache: DynamicCache
                 ) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        """Drop finished rows from the batch and cache once a quarter of them have finished
        (each finished row costs its share of every step; dropping it copies the cache)."""
        keep = [k for k, r in enumerate(active) if not rows[r].done]
        if len(keep) * 4 > len(active) * 3:  # not worth the copy yet
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
        Requests with the same model input (the options of a question whose continuations are
        one token each) share one forward row; shared few-shot prefixes are encoded once.
        """
        encoded = [self._encode_request(c, x) for c, x in requests]
        row_of: dict[tuple[int, ...], int] = {}
        inputs: list[list[int]] = []
        needed: list[int] = []  # per row: how many trailing positions' logits are scored
        users: list[list[int]] = []  # per row: the requests it serves
        for q, (inp, cont) in enumerate(encoded):
            if cont:
                r = row_of.setdefault(tuple(inp), len(inputs))
                if r == len(inputs):
                    inputs.append(inp), needed.append(0), users.append([])
                needed[r] = max(needed[r], len(cont))
                users[r].append(q)
        plan = self._plan(inputs, [len(x) - k for x, k in zip(inputs, needed, strict=True)])
        results: list[tuple[float, bool]] = [(0.0, True)] * len(requests)
        kv: NodeCache = {}
        with self._inference(), self._bar(len(requests), desc) as bar:
            bar.update(len(requests) - sum(len(u) for u in users))  # empty continuations
            for start in range(0, len(plan.order), self.batch_size):
                chunk = plan.order[start:start + self.batch_size]
                logits, _, _ = self._prefill(plan, chunk, kv, keep=max(needed[r] for r in chunk))
                for b, r in enumerate(chunk):
                    for q in users[r]:
                        results[q] = _score(logits[b], encoded[q][1])
                bar.update(sum(len(users[r]) for r in chunk))
        return results

    def _encode_request(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """(model input ids, continuation ids); the input is everything but the last token."""
        ctx = self._encode(context) or [self.prefix_id]
        cont = self._encode(continuation)
        whole = ctx + cont
        if self.max_length:
            whole = whole[-(self.max_length + 1):]
        return whole[:-1], cont

    # ---------------------------------------------------------------- helpers

    def _encode(self, text: str) -> list[int]:
        # The caller renders chat templates itself, so no BOS/EOS is added here.
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def _bar(self, total: int, desc: str) -> tqdm:
        return tqdm(total=total, desc=desc, disable=not self.show_progress, unit="prompt")

    @contextlib.contextmanager
    def _inference(self, *, packed: bool = False) -> Iterator[None]:
        """inference_mode, with the model in eval mode (dropout off) and restored afterwards;
        ``packed``: with the packed linear layers when the engine uses them."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode(), (self._linears.active() if packed
                                           else contextlib.nullcontext()):
                yield
        finally:
            self.model.train(was_training)


def _score(logits: torch.Tensor, cont: list[int]) -> tuple[float, bool]:
    """Summed log-prob of ``cont`` from the last ``len(cont)`` rows of ``logits``, and whether
    each of its tokens is the argmax."""
    rows = logits[-len(cont):].float().log_softmax(dim=-1)
    target = torch.tensor(cont, device=rows.device)
    picked = rows.gather(-1, target[:, None]).sum().item()
    return picked, bool((rows.argmax(dim=-1) == target).all())


