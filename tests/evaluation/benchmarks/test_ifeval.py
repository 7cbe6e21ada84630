"""IFEval: every instruction checker (strict and loose), the language detector, loading and
scoring with a stub engine, and the shipped sample prompts."""

import importlib.util
import json

import pytest

from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from evaluation.benchmarks.ifeval import IFEval
from evaluation.benchmarks.ifeval_checks import (
    CHECKS,
    check_instruction,
    count_sentences,
    count_words,
)
from evaluation.benchmarks.language import LANGUAGES, detect_language
from tests import PROJECT_ROOT

ROOT = PROJECT_ROOT
SAMPLE = ROOT / "data" / "ifeval" / "input_data.jsonl"

# (instruction id, kwargs, response, strict, loose)
CASES = [
    ("keywords:existence", {"keywords": ["insulated", "leak-proof"]},
     "An Insulated, leak-proof bottle.", True, True),
    ("keywords:existence", {"keywords": ["insulated", "leak-proof"]}, "An insulated bottle.",
     False, False),
    ("keywords:existence", {"keywords": ["leak-proof"]}, "A **leak**-proof lid.", False, True),
    ("keywords:frequency", {"keyword": "interest", "frequency": 3, "relation": "at least"},
     "Interest on interest is compound interest.", True, True),
    ("keywords:frequency", {"keyword": "interest", "frequency": 3, "relation": "at least"},
     "Interest on interest.", False, False),
    ("keywords:frequency", {"keyword": "light", "frequency": 2, "relation": "less than"},
     "One light.", True, True),
    ("keywords:frequency", {"keyword": "light", "frequency": 2, "relation": "less than"},
     "Light after light.", False, False),
    ("keywords:forbidden_words", {"forbidden_words": ["sun"]}, "A sunset glows.", True, True),
    ("keywords:forbidden_words", {"forbidden_words": ["sun"]}, "The Sun sets.", False, False),
    ("keywords:letter_frequency", {"letter": "b", "let_frequency": 4, "let_relation": "at least"},
     "Big bread, best bakery.", True, True),
    ("keywords:letter_frequency", {"letter": "b", "let_frequency": 4, "let_relation": "at least"},
     "Big bread.", False, False),
    ("language:response_language", {"language": "es"},
     "La bicicleta es un invento muy antiguo y todavía se usa en todo el mundo.", True, True),
    ("language:response_language", {"language": "es"},
     "The bicycle is an old invention and it is still used all over the world.", False, False),
    ("language:response_language", {"language": "es"}, "Bicicleta.", False, False),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"},
     "Dr. Smith paid 3.50 dollars. He left!", True, True),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"},
     "One. Two! Three?", False, False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}, "a\n***\nb\n***\nc",
     True, True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}, "a\n***\nb", False, False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3},
     "a\n***\n***\nb\n***\nc", False, False),
    ("length_constraints:number_words", {"num_words": 5, "relation": "less than"},
     "one two three", True, True),
    ("length_constraints:number_words", {"num_words": 5, "relation": "less than"},
     "one two three four five", False, False),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "moreover"},
     "First part.\n\n\"Moreover,\" she said.", True, True),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "moreover"},
     "First part.\n\nAlso this.", False, False),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] on [date]",
     True, True),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] only",
     False, False),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\np.s. see you",
     True, True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi. PS see you",
     False, False),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi.\nP.P.S. more",
     True, True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "**Title**\n* a\n- b",
     True, True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* a\n- b\n* c",
     False, True),  # loose: without the first line (or without the asterisks) two remain
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "- a\n- b\n- c\n- d\n- e",
     False, False),
    ("detectable_format:constrained_response", {}, "My answer is maybe.", True, True),
    ("detectable_format:constrained_response", {}, "Maybe.", False, False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2},
     "*one* and **two**", True, True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2},
     "*one* and ** **", False, False),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 2},
     "SECTION 1\na\nSECTION 2\nb", True, True),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": 2},
     "SECTION 1\na", False, False),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', True, True),
    ("detectable_format:json_format", {}, 'Sure:\n{"a": 1}', False, True),
    ("detectable_format:json_format", {}, "{'a': 1}", False, False),
    ("detectable_format:title", {}, "<<Rain>>\nDrops fall.", True, True),
    ("detectable_format:title", {}, "<< >> Drops fall.", False, False),
    ("combination:two_responses", {}, "Brew Bar\n******\nBean There", True, True),
    ("combination:two_responses", {}, "Brew Bar\n******\nBrew Bar", False, False),
    ("combination:two_responses", {}, "a\n******\n******\nb", False, False),
    ("combination:repeat_prompt", {"prompt_to_repeat": "What should I pack?"},
     "what should I pack? Water.", True, True),
    ("combination:repeat_prompt", {"prompt_to_repeat": "What should I pack?"},
     "Sure!\nWhat should I pack? Water.", False, True),
    ("startend:end_checker", {"end_phrase": "Sleep well tonight."},
     "Dim the lights. \"Sleep well tonight.\"", True, True),
    ("startend:end_checker", {"end_phrase": "Sleep well tonight."},
     "Rest.\nSleep well tonight.\nAny questions?", False, True),
    ("startend:end_checker", {"end_phrase": "Sleep well tonight."},
     "Sleep well tonight. Bye now", False, False),
    ("startend:quotation", {}, '  "Fresh bread."  ', True, True),
    ("startend:quotation", {}, 'Fresh "bread"', False, False),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"},
     "VERY BIG news", True, True),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"},
     "Very big NEWS", False, False),
    ("change_case:capital_word_frequency",
     {"capital_frequency": 2, "capital_relation": "less than"}, "A well-KNOWN fact", True, True),
    ("change_case:english_capital", {}, "GO TEAM GO! WE ARE THE BEST IN THE WORLD.", True, True),
    ("change_case:english_capital", {}, "Go team! We are the best in the world.", False, False),
    ("change_case:english_capital", {}, "VAMOS EQUIPO, ES EL MEJOR DE LA LIGA.", False, False),
    ("change_case:english_lowercase", {}, "the morning is quiet and it is calm.", True, True),
    ("change_case:english_lowercase", {}, "The morning is quiet and it is calm.", False, False),
    ("change_case:english_lowercase", {}, "**Morning**\nthe village is quiet and it is calm.",
     False, True),
    ("punctuation:no_comma", {}, "No commas here.", True, True),
    ("punctuation:no_comma", {}, "Yes, here.", False, False),
]


@pytest.mark.parametrize(("instruction", "kwargs", "response", "strict", "loose"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_checker_strict_and_loose(instruction, kwargs, response, strict, loose):
    assert check_instruction(instruction, response, kwargs) is strict
    assert check_instruction(instruction, response, kwargs, loose=True) is loose


def test_every_instruction_type_has_a_passing_and_a_failing_case():
    assert len(CHECKS) == 25
    for instruction in CHECKS:
        outcomes = {c[3] for c in CASES if c[0] == instruction}
        assert outcomes == {True, False}, instruction


def test_an_empty_response_follows_nothing():
    assert not check_instruction("keywords:forbidden_words", "  \n", {"forbidden_words": ["x"]},
                                 loose=True)
    assert not check_instruction("punctuation:no_comma", "", {})


@pytest.mark.parametrize(("text", "sentences", "words"), [
    ("One. Two! Three?", 3, 3), ("Mr. Lee met Dr. Roe, e.g. at 9.30 today.", 1, 11),
    ("A line\nwithout a stop", 1, 5), ("", 0, 0), ("\"Quoted.\" Next one.", 2, 3)])
def test_sentence_and_word_counts(text, sentences, words):
    assert (count_sentences(text), count_words(text)) == (sentences, words)


@pytest.mark.parametrize(("text", "language"), [
    ("The cat sleeps on the warm mat and it is happy there.", "en"),
    ("O gato dorme em casa e não quer sair com você.", "pt"),
    ("Le chat dort dans la maison et il est content.", "fr"),
    ("Die Katze schläft im Haus und ist nicht allein.", "de"),
    ("Кошка спит в доме, и она не хочет гулять.", "ru"),
    ("Кіт спить у домі, і він не хоче гуляти.", "uk"),
    ("گربه در خانه است و این خوب است", "fa"),
    ("बिल्ली घर में है और यह खुश है।", "hi"),
    ("猫は家で寝ています。", "ja"), ("猫在家里睡觉。", "zh"), ("고양이가 집에서 잔다", "ko"),
    ("แมวนอนอยู่ในบ้าน", "th"), ("Cat.", None), ("12345 !!!", None)])
def test_language_detector(text, language):
    assert detect_language(text) == language


def write_items(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


class ResponseEngine:
    """A stub model: the scripted response to each (raw) prompt, and no tokenizer needed."""

    tokenizer = None

    def __init__(self, responses):
        self.responses, self.calls = responses, 0

    def generate(self, prompts, settings, desc=""):
        self.calls += 1
        return [[self.responses.get(p, "")] for p in prompts]


ITEMS = [
    {"key": 1, "prompt": "p1", "instruction_id_list": ["punctuation:no_comma",
                                                       "detectable_format:title"],
     "kwargs": [{}, {}]},
    {"key": 2, "prompt": "p2", "instruction_id_list": ["startend:quotation"], "kwargs": [{}]},
    {"key": 3, "prompt": "p3", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]},
]


def test_stub_engine_gives_prompt_and_instruction_level_scores(tmp_path):
    engine = ResponseEngine({"p1": "<<Title>> no commas", "p2": "Sure:\n\"quoted\"",
                             "p3": "a, b"})
    bench = IFEval(data=str(write_items(tmp_path / "in.jsonl", ITEMS)), chat_template=False)
    result = bench.evaluate(engine)
    values = {k.split("/")[1]: (m.value, m.n) for k, m in result.metrics.items()}
    assert values == {"prompt_strict": (pytest.approx(1 / 3), 3),
                      "prompt_loose": (pytest.approx(2 / 3), 3),
                      "instruction_strict": (pytest.approx(2 / 4), 4),
                      "instruction_loose": (pytest.approx(3 / 4), 4)}
    by_type = result.metrics["ifeval/instruction_strict"].by_group
    assert {k: (g.value, g.n) for k, g in by_type.items()} == {
        "detectable_format:title": (1.0, 1), "punctuation:no_comma": (0.5, 2),
        "startend:quotation": (0.0, 1)}
    second = result.samples[1]
    assert second["generation"] == "Sure:\n\"quoted\"" and second["prompt"] == "p2"
    assert (second["score"], second["score_loose"]) == (0.0, 1.0)
    assert result.settings["prompt_format"] == "instruction/raw"
    assert result.settings["chat_template"] is False


def test_chat_template_mode_renders_a_user_turn(tmp_path, tiny_lm):
    engine = ResponseEngine({})
    engine.tokenizer = tiny_lm[1]
    bench = IFEval(data=str(write_items(tmp_path / "in.jsonl", ITEMS)), limit=1)
    result = bench.evaluate(engine)
    assert result.samples[0]["prompt"] == "<|im_start|>user\np1<|im_end|>\n<|im_start|>assistant\n"
    assert result.settings["prompt_format"] == "instruction/chat_template"
    assert result.metrics["ifeval/prompt_strict"].n == 1  # limit


def test_hub_rows_with_null_kwargs_load(tmp_path):
    row = {"key": 5, "prompt": "p", "instruction_id_list": ["punctuation:no_comma",
                                                            "length_constraints:number_words"],
           "kwargs": [{"num_words": None, "relation": None},
                      {"num_words": 10, "relation": "less than", "keyword": None}]}
    items, fingerprint = IFEval(data=str(write_items(tmp_path / "in.jsonl", [row]))).load_data()
    assert items[0]["kwargs"] == [{}, {"num_words": 10, "relation": "less than"}]
    assert fingerprint.startswith("sha256:")


def test_an_arrow_dataset_shaped_like_the_hub_set_loads(tmp_path):
    # google/IFEval comes through `datasets`: one struct type for every kwargs dict, so each
    # carries every key of every instruction type, unused ones null
    import datasets

    rows = [{"key": 1, "prompt": "p", "instruction_id_list": ["startend:end_checker"],
             "kwargs": [{"end_phrase": "Bye."}]},
            {"key": 2, "prompt": "q", "instruction_id_list": ["keywords:existence"],
             "kwargs": [{"keywords": ["tea"]}]}]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hub"))
    items, _ = IFEval(data=str(tmp_path / "hub")).load_data()
    assert [i["kwargs"] for i in items] == [[{"end_phrase": "Bye."}], [{"keywords": ["tea"]}]]


@pytest.mark.parametrize(("instruction", "kwargs", "message"), [
    ("no:such_type", {}, "unknown instruction type"),
    ("punctuation:no_comma", {"letter": "a"}, "unexpected keyword"),
    ("keywords:existence", {}, "missing a required argument"),
    ("length_constraints:number_words", {"num_words": 3, "relation": "at most"}, "relation"),
    ("language:response_language", {"language": "xx"}, "language 'xx'"),
])
def test_bad_rows_fail_at_load_naming_the_problem(tmp_path, instruction, kwargs, message):
    row = {"key": 1, "prompt": "p", "instruction_id_list": [instruction], "kwargs": [kwargs]}
    with pytest.raises(UserError, match=message) as err:
        IFEval(data=str(write_items(tmp_path / "in.jsonl", [row]))).load_data()
    assert "in.jsonl:1" in str(err.value)


def test_shipped_sample_covers_every_type_and_matches_its_script():
    items, _ = IFEval(data=str(SAMPLE)).load_data()
    assert {i for item in items for i in item["instruction_id_list"]} == set(CHECKS)
    assert {kw["language"] for item in items for kw in item["kwargs"]
            if "language" in kw} <= LANGUAGES
    spec = importlib.util.spec_from_file_location("make_prompts", SAMPLE.parent / "make_prompts.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.render() == SAMPLE.read_text(encoding="utf-8")


def test_tiny_model_scores_match_a_recheck_of_the_samples(tiny_lm):
    engine = GenerationEngine(*tiny_lm, batch_size=4, show_progress=False)
    result = IFEval(data=str(SAMPLE), limit=4, max_new_tokens=8).evaluate(engine)
    assert len(result.samples) == 4
    for row in result.samples:
        for check in row["instructions"]:
            assert check["strict"] == check_instruction(check["id"], row["generation"],
                                                        check["kwargs"])
        assert row["score"] == float(all(c["strict"] for c in row["instructions"]))
    assert result.metrics["ifeval/prompt_strict"].value == pytest.approx(
        sum(r["score"] for r in result.samples) / 4)
