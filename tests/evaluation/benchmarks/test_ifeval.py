"""IFEval: every instruction checker (strict and loose), the libraries behind them (langdetect,
nltk's Punkt and word tokenizer, as lm-evaluation-harness uses them), loading and scoring with a
stub engine, the generation limit and its truncation count, and the shipped sample prompts.
Agreement with lm-eval's own scoring, verdict by verdict: test_ifeval_lmeval.py."""

import json

import pytest
from omegaconf import OmegaConf

from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from evaluation.benchmarks.ifeval import IFEval
from evaluation.benchmarks.ifeval_checks import (
    CHECKS,
    LANGDETECT_SEED,
    check_instruction,
    count_sentences,
    count_words,
    detect_language,
    language_codes,
    word_tokenize,
)
from tests import PROJECT_ROOT, load_script

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
    # IFEval's rule: a text langdetect cannot read (no letters) counts as followed
    ("language:response_language", {"language": "es"}, "12345 !!!", True, True),
    ("language:response_language", {"language": "nl"},
     "De fiets is een oude uitvinding en wordt nog steeds overal gebruikt.", True, True),
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
    # IFEval strips a leading ' and then a leading ": a "' opening leaves an empty first word
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "moreover"},
     "First part.\n\n\"'Moreover,' she said.\"", False, False),
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
    # nltk.word_tokenize splits DON'T into DO + N'T: three capital words, not two
    ("change_case:capital_word_frequency", {"capital_frequency": 3, "capital_relation": "at least"},
     "DON'T STOP now", True, True),
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
    # nltk's Punkt with its English model, as nltk.sent_tokenize (and so IFEval) splits: it
    # knows "Mr." and "Dr." but ends a sentence after "e.g." before a lower-case word
    ("One. Two! Three?", 3, 3), ("Mr. Lee met Dr. Roe, e.g. at 9.30 today.", 2, 11),
    ("A line\nwithout a stop", 1, 5), ("", 0, 0), ("\"Quoted.\" Next one.", 2, 3),
    # nltk's RegexpTokenizer(r"\w+") runs on the regex engine, whose \w takes in the vowel
    # signs: five Hindi words, where the standard re module's \w+ finds ten pieces
    ("बाज़ार सुबह जल्दी खुलता है", 1, 5)])
def test_sentence_and_word_counts(text, sentences, words):
    assert (count_sentences(text), count_words(text)) == (sentences, words)


def test_word_tokens_are_nltks():
    from nltk.tokenize import NLTKWordTokenizer

    from evaluation.benchmarks.ifeval_checks import split_sentences

    text = "DON'T STOP. I.B.M. and the U.S.A. met on MONDAY, A-OK? Mr. X said \"NO.\""
    assert word_tokenize(text)[:3] == ["DO", "N'T", "STOP"]
    # nltk.word_tokenize: Punkt sentences, then the Treebank-style word tokenizer
    sentences = split_sentences(text)
    assert len(sentences) == 4  # Punkt ends one after "I.B.M." before a lower-case word
    assert word_tokenize(text) == [t for s in sentences for t in NLTKWordTokenizer().tokenize(s)]


LANGUAGE_TEXTS = [
    "The cat sleeps on the warm mat and it is happy there.",
    "O gato dorme em casa e não quer sair com você.",
    "Die Katze schläft im Haus und ist nicht allein.",
    "Кіт спить у домі, і він не хоче гуляти.",
    "बिल्ली घर में है और यह खुश है।", "猫は家で寝ています。", "고양이가 집에서 잔다",
    "Cat.", "Bicicleta.", "ok ok", "HELLO THERE", "12345 !!!"]


def test_language_is_langdetects_with_its_seed_fixed():
    langdetect = pytest.importorskip("langdetect")
    saved = langdetect.DetectorFactory.seed
    try:
        langdetect.DetectorFactory.seed = LANGDETECT_SEED
        for text in LANGUAGE_TEXTS:
            try:
                expected = langdetect.detect(text)
            except langdetect.LangDetectException:
                expected = None
            assert detect_language(text) == expected, text
    finally:
        langdetect.DetectorFactory.seed = saved
    assert detect_language("12345 !!!") is None


def test_language_verdicts_do_not_change_from_call_to_call():
    # langdetect unseeded draws differently on every call; short texts then change language
    for text in LANGUAGE_TEXTS:
        assert len({detect_language(text) for _ in range(8)}) == 1, text


def test_languages_are_the_ones_langdetect_names():
    codes = language_codes()
    assert {"en", "es", "hi", "kn", "sw", "fa", "ur", "nl", "zh-cn"} <= codes
    assert "xx" not in codes and "zh" not in codes


def write_items(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


class ResponseEngine:
    """A stub model: the scripted response to each (raw) prompt, and no tokenizer needed."""

    tokenizer = None

    def __init__(self, responses):
        self.responses, self.calls, self.settings = responses, 0, []

    def generate(self, prompts, settings, desc=""):
        self.calls += 1
        self.settings.append(settings)
        return [[self.responses.get(p, "")] for p in prompts]


class WordTokenizer:
    """One token per whitespace-separated word (enough to count a response's length)."""

    def encode(self, text, add_special_tokens=True):
        return text.split()


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
    ("keywords:existence", {"keywords": ["tea("]}, "regular expression"),
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
            if "language" in kw} <= language_codes()
    script = load_script(SAMPLE.parent / "make_prompts.py")
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


# --- the generation limit ------------------------------------------------------------------------

def test_responses_may_be_as_long_as_lm_evals_limit(tmp_path):
    # lm-evaluation-harness's ifeval.yaml: max_gen_toks 1280, no stop sequence
    assert IFEval(data="x").max_new_tokens == 1280
    suite = OmegaConf.load(ROOT / "conf" / "suite" / "ifeval.yaml")
    assert suite.benchmarks.ifeval.max_new_tokens == 1280
    assert list(suite.benchmarks.ifeval.stop) == []
    engine = ResponseEngine({"p3": "a b"})
    IFEval(data=str(write_items(tmp_path / "in.jsonl", ITEMS)), chat_template=False).evaluate(
        engine)
    assert engine.settings[0].max_new_tokens == 1280


def test_responses_at_the_limit_are_counted_and_flagged(tmp_path):
    engine = ResponseEngine({"p1": "<<T>> one two", "p2": '"a b c d"', "p3": "x"})
    engine.tokenizer = WordTokenizer()
    bench = IFEval(data=str(write_items(tmp_path / "in.jsonl", ITEMS)), chat_template=False,
                   max_new_tokens=3)
    result = bench.evaluate(engine)
    assert [(r["tokens"], r["at_limit"]) for r in result.samples] == [(3, 1.0), (4, 1.0),
                                                                     (1, 0.0)]
    at_limit = result.metrics["ifeval/at_limit"]
    assert (at_limit.value, at_limit.n, at_limit.higher_is_better) == (pytest.approx(2 / 3), 3,
                                                                       False)
    assert "at_limit" in result.settings
    assert IFEval.metrics["at_limit"].arg == "at_limit"  # the report reads it per sample

