"""Response NLL and IFD on the tiny model: span alignment with the training template, equality
with direct forward passes, per-turn scoring, truncation, failures, and the IFD filter."""

import math

import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

from curation.core.chat import CHATML_TRAINING_TEMPLATE
from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from curation.scores import (
    IFDFilter,
    ResponseScoreStep,
    build_turn_requests,
    truncate_left,
)
from curation.steps import apply_step

MULTI = [{"role": "system", "content": "You answer briefly."},
         {"role": "user", "content": "What is the capital of france?"},
         {"role": "assistant", "content": "Paris is the capital of France."},
         {"role": "user", "content": "And of japan?"},
         {"role": "assistant", "content": "\nTokyo, the city of one thousand rivers!"}]
SINGLE = [{"role": "user", "content": "Write python code to list one two three."},
          {"role": "assistant", "content": "print([1, 2, 3])  # one, two, three"}]
QA = [{"role": "user", "content": "What is the capital of italy?"},
      {"role": "assistant", "content": "Rome"}]


@pytest.fixture(scope="module")
def lm(tiny_model_dir):
    return (AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval(),
            AutoTokenizer.from_pretrained(tiny_model_dir))


def engine(lm, batch_size=8):
    return GenerationEngine(*lm, batch_size=batch_size, show_progress=False)


def rows(*conversations, qa=()):
    out = [{"id": f"c{i}", "origin": None, "messages": m, "answers": None}
           for i, m in enumerate(conversations)]
    return Dataset.from_list(out + [{"id": f"q{i}", "origin": None, "messages": m,
                                     "answers": ["Rome"]} for i, m in enumerate(qa)])


def encode(tok, text):
    return tok.encode(text, add_special_tokens=False)


def direct_mean_nll(model, context_ids, continuation_ids):
    """Mean NLL of the continuation tokens: one unpadded forward pass over context+continuation."""
    ids = torch.tensor([context_ids + continuation_ids])
    with torch.inference_mode():
        logprobs = model(input_ids=ids).logits[0].float().log_softmax(-1)
    start = len(context_ids)
    rows = logprobs[start - 1:-1]  # the positions that predict continuation tokens
    picked = rows.gather(-1, torch.tensor(continuation_ids)[:, None])
    return -picked.sum().item() / len(continuation_ids)


def test_ifd_spans_align_with_the_trained_tokens(lm):
    _, tok = lm
    turns = build_turn_requests(tok, MULTI)
    assert [t.index for t in turns] == [2, 4]
    rendered = tok.apply_chat_template(MULTI, chat_template=CHATML_TRAINING_TEMPLATE,
                                       tokenize=True, return_dict=True,
                                       return_assistant_tokens_mask=True)
    ids, mask = rendered["input_ids"], rendered["assistant_masks"]
    trained, run = [], []  # the runs of trained (assistant-masked) token ids
    for token, m in zip(ids, mask, strict=True):
        if m:
            run.append(token)
        elif run:
            trained, run = trained + [run], []
    trained += [run] if run else []
    for turn, trained_ids in zip(turns, trained, strict=True):
        assert turn.header == "<|im_start|>assistant\n" and turn.context.endswith(turn.header)
        cont = encode(tok, turn.continuation)
        assert cont == trained_ids  # the scored tokens are exactly the ones training puts loss on
        # joint tokenisation of either pass gives the same continuation ids (no merge at the seam)
        assert encode(tok, turn.context + turn.continuation) == encode(tok, turn.context) + cont
        assert encode(tok, turn.header + turn.continuation) == encode(tok, turn.header) + cont


def test_scores_equal_direct_forward_passes_per_turn(lm):
    model, tok = lm
    step = ResponseScoreStep(engine(lm), "tiny")
    out = apply_step(step, rows(MULTI, SINGLE, qa=[QA])).dataset
    assert not step.failures
    for row in out.select(range(2)):
        turns = build_turn_requests(tok, row["messages"])
        assert len(row["score_nll_turns"]) == len(turns) == len(row["score_ifd_turns"])
        for turn, nll, ifd in zip(turns, row["score_nll_turns"], row["score_ifd_turns"],
                                  strict=True):
            cont = encode(tok, turn.continuation)
            given = direct_mean_nll(model, encode(tok, turn.context), cont)
            alone = direct_mean_nll(model, encode(tok, turn.header), cont)
            assert nll == pytest.approx(given, abs=1e-4)
            assert ifd == pytest.approx(given / alone, abs=1e-4)
        assert row["score_nll"] == pytest.approx(sum(row["score_nll_turns"]) / len(turns))
        assert row["score_ifd"] == max(row["score_ifd_turns"])
    assert len(out[0]["score_ifd_turns"]) == 2  # multi-turn: one score per assistant turn
    qa = out[2]
    assert [qa[c] for c in ("score_nll", "score_ifd", "score_nll_turns", "score_ifd_turns")
            ] == [None] * 4


def test_scores_do_not_depend_on_the_batch(lm):
    ds = rows(MULTI, SINGLE, SINGLE[:1] + [{"role": "assistant", "content": "one two"}])
    a = apply_step(ResponseScoreStep(engine(lm, 1), "tiny"), ds).dataset["score_ifd_turns"]
    b = apply_step(ResponseScoreStep(engine(lm, 16), "tiny"), ds).dataset["score_ifd_turns"]
    assert sum(a, []) == pytest.approx(sum(b, []), abs=1e-5)


def test_long_rows_are_scored_on_a_left_truncated_context(lm):
    model, tok = lm
    long = [{"role": "user", "content": "the river of the city " * 30}, *MULTI[2:]]
    step = ResponseScoreStep(engine(lm), "tiny", max_length=40)
    out = apply_step(step, rows(long)).dataset[0]
    assert step.truncated == 2 and not step.failures  # both turns follow the long user turn
    turn = build_turn_requests(tok, long)[1]
    cont = encode(tok, turn.continuation)
    context = encode(tok, truncate_left(tok, turn.context, 40 - len(cont)))
    assert len(context) + len(cont) <= 40 < len(encode(tok, turn.context)) + len(cont)
    assert out["score_nll_turns"][1] == pytest.approx(direct_mean_nll(model, context, cont),
                                                      abs=1e-4)


def test_a_failing_turn_is_nan_and_counted(lm):
    _, tok = lm
    too_long = [*MULTI[:4], {"role": "assistant", "content": "one two three four " * 20}]
    step = ResponseScoreStep(engine(lm), "tiny", max_length=48)
    out = apply_step(step, rows(too_long, SINGLE)).dataset
    assert step.failures == {"response does not fit max_length 48": 1}
    bad, good = out[0], out[1]
    assert math.isfinite(bad["score_nll_turns"][0]) and math.isnan(bad["score_nll_turns"][1])
    assert math.isnan(bad["score_nll"]) and math.isnan(bad["score_ifd"])
    assert math.isfinite(good["score_nll"]) and math.isfinite(good["score_ifd"])


def test_non_finite_log_probs_are_nan_and_counted(lm):
    class InfiniteEngine:  # what an fp16 overflow looks like from outside
        tokenizer, max_length = lm[1], lm[0].config.max_position_embeddings

        def loglikelihood(self, requests, desc=""):
            return [(-math.inf, False)] * len(requests)

    step = ResponseScoreStep(InfiniteEngine(), "stub")
    out = apply_step(step, rows(SINGLE)).dataset[0]
    assert step.failures == {"non-finite log-likelihood": 1}
    assert math.isnan(out["score_ifd"]) and math.isnan(out["score_ifd_turns"][0])


def scored(*ifds):
    return Dataset.from_list([{"id": f"r{i}", "origin": None, "score_ifd": ifd,
                               "score_ifd_turns": turns}
                              for i, (ifd, turns) in enumerate(ifds)])


def test_ifd_filter_drops_rows_at_or_above_max_ifd_with_reason():
    ds = scored((1.07, [1.07]), (0.5, [0.5]), (None, None), (math.nan, [math.nan]),
                (1.2, [0.4, 1.2]), (1.0, [1.0]))
    result = apply_step(IFDFilter(), ds)
    assert result.dataset["id"] == ["r1", "r2", "r3"]
    reason = "the instruction does not help predict the response"
    assert [f["reason"] for f in result.filtered] == [
        f"IFD 1.07 ≥ 1: {reason}", f"IFD 1.20 ≥ 1: {reason} (assistant turn 2 of 2)",
        f"IFD 1.00 ≥ 1: {reason}"]
    assert {f["step"] for f in result.filtered} == {"ifd"}
    strict = apply_step(IFDFilter(max_ifd=0.4, drop_unscored=True), ds)
    assert strict.dataset["id"] == ["r2"]
    assert "IFD could not be computed" in [f["reason"] for f in strict.filtered]
    with pytest.raises(UserError, match="run the score step first"):
        apply_step(IFDFilter(), Dataset.from_list([{"id": "x"}]))


def test_score_then_filter_on_the_tiny_model(lm):
    ds = apply_step(ResponseScoreStep(engine(lm), "tiny"), rows(MULTI, SINGLE, qa=[QA])).dataset
    result = apply_step(IFDFilter(max_ifd=0.0), ds)  # every scored row is "at or above" 0
    assert result.dataset["id"] == ["q0"]
    assert all(f["reason"].startswith("IFD ") for f in result.filtered)


def test_scores_are_cached_per_row_and_resume_without_rescoring(lm, tmp_path):
    from curation.core.cache import ResultCache

    ds = rows(MULTI, SINGLE)
    with ResultCache(tmp_path / "c.sqlite", model="tiny") as cache:
        first = apply_step(ResponseScoreStep(engine(lm), "tiny", cache=cache), ds).dataset

    class NoModel:  # a resumed run must not score a cached row again
        tokenizer, max_length = lm[1], lm[0].config.max_position_embeddings

        def loglikelihood(self, *a, **k):
            raise AssertionError("a cached row was scored again")

    with ResultCache(tmp_path / "c.sqlite", model="tiny") as cache:
        again = apply_step(ResponseScoreStep(NoModel(), "tiny", cache=cache), ds).dataset
        assert cache.stats["hits"] == 2 and cache.stats["misses"] == 0
    assert again["score_ifd_turns"] == first["score_ifd_turns"]
    assert again["score_nll"] == first["score_nll"]


def test_rows_with_worked_solutions_are_scored_like_open_ended_ones(lm):
    """A question/answer row whose answer is a worked solution is open-ended: it gets NLL and
    IFD (it is not short-answer QA for SliCK's exact match); a short-answer row does not."""
    solution = "Add 2 and 3.\n2 + 3 = 5\n#### 5"
    ds = Dataset.from_list([
        {"id": "m0", "origin": None, "answers": [solution],
         "messages": [{"role": "user", "content": "What is 2 plus 3?"},
                      {"role": "assistant", "content": solution}]},
        {"id": "q0", "origin": None, "messages": QA, "answers": ["Rome"]}])
    out = apply_step(ResponseScoreStep(engine(lm), "tiny"), ds).dataset
    assert out["score_nll"][0] is not None and out["score_ifd"][0] is not None
    assert out["score_nll"][1] is None
