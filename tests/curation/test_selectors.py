"""Selection under a budget: strategies, quotas, knowledge policies, presets, and the walk
measurements of ``benchmarks/calibrate_tau.py``."""


import numpy as np
import pytest
from datasets import Dataset

from curation import config as _schema  # noqa: F401  (registers the schema)
from curation.core.config import UserError, compose_config
from curation.selectors import DEFAULT_TAU, BudgetSelector, KnowledgePolicyStep, SelectConfig
from curation.steps import Filter, apply_step
from tests import PROJECT_ROOT, load_script

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
    ("select=deita_ifd", 100, "score_first"), ("select=maybeknown_heavy", 100, "random")])
def test_presets_compose(preset, budget, strategy):
    cfg = compose_config("curate", ["input=x", "out=o", preset])
    assert cfg.budget == budget and cfg.select.strategy == strategy
    assert compose_config("curate", ["input=x", "out=o", preset, "budget=7"]).budget == 7


def test_experiments_set_several_groups_at_once():
    lima = compose_config("curate", ["input=x", "out=o", "experiment=lima"])
    assert lima.score.enabled and lima.select.name == "lima"
    assert (lima.select.score_column, lima.select.tau, lima.select.unknown) == (
        "score_ifd", DEFAULT_TAU, "keep")
    qa = compose_config("curate", ["input=x", "out=o", "experiment=qa_activation"])
    # since 4c8788a the preset picks facts of one memorisation level instead of dropping Unknown
    assert (qa.select.name, qa.select.strategy, qa.score.enabled) == ("qa_activation", "kcenter",
                                                                      False)
    assert qa.memorization.enabled and list(qa.memorization.select_levels) == [4]
    # a group given beside the experiment still wins over the experiment's choice
    mixed = compose_config("curate", ["input=x", "out=o", "experiment=lima", "select=kcenter"])
    assert mixed.select.strategy == "kcenter" and mixed.budget == 1000


def test_the_calibrated_tau_is_the_default_everywhere():
    """SelectConfig, the deita_ifd preset and the lima experiment carry the MiniLM calibration
    (benchmarks/calibrate_tau.py), not DEITA's 0.9 for LLaMA embeddings."""
    deita = compose_config("curate", ["input=x", "out=o", "select=deita_ifd"])
    assert SelectConfig().tau == DEFAULT_TAU == deita.select.tau < 0.9
    assert (deita.select.name, deita.select.score_column) == ("deita_ifd", "score_ifd")


class ColumnScorer(Filter):
    """A scorer of one's own (as DEITA's would be): annotates a column, drops nothing."""

    name = "column_scorer"

    def annotate(self, ds):
        return ds.add_column("score_mine", [float(len(m[-1]["content"])) for m in ds["messages"]])

    def drops(self, ds):
        return {}


def test_score_first_ranks_by_a_column_any_scorer_wrote():
    from curation.filters import build_filters

    ds = Dataset.from_list([{"id": f"r{i}", "origin": None, "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a" * (i + 1)}]}
        for i in range(6)])
    (scorer,) = build_filters([{"_target_": f"{__name__}.ColumnScorer"}])
    scored = apply_step(scorer, ds).dataset
    emb = np.eye(6, dtype=np.float32)
    res = run_select(scored, budget=3, strategy="score_first", score_column="score_mine",
                     embeddings=lambda d: emb[[int(i[1:]) for i in d["id"]]])
    assert res.dataset["id"] == ["r5", "r4", "r3"]  # longest response first


def _calibrate_tau():
    return load_script(PROJECT_ROOT / "benchmarks" / "calibrate_tau.py")


def test_calibrate_tau_walk_metrics():
    """Rejection, scan depth and kept-set NN cosine of a walk, on rows whose answer is known:
    pairs (0, 1), (2, 3), … are near-copies (cosine 0.98), pairs are orthogonal."""
    walk_metrics = _calibrate_tau().walk_metrics
    base = np.eye(10, dtype=np.float32)
    x = np.repeat(base, 2, axis=0)
    x[1::2] = 0.98 * x[1::2] + np.sqrt(1 - 0.98 ** 2) * np.roll(base, 1, axis=1)
    scores = -np.arange(20, dtype=np.float64)  # walk in row order
    m = walk_metrics(x, scores, 5, tau=0.9)
    # kept 0, 2, 4, 6, 8; refused 1, 3, 5, 7 on the way: depth 9, 4 of 9 refused
    assert (m["kept"], m["filled"], m["depth"], m["rejection"]) == (5, True, 9, round(4 / 9, 4))
    assert m["nn_max"] < 0.3
    top = walk_metrics(x, scores, 5, tau=1.0)  # no diversity rule: the top of the score order
    assert (top["depth"], top["rejection"]) == (5, 0.0) and top["nn_max"] > 0.97
    short = walk_metrics(x, scores, 15, tau=0.9)  # only 10 rows pass: the walk runs out
    assert (short["kept"], short["filled"], short["depth"]) == (10, False, 20)
