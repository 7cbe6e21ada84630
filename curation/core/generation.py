"""The one batched generation engine, shared by knowledge probing and by evaluation.

The decoding loop is written here rather than delegated to ``model.generate`` so that a
prompt's completions depend only on the prompt and the settings, never on the batch size or on
which other prompts share its batch: left padding with matching ``position_ids``, one seeded
``torch.Generator`` per sampled sequence, and batches of prompts in token order. Token runs that
several prompts share are encoded once (:mod:`.prefix_tree`). On the CPU, generation runs the
float32 linear layers on weights packed once for oneDNN (:mod:`.packed_linear`), scoring on
PyTorch's default kernel. The batching and the kernel can change the order of float sums, so
log-likelihoods may differ in the last digits (~1e-7) and a near-tie could flip a greedy token;
nothing else depends on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache, PreTrainedModel
from transformers.cache_utils import DynamicLayer

from .kvcache import roomy_cache
from .packed_linear import PackedLinears
from .prefix_tree import PrefixPlan

# Per shared node of a PrefixPlan (key: its index) and per prompt tail (key: ~prompt index):
# its keys and values per layer, each [kv heads, tokens, head dim].
_NodeCache = dict[int, list[tuple[torch.Tensor, torch.Tensor]]]
# A forward pass costs about as much as this many more tokens in it (weights read, Python;
# fitted on SmolLM2-135M on 2 CPU cores): segments are batched to trade that against padding.
_FORWARD_COST_TOKENS = 48
# At most this many (padded) tokens per prefill forward of segments, bounding its activations.
_PREFILL_TOKENS = 8192


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
        self._plain_cache = _shares_kv(model)
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
        copies = n if _samples(settings) else 1
        ids = [self._encode(p) or [self.prefix_id] for p in prompts]
        # Every prompt keeps its last token for its own forward, which gives its first logits.
        plan = self._plan(ids, [len(x) - 1 for x in ids])
        per_batch = max(1, self.batch_size // copies)
        results: list[list[str]] = [[] for _ in prompts]
        kv: _NodeCache = {}
        with self._inference(packed=True), self._bar(len(prompts), desc) as bar:
            for start in range(0, len(plan.order), per_batch):
                chunk = plan.order[start:start + per_batch]
                outs = self._generate_batch(plan, chunk, kv, [prompts[i] for i in chunk],
                                            settings, copies)
                for i, texts in zip(chunk, outs, strict=True):
                    results[i] = texts * (n // copies)
                bar.update(len(chunk))
        return results

    def _generate_batch(self, plan: PrefixPlan, chunk: list[int], kv: _NodeCache,
                        prompts: list[str], s: DecodeSettings, copies: int) -> list[list[str]]:
        """Decode one batch: prefill once, expand the cache for copies, then step token by token."""
        firsts, mask, cache = self._prefill(plan, chunk, kv, keep=1, room=s.max_new_tokens)
        logits = torch.stack([x[-1] for x in firsts])
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

    # ---------------------------------------------------------------- shared prefixes

    def _plan(self, seqs: list[list[int]], shareable: list[int]) -> PrefixPlan:
        """The radix tree whose shared runs are encoded once (none when sharing is off)."""
        on = self.min_shared_prefix > 0 and self._plain_cache
        return PrefixPlan(seqs, shareable, self.min_shared_prefix if on else sys.maxsize)

    def _prefill(self, plan: PrefixPlan, rows: list[int], kv: _NodeCache, *, keep: int,
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
                kv: _NodeCache, *, keep: int
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
                kv: _NodeCache) -> list[tuple[torch.Tensor, torch.Tensor]]:
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
        kv: _NodeCache = {}
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


def _samples(s: DecodeSettings) -> bool:
    # A zero temperature means "no randomness": treat it as greedy rather than divide by zero.
    return s.do_sample and s.temperature > 0


def _right_aligned(lengths: list[int], width: int, device: torch.device) -> torch.Tensor:
    """An attention mask [rows, width]: each row's last ``lengths[row]`` positions are real."""
    return torch.tensor([[0] * (width - n) + [1] * n for n in lengths], dtype=torch.long,
                        device=device).reshape(len(lengths), width)


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


def _score(logits: torch.Tensor, cont: list[int]) -> tuple[float, bool]:
    """Summed log-prob of ``cont`` from the last ``len(cont)`` rows of ``logits``, and whether
    each of its tokens is the argmax."""
    rows = logits[-len(cont):].float().log_softmax(dim=-1)
    target = torch.tensor(cont, device=rows.device)
    picked = rows.gather(-1, target[:, None]).sum().item()
    return picked, bool((rows.argmax(dim=-1) == target).all())


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
