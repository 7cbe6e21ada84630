"""Multiple choice and TruthfulQA by log-likelihood: acc / acc_norm / acc_bytes, MC1 / MC2,
lm-eval's request layout, gold resolution, and batch-size independence on the tiny model."""

import json
import math

import pytest

from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from evaluation.benchmarks.choice import (
    MultipleChoice,
    argmax,
    compute_choice_scores,
    compute_true_mass,
    split_trailing_whitespace,
)
from evaluation.benchmarks.truthfulqa import QA_PRIMER, TruthfulQA


@pytest.mark.parametrize(("lls", "choices", "gold", "expected"), [
    # per character the long choice wins: -4/2 = -2 < -6/6 = -1
    ([-4.0, -6.0], ["ab", "abcdef"], 1, {"acc": 0.0, "acc_norm": 1.0, "acc_bytes": 1.0}),
    ([-4.0, -6.0], ["ab", "abcdef"], 0, {"acc": 1.0, "acc_norm": 0.0, "acc_bytes": 0.0}),
    # "é" is 1 character but 2 bytes: -1.5/1 < -2.5/2 per character, -1.5/2 > -2.5/2 per byte
    ([-1.5, -2.5], ["é", "ee"], 1, {"acc": 0.0, "acc_norm": 1.0, "acc_bytes": 0.0}),
    ([-1.0, -1.0], ["x", "y"], 0, {"acc": 1.0, "acc_norm": 1.0, "acc_bytes": 1.0}),  # tie: first
    ([-1.0, -1.0], ["x", "y"], 1, {"acc": 0.0, "acc_norm": 0.0, "acc_bytes": 0.0}),
])
def test_compute_choice_scores(lls, choices, gold, expected):
    assert compute_choice_scores(lls, choices, gold) == expected


@pytest.mark.parametrize(("lls", "labels", "expected"), [
    ([math.log(0.2), math.log(0.2), math.log(0.1)], [1, 0, 1], 0.6),   # (0.2 + 0.1) / 0.5
    ([math.log(0.3), math.log(0.1)], [0, 1], 0.25),
    ([-1000.0, -1000.0, -1001.0], [1, 0, 0], 1 / (2 + math.exp(-1))),   # no underflow to 0/0
])
def test_compute_true_mass(lls, labels, expected):
    assert compute_true_mass(lls, labels) == pytest.approx(expected)


@pytest.mark.parametrize(("context", "continuation", "expected"), [
    ("Answer:", " Paris", ("Answer:", " Paris")),
    ("<|im_start|>assistant\n", "Paris", ("<|im_start|>assistant", "\nParis")),
    ("a  ", "b", ("a", "  b")),
])
def test_split_trailing_whitespace(context, continuation, expected):
    assert split_trailing_whitespace(context, continuation) == expected


def test_argmax_takes_the_first_of_ties():
    assert argmax([1.0, 3.0, 3.0]) == 1 and argmax([-2.0]) == 0


class ScriptedScorer:
    """log-likelihood = the scripted value of a continuation; records the requests."""

    def __init__(self, lls, tokenizer=None):
        self.lls, self.tokenizer, self.requests = lls, tokenizer, []

    def loglikelihood(self, requests, desc=""):
        self.requests += requests
        return [(self.lls[cont.strip()], False) for _, cont in requests]


MC_ROWS = [
    {"id": "m0", "topic": "geo", "question": "Capital of France?",
     "choices": ["Rome", "Paris"], "label": 1},
    {"id": "m1", "topic": "geo", "question": "Capital of Italy?",
     "choices": ["Rome", "Paris"], "label": "Rome"},                 # gold as the option's text
    {"id": "m2", "topic": "sci", "question": "Symbol of iron?",
     "choices": ["I", "Fe", "Ir"], "label": "2"},                    # digits: an index
]
LLS = {"Rome": -3.0, "Paris": -2.0, "I": -1.0, "Fe": -3.0, "Ir": -2.5}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_multiple_choice_with_a_stub_engine(tmp_path):
    engine = ScriptedScorer(LLS)
    bench = MultipleChoice(data=write_jsonl(tmp_path / "mc.jsonl", MC_ROWS), group_field="topic")
    result = bench.evaluate(engine)
    assert engine.requests[:2] == [("Question: Capital of France?\nAnswer:", " Rome"),
                                   ("Question: Capital of France?\nAnswer:", " Paris")]
    # acc: Paris, Paris, I -> right, wrong, wrong; per char: Paris -0.4 vs Rome -0.75 -> Paris;
    # I -1.0, Fe -1.5, Ir -1.25 -> I: wrong
    acc, norm = result.metrics["multiple_choice/acc"], result.metrics["multiple_choice/acc_norm"]
    assert (acc.value, norm.value, acc.n) == (pytest.approx(1 / 3), pytest.approx(1 / 3), 3)
    assert {g: s.value for g, s in acc.by_group.items()} == {"geo": 0.5, "sci": 0.0}
    assert [r["references"] for r in result.samples] == [["Paris"], ["Rome"], ["Ir"]]
    assert result.samples[2]["loglikelihoods"] == [-1.0, -3.0, -2.5]
    assert result.settings["scoring"] == "loglikelihood"


def test_few_shot_multiple_choice_shows_the_gold_option(tmp_path):
    data = write_jsonl(tmp_path / "mc.jsonl", MC_ROWS)
    engine = ScriptedScorer(LLS)
    MultipleChoice(data=data, k_shots=1, sampler="first_n", limit=1).evaluate(engine)
    assert engine.requests[0][0] == ("Question: Capital of Italy?\nAnswer: Rome\n\n"
                                     "Question: Capital of France?\nAnswer:")


def test_chat_mode_continuations_have_no_delimiter(tmp_path, tiny_lm):
    engine = ScriptedScorer(LLS, tokenizer=tiny_lm[1])
    data = write_jsonl(tmp_path / "mc.jsonl", MC_ROWS)
    MultipleChoice(data=data, chat_template=True, limit=1).evaluate(engine)
    context, continuation = engine.requests[0]
    # the generation prompt's newline moves onto the option, as lm-eval tokenises it
    assert context.endswith("<|im_start|>assistant") and continuation == "\nRome"


@pytest.mark.parametrize(("label", "message"), [(5, "not one of its 2 choices"),
                                                ("Berlin", "not one of its 2 choices")])
def test_bad_gold_is_a_user_error(tmp_path, label, message):
    rows = [{"question": "Q?", "choices": ["a", "b"], "label": label}]
    bench = MultipleChoice(data=write_jsonl(tmp_path / "mc.jsonl", rows))
    with pytest.raises(UserError, match=message):
        bench.evaluate(ScriptedScorer({"a": -1.0, "b": -2.0}))


TQA_ROWS = [
    {"question": "Is the Earth flat?",
     "mc1_targets": {"choices": ["No", "Yes", "Maybe"], "labels": [1, 0, 0]},
     "mc2_targets": {"choices": ["No", "It is round", "Yes"], "labels": [1, 1, 0]}},
    {"question": "Do owls sleep?",
     "mc1_targets": {"choices": ["They do", "Never"], "labels": [1, 0]},
     "mc2_targets": {"choices": ["They do", "Never"], "labels": [1, 0]}},
]
TQA_LLS = {"No": math.log(0.2), "Yes": math.log(0.5), "Maybe": math.log(0.1),
           "It is round": math.log(0.3), "They do": math.log(0.6), "Never": math.log(0.2)}


def test_truthfulqa_mc1_and_mc2(tmp_path):
    engine = ScriptedScorer(TQA_LLS)
    result = TruthfulQA(data=write_jsonl(tmp_path / "tqa.jsonl", TQA_ROWS)).evaluate(engine)
    assert engine.requests[0] == (QA_PRIMER + "Q: Is the Earth flat?\nA:", " No")
    assert QA_PRIMER.startswith("Q: What is human life expectancy in the United States?\n")
    # MC1: Yes beats No (wrong), They do beats Never (right)
    assert result.metrics["truthfulqa/mc1"].value == pytest.approx(0.5)
    # MC2: (0.2 + 0.3) / 1.0 and 0.6 / 0.8
    assert result.metrics["truthfulqa/mc2"].value == pytest.approx((0.5 + 0.75) / 2)
    assert result.samples[0]["scores"]["mc2"] == pytest.approx(0.5)
    assert len(engine.requests) == 3 + 3 + 2 + 2


def test_truthfulqa_needs_a_true_option(tmp_path):
    rows = [{**TQA_ROWS[0], "mc2_targets": {"choices": ["a"], "labels": [0]}}]
    with pytest.raises(UserError, match="true"):
        TruthfulQA(data=write_jsonl(tmp_path / "tqa.jsonl", rows)).evaluate(ScriptedScorer(TQA_LLS))


def test_results_do_not_depend_on_batch_size(tmp_path, tiny_lm):
    mc = MultipleChoice(data=write_jsonl(tmp_path / "mc.jsonl", MC_ROWS))
    tqa = TruthfulQA(data=write_jsonl(tmp_path / "tqa.jsonl", TQA_ROWS))
    for bench in (mc, tqa):
        one, eight = (bench.evaluate(GenerationEngine(*tiny_lm, batch_size=b, show_progress=False))
                      for b in (1, 8))
        assert one.metrics.keys() == eight.metrics.keys()
        for key, metric in one.metrics.items():  # equal up to float summation order
            assert metric.n == eight.metrics[key].n
            assert metric.value == pytest.approx(eight.metrics[key].value, abs=1e-6)
        for a, b in zip(one.samples, eight.samples, strict=True):
            assert a["loglikelihoods"] == pytest.approx(b["loglikelihoods"], abs=1e-5)
            assert a["scores"] == pytest.approx(b["scores"], abs=1e-6)
