"""The report's two panels (DESIGN §5) and what a benchmark class declares about each of its
metrics (:attr:`~evaluation.benchmarks.base.Benchmark.metrics`): which panel it belongs to and
how :mod:`evaluation.report` reads its per-item value from a ``samples/<benchmark>.jsonl`` row
for the paired bootstrap.

A class declares its metrics by name, each a glob pattern (``exact_match,*`` covers every
extraction filter of a renamed GSM8K-style benchmark), in the order the panels list them. A
metric that matches nothing is shown under "other metrics" with point deltas only.

Item readers (``MetricSpec.item``), each giving one row's (numerator, denominator):

- ``field``: the value at ``arg`` (a dotted path, ``{0}`` = the text after the metric's comma);
  a missing value (a failed judgment) counts in neither part;
- ``answered_wrong``: 1 − score among rows not abstained (hallucination rate);
- ``instructions``: instructions followed (``arg``: strict | loose) over instructions given;
- ``pooled``: negative log-likelihood over ``arg`` (tokens | bytes), pooled like perplexity;
- ``decisive``: judged pairs whose two orders agreed, among judged pairs;
- ``failed``: pairs the judge failed on;
- ``None``: no per-item form (a correlation, a regression-based win rate): point delta only.
"""

from __future__ import annotations

from dataclasses import dataclass

IMITATION, CAPABILITY = "imitation", "capability"
PANELS = (IMITATION, CAPABILITY)


@dataclass(frozen=True)
class MetricSpec:
    """One metric's panel and per-item reader (see the module doc)."""

    panel: str | None  # None: shown elsewhere (per category, or as another metric's reference)
    item: str | None = "field"
    arg: str = "score"
    transform: str = "ratio"  # see evaluation.report.bootstrap.TRANSFORMS
    reference: str | None = None  # metric holding the reference responses' value (style)
