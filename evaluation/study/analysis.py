"""What a study measured: each arm's deltas against its base, and each claim's measurement with
its interval, read only from the arms' results files (see :mod:`evaluation.report.deltas` for
the paired bootstrap over items).

Measures (:class:`~evaluation.study.claims.Claim`):

- ``delta``: the arm's tuned − base on a panel metric, paired over items;
- ``gap_closed``: for a statistic with a reference value (style), the delta as a share of
  the base-to-reference gap, (tuned − base) / (reference − base), its interval the delta's
  divided by the same gap (the reference and the base are held at their values);
- ``difference``: arm − ``against`` (both tuned models) on a panel metric, paired over the
  items both were scored on — the same bootstrap as a delta, with the other arm as the base;
  With a file ``metric`` (below), the difference of the two arms' numbers, no interval;
- ``ratio``: the arm's delta over ``against``'s, both against the arm's base on the items all
  three models were scored on, its interval from resampling those items (e.g. a 60-example
  arm's gain as a share of a 960-example arm's; a proxy-tuned large model's gain as a share of
  the directly tuned one's, whose arm evaluated one model and no base);
- ``agreement``: the share of items on which the two arms' tuned models gave the same output
  (``metric`` = ``benchmark/field`` of the samples rows, e.g. ``closed_book_qa/generation``),
  its interval from resampling the items both answered;
- ``value``: a number from a JSON file of the study (``metric`` =
  ``path/inside/the/study.json:dotted.key``, e.g. ``arms/r1/results/weights/weights.json:
  runs.run.intruders``; ``{arm}`` stands for the arm's name), a deterministic property of
  one run: no interval.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curation.core.config import UserError

from ..report.bootstrap import compute_statistic
from ..report.comparison import Comparison, Entry, collect_results, group_runs, pair_results
from ..report.deltas import (
    BootstrapSettings,
    Delta,
    build_deltas,
    compute_interval,
    item_ids,
    item_values,
    reproduces,
)
from ..report.panels import find_spec
from .claims import Claim, Measurement, judge


@dataclass
class ArmResults:
    name: str
    dir: Path
    tuned: Entry | None
    base: Entry | None
    deltas: dict[str, Delta]


def load_arm(name: str, arm_dir: Path, boot: BootstrapSettings) -> ArmResults:
    """The arm's tuned and base results and every panel delta (nothing when not evaluated)."""
    results = arm_dir / "results"
    if not results.is_dir():
        return ArmResults(name, arm_dir, None, None, {})
    comparisons = pair_results(collect_results([str(results)]))
    runs = group_runs(comparisons)
    if not runs:  # an arm that evaluated one model (no training run, so no base)
        alone = next((c.subject for c in comparisons if c.base is None), None)
        return ArmResults(name, arm_dir, alone, None, {})
    run = runs[0]
    first = run.comparisons[0]
    return ArmResults(name, arm_dir, first.subject, first.base,
                      {d.key: d for d in build_deltas(run, boot)})


def measure(claim: Claim, arms: dict[str, ArmResults], boot: BootstrapSettings) -> Measurement:
    """The claim's measurement, judged by its rule."""
    arm = arms[claim.arm]
    study = arm.dir.parent.parent
    if claim.measure == "delta":
        d = arm.deltas.get(claim.metric)
        if d is None:
            m = Measurement(None, note=f"{claim.metric} not measured in arm {claim.arm}")
        else:
            m = _from_delta(d.value, d.interval, d.note)
    elif claim.measure == "gap_closed":
        m = gap_closed(arm.deltas.get(claim.metric), claim)
    elif claim.measure == "difference" and ":" in claim.metric:  # two runs' numbers
        a, b = (read_value(study, claim.metric.replace("{arm}", name))
                for name in (claim.arm, claim.against))
        m = (Measurement(a.value - b.value, note=a.note) if None not in (a.value, b.value)
             else Measurement(None, note=a.note or b.note))
    elif claim.measure == "difference":
        m = difference(arm, arms[claim.against], claim.metric, boot)
    elif claim.measure == "ratio":
        m = ratio(arm, arms[claim.against], claim.metric, boot)
    elif claim.measure == "agreement":
        m = agreement(arm, arms[claim.against], claim.metric, boot)
    else:
        m = read_value(study, claim.metric.replace("{arm}", claim.arm))
    return judge(claim, m)


def gap_closed(d: Delta | None, claim: Claim) -> Measurement:
    if d is None:
        return Measurement(None, note=f"{claim.metric} not measured in arm {claim.arm}")
    if d.gap_closed is None:
        return Measurement(None, note=f"{claim.metric} has no reference gap to close")
    gap = d.reference - d.base
    i = d.interval
    if i is None or not (math.isfinite(i.low) and math.isfinite(i.high)):
        return Measurement(d.gap_closed, note=d.note or "no interval")
    low, high = sorted((i.low / gap, i.high / gap))
    return Measurement(d.gap_closed, low, high, i.n, f"gap {gap:.4g} (reference - base)")


def difference(arm: ArmResults, against: ArmResults, key: str,
               boot: BootstrapSettings) -> Measurement:
    if arm.tuned is None or against.tuned is None:
        return Measurement(None, note="an arm has no results")
    found = find_spec(arm.tuned.results.config, key)
    values = [e.results.metrics.get(key) for e in (against.tuned, arm.tuned)]
    if found is None or None in values:
        return Measurement(None, note=f"{key} not measured in both arms")
    expected = tuple(float(v.value) for v in values)
    interval, note = compute_interval(Comparison(arm.tuned, against.tuned), key, found[1], boot,
                                      expected)
    return _from_delta(expected[1] - expected[0], interval, note)


def ratio(arm: ArmResults, against: ArmResults, key: str, boot: BootstrapSettings
          ) -> Measurement:
    """(arm − base) / (against − base) on ``key``, ``base`` being the arm's base model."""
    if arm.tuned is None or arm.base is None or against.tuned is None:
        return Measurement(None, note="an arm has no results (or the first arm no base)")
    found = find_spec(arm.tuned.results.config, key)
    entries = (arm.base, arm.tuned, against.tuned)
    values = [e.results.metrics.get(key) for e in entries]
    if found is None or None in values:
        return Measurement(None, note=f"{key} not measured by all three models")
    b, a, c = (float(v.value) for v in values)
    if math.isclose(c, b, rel_tol=1e-9, abs_tol=1e-12):
        return Measurement(None, note=f"{against.name} did not move {key}: no gain to share")
    point, spec = (a - b) / (c - b), found[1]
    if spec.item is None:
        return Measurement(point, note="point only: no per-item form")
    benchmark, _, metric = key.partition("/")
    parts = [item_values(e.read_samples(benchmark), spec, metric) for e in entries]
    if not all(p.ids and reproduces(p, spec, v) for p, v in zip(parts, (b, a, c), strict=True)):
        return Measurement(point, note="point only: samples missing or not reproducing "
                                       "results.json")
    others = set(parts[0].ids) & set(parts[2].ids)
    common = [i for i in parts[1].ids if i in others]
    if not common:
        return Measurement(point, note="point only: no item scored by all three models")
    cols = []
    for p in parts:
        where = {item_id: k for k, item_id in enumerate(p.ids)}
        at = np.array([where[i] for i in common], dtype=int)
        cols.append((p.num[at], p.den[at]))
    rng = np.random.default_rng(zlib.crc32(f"{boot.seed}:ratio:{key}".encode()))
    idx = rng.integers(0, len(common), size=(boot.samples, len(common)))
    stat = [compute_statistic(n[idx], d[idx], spec.transform, axis=1) for n, d in cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = (stat[1] - stat[0]) / (stat[2] - stat[0])
    draws = draws[np.isfinite(draws)]
    note = f"base: {arm.name}'s; {len(draws)} of {boot.samples} resamples with a gain to share"
    if not len(draws):
        return Measurement(point, note=note)
    return Measurement(point, *percentile_interval(draws, boot.confidence), len(common), note)


def agreement(arm: ArmResults, against: ArmResults, where: str, boot: BootstrapSettings
              ) -> Measurement:
    """The share of items (matched by id) whose samples field is equal in both tuned models."""
    if arm.tuned is None or against.tuned is None:
        return Measurement(None, note="an arm has no results")
    benchmark, _, name = where.partition("/")
    outputs = []
    for entry in (arm.tuned, against.tuned):
        rows = entry.read_samples(benchmark)
        if not rows or any(name not in r for r in rows):
            return Measurement(None, note=f"{benchmark} samples have no field {name!r}")
        outputs.append(dict(zip(item_ids(rows), (r[name] for r in rows), strict=True)))
    common = [i for i in outputs[0] if i in outputs[1]]
    if not common:
        return Measurement(None, note="no item answered by both")
    same = np.array([outputs[0][i] == outputs[1][i] for i in common], dtype=float)
    rng = np.random.default_rng(zlib.crc32(f"{boot.seed}:agreement:{where}".encode()))
    draws = same[rng.integers(0, len(same), size=(boot.samples, len(same)))].mean(axis=1)
    return Measurement(float(same.mean()), *percentile_interval(draws, boot.confidence),
                       len(same), f"{int(same.sum())} of {len(same)} items identical")


def percentile_interval(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` percentile interval of bootstrap draws."""
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def read_value(study_dir: Path, where: str) -> Measurement:
    rel, _, dotted = where.partition(":")
    path = study_dir / rel
    if not path.is_file():
        return Measurement(None, note=f"{rel} missing")
    node: Any = json.loads(path.read_text())
    for part in dotted.split(".") if dotted else []:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise UserError(f"{path}: no {dotted!r} (stopped at {part!r})")
    if node is None:  # the job wrote null: nothing to measure (its file says why)
        return Measurement(None, note=f"{rel}: {dotted} is null")
    if not isinstance(node, int | float) or isinstance(node, bool):
        raise UserError(f"{path}: {dotted!r} is not a number ({node!r})")
    return Measurement(float(node), note="one run: a count, no interval")


def _from_delta(value: float | None, interval: Any, note: str) -> Measurement:
    if interval is None or not (math.isfinite(interval.low) and math.isfinite(interval.high)):
        return Measurement(value, note=note or "no interval")
    return Measurement(value, interval.low, interval.high, interval.n, note)
