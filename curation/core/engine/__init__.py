"""The batched generation engine probing and evaluation share (DESIGN §3.1, §5).

- :mod:`.engine`: :class:`GenerationEngine`, greedy / sampled generation and log-likelihood
  scoring whose results depend only on the prompt and the settings, never on the batch;
- :mod:`.prefill`: forward passes that encode the token runs prompts share once
  (:mod:`.prefix_tree`), into a decode cache that appends in place (:mod:`.kvcache`);
- :mod:`.decoding`: the decode settings, seeded sampling, stop strings;
- :mod:`.packed_linear`: float32 CPU linears on oneDNN-packed weights while generating;
- :mod:`.backends`: transformers or vLLM, chosen from the model config (:func:`build_engine`);
- :mod:`.cached`: any engine with its results cached on disk per request (:class:`CachedEngine`).
"""

from .backends import build_engine, select_backend
from .cached import CachedEngine, open_cache
from .decoding import DecodeSettings, sample_seed
from .engine import GenerationEngine

__all__ = ["CachedEngine", "DecodeSettings", "GenerationEngine", "build_engine", "open_cache",
           "sample_seed", "select_backend"]
