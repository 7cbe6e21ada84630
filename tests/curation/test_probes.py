"""SliCK probing against a scripted engine: every category branch, shortcut == full protocol,
and exemplars drawn from the item's own group, never the item itself."""

import hashlib
import random
from types import SimpleNamespace

import pytest
from datasets import Dataset

from curation.core.records import KnowledgeCategory
from curation.probes import (
    PROBE_COLUMNS,
    ProbeConfig,
    SlickProbe,
    build_probe_prompts,
    categorize,
)
from curation.steps import apply_step

K = KnowledgeCategory


def question_of(prompt: str) -> str:
    """The question a few-shot QA prompt asks (its last ``Q: …\\nA:`` turn)."""
    return prompt.rsplit("Q: ", 1)[1].removesuffix("\nA:")


def unit_hash(*parts) -> float:
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64


class ScriptedEngine:
    """Stands in for ``GenerationEngine``: ``answer(prompt, copy, sampled)`` gives each
    completion. As with the real engine, a completion depends only on its prompt, the settings
    and its copy index, never on what else shares the call."""

    def __init__(self, answer):
        self.answer = answer
        self.greedy_prompts = self.sampled_sequences = 0

    def generate(self, prompts, settings, desc="generating"):
        sampled = settings.do_sample and settings.temperature > 0
        n = max(1, settings.num_return_sequences)
        if sampled:
            self.sampled_sequences += n * len(prompts)
        else:
            self.greedy_prompts += len(prompts)
        return [[self.answer(p, c if sampled else 0, sampled) + "\nQ: next" for c in range(n)]
                for p in prompts]


def make_rows(n, groups=("capital", "river"), prefix="q"):
    return [{"id": f"{prefix}{i:03d}", "question": f"What is fact {i}?", "answers": [f"Ans {i}"],
             "group": groups[i % len(groups)]} for i in range(n)]


def config(**kw):
    return ProbeConfig(**{"n_prompts": 3, "k_shots": 2, "n_samples": 2, **kw})


def test_categorize_table():
    assert categorize(1.0, None) is K.HIGHLY_KNOWN
    assert categorize(1.0, 0.0) is K.HIGHLY_KNOWN
    assert categorize(0.5, 0.0) is K.MAYBE_KNOWN
    assert categorize(0.1, None) is K.MAYBE_KNOWN
    assert categorize(0.0, 0.01) is K.WEAKLY_KNOWN
    assert categorize(0.0, 0.0) is K.UNKNOWN
    assert categorize(0.0, None) is K.UNKNOWN
    assert [c.known for c in K] == [True, True, True, False]


# per item: which greedy prompts (by index) are right, and which (prompt, copy) samples are
SCRIPT = {
    "What is fact 0?": ({0, 1, 2}, set()),  # HighlyKnown
    "What is fact 1?": ({1}, {(0, 0)}),  # MaybeKnown
    "What is fact 2?": (set(), {(1, 1)}),  # WeaklyKnown: only sample 2 of prompt 2 is right
    "What is fact 3?": (set(), set()),  # Unknown
    "What is fact 4?": (set(), {(2, 0), (2, 1)}),  # WeaklyKnown, right only on the last prompt
}


def scripted_engine(rows, cfg, seed=0):
    prompts = build_probe_prompts(rows, cfg.n_prompts, cfg.k_shots, seed)
    assert all(len(set(item)) == len(item) for item in prompts)  # j is known from the prompt
    index = {p: j for item in prompts for j, p in enumerate(item)}
    gold = {r["question"]: r["answers"][0] for r in rows}

    def answer(prompt, copy, sampled):
        q, j = question_of(prompt), index[prompt]
        greedy_right, samples_right = SCRIPT.get(q, (set(), set()))
        right = (j, copy) in samples_right if sampled else j in greedy_right
        return f" {gold[q].lower()}." if right else " Nowhere"  # normalised match: "ans 0."

    return ScriptedEngine(answer)


@pytest.mark.parametrize("shortcut", [True, False])
def test_every_category_branch(shortcut):
    rows, cfg = make_rows(40), config(shortcut=shortcut)
    engine = scripted_engine(rows, cfg)
    out = SlickProbe(engine, cfg, seed=0).probe(rows)
    cats = [categorize(r["greedy_hits"] / 3, r["sample_hits"] / max(1, r["n_samples"]))
            for r in out[:5]]
    assert cats == [K.HIGHLY_KNOWN, K.MAYBE_KNOWN, K.WEAKLY_KNOWN, K.UNKNOWN, K.WEAKLY_KNOWN]
    assert [r["greedy_hits"] for r in out[:5]] == [3, 1, 0, 0, 0]
    assert out[0]["greedy"] == ["ans 0."] * 3
    drawn = [r["n_samples"] for r in out[:5]]
    hits = [r["sample_hits"] for r in out[:5]]
    if shortcut:  # known items unsampled; fact 2 stops after prompt 2; fact 4 draws everything
        assert drawn == [0, 0, 4, 6, 6] and hits == [0, 0, 1, 0, 2]
    else:
        assert drawn == [6] * 5 and hits == [0, 1, 1, 0, 2]


def test_shortcut_stores_only_what_it_measured():
    rows, cfg = make_rows(40), config()
    ds = Dataset.from_list(rows + [{"id": "chat", "question": None, "answers": None,
                                    "group": None}])
    out = apply_step(SlickProbe(scripted_engine(rows, cfg), cfg, seed=0), ds).dataset
    assert set(PROBE_COLUMNS) <= set(out.column_names)
    # HighlyKnown / MaybeKnown: never sampled, so P_sample is unknown, not 0
    assert out["probe_p_sample"][:2] == [None, None] and out["probe_n_samples"][:2] == [0, 0]
    # stopped early at a right sample: P_sample > 0 is all that is known
    assert out["probe_p_sample"][2] is None and out["probe_n_sample_hits"][2] == 1
    # every sample drawn: the rate is measured (0 for Unknown, 2/6 for fact 4)
    assert out["probe_p_sample"][3] == 0.0 and out["probe_p_sample"][4] == pytest.approx(2 / 6)
    assert out["probe_category"][:5] == ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown",
                                         "WeaklyKnown"]
    assert out["probe_known"][:5] == [True, True, True, False, True]
    assert out["probe_p_greedy"][:2] == [1.0, pytest.approx(1 / 3)]
    chat = out[-1]
    assert all(chat[c] is None for c in PROBE_COLUMNS)

    full_cfg = config(shortcut=False)
    full = apply_step(SlickProbe(scripted_engine(rows, full_cfg), full_cfg, seed=0), ds).dataset
    assert full["probe_p_sample"][:5] == [0.0, pytest.approx(1 / 6), pytest.approx(1 / 6), 0.0,
                                          pytest.approx(2 / 6)]


def test_shortcut_gives_the_full_protocols_categories_with_fewer_samples():
    rng = random.Random(7)
    rows = make_rows(240, groups=("a", "b", "c", "d", "e"))
    # per item: chance that a greedy answer / a sample is right, from never to always
    chance = {r["question"]: (rng.choice([0, 0, 0.3, 0.7, 1]), rng.choice([0, 0.02, 0.1, 0.5]))
              for r in rows}
    gold = {r["question"]: r["answers"][0] for r in rows}

    def answer(prompt, copy, sampled):
        q = question_of(prompt)
        right = unit_hash(prompt, copy, sampled) < chance[q][sampled]
        return gold[q] if right else "wrong"

    results = {}
    for shortcut in (True, False):
        cfg = config(n_prompts=4, n_samples=3, shortcut=shortcut, chunk_size=50)
        engine = ScriptedEngine(answer)
        ds = apply_step(SlickProbe(engine, cfg, seed=3), Dataset.from_list(rows)).dataset
        results[shortcut] = (ds["probe_category"], engine)
    assert results[True][0] == results[False][0]
    assert len(set(results[True][0])) == 4  # every category occurs
    short, full = results[True][1], results[False][1]
    assert short.greedy_prompts == full.greedy_prompts == 240 * 4
    assert short.sampled_sequences < full.sampled_sequences / 2
    assert full.sampled_sequences == 240 * 4 * 3


def test_exemplars_come_from_the_items_group_never_the_item():
    rows = make_rows(23, groups=("capital", "river", "tiny")) + [
        {"id": "solo", "question": "What is alone?", "answers": ["Alone"], "group": "solo"}]
    group_of = {r["question"]: r["group"] for r in rows}
    prompts = build_probe_prompts(rows, n_prompts=5, k_shots=4, seed=1)
    for row, item in zip(rows, prompts, strict=True):
        assert len(item) == 5
        for prompt in item:
            assert question_of(prompt) == row["question"]
            shots = [s.split("\nA:")[0] for s in prompt.split("Q: ")[1:-1]]
            assert row["question"] not in shots
            assert all(group_of[s] == row["group"] for s in shots)
            assert len(shots) == (0 if row["group"] == "solo" else 4)
    # one shared few-shot prefix per (group, prompt) for most items: encoded once by the engine
    prefixes = {(r["group"], j, p.rsplit("Q: ", 1)[0]) for r, item in zip(rows, prompts, strict=True)
                for j, p in enumerate(item)}
    assert len(prefixes) <= 4 * 5 * 2
    assert build_probe_prompts(rows, 5, 4, seed=1) == prompts
    assert build_probe_prompts(rows, 5, 4, seed=2) != prompts


def test_probe_rejects_a_config_without_prompts():
    from curation.core.config import UserError

    with pytest.raises(UserError, match="n_prompts"):
        SlickProbe(SimpleNamespace(), config(n_prompts=0), seed=0).probe(make_rows(2))


# --- the answer's shape decides the probe (GSM8K-style worked solutions) -------------------------

def solution_rows(n):
    """GSM8K-shaped rows: the gold answer is a worked solution ending ``#### n``."""
    return [{"id": f"m{i:03d}", "question": f"What is {i} plus {i}?",
             "answers": [f"We add {i} and {i}.\n{i} + {i} = {2 * i}\n#### {2 * i}"],
             "group": "math"} for i in range(n)]


def solving_engine(solved):
    """Solves question i (greedy, every prompt) when i is in ``solved``; else a wrong sum."""
    def answer(prompt, copy, sampled):
        q = prompt.rsplit("Question: ", 1)[1]
        if "\nAnswer:" not in q:  # a short-answer prompt
            return " Nowhere"
        i = int(q.split()[2])
        right = i in solved and not sampled
        return f" {i} + {i} = {2 * i if right else 2 * i + 1}\n#### {2 * i if right else 2 * i + 1}"
    return ScriptedEngine(answer)


def test_worked_solutions_are_not_probed_by_exact_match_against_the_solution():
    """Today's bug: the whole solution was the gold alias, so every such row was Unknown. Without
    an extractor such rows are open-ended (left to NLL / IFD), with one they are probed by their
    final answer; a short-answer row beside them is probed as SliCK does."""
    short, long = make_rows(40), solution_rows(8)
    ds = Dataset.from_list(short + long)
    cfg = config()
    engine = scripted_engine(short, cfg)
    out = apply_step(SlickProbe(engine, cfg, seed=0), ds).dataset
    assert out["probe_kind"] == ["short_answer"] * 40 + [None] * 8
    assert out["probe_protocol"][0] == "quick (3 prompts x 2 samples; approximate: SliCK uses " \
        "10 x 16)" and out["probe_protocol"][40] is None
    assert out["probe_category"][40:] == [None] * 8  # not "Unknown"
    assert out["probe_category"][:5] == ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown",
                                         "WeaklyKnown"]

    cfg = config(final_answer="gsm8k", shortcut=False)
    step = SlickProbe(solving_engine(solved={0, 1, 2}), cfg, seed=0)
    out = apply_step(step, Dataset.from_list(long)).dataset
    assert out["probe_kind"] == ["final_answer"] * 8
    assert out["probe_category"] == ["HighlyKnown"] * 3 + ["Unknown"] * 5
    assert step.stats()["rows_by_kind"] == {"short_answer": 0, "final_answer": 8,
                                            "not_probed": 0}


def test_final_answer_prompts_carry_worked_solutions_and_stop_at_the_next_question():
    rows, cfg = solution_rows(6), config(final_answer="gsm8k")
    seen = []

    class Recording(ScriptedEngine):
        def generate(self, prompts, settings, desc="generating"):
            seen.append((prompts, settings))
            return super().generate(prompts, settings, desc)

    SlickProbe(Recording(solving_engine(set()).answer), cfg, seed=0).annotate(
        Dataset.from_list(rows))
    prompts, settings = seen[0]
    assert prompts[0].endswith("\nAnswer:") and prompts[0].startswith("Question: ")
    assert prompts[0].count("#### ") == cfg.k_shots  # each exemplar a worked solution
    assert settings.stop == ["Question:", "</s>", "<|im_end|>"]
    assert settings.max_new_tokens == cfg.solution_max_new_tokens == 256


def test_unknown_extractor_fails_with_the_known_names():
    with pytest.raises(Exception, match="gsm8k"):
        SlickProbe(ScriptedEngine(lambda *a: ""), config(final_answer="boxed"), seed=0)


def test_quick_is_named_approximate_and_slick_is_not():
    from curation.probes import approximate_protocol, describe_protocol
    quick, slick = config(name="quick"), config(name="slick", n_prompts=10, n_samples=16)
    assert approximate_protocol(quick) and not approximate_protocol(slick)
    assert "approximate" in describe_protocol(quick)
    assert describe_protocol(slick) == "slick (10 prompts x 16 samples)"
