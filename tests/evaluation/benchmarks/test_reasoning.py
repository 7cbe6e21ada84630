"""FewShotGeneration (GSM8K conventions): extraction filters, lm-eval's exact-match
normalisation, lm-eval's shot sampling and prompt layout, the hub path, batch-size independence."""

import json
import random

import pytest

from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from evaluation.benchmarks.reasoning import (
    GSM8K_IGNORE,
    Extraction,
    FewShotGeneration,
    compute_lmeval_exact_match,
    extract_answer,
)

STRICT = Extraction("strict", r"#### (\-?[0-9\.\,]+)")
FLEXIBLE = Extraction("flexible", r"(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select=-1)
GSM8K = {"regexes_to_ignore": GSM8K_IGNORE, "ignore_case": True, "ignore_punctuation": False}
# lm-eval's peer/NQ-open style closed-book QA options
CBQA = {"regexes_to_ignore": [r"\b(?:The |the |An |A |The |a |an )"], "ignore_case": True,
        "ignore_punctuation": True}

TRAIN = [{"question": f"Train question {k}?", "answer": f"{k} + {k} = {2 * k}.\n#### {2 * k}"}
         for k in range(1, 7)]
TEST = [
    {"id": "t0", "kind": "add", "question": "What is 5 + 7?", "answer": "5 + 7 = 12.\n#### 12"},
    {"id": "t1", "kind": "price", "question": "What does it cost?",
     "answer": "It costs 1,000 dollars.\n#### 1,000"},
    {"id": "t2", "kind": "add", "question": "What is 4 + 4?", "answer": "4 + 4 = 8.\n#### 8"},
]


@pytest.mark.parametrize(("response", "extraction", "expected"), [
    ("5 + 7 = 12.\n#### 12", STRICT, "12"),
    ("#### 1,234\n", STRICT, "1,234"),                    # commas kept here, ignored when matched
    ("#### -5", STRICT, "-5"),
    ("#### 3\n#### 4", STRICT, "3"),                      # take_first: the first match
    ("The answer is 72", STRICT, "[invalid]"),            # no "#### ": lm-eval's fallback
    ("so 5 + 7 = 12 apples", FLEXIBLE, "12"),             # the last number
    ("It costs $1,200.", FLEXIBLE, "$1,200."),            # 2+ chars of [$0-9.,]: the first group
    ("-3 degrees", FLEXIBLE, "-3"),                       # one digit: the second group
    ("It is 7. Then 9", FLEXIBLE, "9"),
    ("no digits", FLEXIBLE, "[invalid]"),
    ("  Paris \n", Extraction("remove_whitespace"), "Paris"),   # no regex: stripped response
])
def test_extract_answer(response, extraction, expected):
    assert extract_answer(response, extraction) == expected


@pytest.mark.parametrize(("prediction", "references", "options", "expected"), [
    ("12", ["5 + 7 = 12.\n#### 12"], GSM8K, 1.0),          # "(?s).*#### " drops the solution
    ("1,234", ["Sum.\n#### 1234"], GSM8K, 1.0),            # commas ignored
    ("$1,200.", ["#### 1200"], GSM8K, 1.0),                # "$", commas, a final period ignored
    ("72.5", ["#### 72"], GSM8K, 0.0),                     # only a final period goes
    ("[invalid]", ["#### 5"], GSM8K, 0.0),
    ("The Beatles", ["Beatles"], CBQA, 1.0),               # article regex
    ("Beatles!", ["beatles"], CBQA, 1.0),                  # case and punctuation
    ("THE Beatles", ["Beatles"], CBQA, 0.0),               # regexes run before lower-casing
    ("Stoker", ["Bram Stoker", "Stoker"], CBQA, 1.0),      # any reference counts
    ("Paris", ["paris"], {}, 0.0),                         # nothing ignored by default
])
def test_compute_lmeval_exact_match(prediction, references, options, expected):
    assert compute_lmeval_exact_match(prediction, references, **options) == expected


class ScriptedGenerator:
    """Answers each prompt by its last question; records prompts."""

    def __init__(self, answers, tokenizer=None):
        self.answers, self.tokenizer, self.prompts, self.settings = answers, tokenizer, [], None

    def generate(self, prompts, settings, desc=""):
        self.prompts += prompts
        self.settings = settings
        return [[self.answers[p.rsplit("Question: ", 1)[1].split("\n")[0]]] for p in prompts]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture
def gsm8k_files(tmp_path):
    return write_jsonl(tmp_path / "test.jsonl", TEST), write_jsonl(tmp_path / "train.jsonl", TRAIN)


def test_stub_engine_scores_strict_and_flexible(gsm8k_files):
    test, train = gsm8k_files
    engine = ScriptedGenerator({"What is 5 + 7?": " 5 + 7 = 12.\n#### 12",   # both right
                                "What does it cost?": " It costs $1,000.",   # flexible only
                                "What is 4 + 4?": " 4 + 4 = 7\n#### 7"})     # both wrong
    bench = FewShotGeneration(data=test, fewshot_data=train, group_field="kind")
    result = bench.evaluate(engine)
    strict, flexible = (result.metrics[f"gsm8k/exact_match,{f}"] for f in ("strict", "flexible"))
    assert (strict.value, flexible.value) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert {g: s.value for g, s in flexible.by_group.items()} == {"add": 0.5, "price": 1.0}
    assert engine.settings.stop == ["Question:", "</s>", "<|im_end|>"]
    assert engine.settings.max_new_tokens == 256 and not engine.settings.do_sample
    row = result.samples[1]
    assert row["extracted"] == {"strict": "[invalid]", "flexible": "$1,000."}
    assert row["scores"] == {"strict": 0.0, "flexible": 1.0} and row["generation"].startswith(" It")
    assert result.settings["prompt_format"] == "lm-eval/plain" and result.settings["k_shots"] == 5


def test_shots_are_drawn_like_lm_eval(gsm8k_files):
    """lm-eval's default sampler: one Random(1234), k shots drawn per item in item order."""
    test, train = gsm8k_files
    engine = ScriptedGenerator({t["question"]: "" for t in TEST})
    FewShotGeneration(data=test, fewshot_data=train, k_shots=3).evaluate(engine)
    rnd = random.Random(1234)
    for item, prompt in zip(TEST, engine.prompts, strict=True):
        shots = rnd.sample(TRAIN, 3)
        assert prompt == "".join(f"Question: {s['question']}\nAnswer: {s['answer']}\n\n"
                                 for s in shots) + f"Question: {item['question']}\nAnswer:"
    assert len(set(engine.prompts[0].split("\n\n")[:3])) == 3


def test_shots_from_the_scored_file_never_include_the_item(tmp_path):
    data = write_jsonl(tmp_path / "all.jsonl", TEST)
    engine = ScriptedGenerator({t["question"]: "" for t in TEST})
    FewShotGeneration(data=data, k_shots=2, sampler="first_n").evaluate(engine)
    for item, prompt in zip(TEST, engine.prompts, strict=True):
        assert prompt.count(item["question"]) == 1 and prompt.count("Question: ") == 3


def test_alias_list_target_and_description(tmp_path):
    rows = [{"question": "Capital of France", "answers": ["Paris", "paris city"]},
            {"question": "Author of Dracula", "answers": ["Bram Stoker", "Stoker"]}]
    data = write_jsonl(tmp_path / "qa.jsonl", rows)
    engine = ScriptedGenerator({})
    engine.generate = lambda prompts, s, desc="": (engine.prompts.extend(prompts)
                                                   or [[" Stoker"] for _ in prompts])
    bench = FewShotGeneration(data=data, k_shots=1, sampler="first_n", description="Answer:\n\n",
                              doc_to_text="Q: {{question}}?\nA:", doc_to_target="{{answers}}",
                              fewshot_delimiter="\n", filters=[Extraction("ws")], **CBQA)
    result = bench.evaluate(engine)
    # the shot shows the first alias; every alias counts when scoring
    assert engine.prompts[1] == "Answer:\n\nQ: Capital of France?\nA: Paris\nQ: Author of Dracula?\nA:"
    assert [r["score"] for r in result.samples] == [0.0, 1.0]
    assert result.samples[1]["references"] == ["Bram Stoker", "Stoker"]


def test_hub_dataset_is_loaded_by_name_config_and_split(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(path, name=None, split=None, streaming=False):
        calls.append((path, name, split))
        return TEST if split == "test" else TRAIN

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    items, pool = FewShotGeneration(data="openai/gsm8k", subset="main").load_data()
    assert calls == [("openai/gsm8k", "main", "test"), ("openai/gsm8k", "main", "train")]
    assert items == TEST and pool == TRAIN


def test_bad_definitions_are_user_errors(gsm8k_files):
    test, train = gsm8k_files
    with pytest.raises(UserError, match="k_shots=9"):
        FewShotGeneration(data=test, fewshot_data=train, k_shots=9).load_data()
    with pytest.raises(UserError, match="sampler"):
        FewShotGeneration(data=test, fewshot_data=train, sampler="balanced").load_data()
    with pytest.raises(UserError, match="not found"):
        FewShotGeneration(data=test + ".missing").load_data()
    with pytest.raises(UserError, match="filters is empty"):
        FewShotGeneration(data=test, fewshot_data=train, filters=[]).load_data()


def test_chat_template_mode_renders_shots_as_turns(gsm8k_files, tiny_lm):
    test, train = gsm8k_files
    engine = ScriptedGenerator({t["question"]: "#### 12" for t in TEST}, tokenizer=tiny_lm[1])
    engine.generate = lambda prompts, s, desc="": (engine.prompts.extend(prompts)
                                                   or [["#### 12"] for _ in prompts])
    bench = FewShotGeneration(data=test, fewshot_data=train, k_shots=2, chat_template=True)
    result = bench.evaluate(engine)
    prompt = engine.prompts[0]
    assert prompt.count("<|im_start|>user\nQuestion: ") == 3
    assert prompt.count("<|im_start|>assistant\n") == 3 and prompt.endswith("<|im_start|>assistant\n")
    assert result.settings["prompt_format"] == "lm-eval/chat_template:training"


class OwnTemplateTokenizer:
    """A tokenizer whose own chat template renders turns as ``role: content`` lines."""

    def __init__(self, template):
        self.chat_template = template

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"


def test_model_chat_template_is_the_models_own(gsm8k_files):
    test, train = gsm8k_files
    bench = FewShotGeneration(data=test, fewshot_data=train, k_shots=1, sampler="first_n",
                              chat_template=True, chat_template_source="model",
                              description="Solve.")
    engine = ScriptedGenerator({t["question"]: "" for t in TEST}, OwnTemplateTokenizer("own"))
    bench.evaluate(engine)
    shot = TRAIN[0]
    assert engine.prompts[0] == (f"system: Solve.\nuser: Question: {shot['question']}\nAnswer:\n"
                                 f"assistant: {shot['answer']}\nuser: Question: What is 5 + 7?"
                                 "\nAnswer:\nassistant:")
    with pytest.raises(UserError, match="no chat template"):
        bench.evaluate(ScriptedGenerator({}, OwnTemplateTokenizer(None)))


def test_results_do_not_depend_on_batch_size(gsm8k_files, tiny_lm):
    test, train = gsm8k_files
    bench = FewShotGeneration(data=test, fewshot_data=train, k_shots=2, max_new_tokens=8)
    one, eight = (bench.evaluate(GenerationEngine(*tiny_lm, batch_size=b, show_progress=False))
                  for b in (1, 8))
    assert one.samples == eight.samples and one.metrics == eight.metrics
    assert all(len(r["generation"]) > 0 for r in one.samples)
