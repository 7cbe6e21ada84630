"""Generations are cached per (model, request, settings): a killed evaluation resumes without
recomputing what it finished, and reads back exactly what it computed."""

import types

import pytest
import torch

from curation.core.config import compose_config
from curation.core.generation import DecodeSettings, GenerationEngine
from evaluation import caching
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.caching import CachedEngine, open_cache
from evaluation.run import run


class Killed(RuntimeError):
    pass


@pytest.fixture
def counted(monkeypatch):
    """Count the prompts the real engine generates for; optionally die after n calls."""
    state = {"prompts": 0, "calls": 0, "die_after": None}
    original = GenerationEngine.generate

    def generate(self, prompts, settings, **kwargs):
        if state["die_after"] is not None and state["calls"] >= state["die_after"]:
            raise Killed("killed mid-run")
        state["calls"] += 1
        state["prompts"] += len(prompts)
        return original(self, prompts, settings, **kwargs)

    monkeypatch.setattr(GenerationEngine, "generate", generate)
    return state


def _evaluate(tmp_path, tiny_model_dir, qa_file, *extra):
    cfg = compose_config("evaluate", [
        "model=tiny", f"model.path={tiny_model_dir}", f"out={tmp_path / 'eval'}",
        f"suite.benchmarks.closed_book_qa.data={qa_file}",
        "suite.benchmarks.closed_book_qa.k_shots=2",
        "suite.benchmarks.closed_book_qa.max_new_tokens=6", "show_progress=false", *extra])
    return run(cfg)


def test_a_killed_evaluation_resumes_without_recomputing(tmp_path, tiny_model_dir, qa_file,
                                                         counted, monkeypatch):
    monkeypatch.setattr(caching, "CHUNK_SIZE", 2)  # commits every 2 prompts
    counted["die_after"] = 2  # the third chunk of the six held-out items dies
    with pytest.raises(Killed):
        _evaluate(tmp_path, tiny_model_dir, qa_file)
    assert counted["prompts"] == 4
    counted["die_after"] = None
    resumed = _evaluate(tmp_path, tiny_model_dir, qa_file)
    assert counted["prompts"] == 6  # only the last chunk was generated again

    fresh = _evaluate(tmp_path / "fresh", tiny_model_dir, qa_file, "cache_dir=null")
    assert resumed["model"]["metrics"] == fresh["model"]["metrics"]
    assert counted["prompts"] == 12  # no cache: all six generated
    again = _evaluate(tmp_path, tiny_model_dir, qa_file)
    assert counted["prompts"] == 12 and again == resumed  # all read back, same results


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
