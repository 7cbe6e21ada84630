"""Generations and log-likelihoods cached on disk per (model, request, settings), so a killed
evaluation resumes without recomputing, and a second suite over the same prompts is free.

:class:`CachedEngine` wraps any engine (transformers or vLLM) with the same ``generate`` /
``loglikelihood`` methods, so no benchmark knows it is there. Requests are handled in chunks of
``chunk_size``, each chunk committed to the SQLite cache at once (``curation.core.cache``): a kill
loses at most the chunk in flight. The model fingerprint (config and tokenizer files, weight
sizes, dtype and device) keys every value, so another model, precision or adapter is a miss.
A request's key holds everything that reaches the model, so scores read back equal those
computed: the engine's results do not depend on which requests share a batch (beyond
float rounding, ~1e-7 in a log-likelihood).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..cache import ResultCache, compute_key, compute_model_fingerprint, map_cached
from ..models import ModelConfig, resolve_model_path
from .decoding import DecodeSettings

CACHE_FILE = "generations.sqlite"
CHUNK_SIZE = 256  # requests per commit: a killed run redoes at most this many


class CachedEngine:
    """An engine whose results are read from ``cache`` where stored (see the module docstring);
    every other attribute (``tokenizer``, ``max_length``, ...) is the wrapped engine's."""

    def __init__(self, engine: Any, cache: ResultCache, *, chunk_size: int | None = None
                 ) -> None:
        self.engine, self.cache, self.chunk_size = engine, cache, chunk_size or CHUNK_SIZE

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def generate(self, prompts: list[str], settings: DecodeSettings, *,
                 desc: str = "generating") -> list[list[str]]:
        config = compute_key([dataclasses.asdict(settings), getattr(self.engine, "kernel", "-")])
        keys = [compute_key(["generate", p]) for p in prompts]
        return map_cached(
            keys, lambda idx: self.engine.generate([prompts[i] for i in idx], settings,
                                                   desc=desc),
            cache=self.cache, kind="generate", config=config, chunk_size=self.chunk_size,
            validate=lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v))

    def loglikelihood(self, requests: list[tuple[str, str]], *,
                      desc: str = "scoring") -> list[tuple[float, bool]]:
        keys = [compute_key(["loglikelihood", c, x]) for c, x in requests]
        values = map_cached(
            keys, lambda idx: [list(r) for r in self.engine.loglikelihood(
                [requests[i] for i in idx], desc=desc)],
            cache=self.cache, kind="loglikelihood", config="-", chunk_size=self.chunk_size,
            validate=lambda v: isinstance(v, list) and len(v) == 2)
        return [(float(lp), bool(greedy)) for lp, greedy in values]

    def close(self) -> None:
        self.cache.close()


def open_cache(cache_dir: str | Path, model_cfg: ModelConfig, engine: Any) -> ResultCache:
    """The result cache for one model under ``cache_dir``; vLLM results are keyed apart."""
    spec = model_cfg.path + ("#vllm" if getattr(engine, "llm", None) is not None else "")
    fingerprint = compute_model_fingerprint(spec, model_cfg.revision,
                                            resolve_model_path(model_cfg.path),
                                            getattr(engine, "model", None))
    return ResultCache(Path(cache_dir) / CACHE_FILE, model=fingerprint)
