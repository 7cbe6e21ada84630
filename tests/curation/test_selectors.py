"""Selection under a budget: strategies, quotas, knowledge policies, presets."""

import numpy as np
import pytest
from datasets import Dataset

from curation import config as _schema  # noqa: F401  (registers the schema)
from curation.core.config import UserError, compose_config
from curation.selectors import BudgetSelector, KnowledgePolicyStep, SelectConfig
from curation.steps import apply_step

CATS = ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"]


def make_ds(n=40):
    rng = np.random.default_rng(0)
    return Dataset.from_list([{
        "id": f"r{i}", "origin": f"f:{i + 1}", "source": "a" if i % 2 else "b",
        "messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
        "answers": [f"a{i}"], "probe_category": CATS[i % 4], "probe_known": i % 4 != 3,
        "score_ifd": float(rng.random())} for i in range(n)])


def unit_rows(n, d=8, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def run_select(ds, budget=10, seed=0, embeddings=None, **cfg):
    selector = BudgetSelector(budget, seed, SelectConfig(**cfg), embeddings=embeddings)
    result = apply_step(selector, ds)
    assert len(result.dataset) + len(result.filtered) == len(ds)
    return result


def test_known_first_takes_known_rows_first_and_is_seeded():
    ds = make_ds()
    a = run_select(ds, budget=30)
    assert all(a.dataset["probe_known"])  # 30 known rows exist
    assert a.dataset["id"] == run_select(ds, budget=30).dataset["id"]
    assert a.dataset["id"] != run_select(ds, budget=30, seed=1).dataset["id"]
    assert a.dataset["sel_rank"] == list(range(30))
    assert all("budget 30 reached" in f["reason"] for f in a.filtered)


def test_category_mix_and_quotas_are_respected():
    ds = make_ds()
    res = run_select(ds, budget=10, strategy="random",
                     category_mix={"MaybeKnown": 0.5, "*": 0.2}, quotas={"source": {"a": 3}})
    cats = res.dataset["probe_category"]
    assert cats.count("MaybeKnown") <= 5 and all(cats.count(c) <= 2 for c in CATS if c != "MaybeKnown")
    assert res.dataset["source"].count("a") <= 3
    assert any(f["reason"].startswith("quota full") for f in res.filtered)


def test_score_first_keeps_budget_and_diversity():
    ds = make_ds(60)
    emb = unit_rows(60)
    emb[1] = emb[0]  # a planted duplicate
    res = run_select(ds, budget=12, strategy="score_first", score_column="score_ifd", tau=0.8,
                     embeddings=lambda d: emb[[int(i[1:]) for i in d["id"]]])
    kept = [int(i[1:]) for i in res.dataset["id"]]
    assert len(kept) <= 12 and not {0, 1} <= set(kept)
    sims = emb[kept] @ emb[kept].T - np.eye(len(kept)) * 2
    assert sims.max() <= 0.8 + 1e-6
    scores = ds["score_ifd"]
    assert kept[0] == int(np.argmax(scores))  # the best-scored row comes first
    assert any("too similar" in f["reason"] for f in res.filtered) or len(kept) == 12


def test_kcenter_covers_the_space():
    ds = make_ds(50)
    emb = unit_rows(50, seed=3)
    res = run_select(ds, budget=5, strategy="kcenter",
                     embeddings=lambda d: emb[[int(i[1:]) for i in d["id"]]])
    assert len(res.dataset) == 5 and len(set(res.dataset["id"])) == 5


def test_input_order_writes_the_same_rows_in_input_order_with_their_ranks():
    ds = make_ds()
    ranked = run_select(ds, budget=15, strategy="random").dataset
    kept = run_select(ds, budget=15, strategy="random", order="input").dataset
    index = [int(i[1:]) for i in kept["id"]]
    assert index == sorted(index) and set(kept["id"]) == set(ranked["id"])
    rank_of = dict(zip(ranked["id"], ranked["sel_rank"], strict=True))
    assert kept["sel_rank"] == [rank_of[i] for i in kept["id"]]


@pytest.mark.parametrize("bad, match", [
    ({"strategy": "best"}, "select.strategy"),
    ({"order": "shuffled"}, "select.order"),
    ({"strategy": "score_first"}, "score_column"),
])
def test_bad_select_config_is_a_user_error(bad, match):
    with pytest.raises(UserError, match=match):
        BudgetSelector(5, 0, SelectConfig(**bad))


def test_knowledge_policies():
    ds = make_ds(8)
    assert len(apply_step(KnowledgePolicyStep("keep"), ds).dataset) == 8
    dropped = apply_step(KnowledgePolicyStep("drop"), ds)
    assert len(dropped.dataset) == 6 and all("Unknown" in f["reason"] for f in dropped.filtered)
    relabeled = apply_step(KnowledgePolicyStep("relabel_idk", "I don't know."), ds).dataset
    for row in relabeled:
        last = row["messages"][-1]["content"]
        assert (last == "I don't know.") == (row["probe_category"] == "Unknown")
        assert row["sel_relabeled"] == (row["probe_category"] == "Unknown")
    with pytest.raises(UserError):
        KnowledgePolicyStep("forget")


@pytest.mark.parametrize("preset, budget, strategy", [
    ("experiment=lima", 1000, "score_first"), ("experiment=qa_activation", 60, "kcenter"),
    ("select=deita", 100, "score_first"), ("select=maybeknown_heavy", 100, "random")])
def test_presets_compose(preset, budget, strategy):
    cfg = compose_config("curate", ["input=x", "out=o", preset])
    assert cfg.budget == budget and cfg.select.strategy == strategy
    assert compose_config("curate", ["input=x", "out=o", preset, "budget=7"]).budget == 7


def test_experiments_set_several_groups_at_once():
    lima = compose_config("curate", ["input=x", "out=o", "experiment=lima"])
    assert lima.score.enabled and lima.select.name == "lima"
    assert (lima.select.score_column, lima.select.tau, lima.select.unknown) == ("score_ifd", 0.9,
                                                                                "keep")
    qa = compose_config("curate", ["input=x", "out=o", "experiment=qa_activation"])
    assert (qa.select.name, qa.select.unknown, qa.score.enabled) == ("qa_activation", "drop",
                                                                     False)
    # a group given beside the experiment still wins over the experiment's choice
    mixed = compose_config("curate", ["input=x", "out=o", "experiment=lima", "select=kcenter"])
    assert mixed.select.strategy == "kcenter" and mixed.budget == 1000
