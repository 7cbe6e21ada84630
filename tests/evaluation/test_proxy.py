"""Proxy tuning on tiny models: large + alpha * (small tuned - small base), decoded by the engine."""

import json

import pytest
import torch

from curation.core.config import UserError, compose_config
from curation.core.engine import DecodeSettings, GenerationEngine
from curation.core.models import ModelConfig, load_model
from curation.core.tiny import build_tiny_model
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.config import ProxyConfig
from evaluation.proxy import ProxySpec, build_proxy_engine, resolve_proxy_targets
from evaluation.run import run

# a shared few-shot prefix (encoded once, its cache repeated) and suffixes of different lengths
PREFIX = "Q: What is the capital of France?\nA: Paris.\nQ: What is the capital of Italy?\nA: Rome.\n"
PROMPTS = [PREFIX + "Q: What is the capital of Spain?\nA:", PREFIX + "Q: Who wrote?\nA:",
           "the city of", "what is the river of the country of"]
GREEDY = DecodeSettings(max_new_tokens=12)


@pytest.fixture(scope="module")
def tiny_dirs(tiny_model_dir, cache_dir):
    """Three tiny Llamas with one tokenizer (different weights) and one with another vocabulary."""
    root = cache_dir / "models" / "tiny"
    return {"s0": tiny_model_dir, "s1": build_tiny_model(root, seed=1),
            "s2": build_tiny_model(root, seed=2),
            "other": build_tiny_model(cache_dir / "models" / "tiny-400", vocab_size=400)}


def cfg(path):
    return ModelConfig(name=path.name, path=str(path), dtype="float32", device="cpu")


def engine_of(path, batch_size=4):
    model, tokenizer = load_model(cfg(path))
    return GenerationEngine(model, tokenizer, batch_size=batch_size, show_progress=False)


def proxy_of(dirs, large, tuned, base, alpha, batch_size=4):
    return build_proxy_engine(ProxySpec(cfg(dirs[large]), cfg(dirs[tuned]), cfg(dirs[base]),
                                        alpha), batch_size=batch_size, show_progress=False)


def test_alpha_zero_is_the_large_model(tiny_dirs):
    proxy = proxy_of(tiny_dirs, "s0", "s1", "s2", alpha=0.0)
    large = engine_of(tiny_dirs["s0"])
    assert proxy.generate(PROMPTS, GREEDY) == large.generate(PROMPTS, GREEDY)
    ids = torch.tensor([proxy.tokenizer.encode("the capital of")])
    with torch.inference_mode():
        assert torch.equal(proxy.model(input_ids=ids).logits, large.model(input_ids=ids).logits)
    assert proxy.loglikelihood([("the capital", " of")]) == large.loglikelihood([("the capital",
                                                                                 " of")])


def test_large_equal_to_small_base_decodes_as_the_small_tuned_model(tiny_dirs):
    proxy = proxy_of(tiny_dirs, "s0", "s1", "s0", alpha=1.0)
    tuned = engine_of(tiny_dirs["s1"])
    outputs = proxy.generate(PROMPTS, GREEDY)
    assert outputs == tuned.generate(PROMPTS, GREEDY)
    assert outputs != engine_of(tiny_dirs["s0"]).generate(PROMPTS, GREEDY)  # it did move


def test_cached_decoding_equals_a_full_recompute_every_step(tiny_dirs):
    """alpha=0.5 over three different models: the engine's KV-cached, batched greedy decoding
    equals recomputing all three models on the whole sequence at every step."""
    proxy = proxy_of(tiny_dirs, "s0", "s1", "s2", alpha=0.5, batch_size=3)
    models = [load_model(cfg(tiny_dirs[k]))[0] for k in ("s0", "s1", "s2")]
    tok = proxy.tokenizer
    for prompt, (text,) in zip(PROMPTS, proxy.generate(PROMPTS, GREEDY), strict=True):
        ids = tok.encode(prompt, add_special_tokens=False)
        new = []
        with torch.inference_mode():
            for _ in range(GREEDY.max_new_tokens):
                large, tuned, base = (m(input_ids=torch.tensor([ids + new])).logits[0, -1]
                                      for m in models)
                token = int((large + 0.5 * (tuned - base)).argmax())
                if token in proxy.eos_ids:
                    break
                new.append(token)
        assert text == tok.decode(new, skip_special_tokens=True)


def test_sampled_copies_share_the_prefill_of_every_model(tiny_dirs):
    # tuned == base: the proxy is the large model exactly, through the cache repeats of copies
    settings = DecodeSettings(max_new_tokens=8, do_sample=True, num_return_sequences=3, seed=7)
    proxy = proxy_of(tiny_dirs, "s0", "s1", "s1", alpha=1.0)
    assert proxy.generate(PROMPTS, settings) == engine_of(tiny_dirs["s0"]).generate(PROMPTS,
                                                                                  settings)


def test_a_different_vocabulary_is_refused(tiny_dirs):
    with pytest.raises(UserError, match="one vocabulary"):
        proxy_of(tiny_dirs, "s0", "other", "s0", alpha=1.0)


def test_tokens_a_run_appended_are_left_out(tiny_dirs, tmp_path):
    """A tuned run whose tokenizer gained a token (the others' ids unchanged) is accepted; the
    proxy combines over the shared ids only, even where padded embeddings of the large model
    and the small base cover the new id, so it never emits the token they lack."""
    model, tokenizer = load_model(cfg(tiny_dirs["s1"]))
    tokenizer.add_tokens(["<|extra|>"])
    model.resize_token_embeddings(len(tokenizer))
    with torch.no_grad():
        model.get_output_embeddings().weight[-1] = 50.0  # it would win every step
    model.save_pretrained(tmp_path / "grown")
    tokenizer.save_pretrained(tmp_path / "grown")
    padded, padded_tokenizer = load_model(cfg(tiny_dirs["s0"]))
    padded.resize_token_embeddings(576)  # logits wider than the vocabulary, as many models pad
    padded.save_pretrained(tmp_path / "padded")
    padded_tokenizer.save_pretrained(tmp_path / "padded")
    dirs = {**tiny_dirs, "grown": tmp_path / "grown", "padded": tmp_path / "padded"}
    proxy = proxy_of(dirs, "padded", "grown", "padded", alpha=1.0)
    assert proxy.model.vocab_size == len(tokenizer) - 1 == len(padded_tokenizer)
    assert "<|extra|>" not in "".join(t for (t,) in proxy.generate(PROMPTS, GREEDY))


def test_small_base_defaults_to_the_tuned_runs_base(tiny_dirs, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text(json.dumps(
        {"stage": "train", "base_model": {"path": str(tiny_dirs["s2"])}}))
    large = cfg(tiny_dirs["s0"])
    (info, spec), (base_info, base_cfg) = resolve_proxy_targets(
        large, ProxyConfig(tuned=str(run_dir), alpha=0.5), compare_base=True)
    assert spec.base.path == str(tiny_dirs["s2"]) and spec.alpha == 0.5
    assert info.role == "tuned" and info.base == {"name": large.name, "path": large.path}
    assert base_info.role == "base" and base_cfg == large
    with pytest.raises(UserError, match="proxy.base"):
        resolve_proxy_targets(large, ProxyConfig(tuned=str(tiny_dirs["s1"])), compare_base=False)


def test_evaluate_runs_a_suite_with_proxy_decoding(tiny_dirs, tmp_path, qa_file):
    def evaluate(out, *overrides):
        return run(compose_config("evaluate", [
            "model=tiny", f"out={out}", f"suite.benchmarks.closed_book_qa.data={qa_file}",
            "suite.benchmarks.closed_book_qa.k_shots=2", "limit=3", "show_progress=false",
            "suite.benchmarks.closed_book_qa.max_new_tokens=6", *overrides]))

    proxy = evaluate(tmp_path / "proxy", f"model.path={tiny_dirs['s0']}",
                     f"proxy.tuned={tiny_dirs['s1']}", f"proxy.base={tiny_dirs['s0']}")
    alone = {k: evaluate(tmp_path / k, f"model.path={tiny_dirs[k]}")["model"] for k in ("s0", "s1")}

    def predictions(doc, role):
        path = tmp_path / doc / role / "samples" / "closed_book_qa.jsonl"
        return [json.loads(line)["prediction"] for line in path.read_text().splitlines()]

    assert proxy["tuned"]["model"]["name"].startswith("proxy(")
    assert proxy["tuned"]["model"]["base"]["path"] == str(tiny_dirs["s0"])
    # large == small base, alpha 1: the proxy answers as s1; the base (same cache dir) as s0
    assert predictions("proxy", "tuned") == predictions("s1", "model")
    assert predictions("proxy", "base") == predictions("s0", "model")
    assert predictions("s0", "model") != predictions("s1", "model")
    assert proxy["base"]["metrics"] == alone["s0"]["metrics"]
