"""Memorisation levels: level boundaries, containment, subject recovery on EntityQuestions and
the sample facts, every config option, and the step against a scripted engine."""

import json
import shutil
from dataclasses import dataclass, field

import pytest
from datasets import Dataset
from omegaconf import OmegaConf

from curation.core.config import CONF_DIR, UserError
from curation.memorization import (
    MEM_COLUMNS,
    MemorizationConfig,
    MemorizationStep,
    build_relation_templates,
    build_subject_pattern,
    compute_level_from_counts,
    compute_memorization_level,
    contains_answer,
    extract_subject,
    load_relation_query_templates,
)
from curation.steps import apply_step
from tests import PROJECT_ROOT

PROJECT = PROJECT_ROOT
DEFAULT_YAML = CONF_DIR / "memorization" / "default.yaml"


def default_config(**overrides) -> MemorizationConfig:
    cfg = OmegaConf.merge(OmegaConf.structured(MemorizationConfig), OmegaConf.load(DEFAULT_YAML))
    return OmegaConf.merge(cfg, overrides)


@pytest.mark.parametrize("rate, level", [(0.0, 0), (0.01, 1), (0.25, 1), (0.26, 2), (0.5, 2),
                                         (0.75, 3), (0.76, 4), (1.0, 4), (0.35, 2), (0.7, 3)])
def test_level_boundaries(rate, level):
    assert compute_memorization_level(rate) == level


@pytest.mark.parametrize("hits, total, level", [(0, 100, 0), (1, 100, 1), (25, 100, 1),
                                                (26, 100, 2), (50, 100, 2), (75, 100, 3),
                                                (100, 100, 4), (7, 28, 1), (21, 84, 1),
                                                (1, 40, 1)])
def test_level_from_counts_is_exact(hits, total, level):
    assert compute_level_from_counts(hits, total) == level
    assert compute_memorization_level(hits / total) == level


@pytest.mark.parametrize("output, aliases, hit", [
    (" Paris, France, in 1890.", ["Paris"], True),
    ("the city of LONDON", ["London"], True),
    ("Parisian suburbs", ["Paris"], False),  # whole words only
    (" New York City", ["New York"], True),
    (" York", ["New York"], False),
    (" Rome", ["Milan", "Rome"], True),
    (" the Beatles", ["The Beatles"], True),
    (" anything", ["The"], False),  # an alias that normalises to nothing never matches
    ("", ["Paris"], False),
    (" Port-Vila", ["Port Vila"], False),  # SQuAD normalisation drops the hyphen: "portvila"
])
def test_containment(output, aliases, hit):
    assert contains_answer(output, aliases) is hit


def test_subject_pattern():
    p = build_subject_pattern("Who is [X]'s child?")
    assert extract_subject("Who is Shlomo Zalman Auerbach's child?", [p]) == \
        "Shlomo Zalman Auerbach"
    assert extract_subject("who is  Anne's   child? ", [p]) == "Anne"
    assert extract_subject("Who is Anne's father?", [p]) is None
    p = build_subject_pattern("What kind of animal is [X]: a mammal, bird, reptile, amphibian, "
                              "or fish?")
    assert extract_subject("What kind of animal is a dolphin: a mammal, bird, reptile, amphibian,"
                           " or fish?", [p]) == "a dolphin"
    with pytest.raises(UserError, match="exactly one"):
        build_subject_pattern("Where was he born?")


def test_every_entity_questions_subject_is_recovered(shared_data):
    folder = shared_data / "entity_questions"
    query = load_relation_query_templates(folder / "relation_query_templates.json")
    cfg = default_config()
    assert {r: cfg.questions[r] for r in query} == query  # the YAML carries the JSON's questions
    relations = build_relation_templates(cfg)
    files = sorted((folder / "train").glob("P*.train.jsonl"))
    assert len(files) == 24
    for path in files:
        rel = path.name.split(".")[0]
        templates = relations[rel]
        assert len(templates.completions) >= 4 + len(query[rel])
        for line in path.read_text(encoding="utf-8").splitlines():
            question = json.loads(line)["question"]
            subject = extract_subject(question, templates.patterns)
            assert subject, (rel, question)
            assert query[rel][0].replace("[X]", subject) == question


def test_query_templates_file_adds_questions(tmp_path):
    path = tmp_path / "relation_query_templates.json"
    path.write_text(json.dumps({"P1": "Who made [X]?", "P1_similar": "Who is the maker of [X]?"}))
    assert load_relation_query_templates(path) == {
        "P1": ["Who made [X]?", "Who is the maker of [X]?"]}
    cfg = MemorizationConfig(query_templates_file=str(path), question_form=False)
    rel = build_relation_templates(cfg)["P1"]  # no declarative templates: question forms
    assert extract_subject("Who is the maker of Linux?", rel.patterns) == "Linux"
    assert [c.replace("[X]", "Linux").rsplit("\n\n", 1)[-1] for c in rel.completions] == [
        "Q: Who made Linux?\nA:", "Q: Who is the maker of Linux?\nA:"]


def test_every_sample_fact_has_templates_and_a_subject():
    relations = build_relation_templates(default_config())
    rows = [json.loads(line) for line in (PROJECT / "data/qa/facts.jsonl").read_text().splitlines()]
    for row in rows:
        assert extract_subject(row["question"], relations[row["group"]].patterns), row


def test_every_memorization_option_composes(tmp_path):
    from hydra import compose, initialize_config_dir
    from hydra.core.config_store import ConfigStore

    @dataclass
    class Schema:
        memorization: MemorizationConfig = field(default_factory=MemorizationConfig)

    ConfigStore.instance().store(name="test_memorization_schema", node=Schema)
    shutil.copytree(CONF_DIR / "memorization", tmp_path / "memorization")
    (tmp_path / "check.yaml").write_text(
        "defaults:\n  - test_memorization_schema\n  - memorization: default\n  - _self_\n")
    options = sorted(p.stem for p in (CONF_DIR / "memorization").glob("*.yaml"))
    assert {"default", "none"} <= set(options)
    with initialize_config_dir(str(tmp_path), version_base="1.3"):
        for option in options:
            cfg = compose("check", [f"memorization={option}"]).memorization
            assert cfg.name == option
            if cfg.enabled:
                assert build_relation_templates(cfg)["P19"].completions


class CompletionEngine:
    """Stands in for ``GenerationEngine``: the first ``hits(prompt)`` samples of a prompt
    contain ``Paris``, the others do not."""

    def __init__(self, hits):
        self.hits, self.prompts = hits, []

    def generate(self, prompts, settings, desc=""):
        self.prompts += prompts
        n = settings.num_return_sequences
        return [[" Paris, France" if c < self.hits(p) else " Lyon" for c in range(n)]
                for p in prompts]


def test_step_adds_rates_and_levels():
    cfg = MemorizationConfig(
        n_samples=4, question_form=True,
        questions={"born": ["Where was [X] born?"], "orphan": ["Who is [X]?"]},
        templates={"born": ["[X] was born in", "The birthplace of [X] is", "[X] hails from"]})
    rows = [
        {"id": "a", "question": "Where was Ann born?", "answers": ["Paris"], "group": "born"},
        {"id": "b", "question": "Where was Bob born?", "answers": ["paris"], "group": "born"},
        {"id": "c", "question": "Where was Cy born?", "answers": ["Rome"], "group": "born"},
        {"id": "d", "question": "Who was Dee?", "answers": ["Paris"], "group": "born"},
        {"id": "e", "question": "Who is Eve?", "answers": ["Paris"], "group": "nothing"},
        {"id": "f", "question": None, "answers": None, "group": None},
    ]
    # Ann: 1 hit in 16 samples (R = 1/16, level 1); Bob: 16/16 (level 4); Cy: Rome never said
    engine = CompletionEngine(lambda p: (4 if "Bob" in p else int(p == "Ann was born in")))
    step = MemorizationStep(engine, cfg, seed=0)
    out = apply_step(step, Dataset.from_list(rows)).dataset
    assert out["probe_mem_rate"] == [1 / 16, 1.0, 0.0, None, None, None]
    assert out["probe_mem_level"] == [1, 4, 0, None, None, None]
    assert dict(step.counts) == {"measured": 3, "no_subject": 1, "no_templates": 1, "not_qa": 1}
    assert len(engine.prompts) == 3 * 4  # three declarative templates and the question form
    assert "Ann was born in" in engine.prompts and any(
        p.endswith("Q: Where was Ann born?\nA:") for p in engine.prompts)
    assert set(MEM_COLUMNS) <= set(out.column_names)


def test_max_templates_caps_the_completions():
    cfg = default_config(max_templates=2)
    assert all(len(r.completions) <= 2 for r in build_relation_templates(cfg).values())


def test_step_on_the_tiny_model_is_deterministic_and_resumable(tiny_model_dir, tmp_path):
    from curation.core.cache import ResultCache
    from curation.core.engine import GenerationEngine
    from curation.core.models import ModelConfig, load_model

    model, tokenizer = load_model(ModelConfig(path=str(tiny_model_dir), device="cpu",
                                              dtype="float32"))
    engine = GenerationEngine(model, tokenizer, batch_size=8, show_progress=False)
    cfg = default_config(n_samples=3, max_new_tokens=4, chunk_size=2)
    words = ["France", "Japan", "Italy", "Spain", "Germany"]
    ds = Dataset.from_list([{"id": w, "question": f"What is the capital of {w}?",
                             "answers": [w.lower()], "group": "capital"} for w in words])
    first = apply_step(MemorizationStep(engine, cfg, seed=0), ds).dataset.to_list()
    assert apply_step(MemorizationStep(engine, cfg, seed=0), ds).dataset.to_list() == first
    assert all(r["probe_mem_level"] in range(5) for r in first)
    with ResultCache(tmp_path / "c.sqlite", model="tiny") as cache:
        assert apply_step(MemorizationStep(engine, cfg, 0, cache), ds).dataset.to_list() == first
        assert apply_step(MemorizationStep(engine, cfg, 0, cache), ds).dataset.to_list() == first
        assert cache.stats["hits"] == 5 and cache.stats["misses"] == 5


def test_step_reports_templates_per_relation_against_the_papers():
    cfg = MemorizationConfig(n_samples=4, questions={"born": ["Where was [X] born?"]},
                             templates={"born": ["[X] was born in", "[X] hails from"]})
    rows = [{"id": "a", "question": "Where was Ann born?", "answers": ["Paris"], "group": "born"},
            {"id": "g", "question": "Where was Gus born?", "group": "born",
             "answers": ["He was born in a small town.\nLater he moved to Paris.\n#### Paris"]}]
    step = MemorizationStep(CompletionEngine(lambda p: 0), cfg, seed=0)
    out = apply_step(step, Dataset.from_list(rows)).dataset
    assert step.stats()["templates_per_relation"] == {"born": 3}  # 2 declarative + question
    assert step.stats()["paper_templates_per_relation"] == 21
    # a long-form answer is no fact's object: not measured
    assert out["probe_mem_level"] == [0, None] and step.counts["long_answer"] == 1


def test_level_filter_keeps_only_the_chosen_levels_and_says_why():
    from curation.memorization import MemorizationLevelFilter

    ds = Dataset.from_list([{"id": str(i), "probe_mem_level": level}
                            for i, level in enumerate([4, 2, None, 4, 0])]).add_column("origin", [None] * 5)
    result = apply_step(MemorizationLevelFilter([4]), ds)
    assert result.dataset["id"] == ["0", "3"]
    reasons = [d["reason"] for d in result.filtered]
    assert reasons[0] == "memorisation level 2 not in [4]" and "no memorisation level" in reasons[1]
    assert len(result.filtered) + len(result.dataset) == len(ds)


def test_qa_activation_selects_facts_of_one_level(tmp_path):
    """Ye et al.: 60 facts of one chosen level. The experiment turns levels on and filters."""
    import curation.config  # noqa: F401  (registers the schema)
    from curation.core.config import compose_config

    cfg = compose_config("curate", ["input=x", "out=o", "experiment=qa_activation"])
    assert cfg.budget == 60 and cfg.memorization.enabled and cfg.memorization.select_levels == [4]
    other = compose_config("curate", ["input=x", "out=o", "experiment=qa_activation",
                                      "memorization.select_levels=[1,2]", "budget=240"])
    assert other.memorization.select_levels == [1, 2] and other.budget == 240
    with pytest.raises(UserError, match="0-4"):
        from curation.memorization import MemorizationLevelFilter
        bad = compose_config("curate", ["input=x", "out=o", "experiment=qa_activation",
                                        "memorization.select_levels=[5]"])
        MemorizationLevelFilter.from_config(bad, None, None)
