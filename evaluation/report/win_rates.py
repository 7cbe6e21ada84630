"""Judged win rates as levels: each model's win rate against its judge's baseline, with a
percentile interval over judged pairs. A win rate is itself a comparison (with the reference
responses, or with the base's answers), so whether it is above 1/2 matters beside the
tuned − base delta the panels show; a model judged head to head against its base is shown only
here.

Each metric's estimator is named beside it:

- ``win_rate``: the mean preference over judged pairs (both orders agreeing: 1 or 0, else 1/2);
- ``length_adjusted_win_rate``: this project's GLM (:func:`~evaluation.benchmarks.win_rate.fit_length_adjusted`),
  refitted on every resample here;
- ``lc_win_rate``: AlpacaEval's own estimator, whose interval the evaluation computed (its fit
  needs AlpacaEval's hub data, so the report cannot refit it).
"""

from __future__ import annotations

import zlib

from ..benchmarks.win_rate import (
    ALPACA_LC,
    LENGTH_ADJUSTED,
    LENGTH_ADJUSTED_ESTIMATOR,
    PairwiseJudge,
)
from .bootstrap import Estimate, compute_level_interval
from .comparison import Entry
from .deltas import BootstrapSettings, item_values, reproduces
from .panels import find_class, find_spec
from .render import Table

ESTIMATORS = {
    "win_rate": "raw: mean preference over judged pairs (ties 1/2)",
    LENGTH_ADJUSTED: f"length-adjusted: {LENGTH_ADJUSTED_ESTIMATOR}",
    ALPACA_LC: "AlpacaEval 2 length-controlled (alpaca-eval's GLM; interval from its refits "
               "at evaluation)",
}


def build_win_rate_table(entries: list[tuple[str, Entry]], boot: BootstrapSettings
                         ) -> Table | None:
    """One row per (label, entry) and judged win rate; None when no entry has one."""
    rows = []
    for label, entry in entries:
        for key in sorted(entry.results.metrics, key=_order):
            benchmark, _, metric = key.partition("/")
            cls = find_class(entry.results.config, benchmark)
            if metric not in ESTIMATORS or not (cls and issubclass(cls, PairwiseJudge)):
                continue
            estimate, note = compute_estimate(entry, key, boot)
            rows.append([key, label, *_cells(estimate, entry.results.metrics[key].value, note),
                         ESTIMATORS[metric]])
    if not rows:
        return None
    ci = f"{boot.confidence:.0%} CI"
    return Table(f"Judged win rates against each model's baseline ({ci}: percentile bootstrap "
                 "over judged pairs; 0.5 is a draw)",
                 ["metric", "model", "win rate", ci, "n", "estimator"], rows, numeric={2, 3, 4})


def compute_estimate(entry: Entry, key: str, boot: BootstrapSettings
                     ) -> tuple[Estimate | None, str]:
    """(the win rate with its interval, or None and why)."""
    benchmark, _, metric = key.partition("/")
    value = entry.results.metrics[key].value
    if metric == ALPACA_LC:
        low, high = (entry.results.metrics.get(f"{key}_{end}") for end in ("low", "high"))
        if low is None or high is None:
            return None, "no interval recorded"
        return Estimate(value, low.value, high.value, entry.results.metrics[key].n), ""
    spec = find_spec(entry.results.config, key)[1]
    rows = entry.read_samples(benchmark)
    if not rows:
        return None, "samples missing"
    values = item_values(rows, spec, metric)
    if not reproduces(values, spec, value):
        return None, "samples do not reproduce results.json"
    seed = zlib.crc32(f"{boot.seed}:level:{key}".encode())
    return compute_level_interval(values, transform=spec.transform, samples=boot.samples,
                                  seed=seed, confidence=boot.confidence), ""


def _order(key: str) -> tuple[str, int]:
    """By benchmark, then raw, length-adjusted, AlpacaEval's (as :data:`ESTIMATORS`)."""
    benchmark, _, metric = key.partition("/")
    names = list(ESTIMATORS)
    return benchmark, names.index(metric) if metric in names else len(names)


def _cells(estimate: Estimate | None, value: float | None, note: str) -> list[str]:
    if estimate is None:
        return ["—" if value is None else f"{value:.3f}", note or "—", "—"]
    return [f"{estimate.value:.3f}", f"[{estimate.low:.3f}, {estimate.high:.3f}]",
            str(estimate.n)]
