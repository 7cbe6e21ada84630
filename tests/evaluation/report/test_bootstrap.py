"""The paired bootstrap over items (hand-checkable cases) and the declared panel mapping."""

import math

import numpy as np
import pytest
from omegaconf import OmegaConf

from evaluation.report.bootstrap import (
    ItemValues,
    compute_paired_interval,
    compute_statistic,
    pair_items,
)
from evaluation.report.panels import (
    CAPABILITY,
    IMITATION,
    METRICS,
    find_class,
    find_spec,
    read_item,
)
from tests import PROJECT_ROOT

SUITES = PROJECT_ROOT / "conf" / "suite"


def values(scores, den=None, ids=None):
    ids = ids or [f"i{k}" for k in range(len(scores))]
    den = np.ones(len(scores)) if den is None else np.asarray(den, float)
    return ItemValues(list(ids), np.asarray(scores, float), den)


def test_all_equal_items_give_a_zero_width_interval():
    base, tuned = values([0.5] * 30), values([0.75] * 30)
    interval = compute_paired_interval(base, tuned, samples=500)
    assert (interval.delta, interval.low, interval.high, interval.n) == (0.25, 0.25, 0.25, 30)


def test_resampling_is_paired():
    """tuned = base + 0.1 on every item: the same draw for both gives exactly 0.1 on every
    resample; independent draws of two 0/1 columns would spread the interval widely."""
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 2, 40).astype(float)
    interval = compute_paired_interval(values(scores), values(scores + 0.1), samples=500)
    assert interval.low == pytest.approx(0.1) and interval.high == pytest.approx(0.1)


def test_two_items_hand_checked():
    """Differences 0 and 1: resampled means 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4, so the
    95% percentile interval is [0, 1] around the delta 1/2."""
    interval = compute_paired_interval(values([0, 0]), values([0, 1]), samples=2000, seed=3)
    assert (interval.delta, interval.low, interval.high) == (0.5, 0.0, 1.0)


def test_items_are_matched_by_id_not_position():
    base = values([1.0, 0.0, 0.5], ids=["a", "b", "c"])
    tuned = values([0.0, 1.0, 0.25], ids=["b", "a", "z"])  # z has no base: left out
    bn, _, tn, _ = pair_items(base, tuned)
    assert list(bn) == [0.0, 1.0] and list(tn) == [0.0, 1.0]
    interval = compute_paired_interval(base, tuned, samples=200)
    assert (interval.delta, interval.low, interval.high, interval.n) == (0.0, 0.0, 0.0, 2)
    assert compute_paired_interval(base, values([1.0], ids=["q"])) is None


def test_ratio_and_transform_are_recomputed_per_resample():
    # a rate among counted items (den 0 = not counted), and pooled perplexity exp(NLL / tokens)
    assert compute_statistic(np.array([1.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0])) == 0.5
    assert math.isnan(compute_statistic(np.zeros(2), np.zeros(2)))
    nll, tokens = np.array([10.0, 30.0]), np.array([10.0, 10.0])
    assert compute_statistic(nll, tokens, "exp") == pytest.approx(math.exp(2.0))
    same = compute_paired_interval(values(nll, tokens), values(nll, tokens), transform="exp")
    assert (same.low, same.high) == (0.0, 0.0)


def test_seeded_and_order_free():
    rng = np.random.default_rng(0)
    base, tuned = values(rng.random(50)), values(rng.random(50))
    first = compute_paired_interval(base, tuned, seed=7)
    assert compute_paired_interval(base, tuned, seed=7) == first
    assert compute_paired_interval(base, tuned, seed=8) != first


@pytest.mark.parametrize(("key", "panel"), [
    ("style/list_rate", IMITATION), ("style/length_correlation", IMITATION),
    ("judge/lc_win_rate", IMITATION), ("ifeval/instruction_loose", IMITATION),
    ("closed_book_qa/hallucination_rate", CAPABILITY), ("gsm8k/exact_match,flexible", CAPABILITY),
    ("arc_easy/acc_norm", CAPABILITY), ("truthfulqa/mc2", CAPABILITY),
    ("perplexity/perplexity", CAPABILITY),
    ("closed_book_qa/exact_match,category", None), ("style/list_rate_reference", None)])
def test_shipped_metrics_map_to_their_panel(key, panel):
    assert find_spec({}, key)[1].panel == panel


def test_class_from_the_suite_config_beats_the_name():
    config = {"suite": {"benchmarks": {"x": {"_target_": "evaluation.benchmarks.reasoning.FewShotGeneration",
                                             "name": "arith"}}}}
    assert find_spec(config, "arith/exact_match,strict-match")[1].panel == CAPABILITY
    assert find_spec({}, "arith/exact_match,strict") is None  # unknown name, no config
    assert find_spec({}, "closed_book_qa/new_metric") is None


def test_every_shipped_benchmark_class_is_declared():
    """A benchmark class added to a suite without a panel mapping fails here."""
    targets = set()
    for path in SUITES.glob("*.yaml"):
        for entry in (OmegaConf.load(path).get("benchmarks") or {}).values():
            if "_target_" in entry:  # not an override of a composed suite's entry
                targets.add(str(entry["_target_"]).rsplit(".", 1)[-1])
    assert targets and targets <= set(METRICS), targets - set(METRICS)
    assert find_class({}, "peer_mc_ll") is None


@pytest.mark.parametrize(("key", "row", "expected"), [
    ("gsm8k/exact_match,flexible", {"scores": {"flexible": 1.0, "strict": 0.0}}, (1.0, 1.0)),
    ("closed_book_qa/hallucination_rate", {"score": 0.0, "abstained": False}, (1.0, 1.0)),
    ("closed_book_qa/hallucination_rate", {"score": 0.0, "abstained": True}, (0.0, 0.0)),
    ("closed_book_qa/abstention_rate", {"score": 0.0, "abstained": True}, (1.0, 1.0)),
    ("ifeval/instruction_strict", {"instructions": [{"strict": True}, {"strict": False}]},
     (1.0, 2.0)),
    ("perplexity/bits_per_byte", {"loglikelihood": -7.0, "tokens": 3, "bytes": 9}, (7.0, 9.0)),
    ("judge/win_rate", {"score": None}, (0.0, 0.0)),
    ("judge/failure_rate", {"score": None}, (1.0, 1.0)),
    ("judge/position_consistency", {"score": 0.5}, (0.0, 1.0)),
    ("style/mean_words", {"style": {"words": 42.0}}, (42.0, 1.0))])
def test_item_readers(key, row, expected):
    _, spec = find_spec({}, key)
    assert read_item(row, spec, key.partition("/")[2]) == expected
