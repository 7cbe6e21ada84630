"""Generations and log-likelihoods are cached per (model, request, settings): a hit is read
back exactly, a change of settings, kernel, dtype or device is a miss."""

import types

import torch

from curation.core.engine import CachedEngine, DecodeSettings, GenerationEngine, open_cache


def test_cache_keys_on_settings_and_model(tiny_lm, tiny_model_cfg, tmp_path, counted):
    model, tok = tiny_lm
    inner = GenerationEngine(model, tok, show_progress=False)
    engine = CachedEngine(inner, open_cache(tmp_path, tiny_model_cfg, inner))
    short, longer = DecodeSettings(max_new_tokens=3), DecodeSettings(max_new_tokens=5)
    first = engine.generate(["Q: a\nA:", "Q: b\nA:"], short)
    assert engine.generate(["Q: a\nA:", "Q: b\nA:"], short) == first and counted["prompts"] == 2
    engine.generate(["Q: a\nA:"], longer)
    assert counted["prompts"] == 3  # other settings: a miss
    other_kernel = "default" if inner.kernel != "default" else "onednn-packed"
    inner.kernel = other_kernel  # the other linear kernel sums in another order: a miss
    engine.generate(["Q: a\nA:"], longer)
    assert counted["prompts"] == 4
    pairs = [("Q: a\nA:", " x"), ("Q: b\nA:", " y")]
    scored = engine.loglikelihood(pairs)
    assert engine.loglikelihood(pairs) == scored and all(isinstance(g, bool) for _, g in scored)
    assert engine.tokenizer is tok  # everything else is the wrapped engine's
    # the engine's model says which dtype and device produced the values
    as_bf16 = types.SimpleNamespace(model=torch.nn.Linear(2, 2).to(torch.bfloat16))
    assert open_cache(tmp_path, tiny_model_cfg, as_bf16).model != engine.cache.model
