"""Which panel a results file's metric belongs to, from what its benchmark class declares
(:attr:`Benchmark.metrics <evaluation.benchmarks.base.Benchmark.metrics>`; the panels and the
item readers are described in :mod:`evaluation.benchmarks.panels`), and its per-item value in a
``samples/<benchmark>.jsonl`` row for the bootstrap (:mod:`evaluation.report.bootstrap`).

A benchmark's class is the ``_target_`` its suite config names in the results file. Results
written before ``evaluation/`` was reorganised name classes by paths that no longer import
(``evaluation.judge.PairwiseJudge``): the shipped class of that name stands in. Results without
a suite config (hand-written files) fall back on the shipped benchmarks' names.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import logging
import math
from typing import Any

from ..benchmarks.base import Benchmark
from ..benchmarks.choice import MultipleChoice
from ..benchmarks.closed_book import ClosedBookQA
from ..benchmarks.ifeval import IFEval
from ..benchmarks.panels import MetricSpec
from ..benchmarks.perplexity import Perplexity
from ..benchmarks.reasoning import FewShotGeneration
from ..benchmarks.style import StyleStats
from ..benchmarks.truthfulqa import TruthfulQA
from ..benchmarks.win_rate import PairwiseJudge

log = logging.getLogger(__name__)

# the shipped benchmarks, in the order the panels list their metrics; any other class (a
# user's own) comes after them, and a subclass takes its shipped parent's place
SHIPPED: tuple[type[Benchmark], ...] = (StyleStats, PairwiseJudge, IFEval, ClosedBookQA,
                                        FewShotGeneration, MultipleChoice, TruthfulQA, Perplexity)
# results without the suite config (hand-written files) fall back on the shipped names
DEFAULT_CLASSES: dict[str, type[Benchmark]] = {
    "closed_book_qa": ClosedBookQA, "gsm8k": FewShotGeneration, "arc_easy": MultipleChoice,
    "multiple_choice": MultipleChoice, "truthfulqa": TruthfulQA, "perplexity": Perplexity,
    "ifeval": IFEval, "style": StyleStats, "judge": PairwiseJudge}


def find_class(config: dict[str, Any], benchmark: str) -> type[Benchmark] | None:
    """The class of the benchmark called ``benchmark`` in a results file's suite config."""
    entries = ((config.get("suite") or {}).get("benchmarks") or {}).values()
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == benchmark and entry.get("_target_"):
            return _load_class(str(entry["_target_"]))
    return DEFAULT_CLASSES.get(benchmark)


@functools.cache
def _load_class(target: str) -> type[Benchmark] | None:
    """The Benchmark class ``target`` names; a path that no longer imports (results written
    before the reorganisation) gives the shipped class of the same name, if any."""
    module, _, name = target.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except Exception as e:  # a user's module may fail in any way; the report goes on
        cls, why = None, f"cannot import it ({type(e).__name__}: {e})"
    else:
        why = "not a Benchmark class"
    if isinstance(cls, type) and issubclass(cls, Benchmark):
        return cls
    shipped = next((c for c in SHIPPED if c.__name__ == name), None)
    if shipped is None:
        log.warning("benchmark class %s: %s; its metrics have no panel", target, why)
    return shipped


def find_spec(config: dict[str, Any], key: str) -> tuple[tuple[int, int], MetricSpec] | None:
    """(declaration order, spec) of a ``benchmark/metric`` key, or None if undeclared. The
    order sorts the shipped classes as :data:`SHIPPED`, then each class's own declarations."""
    benchmark, _, metric = key.partition("/")
    cls = find_class(config, benchmark)
    if cls is None:
        return None
    rank = next((SHIPPED.index(c) for c in cls.__mro__ if c in SHIPPED), len(SHIPPED))
    for order, (pattern, spec) in enumerate(cls.metrics.items()):
        if fnmatch.fnmatchcase(metric, pattern):
            return (rank, order), spec
    return None


def read_item(row: dict[str, Any], spec: MetricSpec, metric: str) -> tuple[float, float]:
    """One samples row's (numerator, denominator) of the metric, by the spec's item reader
    (described in :mod:`evaluation.benchmarks.panels`)."""
    if spec.item == "field":
        value = _dig(row, spec.arg.format(metric.partition(",")[2]))
        return (0.0, 0.0) if value is None else (float(value), 1.0)
    if spec.item == "answered_wrong":
        return (0.0, 0.0) if row.get("abstained") else (1.0 - float(row["score"]), 1.0)
    if spec.item == "instructions":
        checks = row.get("instructions") or []
        return float(sum(bool(c[spec.arg]) for c in checks)), float(len(checks))
    if spec.item == "pooled":
        return -float(row["loglikelihood"]), float(row[spec.arg])
    if spec.item == "decisive":
        return (0.0, 0.0) if row.get("score") is None else (float(row["score"] != 0.5), 1.0)
    if spec.item == "failed":
        return float(row.get("score") is None), 1.0
    if spec.item == "preference_length":  # a fitted statistic's two columns (bootstrap.FITTED)
        if row.get("score") is None:
            return math.nan, math.nan
        return float(row["score"]), float(row["length_diff"])
    raise ValueError(f"no per-item reader {spec.item!r}")


def _dig(row: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        row = row.get(part) if isinstance(row, dict) else None
    return row
