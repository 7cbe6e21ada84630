"""Each panel metric of a run as tuned − base, with a paired bootstrap interval over items
computed from the two models' ``samples/<benchmark>.jsonl`` (see :mod:`evaluation.report.bootstrap`
and, for how a row gives its item's value, :mod:`evaluation.benchmarks.panels`).

A metric recorded with a reference value (a style statistic beside the reference responses'
``*_reference``) has no fixed better direction: imitation is judged by how far the tuned model
moved toward the reference (Gudibande et al., 2023: list use 13% → 81% against the teacher's
83% is 97% of the gap closed). Its tone is by distance to the reference, and
:attr:`Delta.gap_closed` is the share of the base-to-reference gap the tuned model closed."""

from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..benchmarks.panels import MetricSpec
from ..results import Metric
from .bootstrap import Interval, ItemValues, compute_paired_interval, compute_statistic
from .comparison import Comparison, Run
from .panels import find_spec, read_item

GAP_RTOL, GAP_ATOL = 1e-6, 1e-9  # base and reference this close: the base is at the reference


@dataclass(frozen=True)
class BootstrapSettings:
    samples: int = 1000
    seed: int = 0
    confidence: float = 0.95


@dataclass
class Delta:
    """One metric of one run against its base."""

    key: str
    run: str
    panel: str
    order: tuple[int, int]  # declaration order (evaluation.report.panels.find_spec)
    base: float | None
    tuned: float | None
    higher_is_better: bool
    interval: Interval | None
    note: str = ""  # why there is no interval, or on how many items it was computed
    reference: float | None = None  # the reference responses' value (style statistics)

    @property
    def value(self) -> float | None:
        return None if self.base is None or self.tuned is None else self.tuned - self.base

    @property
    def significant(self) -> bool:
        """The delta's bootstrap interval exists and excludes 0."""
        i = self.interval
        return (i is not None and math.isfinite(i.low) and math.isfinite(i.high)
                and not i.low <= 0 <= i.high)

    @property
    def at_reference(self) -> bool:
        """The base is already at the reference value: no gap to close."""
        return (self.reference is not None and self.base is not None
                and math.isclose(self.reference, self.base, rel_tol=GAP_RTOL, abs_tol=GAP_ATOL))

    @property
    def gap_closed(self) -> float | None:
        """(tuned − base) / (reference − base): 1 is all the way to the reference, above 1
        overshoots it, below 0 moved away; None without a reference or with no gap."""
        if self.value is None or self.reference is None or self.at_reference:
            return None
        return self.value / (self.reference - self.base)

    @property
    def closer(self) -> int:
        """+1 the tuned model is nearer the reference than the base, −1 farther, 0 neither (or
        no reference)."""
        if self.value is None or self.reference is None:
            return 0
        change = round(abs(self.tuned - self.reference) - abs(self.base - self.reference), 12)
        return 0 if change == 0 else (1 if change < 0 else -1)

    @property
    def tone(self) -> str:
        """better / worse for the tuned model, "" for no change or none: by distance to the
        reference where there is one, else by the metric's direction."""
        if self.reference is not None:
            return {1: "better", -1: "worse", 0: ""}[self.closer]
        if self.value is None or round(self.value, 12) == 0:
            return ""
        return "better" if (self.value > 0) == self.higher_is_better else "worse"


def build_deltas(run: Run, boot: BootstrapSettings) -> list[Delta]:
    """Every declared panel metric of every comparison of the run, in declaration order."""
    deltas = []
    for c in run.comparisons:
        tuned = c.subject.results
        for key, metric in tuned.metrics.items():
            found = find_spec(tuned.config, key)
            if found is None or found[1].panel is None:
                continue
            order, spec = found
            base = c.base.results.metrics.get(key)
            interval, note = (compute_interval(c, key, spec, boot, (_value(base), _value(metric)))
                              if None not in (_value(base), _value(metric))
                              else (None, "no value for one of the two models"))
            reference = tuned.metrics.get(f"{key.partition('/')[0]}/{spec.reference}")
            deltas.append(Delta(key, run.label, spec.panel, order, _value(base), _value(metric),
                                metric.higher_is_better, interval, note, _value(reference)))
    return sorted(deltas, key=lambda d: (d.order, d.key))


def compute_interval(c: Comparison, key: str, spec: MetricSpec, boot: BootstrapSettings,
                     expected: tuple[float | None, float | None],
                     where: tuple[str, str] | None = None) -> tuple[Interval | None, str]:
    """(interval, note) for one metric, over the rows whose ``where[0]`` field equals
    ``where[1]`` when given (one knowledge category). ``expected``: the (base, tuned) values
    the results files report, which the samples must reproduce for the interval to be theirs."""
    if spec.item is None:
        return None, "point only: no per-item form"
    benchmark, _, metric = key.partition("/")
    rows = [c.base.read_samples(benchmark), c.subject.read_samples(benchmark)]
    if not all(rows):
        return None, "point only: samples missing"
    if where is not None:
        rows = [[r for r in part if str(r.get(where[0])) == where[1]] for part in rows]
    base, tuned = (item_values(part, spec, metric) for part in rows)
    if not all(reproduces(v, spec, e) for v, e in zip((base, tuned), expected, strict=True)):
        return None, "point only: samples do not reproduce results.json"
    seed = zlib.crc32(f"{boot.seed}:{key}:{where}".encode())  # same metric, same draws
    interval = compute_paired_interval(base, tuned, transform=spec.transform,
                                       samples=boot.samples, seed=seed,
                                       confidence=boot.confidence)
    if interval is None:
        return None, "point only: no item in both samples files"
    matched = max(len(base.ids), len(tuned.ids))
    return interval, "" if interval.n == matched else f"{interval.n} of {matched} items matched"


def item_values(rows: list[dict[str, Any]], spec: MetricSpec, metric: str) -> ItemValues:
    """Per-item parts of a metric, ids as :func:`item_ids` gives them."""
    parts = np.array([read_item(r, spec, metric) for r in rows], dtype=float).reshape(-1, 2)
    return ItemValues(item_ids(rows), parts[:, 0], parts[:, 1])


def item_ids(rows: list[dict[str, Any]]) -> list[str]:
    """The rows' ids made unique by occurrence (a repeated id is a new item)."""
    seen: Counter[str] = Counter()
    ids = []
    for k, row in enumerate(rows):
        item_id = str(row.get("id", k))
        seen[item_id] += 1
        ids.append(f"{item_id}#{seen[item_id]}")
    return ids


def reproduces(values: ItemValues, spec: MetricSpec, expected: float | None) -> bool:
    """Whether the per-item values give back the value the results file reports."""
    got = compute_statistic(values.num, values.den, spec.transform)
    if expected is None or not math.isfinite(got):
        return expected is None and not math.isfinite(got)
    return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)


def _value(metric: Metric | None) -> float | None:
    if metric is None or metric.value is None or not math.isfinite(metric.value):
        return None
    return float(metric.value)
