"""The batched generation engine: batch-independence, sampling determinism, stopping, scoring."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache  # noqa: E402

from curation.core.engine import DecodeSettings, GenerationEngine  # noqa: E402
from curation.core.tiny import build_tiny_model  # noqa: E402

PROMPTS = [
    "Q: What is the capital of france?\nA:",
    "hello",
    "the river",
    "one two three four five six seven eight nine ten hundred thousand",
    "<|im_start|>user\nWhat is paris?<|im_end|>\n<|im_start|>assistant\n",
    "Q: Who wrote the book?\nA: The author.\n\nQ: What is the currency of japan?\nA:",
    "",
]
SAMPLED = DecodeSettings(max_new_tokens=12, do_sample=True, temperature=0.7, top_k=40,
                         num_return_sequences=3, seed=1)


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("tiny"))
    return AutoModelForCausalLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def engine(lm, batch_size=16):
    model, tok = lm
    return GenerationEngine(model, tok, batch_size=batch_size, show_progress=False)


def eos_ids(model, tok):
    config_eos = model.generation_config.eos_token_id
    return {tok.eos_token_id, *(config_eos if isinstance(config_eos, list) else [config_eos])}


def reference_greedy(model, tok, prompt, max_new_tokens):
    """Token ids of greedy decoding on one prompt: full forward each step, no cache, no padding."""
    ids = tok.encode(prompt, add_special_tokens=False) or [tok.bos_token_id]
    out: list[int] = []
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            token = int(model(torch.tensor([ids + out])).logits[0, -1].argmax())
            if token in eos_ids(model, tok):
                break
            out.append(token)
    return out


def test_greedy_matches_reference_for_any_batch_size(lm):
    model, tok = lm
    settings = DecodeSettings(max_new_tokens=16)
    outs = [engine(lm, bs).generate(PROMPTS, settings) for bs in (1, 3, 16)]
    assert outs[0] == outs[1] == outs[2]
    expected = [[tok.decode(reference_greedy(model, tok, p, 16), skip_special_tokens=True)]
                for p in PROMPTS]
    assert outs[0] == expected
    assert all(text for (text,) in outs[0][:-1])  # something was generated


def test_sampling_is_independent_of_batch_and_order(lm):
    base = engine(lm, 16).generate(PROMPTS, SAMPLED)
    assert base == engine(lm, 16).generate(PROMPTS, SAMPLED)  # deterministic across runs
    assert engine(lm, 1).generate(PROMPTS, SAMPLED) == base
    assert engine(lm, 4).generate(PROMPTS[::-1], SAMPLED) == base[::-1]
    assert all(len(c) == 3 for c in base)
    assert any(len(set(c)) > 1 for c in base)  # copies draw differently
    other = engine(lm, 16).generate(PROMPTS, DecodeSettings(**{**vars(SAMPLED), "seed": 2}))
    assert other != base


def test_sampling_degenerate_filters_equal_greedy(lm):
    greedy = engine(lm).generate(PROMPTS, DecodeSettings(max_new_tokens=10))
    for extra in ({"top_k": 1}, {"top_p": 1e-9}, {"temperature": 0.0}):
        s = DecodeSettings(max_new_tokens=10, do_sample=True, **extra)
        assert engine(lm).generate(PROMPTS, s) == greedy, extra


def test_num_return_sequences_keeps_caller_order(lm):
    eng = engine(lm, 4)
    greedy = eng.generate(PROMPTS, DecodeSettings(max_new_tokens=8, num_return_sequences=2))
    single = [eng.generate([p], DecodeSettings(max_new_tokens=8))[0][0] for p in PROMPTS]
    assert greedy == [[t, t] for t in single]
    sampled = eng.generate(PROMPTS, SAMPLED)
    assert [eng.generate([p], SAMPLED)[0] for p in PROMPTS[:3]] == sampled[:3]


def test_stop_string_cuts_output_and_stops(lm):
    full = engine(lm).generate(PROMPTS[:4], DecodeSettings(max_new_tokens=20))
    text = full[0][0]
    stop = text[len(text) // 2:len(text) // 2 + 3]
    cut = engine(lm, 2).generate(PROMPTS[:4], DecodeSettings(max_new_tokens=20, stop=[stop]))
    assert cut[0][0] == text[:text.index(stop)]
    for (before,), (after,) in zip(full, cut, strict=True):
        assert stop not in after and before.startswith(after)
        assert after == before.split(stop)[0]  # cut at the first occurrence, else untouched


def test_eos_stops_sequences(lm, monkeypatch):
    model, tok = lm
    refs = [reference_greedy(model, tok, p, 16) for p in PROMPTS]
    # EOS = a token each prompt but the first two emits early: most rows end within 3 steps
    # while two (of different lengths) run on, so finished rows are dropped from the batch.
    eos = {ids[2] for ids in refs[2:] if len(ids) > 2} - set(refs[0]) - set(refs[1])
    monkeypatch.setattr(model.generation_config, "eos_token_id", [tok.eos_token_id, *eos])
    expected = [[tok.decode(reference_greedy(model, tok, p, 16), skip_special_tokens=True)]
                for p in PROMPTS]
    assert sum(len(text) < len(tok.decode(ids)) for (text,), ids in zip(expected, refs, strict=True)) >= 4
    drops = []
    select = DynamicCache.batch_select_indices
    monkeypatch.setattr(DynamicCache, "batch_select_indices",
                        lambda cache, idx: drops.append(len(idx)) or select(cache, idx))
    greedy = DecodeSettings(max_new_tokens=16)
    assert engine(lm, 16).generate(PROMPTS, greedy) == expected
    assert drops and drops[0] >= 2  # finished rows were dropped; the two long ones remain
    assert engine(lm, 3).generate(PROMPTS, greedy) == expected
    sampled = engine(lm, 16).generate(PROMPTS, SAMPLED)
    assert sampled == engine(lm, 1).generate(PROMPTS, SAMPLED)


def direct_loglikelihood(model, tok, context, continuation):
    ctx = tok.encode(context, add_special_tokens=False)
    cont = tok.encode(continuation, add_special_tokens=False)
    with torch.inference_mode():
        logprobs = model(torch.tensor([ctx + cont])).logits[0].float().log_softmax(-1)
    rows = logprobs[len(ctx) - 1:len(ctx) - 1 + len(cont)]
    return float(rows[torch.arange(len(cont)), cont].sum()), rows.argmax(-1).tolist() == cont


def greedy_request(model, tok):
    """A (prompt, continuation) whose continuation re-encodes to the greedy tokens exactly."""
    for prompt in PROMPTS[:-1]:
        ids = reference_greedy(model, tok, prompt, 8)
        for k in range(len(ids), 0, -1):
            text = tok.decode(ids[:k])
            if tok.encode(text, add_special_tokens=False) == ids[:k]:
                return prompt, text
    raise AssertionError("no round-tripping greedy continuation")


def test_loglikelihood_matches_direct_computation(lm):
    model, tok = lm
    prompt, greedy_text = greedy_request(model, tok)
    requests = [(prompt, greedy_text), ("Q: What is the capital of france?\nA:", " Paris"),
                ("the", " river of rome and the city"), ("hello", " world"), (prompt, "x")]
    scores = [engine(lm, bs).loglikelihood(requests) for bs in (1, 2, 16)]
    for batch_scores in scores:
        for (lp, greedy), req in zip(batch_scores, requests, strict=True):
            ref_lp, ref_greedy = direct_loglikelihood(model, tok, *req)
            assert lp == pytest.approx(ref_lp, abs=1e-4)
            assert greedy == ref_greedy
    assert scores[0][0][1] is True
    assert engine(lm).loglikelihood([("hello", "")]) == [(0.0, True)]


def test_shared_prefix_cache_gives_the_same_outputs(lm):
    """Few-shot prompts sharing a long prefix: encoding it once equals encoding it per row."""
    model, tok = lm
    prefix = "Q: What is the capital of France?\nA: Paris\n\nQ: What is the capital of Spain?\nA:"
    prompts = [prefix + f" Madrid\n\nQ: What is the {w} of {v}?\nA:"
               for w, v in [("capital", "Italy"), ("river", "Rome"), ("city", "one two three"),
                            ("author", "it")]]
    for settings in (DecodeSettings(max_new_tokens=8),
                     DecodeSettings(max_new_tokens=8, do_sample=True, temperature=0.7, top_k=40,
                                    num_return_sequences=2, seed=3)):
        shared = GenerationEngine(model, tok, batch_size=8, show_progress=False,
                                  min_shared_prefix=4).generate(prompts, settings)
        alone = GenerationEngine(model, tok, batch_size=8, show_progress=False,
                                 min_shared_prefix=0).generate(prompts, settings)
        assert shared == alone


SHOTS = ["Q: What is the capital of France?\nA: Paris\n\n",
         "Q: Who wrote the book of the river?\nA: The author of one two three\n\n",
         "Q: What is the currency of japan?\nA: The yen, one two three four\n\n"]
ORDERS = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (0, 1), (2, 1, 0), (0, 2, 1)]  # last two repeat


def shot_prompts():
    """Few-shot prompts whose shots come in a different order per item (lm-eval's sampler)."""
    questions = ["capital of Italy", "river of Rome", "city", "author of it", "one two", "capital"]
    return ["".join(SHOTS[k] for k in order) + f"Q: What is the {q}?\nA:"
            for order, q in zip(ORDERS, questions, strict=True)]


def count_tokens(monkeypatch):
    """Real (unpadded) input tokens of every prefill forward (prompt tokens, not decode steps)."""
    seen: list[int] = []
    extend = GenerationEngine._extend

    def counting(self, paths, segments, starts, kv, *, keep):
        seen.append(sum(len(x) for x in segments))
        return extend(self, paths, segments, starts, kv, keep=keep)

    monkeypatch.setattr(GenerationEngine, "_extend", counting)
    return seen


def test_prefix_tree_shares_runs_of_shots_in_any_order(lm, monkeypatch):
    """Shots drawn in a different order per item: every shared run is encoded once, and the
    outputs (greedy, sampled, scores) equal encoding each prompt whole."""
    model, tok = lm
    prompts = shot_prompts() + shot_prompts()[-2:]  # and two exact duplicates
    tree = GenerationEngine(model, tok, batch_size=3, show_progress=False, min_shared_prefix=4)
    alone = GenerationEngine(model, tok, batch_size=3, show_progress=False, min_shared_prefix=0)
    greedy = DecodeSettings(max_new_tokens=6)
    sampled = DecodeSettings(max_new_tokens=6, do_sample=True, temperature=0.7, top_k=40,
                             num_return_sequences=2, seed=3)
    requests = [(p, x) for p in prompts[:4] for x in (" Paris", " Rome", " the river of it")]
    expected = [alone.generate(prompts, greedy), alone.generate(prompts, sampled),
                alone.loglikelihood(requests)]
    seen = count_tokens(monkeypatch)
    assert tree.generate(prompts, greedy) == expected[0]
    whole = sum(len(tok.encode(p, add_special_tokens=False)) for p in prompts)
    assert sum(seen) < 0.6 * whole  # the shared shots were encoded once
    assert tree.generate(prompts, sampled) == expected[1]
    for (lp, top), (ref_lp, ref_top) in zip(tree.loglikelihood(requests), expected[2], strict=True):
        assert lp == pytest.approx(ref_lp, abs=1e-4) and top == ref_top
    assert [x for (x,) in expected[0]] == [x for (x,) in GenerationEngine(
        model, tok, batch_size=16, show_progress=False).generate(prompts, greedy)]


def test_options_of_one_token_share_one_scoring_row(lm, monkeypatch):
    """lm-eval's trick for multiple choice: the options' context is run once, not per option."""
    model, tok = lm
    context = "Q: What is the capital of France?\nA:"
    options = [" one", " two", " A", " the"]
    assert all(len(tok.encode(o, add_special_tokens=False)) == 1 for o in options)
    seen = count_tokens(monkeypatch)
    scores = engine(lm).loglikelihood([(context, o) for o in options])
    assert len(seen) == 1 and seen[0] == len(tok.encode(context, add_special_tokens=False))
    for (lp, top), option in zip(scores, options, strict=True):
        ref_lp, ref_top = direct_loglikelihood(model, tok, context, option)
        assert lp == pytest.approx(ref_lp, abs=1e-4) and top == ref_top


@pytest.mark.parametrize(("sizes", "most", "tokens", "expected"), [
    ([1, 1, 1, 100], 16, 10_000, [[0, 1, 2], [3]]),        # padding 1s to 100 costs more
    ([90, 95, 100], 16, 10_000, [[0, 1, 2]]),              # a little padding beats a forward
    ([90, 99, 100], 2, 10_000, [[0], [1, 2]]),             # at most 2 rows a forward
    ([90, 95, 100], 16, 200, [[0, 1], [2]]),               # at most 200 padded tokens
    ([500], 16, 200, [[0]]),                               # one row longer than the cap
    ([], 16, 200, []),
])
def test_segments_are_batched_by_cost(sizes, most, tokens, expected):
    from curation.core.engine.prefill import _chunks
    assert _chunks(sizes, most, 48, tokens) == expected
