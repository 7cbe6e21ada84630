"""ClosedBookQA: prompts, extraction, scoring with a stub engine and with the tiny model."""

import pytest

from curation.core.chat import build_qa_prompt
from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from evaluation.benchmarks.base import build_benchmarks
from evaluation.benchmarks.closed_book import ClosedBookQA
from evaluation.benchmarks.metrics import compute_exact_match, extract_short_answer


def test_stub_engine_gives_the_expected_exact_match(qa_file, scripted_engine):
    engine = scripted_engine({
        "What is the capital of Japan?": " Tokyo\nQ: next",     # right, first line only
        "What is the capital of Spain?": "the madrid.",         # right after normalisation
        "Who wrote Dracula?": "Stoker",                         # right: second alias
        "Who wrote Beloved?": "Morrison",                       # wrong: not an alias
    })
    result = ClosedBookQA(data=str(qa_file), k_shots=2).evaluate(engine)
    metric = result.metrics["closed_book_qa/exact_match"]
    assert (metric.value, metric.n) == (pytest.approx(3 / 6), 6)
    assert {g: (s.value, s.n) for g, s in metric.by_group.items()} == {
        "author": (pytest.approx(1 / 3), 3), "capital": (pytest.approx(2 / 3), 3)}
    assert [r["id"] for r in result.samples] == ["q2", "q3", "q4", "q7", "q8", "q9"]  # no pool row
    first = result.samples[0]
    assert set(first) == {"id", "group", "category", "prompt", "generation", "prediction",
                          "references", "score", "abstained"}
    assert first["prediction"] == "Tokyo" and first["references"] == ["Tokyo"]
    assert result.settings["chat_template"] is False and result.settings["stop"] == ["\n"]
    assert result.data_fingerprint.startswith("sha256:")


def test_prompt_uses_shared_format_and_same_group_exemplars(qa_file, scripted_engine):
    engine = scripted_engine({})
    ClosedBookQA(data=str(qa_file), k_shots=2, limit=1).evaluate(engine)
    assert engine.prompts == [build_qa_prompt("What is the capital of Japan?",
                                              [("What is the capital of France?", "Paris"),
                                               ("What is the capital of Italy?", "Rome")])]


def test_too_few_group_exemplars_are_topped_up_from_other_groups(qa_file, scripted_engine):
    engine = scripted_engine({})
    ClosedBookQA(data=str(qa_file), k_shots=3, limit=1).evaluate(engine)
    assert engine.prompts[0].count("Q: ") == 4  # 3 shots + the question
    assert "Who wrote Hamlet?" in engine.prompts[0]


def test_chat_template_mode_renders_the_training_template(qa_file, scripted_engine, tiny_lm):
    engine = scripted_engine({"What is the capital of Japan?": "Tokyo"}, tokenizer=tiny_lm[1])
    result = ClosedBookQA(data=str(qa_file), k_shots=2, chat_template=True).evaluate(engine)
    prompt = result.samples[0]["prompt"]
    assert prompt.startswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>")
    assert prompt.endswith("<|im_start|>assistant\n") and "Q: " not in prompt
    assert result.samples[0]["score"] == 1.0
    assert result.settings["chat_template"] is True
    assert result.settings["prompt_format"] == "qa/chat_template"


def test_tiny_model_scores_match_a_recomputation_from_samples(qa_file, tiny_lm):
    engine = GenerationEngine(*tiny_lm, batch_size=4, show_progress=False)
    result = ClosedBookQA(data=str(qa_file), k_shots=2, max_new_tokens=8).evaluate(engine)
    metric = result.metrics["closed_book_qa/exact_match"]
    assert metric.n == len(result.samples) == 6
    for row in result.samples:
        assert row["prediction"] == extract_short_answer(row["generation"])
        assert "\n" not in row["generation"]  # the stop string cut it
        assert row["score"] == compute_exact_match(row["prediction"], row["references"])
    assert metric.value == pytest.approx(sum(r["score"] for r in result.samples) / 6)


def test_results_do_not_depend_on_batch_size(qa_file, tiny_lm):
    bench = ClosedBookQA(data=str(qa_file), k_shots=2, max_new_tokens=8)
    one, eight = (bench.evaluate(GenerationEngine(*tiny_lm, batch_size=b, show_progress=False))
                  for b in (1, 8))
    assert one.samples == eight.samples
    assert one.metrics == eight.metrics


@pytest.mark.parametrize(("text", "expected"), [
    (" Paris", "Paris"), ("\n\n Rome \nmore", "Rome"), ("", ""), ("  \n ", "")])
def test_extract_short_answer(text, expected):
    assert extract_short_answer(text) == expected


def _suite(**fields):
    return {"cbqa": {"_target_": "evaluation.benchmarks.closed_book.ClosedBookQA", "data": "x.jsonl",
                     **fields}}


def test_build_benchmarks_checks_fields_and_applies_limit():
    (bench,) = build_benchmarks(_suite(k_shots=2), limit=5)
    assert isinstance(bench, ClosedBookQA) and (bench.k_shots, bench.limit) == (2, 5)
    with pytest.raises(UserError, match="k_shot"):
        build_benchmarks(_suite(k_shot=2))
    with pytest.raises(UserError, match="k_shots"):
        build_benchmarks(_suite(k_shots="four"))
    with pytest.raises(UserError, match="Benchmark class"):
        build_benchmarks({"x": {"_target_": "collections.OrderedDict"}})


def test_missing_split_or_file_is_a_user_error(qa_file, scripted_engine):
    with pytest.raises(UserError, match="no rows with split 'test'"):
        ClosedBookQA(data=str(qa_file), eval_split="test").evaluate(scripted_engine({}))
    with pytest.raises(UserError, match="k_shots=9"):
        ClosedBookQA(data=str(qa_file), k_shots=9).evaluate(scripted_engine({}))
    with pytest.raises(UserError, match="not found"):
        ClosedBookQA(data=str(qa_file) + ".missing").evaluate(scripted_engine({}))


CATEGORY_FACTS = [  # (group, split, question, answers, SliCK category from probing)
    ("capital", "exemplar", "What is the capital of France?", ["Paris"], None),
    ("capital", "exemplar", "What is the capital of Italy?", ["Rome"], None),
    ("capital", "heldout", "What is the capital of Japan?", ["Tokyo"], "HighlyKnown"),
    ("capital", "heldout", "What is the capital of Spain?", ["Madrid"], "HighlyKnown"),
    ("capital", "heldout", "What is the capital of Germany?", ["Berlin"], "Unknown"),
    ("author", "exemplar", "Who wrote Emma?", ["Jane Austen"], None),
    ("author", "exemplar", "Who wrote Hamlet?", ["William Shakespeare"], None),
    ("author", "heldout", "Who wrote Dracula?", ["Bram Stoker", "Stoker"], "Unknown"),
    ("author", "heldout", "Who wrote The Raven?", ["Edgar Allan Poe", "Poe"], "MaybeKnown"),
    ("author", "heldout", "Who wrote Beloved?", ["Toni Morrison"], "Unknown"),
]


def test_abstention_and_hallucination_rates_by_group_and_category(tmp_path, scripted_engine):
    import json

    with open(tmp_path / "qa.jsonl", "w", encoding="utf-8") as f:
        for i, (group, split, question, answers, category) in enumerate(CATEGORY_FACTS):
            row = {"id": f"q{i}", "question": question, "answers": answers, "group": group,
                   "split": split, "probe_category": category,
                   "probe_protocol": "quick (3 prompts x 2 samples; approximate)"}
            f.write(json.dumps(row) + "\n")
    engine = scripted_engine({                       # unscripted questions: "I don't know"
        "What is the capital of Japan?": "Tokyo",    # right
        "What is the capital of Spain?": "Lisbon",   # wrong: a hallucination
        "Who wrote Dracula?": "I don't know.",       # abstains (so does Germany)
        "Who wrote The Raven?": "Poe", "Who wrote Beloved?": "Toni Morrison"})
    result = ClosedBookQA(data=str(tmp_path / "qa.jsonl"), k_shots=2).evaluate(engine)
    metrics = result.metrics
    # the protocol that gave the categories travels with the scores split by them
    assert result.settings["category_protocol"] == "quick (3 prompts x 2 samples; approximate)"

    def values(key):
        m = metrics[f"closed_book_qa/{key}"]
        return (round(m.value, 4), m.n, m.higher_is_better,
                {g: (round(s.value, 4), s.n) for g, s in m.by_group.items()})

    assert values("exact_match") == (0.5, 6, True, {"author": (0.6667, 3), "capital": (0.3333, 3)})
    assert values("abstention_rate") == (0.3333, 6, False,
                                         {"author": (0.3333, 3), "capital": (0.3333, 3)})
    # wrong answers among the 4 non-abstentions: only Lisbon
    assert values("hallucination_rate") == (0.25, 4, False,
                                            {"author": (0.0, 2), "capital": (0.5, 2)})
    assert values("hallucination_rate,category")[3] == {
        "HighlyKnown": (0.5, 2), "MaybeKnown": (0.0, 1), "Unknown": (0.0, 1)}
    assert values("abstention_rate,category")[3] == {
        "HighlyKnown": (0.0, 2), "MaybeKnown": (0.0, 1), "Unknown": (0.6667, 3)}
    assert values("exact_match,category")[:2] == (0.5, 6)


def test_no_category_split_without_a_category_column(qa_file, scripted_engine):
    result = ClosedBookQA(data=str(qa_file), k_shots=2).evaluate(scripted_engine({}))
    assert "category_protocol" not in result.settings
    assert sorted(result.metrics) == ["closed_book_qa/abstention_rate",
                                      "closed_book_qa/exact_match",
                                      "closed_book_qa/hallucination_rate"]
    assert result.metrics["closed_book_qa/abstention_rate"].value == 1.0
    assert result.metrics["closed_book_qa/hallucination_rate"].n == 0


def test_idk_answer_is_the_one_curation_relabels_with():
    from curation.selectors import SelectConfig

    assert ClosedBookQA(data="x").idk_answers == [SelectConfig().idk_answer]
