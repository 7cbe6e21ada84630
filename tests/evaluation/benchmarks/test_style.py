"""Style statistics: per-response detectors, overlap, the benchmark's model-vs-reference metrics,
the shared greedy generation, and the shipped reference set."""

import json

import pytest

from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from evaluation.benchmarks.style import (
    HEDGES,
    REFUSALS,
    StyleStats,
    compute_style,
    compute_unigram_f1,
)
from tests import PROJECT_ROOT, load_script

ROOT = PROJECT_ROOT
REFERENCE = ROOT / "data" / "imitation" / "reference.jsonl"


@pytest.mark.parametrize(("text", "expected"), [
    ("- one\n- two", {"list": 1, "heading": 0}),
    ("Steps:\n1. mix\n2) bake", {"list": 1, "heading": 0}),
    ("**Bold** words in a sentence.", {"list": 0, "heading": 0}),
    ("## Start small\nRun a little.", {"list": 0, "heading": 1}),
    ("**Autumn Letter**\n\nThe maples write.", {"list": 0, "heading": 1}),
    ("#hashtag is not a heading\n-not a bullet", {"list": 0, "heading": 0}),
])
def test_list_and_heading_detection(text, expected):
    style = compute_style(text, REFUSALS, HEDGES)
    assert {k: style[k] for k in expected} == expected


@pytest.mark.parametrize(("text", "refusal", "hedge"), [
    ("I can\u2019t help with that.", 1, 0),           # curly apostrophe
    ("As an AI, I think it might rain.", 1, 1),
    ("The mayor said so.", 0, 0),                     # "may" only as a whole word
    ("It depends on the soil.", 0, 1),
    ("Plain answer.", 0, 0),
])
def test_refusal_and_hedge_phrases(text, refusal, hedge):
    style = compute_style(text, REFUSALS, HEDGES)
    assert (style["refusal"], style["hedge"]) == (refusal, hedge)


@pytest.mark.parametrize(("text", "reference", "f1"), [
    ("The cat sat", "the cat sat", 1.0), ("dog", "cat", 0.0), ("", "cat", 0.0),
    ("the cat sat", "the cat ran away", 4 / 7), ("a a b", "a c", 2 * (1 / 3) * (1 / 2) / (5 / 6))])
def test_unigram_f1(text, reference, f1):
    assert compute_unigram_f1(text, reference) == pytest.approx(f1)


class ResponseEngine:
    tokenizer = None

    def __init__(self, responses):
        self.responses, self.calls = responses, []

    def generate(self, prompts, settings, desc=""):
        self.calls.append(list(prompts))
        return [[self.responses.get(p, "")] for p in prompts]


def write_reference(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"id": "r1", "group": "g1", "prompt": "p1", "response": "- a\n- b"},
    {"id": "r2", "group": "g1", "prompt": "p2", "response": "- a\n- b c d"},
    {"id": "r3", "group": "g2", "prompt": "p3", "response": "one two three four five six"},
]


def test_model_values_are_reported_next_to_the_reference_values(tmp_path):
    # model lengths 4, 8, 12 words against the reference's 2, 4, 6: correlation exactly 1
    engine = ResponseEngine({"p1": "- w\n- x\n- y\n- z", "p2": "I'm sorry, but I cannot do it.",
                             "p3": "one two three four five six seven eight nine ten 11 12"})
    result = StyleStats(data=str(write_reference(tmp_path / "ref.jsonl", ROWS)),
                        chat_template=False).evaluate(engine)
    values = {k.split("/")[1]: m.value for k, m in result.metrics.items()}
    assert values["list_rate"] == pytest.approx(1 / 3)
    assert values["list_rate_reference"] == pytest.approx(2 / 3)
    assert values["refusal_rate"] == pytest.approx(1 / 3)
    assert values["refusal_rate_reference"] == 0.0
    assert values["mean_words"] == pytest.approx((4 + 8 + 12) / 3)
    assert values["mean_words_reference"] == pytest.approx((2 + 4 + 6) / 3)
    assert values["length_correlation"] == pytest.approx(1.0)
    assert result.metrics["style/refusal_rate"].higher_is_better is False
    assert set(result.metrics["style/unigram_f1"].by_group) == {"g1", "g2"}
    first = result.samples[0]
    assert first["generation"] == "- w\n- x\n- y\n- z" and first["references"] == ["- a\n- b"]
    assert first["score"] == 0.0 and result.samples[2]["score"] == pytest.approx(2 * 6 / 18)
    assert result.settings["prompt_format"] == "instruction/raw"
    assert result.settings["refusal_phrases"] == REFUSALS


def test_constant_lengths_leave_the_correlation_out(tmp_path):
    engine = ResponseEngine({"p1": "a b", "p2": "c d", "p3": "e f"})
    result = StyleStats(data=str(write_reference(tmp_path / "ref.jsonl", ROWS)),
                        chat_template=False).evaluate(engine)
    assert "style/length_correlation" not in result.metrics
    assert "style/mean_words" in result.metrics


@pytest.mark.parametrize(("rows", "message"), [
    ([{"id": "a", "prompt": "p"}], "lacks"), ([ROWS[0], ROWS[0]], "duplicate ids")])
def test_bad_reference_files_fail_at_load(tmp_path, rows, message):
    with pytest.raises(UserError, match=message):
        StyleStats(data=str(write_reference(tmp_path / "ref.jsonl", rows))).load_data()


def test_tiny_model_in_chat_template_mode(tiny_lm):
    engine = GenerationEngine(*tiny_lm, batch_size=4, show_progress=False)
    result = StyleStats(data=str(REFERENCE), limit=3, max_new_tokens=6).evaluate(engine)
    assert [r["id"] for r in result.samples] == ["ref-001", "ref-002", "ref-003"]
    assert all(r["prompt"].endswith("<|im_start|>assistant\n") for r in result.samples)
    assert result.metrics["style/mean_words"].value == pytest.approx(
        sum(r["style"]["words"] for r in result.samples) / 3)


def test_shipped_reference_matches_its_script_and_is_held_out():
    rows = StyleStats(data=str(REFERENCE)).load_data()
    assert len(rows) == 24 and {r["group"] for r in rows} >= {"explain", "refuse"}
    script = load_script(REFERENCE.parent / "make_reference.py")
    assert script.render() == REFERENCE.read_text(encoding="utf-8")
    assert not {r["prompt"].strip().lower() for r in rows} & sft_user_turns()


def sft_user_turns():
    """Every user turn of data/chats/chats.jsonl (its planted broken lines skipped)."""
    turns = set()
    lines = (ROOT / "data" / "chats" / "chats.jsonl").read_bytes().decode("utf-8", "replace")
    for line in lines.splitlines():
        try:
            messages = json.loads(line)["messages"]
            turns |= {m["content"].strip().lower() for m in messages if m["role"] == "user"}
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    assert len(turns) > 200  # the pool was actually read
    return turns
