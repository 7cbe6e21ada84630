"""Which engine generates and scores: lessmore's own ``GenerationEngine`` (transformers, any
device) or vLLM (GPUs, when it is installed). Both take the same prompts and ``DecodeSettings``
and return the same shapes, so probing and evaluation do not know which one ran.

``backend: auto`` picks vLLM when it is importable, a GPU is present and the model is a plain
folder or hub id (a LoRA adapter folder runs on transformers, merged); ``hf`` or ``vllm`` force one.
Samples keep lessmore's seeding rule: one request per (prompt, copy), seeded from (seed, copy,
prompt text), so a draw does not depend on batch composition in either engine (the two engines'
samplers differ, so their samples do not match each other; greedy answers agree up to ties).
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from ..errors import UserError
from ..models import ModelConfig, is_adapter_dir, load_model, load_tokenizer, resolve_model_path
from .decoding import DecodeSettings, sample_seed
from .engine import GenerationEngine

log = logging.getLogger(__name__)
BACKENDS = ("auto", "hf", "vllm")


def select_backend(cfg: ModelConfig) -> str:
    """``hf`` or ``vllm`` for this model config (see the module docstring)."""
    if cfg.backend not in BACKENDS:
        raise UserError(f"unknown model.backend {cfg.backend!r}; choose one of {BACKENDS}")
    available = importlib.util.find_spec("vllm") is not None
    if cfg.backend == "vllm" and not available:
        raise UserError("model.backend=vllm but vLLM is not installed (pip install vllm; it "
                        "needs a GPU); use model.backend=hf or auto")
    if cfg.backend != "auto":
        return cfg.backend
    import torch

    if not (available and torch.cuda.is_available() and cfg.device in ("auto", "cuda")):
        return "hf"
    if is_adapter_dir(resolve_model_path(cfg.path)):
        log.info("model %s is a LoRA adapter: generating with transformers (merged)", cfg.path)
        return "hf"
    return "vllm"


def build_engine(cfg: ModelConfig, *, batch_size: int = 16, show_progress: bool = True) -> Any:
    """The engine for ``cfg``: a ``GenerationEngine`` or a ``VLLMEngine``."""
    if select_backend(cfg) == "vllm":
        return VLLMEngine(cfg, show_progress=show_progress)
    model, tokenizer = load_model(cfg)
    return GenerationEngine(model, tokenizer, batch_size=batch_size, show_progress=show_progress,
                            packed_linear=cfg.packed_linear)


class VLLMEngine:
    """``GenerationEngine``'s interface on vLLM's offline ``LLM`` (continuous batching, prefix
    caching of the shared few-shot prefix, paged KV cache)."""

    model = None  # no transformers model in this process: result caches key on the path

    def __init__(self, cfg: ModelConfig, *, show_progress: bool = True) -> None:
        from vllm import LLM

        path = resolve_model_path(cfg.path)
        if is_adapter_dir(path):
            raise UserError(f"model {cfg.path!r} is a LoRA adapter; vLLM needs a merged model: "
                            "train with merge=true and point at RUN/merged, or use backend=hf")
        self.tokenizer = load_tokenizer(cfg)
        dtype = "auto" if cfg.dtype == "auto" else cfg.dtype
        self.llm = LLM(model=path, tokenizer=path, revision=cfg.revision, dtype=dtype,
                       trust_remote_code=cfg.trust_remote_code, enable_prefix_caching=True,
                       seed=0)
        self.show_progress = show_progress
        self.max_length = self.llm.llm_engine.model_config.max_model_len

    def generate(self, prompts: list[str], settings: DecodeSettings, *,
                 desc: str = "generating") -> list[list[str]]:
        """For each prompt, ``settings.num_return_sequences`` completions, in order."""
        from vllm import SamplingParams

        n = max(1, settings.num_return_sequences)
        if settings.max_new_tokens <= 0 or not prompts:
            return [[""] * n for _ in prompts]
        sampled = settings.do_sample and settings.temperature > 0
        copies = n if sampled else 1  # greedy copies are identical: decode once, repeat
        requests, params = [], []
        for prompt in prompts:
            for j in range(copies):
                requests.append(prompt)
                params.append(SamplingParams(
                    n=1, max_tokens=settings.max_new_tokens, stop=list(settings.stop) or None,
                    temperature=settings.temperature if sampled else 0.0,
                    top_k=settings.top_k if sampled and settings.top_k > 0 else -1,
                    top_p=settings.top_p if sampled else 1.0,
                    seed=sample_seed(settings, prompt, j) if sampled else None))
        outputs = self.llm.generate(requests, params, use_tqdm=self.show_progress)
        texts = [out.outputs[0].text for out in outputs]
        return [texts[i * copies:(i + 1) * copies] * (n // copies) for i in range(len(prompts))]

    def loglikelihood(self, requests: list[tuple[str, str]], *,
                      desc: str = "scoring") -> list[tuple[float, bool]]:
        """For each (context, continuation): summed log-prob of the continuation tokens and
        whether each was the top token (greedy), from vLLM's prompt log-probs; token ids are
        built as ``GenerationEngine`` builds them (context and continuation encoded apart)."""
        from vllm import SamplingParams

        ids, starts = [], []
        for context, continuation in requests:
            ctx = self._encode(context) or [self._prefix_id()]
            cont = self._encode(continuation)
            full = (ctx + cont)[-self.max_length:]
            ids.append(full)
            starts.append(len(full) - len(cont))
        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1,
                                detokenize=False)
        outputs = self.llm.generate([{"prompt_token_ids": x} for x in ids], params,
                                    use_tqdm=self.show_progress)
        return [_sum_logprobs(out.prompt_logprobs, x, start)
                for out, x, start in zip(outputs, ids, starts, strict=True)]

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []

    def _prefix_id(self) -> int:
        t = self.tokenizer
        return next(i for i in (t.bos_token_id, t.eos_token_id, t.pad_token_id, 0) if i is not None)


def _sum_logprobs(prompt_logprobs: list[Any], ids: list[int], start: int) -> tuple[float, bool]:
    """Sum of ``ids[start:]``'s log-probs; greedy when each had rank 1 (vLLM returns the
    prompt token's own entry beside the top one, each with its rank)."""
    total, greedy = 0.0, True
    for pos in range(max(start, 1), len(ids)):
        entry = prompt_logprobs[pos][ids[pos]]
        total += float(entry.logprob)
        greedy = greedy and entry.rank == 1
    return total, greedy
