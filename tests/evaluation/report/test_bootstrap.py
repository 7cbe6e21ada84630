"""The paired bootstrap over items (hand-checkable cases) and the panels the benchmark
classes declare, as the report finds them."""

import logging
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from hydra.utils import get_class
from omegaconf import OmegaConf

from evaluation.benchmarks.base import Benchmark
from evaluation.benchmarks.closed_book import ClosedBookQA
from evaluation.benchmarks.panels import CAPABILITY, IMITATION, PANELS, MetricSpec
from evaluation.benchmarks.win_rate import PairwiseJudge
from evaluation.report.bootstrap import (
    FITTED,
    TRANSFORMS,
    ItemValues,
    compute_level_interval,
    compute_paired_interval,
    compute_statistic,
    pair_items,
)
from evaluation.report.panels import DEFAULT_CLASSES, SHIPPED, find_class, find_spec, read_item
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
    ("judge/lc_win_rate", IMITATION), ("judge/length_adjusted_win_rate", IMITATION),
    ("judge/lc_win_rate_low", None), ("ifeval/instruction_loose", IMITATION),
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


# a row every reader can read: a declared reader the report lacks fails, not a missing field
ANY_ROW = {"score": 1.0, "abstained": False, "instructions": [], "loglikelihood": -1.0,
           "tokens": 1, "bytes": 1, "length_diff": 0}


def test_every_shipped_benchmark_class_is_declared():
    """A benchmark class added to a suite without declaring its metrics' panels fails here,
    as does a declaration the report cannot read (an unknown panel, reader or transform)."""
    targets = {}
    for path in SUITES.glob("*.yaml"):
        for entry in (OmegaConf.load(path).get("benchmarks") or {}).values():
            if "_target_" in entry:  # not an override of a composed suite's entry
                targets[str(entry["_target_"])] = get_class(str(entry["_target_"]))
    assert targets
    undeclared = sorted(t for t, cls in targets.items() if not cls.metrics)
    assert not undeclared, undeclared
    for target, cls in targets.items():
        config = {"suite": {"benchmarks": {"b": {"_target_": target, "name": "b"}}}}
        assert find_class(config, "b") is cls
    for cls in {*targets.values(), *SHIPPED}:
        for pattern, spec in cls.metrics.items():
            assert spec.panel in (*PANELS, None), (cls.__name__, pattern)
            assert spec.transform in {*TRANSFORMS, *FITTED}, (cls.__name__, pattern)
            if spec.item is not None:
                read_item(ANY_ROW, spec, "metric,filter")
    assert set(DEFAULT_CLASSES.values()) <= set(SHIPPED)
    assert find_class({}, "peer_mc_ll") is None


def suite_naming(target, name="b"):
    return {"suite": {"benchmarks": {name: {"_target_": target, "name": name}}}}


@pytest.mark.parametrize(("target", "cls"), [
    ("evaluation.benchmarks.ClosedBookQA", ClosedBookQA),  # paths before the reorganisation
    ("evaluation.judge.PairwiseJudge", PairwiseJudge),
    ("evaluation.benchmarks.closed_book.ClosedBookQA", ClosedBookQA)])  # and today's
def test_old_target_paths_fall_back_on_the_shipped_class_name(target, cls):
    assert find_class(suite_naming(target), "b") is cls
    _, spec = find_spec(suite_naming(target), f"b/{next(iter(cls.metrics))}")
    assert spec == next(iter(cls.metrics.values()))


def test_a_target_that_names_no_benchmark_has_no_panel(caplog):
    with caplog.at_level(logging.WARNING):
        assert find_class(suite_naming("nowhere.Missing"), "b") is None
        assert find_class(suite_naming("evaluation.benchmarks.panels.MetricSpec"), "b") is None
    assert "nowhere.Missing" in caplog.text and "not a Benchmark class" in caplog.text
    assert find_spec(suite_naming("nowhere.Missing"), "b/exact_match") is None


@dataclass
class ToyBenchmark(Benchmark):
    """A user's own benchmark, named by ``_target_``: it declares its panels itself."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "verbosity": MetricSpec(IMITATION, arg="words"),
        "accuracy,*": MetricSpec(CAPABILITY, arg="scores.{0}")}

    name: str = "toy"
    limit: int | None = None

    def load_data(self):
        return []

    def evaluate(self, engine, data=None):
        raise AssertionError("the report reads results files; it never evaluates a benchmark")


@dataclass
class OwnClosedBook(ClosedBookQA):
    """A user's subclass of a shipped benchmark: its parent's declarations and place."""


def target_of(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def test_own_class_declares_its_panels_and_comes_after_the_shipped_ones():
    config = suite_naming(target_of(ToyBenchmark), "toy")
    assert find_class(config, "toy") is ToyBenchmark
    assert find_spec(config, "toy/verbosity") == ((len(SHIPPED), 0), ToyBenchmark.metrics[
        "verbosity"])
    order, spec = find_spec(config, "toy/accuracy,strict")
    assert order == (len(SHIPPED), 1) and spec.panel == CAPABILITY
    assert read_item({"scores": {"strict": 1.0}}, spec, "accuracy,strict") == (1.0, 1.0)
    assert find_spec(config, "toy/undeclared") is None
    last_shipped = find_spec({}, "perplexity/bits_per_byte")[0]
    assert last_shipped < find_spec(config, "toy/verbosity")[0]

    config = suite_naming(target_of(OwnClosedBook), "cbqa")
    assert find_spec(config, "cbqa/hallucination_rate") == find_spec(
        {}, "closed_book_qa/hallucination_rate")


def test_shipped_classes_keep_the_panels_order():
    """The panels list style, judge, IFEval, then closed-book, reasoning, multiple choice,
    TruthfulQA, perplexity: each class's metrics in declaration order."""
    keys = ["style/list_rate", "style/length_correlation", "judge/win_rate",
            "judge/failure_rate", "ifeval/prompt_strict", "ifeval/instruction_loose",
            "closed_book_qa/exact_match", "closed_book_qa/abstention_rate",
            "gsm8k/exact_match,strict", "arc_easy/acc", "arc_easy/acc_bytes", "truthfulqa/mc1",
            "truthfulqa/mc2", "perplexity/perplexity", "perplexity/bits_per_byte"]
    orders = [find_spec({}, k)[0] for k in keys]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


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
    ("style/mean_words", {"style": {"words": 42.0}}, (42.0, 1.0)),
    ("judge/length_adjusted_win_rate", {"score": 0.5, "length_diff": -3}, (0.5, -3.0))])
def test_item_readers(key, row, expected):
    _, spec = find_spec({}, key)
    assert read_item(row, spec, key.partition("/")[2]) == expected


def test_a_failed_judgment_is_no_item_of_the_length_adjusted_fit():
    _, spec = find_spec({}, "judge/length_adjusted_win_rate")
    assert all(math.isnan(v) for v in read_item({"score": None, "length_diff": 4}, spec, "x"))


def length_biased_pairs(rng, n):
    """Judged pairs whose preference depends on length only: P(win) = σ(1.5·tanh(Δ/60))."""
    diffs = np.round(rng.normal(40, 60, n))
    p = 1 / (1 + np.exp(-1.5 * np.tanh(diffs / 60)))
    prefs = ((rng.random(n) < p).astype(float) + (rng.random(n) < p)) / 2
    return prefs, diffs


def test_fitted_statistic_is_refitted_on_every_resample():
    """The length-adjusted win rate through the bootstrap: the same pairs for base and tuned
    give a zero-width delta interval; every resample is a fit of its own (batched = one by one)."""
    prefs, diffs = length_biased_pairs(np.random.default_rng(5), 60)
    same = values(prefs, diffs)
    interval = compute_paired_interval(same, same, transform="length_adjusted", samples=300)
    assert (interval.low, interval.high) == (0.0, 0.0)
    idx = np.random.default_rng(0).integers(0, 60, size=(5, 60))
    batched = compute_statistic(prefs[idx], diffs[idx], "length_adjusted", axis=1)
    one_by_one = [compute_statistic(prefs[i], diffs[i], "length_adjusted") for i in idx]
    assert batched == pytest.approx(one_by_one, abs=1e-9)
    shifted = compute_paired_interval(same, values(np.minimum(prefs + 0.5, 1.0), diffs),
                                      transform="length_adjusted", samples=300)
    assert shifted.low > 0  # the tuned model wins more at every length


def test_level_interval():
    flat = compute_level_interval(values([0.75] * 20), samples=200)
    assert (flat.value, flat.low, flat.high, flat.n) == (0.75, 0.75, 0.75, 20)
    # two items 0 and 1: resampled means 0, 1/2, 1 -> the 95% interval is [0, 1]
    assert compute_level_interval(values([0.0, 1.0]), samples=2000, seed=3) == type(flat)(
        0.5, 0.0, 1.0, 2)
    counted = compute_level_interval(values([1.0, 0.0, 0.0], den=[1, 1, 0]), samples=100)
    assert (counted.value, counted.n) == (0.5, 2)  # a rate among the counted items
    assert compute_level_interval(values([])) is None
