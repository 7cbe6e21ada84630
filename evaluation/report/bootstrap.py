"""Confidence intervals for tuned − base deltas: a paired bootstrap over items.

Every metric the report puts in a panel is written as a ratio of per-item sums,
``sum(numerator) / sum(denominator)``, then optionally transformed:

- a mean of per-item scores: numerator = score, denominator = 1;
- a rate among some items (hallucination among answered questions, a win rate among judged
  pairs): denominator 1 for the items counted, 0 for the others;
- pooled perplexity: numerator = negative log-likelihood, denominator = tokens, then ``exp``.

A statistic that is no ratio of sums is *fitted* (:data:`FITTED`): its two per-item columns
ride in ``num`` and ``den`` (for the length-adjusted win rate, each judged pair's preference and
length difference; NaN for a pair not judged), and it is refitted on every resample.

Resampling items (not tokens or instructions) keeps each item's parts together, so the interval
covers the variation the benchmark's items bring. Paired: one draw of item indices is applied to
base and tuned alike (items matched by id), so an item both models find hard moves both scores
together and the interval is that of the difference, not of two independent means.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..benchmarks.win_rate import fit_length_adjusted

CHUNK = 256  # resamples drawn at once: memory stays CHUNK × items whatever the set's size

TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "ratio": lambda r: r,
    "exp": np.exp,  # perplexity from NLL per token
    "bits": lambda r: r / math.log(2),  # bits per byte from NLL (nats) per byte
}
# fitted statistics: (column 1, column 2), each (..., items) -> (...); see the module doc
FITTED: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray | float]] = {
    "length_adjusted": fit_length_adjusted,  # (preference, length difference) per judged pair
}


@dataclass(frozen=True)
class ItemValues:
    """One model's per-item parts of a metric, in the samples file's order (for a
    :data:`FITTED` statistic, its two per-item columns)."""

    ids: list[str]
    num: np.ndarray
    den: np.ndarray


@dataclass(frozen=True)
class Estimate:
    """One model's statistic on its ``n`` items and a percentile interval over resamples of
    them (a win rate against its baseline is itself a comparison: is it above 1/2?)."""

    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Interval:
    """The paired delta (tuned − base) on the ``n`` matched items and its bootstrap interval."""

    delta: float
    low: float
    high: float
    n: int


def pair_items(base: ItemValues, tuned: ItemValues) -> tuple[np.ndarray, ...]:
    """(base num, base den, tuned num, tuned den) over the ids both have, in tuned's order."""
    where = {item_id: k for k, item_id in enumerate(base.ids)}
    common = [(where[i], k) for k, i in enumerate(tuned.ids) if i in where]
    b = np.array([c[0] for c in common], dtype=int)
    t = np.array([c[1] for c in common], dtype=int)
    return base.num[b], base.den[b], tuned.num[t], tuned.den[t]


def compute_statistic(num: np.ndarray, den: np.ndarray, transform: str = "ratio",
                      axis: int | None = None) -> np.ndarray | float:
    """``transform(sum(num) / sum(den))``; NaN where nothing is counted (den sums to 0). A
    :data:`FITTED` transform is fitted on the two columns instead (``axis``: None or the last)."""
    if transform in FITTED:
        return FITTED[transform](num, den)
    n, d = np.sum(num, axis=axis), np.sum(den, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)
    return TRANSFORMS[transform](ratio)


def compute_paired_interval(base: ItemValues, tuned: ItemValues, *, transform: str = "ratio",
                            samples: int = 1000, seed: int = 0, confidence: float = 0.95
                            ) -> Interval | None:
    """Percentile interval of tuned − base over ``samples`` paired resamples of the matched
    items; None when no item is in both. Seeded per call, so the result does not depend on
    which other metrics were computed before."""
    bn, bd, tn, td = pair_items(base, tuned)
    if len(bn) == 0:
        return None
    delta = float(compute_statistic(tn, td, transform) - compute_statistic(bn, bd, transform))
    rng = np.random.default_rng(seed)
    deltas = []
    for start in range(0, samples, CHUNK):
        idx = rng.integers(0, len(bn), size=(min(CHUNK, samples - start), len(bn)))
        deltas.append(compute_statistic(tn[idx], td[idx], transform, axis=1)
                      - compute_statistic(bn[idx], bd[idx], transform, axis=1))
    deltas = np.concatenate(deltas)
    if not np.isfinite(deltas).any():  # e.g. a rate among answered items, none answered
        return Interval(delta, math.nan, math.nan, len(bn))
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(deltas, [tail, 100 - tail])
    return Interval(delta, float(low), float(high), len(bn))


def compute_level_interval(values: ItemValues, *, transform: str = "ratio", samples: int = 1000,
                           seed: int = 0, confidence: float = 0.95) -> Estimate | None:
    """Percentile interval of one model's statistic over ``samples`` resamples of its items
    (``n``: the items counted); None when it has no item."""
    num, den = values.num, values.den
    if len(num) == 0:
        return None
    value = float(compute_statistic(num, den, transform))
    counted = int(np.sum(np.isfinite(num) if transform in FITTED else den > 0))
    rng = np.random.default_rng(seed)
    draws = []
    for start in range(0, samples, CHUNK):
        idx = rng.integers(0, len(num), size=(min(CHUNK, samples - start), len(num)))
        draws.append(compute_statistic(num[idx], den[idx], transform, axis=1))
    draws = np.concatenate(draws)
    if not np.isfinite(draws).any():
        return Estimate(value, math.nan, math.nan, counted)
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(draws, [tail, 100 - tail])
    return Estimate(value, float(low), float(high), counted)
