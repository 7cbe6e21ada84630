"""Backend choice and the vLLM engine's translation of lessmore's requests. vLLM itself runs
only on GPUs: here a recording stand-in module checks what VLLMEngine asks of it and how it
reads the answers; the test against real vLLM runs where vLLM and a GPU are present."""

import importlib.machinery
import sys
import types
from dataclasses import dataclass

import pytest
import torch

from curation.core.config import UserError
from curation.core.engine import DecodeSettings, GenerationEngine, sample_seed
from curation.core.engine.backends import VLLMEngine, _sum_logprobs, build_engine, select_backend
from curation.core.models import ModelConfig, load_model


@dataclass
class FakeLogprob:
    logprob: float
    rank: int


class FakeLLM:
    """Records each ``generate`` call; answers text ``<prompt>|<seed>`` and fixed log-probs."""

    calls: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        config = types.SimpleNamespace(max_model_len=64)
        self.llm_engine = types.SimpleNamespace(model_config=config)

    def generate(self, requests, params, use_tqdm=True):
        FakeLLM.calls.append((requests, params))
        plist = params if isinstance(params, list) else [params] * len(requests)
        outs = []
        for req, p in zip(requests, plist, strict=True):
            if p.prompt_logprobs:
                ids = req["prompt_token_ids"]
                # token at position i gets log-prob -i/10; rank 1 except on odd ids
                lp = [None] + [{t: FakeLogprob(-i / 10, 2 if t % 2 else 1)}
                               for i, t in enumerate(ids) if i > 0]
                outs.append(types.SimpleNamespace(prompt_logprobs=lp, outputs=[]))
            else:
                text = types.SimpleNamespace(text=f"{req}|{p.seed}")
                outs.append(types.SimpleNamespace(outputs=[text]))
        return outs


class FakeSamplingParams:
    def __init__(self, **kwargs):
        self.__dict__.update({"prompt_logprobs": None, "seed": None, **kwargs})


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.__spec__ = importlib.machinery.ModuleSpec("vllm", None)
    module.LLM, module.SamplingParams = FakeLLM, FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    FakeLLM.calls = []
    return module


def test_auto_uses_transformers_without_vllm_or_gpu(tiny_model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import fails: not installed
    cfg = ModelConfig(path=str(tiny_model_dir), device="cpu", dtype="float32")
    assert select_backend(cfg) == "hf"
    assert isinstance(build_engine(cfg, show_progress=False), GenerationEngine)
    with pytest.raises(UserError, match="vLLM is not installed"):
        select_backend(ModelConfig(path=str(tiny_model_dir), backend="vllm"))
    with pytest.raises(UserError, match="unknown model.backend"):
        select_backend(ModelConfig(path=str(tiny_model_dir), backend="tgi"))


def test_auto_picks_vllm_on_a_gpu_but_not_for_adapters(fake_vllm, tiny_model_dir, tmp_path,
                                                       monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_backend(ModelConfig(path=str(tiny_model_dir))) == "vllm"
    assert select_backend(ModelConfig(path=str(tiny_model_dir), device="cpu")) == "hf"
    (tmp_path / "adapter_config.json").write_text("{}")
    assert select_backend(ModelConfig(path=str(tmp_path))) == "hf"


def test_generate_keeps_lessmore_seeds_order_and_stops(fake_vllm, tiny_model_dir):
    engine = VLLMEngine(ModelConfig(path=str(tiny_model_dir), backend="vllm"),
                        show_progress=False)
    assert engine.llm.kwargs["enable_prefix_caching"] is True
    greedy = engine.generate(["a", "b"], DecodeSettings(max_new_tokens=5, stop=["\n"],
                                                        num_return_sequences=3))
    assert greedy == [["a|None"] * 3, ["b|None"] * 3]  # decoded once, repeated
    _, params = FakeLLM.calls[-1]
    assert [p.temperature for p in params] == [0.0, 0.0] and params[0].stop == ["\n"]
    s = DecodeSettings(max_new_tokens=5, do_sample=True, temperature=0.5, top_k=0,
                       num_return_sequences=2, seed=7)
    sampled = engine.generate(["a", "b"], s)
    assert sampled == [[f"a|{sample_seed(s, 'a', 0)}", f"a|{sample_seed(s, 'a', 1)}"],
                       [f"b|{sample_seed(s, 'b', 0)}", f"b|{sample_seed(s, 'b', 1)}"]]
    _, params = FakeLLM.calls[-1]
    assert {p.top_k for p in params} == {-1} and {p.temperature for p in params} == {0.5}


def test_loglikelihood_sums_continuation_tokens_like_the_engine(fake_vllm, tiny_model_dir):
    engine = VLLMEngine(ModelConfig(path=str(tiny_model_dir), backend="vllm"),
                        show_progress=False)
    model, tok = load_model(ModelConfig(path=str(tiny_model_dir), device="cpu",
                                        dtype="float32"))
    ctx, cont = "the cat sat", " on the mat"
    results = engine.loglikelihood([(ctx, cont), ("", cont)])
    requests, _ = FakeLLM.calls[-1]
    ctx_ids = tok(ctx, add_special_tokens=False)["input_ids"]
    cont_ids = tok(cont, add_special_tokens=False)["input_ids"]
    assert requests[0]["prompt_token_ids"] == ctx_ids + cont_ids
    assert requests[1]["prompt_token_ids"][1:] == cont_ids  # empty context: one prefix token
    ids = ctx_ids + cont_ids
    total, greedy = results[0]
    # the fake gives position i log-prob -i/10: only the continuation's positions count
    assert total == pytest.approx(sum(-i / 10 for i in range(len(ctx_ids), len(ids))))
    assert greedy == all(t % 2 == 0 for t in cont_ids)
    assert results[1][0] == pytest.approx(sum(-i / 10 for i in range(1, len(cont_ids) + 1)))
    assert _sum_logprobs([None, {5: FakeLogprob(-0.5, 1)}], [9, 5], 0) == (-0.5, True)


def test_real_vllm_agrees_with_the_engine(tiny_model_dir):
    pytest.importorskip("vllm")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a GPU")
    cfg = ModelConfig(path=str(tiny_model_dir), dtype="float32", backend="vllm")
    prompts = ["Q: What is the capital of France?\nA:", "Q: Who wrote Hamlet?\nA:"]
    settings = DecodeSettings(max_new_tokens=8, stop=["\n"])
    hf = build_engine(ModelConfig(path=str(tiny_model_dir), dtype="float32", backend="hf"),
                      show_progress=False)
    vllm_engine = build_engine(cfg, show_progress=False)
    assert vllm_engine.generate(prompts, settings) == hf.generate(prompts, settings)
    pairs = [(p, " Paris") for p in prompts]
    for (a, ga), (b, gb) in zip(vllm_engine.loglikelihood(pairs), hf.loglikelihood(pairs),
                                strict=True):
        assert a == pytest.approx(b, abs=1e-3) and ga == gb
