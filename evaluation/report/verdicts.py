"""The report's opening verdicts: for every run, one sentence per panel in plain words, computed
from the deltas and their bootstrap intervals by the rule below, never written by hand.

The rule (:func:`judge_panel`):

1. Counted: the run's deltas in the panel with a value for both models. A delta with a bootstrap
   interval is *tested*; one without (point only: no per-item form, samples missing or not
   reproducing the results file) is *untested*, counted apart and never called a change.
2. *Significant*: the delta's paired bootstrap interval (the report's ``confidence``, 95% by
   default) excludes 0, i.e. low > 0 or high < 0.
3. A metric recorded with a reference value (a style statistic): it moved *toward* the reference
   when |tuned − reference| < |base − reference| and *away* when that distance grew; its share of
   the gap closed is (tuned − base) / (reference − base). A base already at the reference has no
   gap, and the sentence says so instead of dividing by zero.
4. Any other metric is *better* or *worse* by its declared direction (``higher_is_better``).
5. The sentence: for the reference statistics, "style moved toward the reference on T of S
   statistics" and each one's gap closed, significant or not; for the other tested metrics,
   "no significant change (N metrics, all intervals include 0)" when none is significant, else
   "K of N metrics changed significantly", the significant ones as better and worse; then the
   untested ones.

A run whose weights were analysed (``weights.json``) gets a line on its intruder dimensions: a
count, not a test, stated as such.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..benchmarks.panels import PANELS
from .deltas import Delta
from .provenance import read_json
from .render import Block, Note, Section, Table
from .sections import format_gap, panel_title

RULE = ("Computed from the intervals below, not written by hand. Significant: the delta's "
        "{confidence:.0%} paired-bootstrap interval excludes 0. A style statistic counts as "
        "moved toward the reference when the tuned model is nearer the reference responses' "
        "value than the base is; gap closed = (tuned − base) / (reference − base). Any "
        "other metric is better or worse by its direction. Point-only metrics are untested.")


def build_verdicts(runs: list[str], deltas: list[Delta], confidence: float,
                   weights: dict[str, Path | None] | None = None) -> Section:
    """The verdict section: one row per run and panel present, then a weights row per run
    whose intruder dimensions were analysed."""
    panels = [*PANELS, *sorted({d.panel for d in deltas} - set(PANELS))]
    rows = []
    for run in runs:
        mine = [d for d in deltas if d.run == run]
        rows += [[run, panel_title(p).partition(":")[0], judge_panel(
            [d for d in mine if d.panel == p])] for p in panels if any(d.panel == p for d in mine)]
        path = (weights or {}).get(run)
        if path is not None:
            rows.append([run, "Weights", describe_weights(path)])
    blocks: list[Block] = [Note(RULE.format(confidence=confidence))]
    blocks.append(Table("Verdict per run and panel", ["run", "panel", "verdict"], rows) if rows
                  else Note("no compared metric"))
    return Section("Verdict", blocks)


def judge_panel(deltas: list[Delta]) -> str:
    """The panel's sentence for one run (the module doc's rule)."""
    counted = [d for d in deltas if d.value is not None]
    if not counted:
        return "no metric with a value for both models"
    tested = [d for d in counted if _tested(d)]
    untested = [d for d in counted if not _tested(d)]
    parts = []
    styled = [d for d in tested if d.reference is not None]
    if styled:
        parts.append(_style_sentence(styled))
    others = [d for d in tested if d.reference is None]
    if others:
        parts.append(("other metrics: " if styled else "") + _change_sentence(others))
    if untested:
        parts.append(f"{len(untested)} untested (point only: "
                     f"{', '.join(d.key for d in untested)})")
    return "; ".join(parts) if parts else "no tested metric"


def _tested(d: Delta) -> bool:
    return d.interval is not None and math.isfinite(d.interval.low)  # NaN: nothing resampled


def _style_sentence(deltas: list[Delta]) -> str:
    toward = sum(d.closer > 0 for d in deltas)
    each = [f"{d.key.partition('/')[2]} {_gap_words(d)}, "
            f"{'significant' if d.significant else 'not significant'}" for d in deltas]
    return (f"style moved toward the reference on {toward} of {len(deltas)} statistics "
            f"({'; '.join(each)})")


def _gap_words(d: Delta) -> str:
    closed = d.gap_closed
    if closed is None:  # the base is at the reference
        return format_gap(d)
    if closed < 0:
        return f"moved away ({closed:.0%} of the gap)"
    if closed > 1:
        return (f"{closed:.0%} of the gap closed, past the reference"
                + (" and farther from it than the base" if d.closer < 0 else ""))
    return f"{closed:.0%} of the gap closed"


def _change_sentence(deltas: list[Delta]) -> str:
    significant = [d for d in deltas if d.significant]
    n = len(deltas)
    if not significant:
        return (f"no significant change ({n} metric{'s' * (n != 1)}, "
                f"{'all intervals include' if n > 1 else 'its interval includes'} 0)")
    better = [d for d in significant if d.tone == "better"]
    worse = [d for d in significant if d.tone == "worse"]
    said = [f"{label}: {', '.join(f'{d.key} {d.value:+.3f}' for d in group)}"
            for label, group in (("better", better), ("worse", worse)) if group]
    rest = n - len(significant)
    return (f"{len(significant)} of {n} metric{'s' * (n != 1)} changed significantly "
            f"({'; '.join(said)}); {rest} interval{'s' * (rest != 1)} "
            f"include{'s' * (rest == 1)} 0")


def describe_weights(path: Path) -> str:
    """Intruder dimensions of the run and its control, from ``weights.json`` (a count)."""
    doc = read_json(path) or {}
    settings, runs = doc.get("settings") or {}, doc.get("runs") or {}
    run, control = runs.get("run") or {}, runs.get("control")
    text = (f"{run.get('intruders', '?')} intruder dimensions (top-{settings.get('top_k', '?')} "
            f"singular vectors, ε = {settings.get('epsilon', '?')}) in "
            f"{run.get('matrices_with_intruders', '?')} of {len(run.get('matrices') or [])} "
            f"adapted matrices ({run.get('method', '?')})")
    if control:
        text += (f"; control ({control.get('method', '?')}): "
                 f"{control.get('intruders', '?')} (expected near 0)")
    return text + "; a count, not a test"
