"""The report's overview across runs: the imitation and capability panels side by side (each
metric as tuned − base with its bootstrap interval, a forest plot on top), the metrics no
panel declares, and factuality per knowledge category (DESIGN §5)."""

from __future__ import annotations

import math

from ..benchmarks.closed_book import ClosedBookQA
from ..benchmarks.panels import CAPABILITY, IMITATION, PANELS
from .comparison import Comparison, Run
from .deltas import BootstrapSettings, Delta, compute_interval
from .panels import find_class, find_spec
from .plots import ForestRow, plot_forest, plot_grouped_bars
from .provenance import CATEGORY_ORDER
from .render import Block, Cell, Columns, Figure, Note, Section, Table

CATEGORY_SUFFIX = ",category"
PANEL_TITLES = {IMITATION: "Imitation: style, judged preference, instruction following",
                CAPABILITY: "Capability: knowledge, reasoning, truthfulness, forgetting"}


def build_panels(runs: list[Run], deltas: list[Delta], boot: BootstrapSettings) -> Section:
    """Both panels side by side; each a forest plot of every run's deltas and their table."""
    method = (f"Each delta is tuned − base on the same items, with a {boot.confidence:.0%} "
              f"interval from a paired bootstrap over items ({boot.samples} resamples, seed "
              f"{boot.seed}): one draw of items for both models. Ratios (hallucination among "
              "answered, instruction-level IFEval, win rate among judged pairs), pooled "
              "perplexity and the length-adjusted win rate (refitted) are recomputed on each "
              "resample; 'point only' metrics have no per-item form. A style statistic is "
              "judged by its distance to the reference responses' value, not by a direction: "
              "'gap closed' is (tuned − base) / (reference − base), 100% all the way to the "
              "reference, over 100% past it, negative away from it. Green: the tuned model is "
              "better (nearer the reference for a style statistic, lower for lower-is-better "
              "metrics); red: worse; bold: the interval excludes 0.")
    labels = [r.label for r in runs]
    deltas = sorted(deltas, key=lambda d: (d.order, d.key, labels.index(d.run)))
    ci = f"{boot.confidence:.0%} CI"
    panels = [*PANELS, *sorted({d.panel for d in deltas} - set(PANELS))]
    parts = [_panel(p, labels, [d for d in deltas if d.panel == p], ci)
             for p in panels if p in (IMITATION, CAPABILITY) or any(d.panel == p for d in deltas)]
    return Section("Imitation vs capability", [Note(method), Columns(parts)])


def panel_title(panel: str) -> str:
    return PANEL_TITLES.get(panel, panel.capitalize())


def _panel(panel: str, runs: list[str], deltas: list[Delta], ci: str) -> Section:
    if not deltas:
        return Section(panel_title(panel), [Note("no metric of this panel in the results")])
    keys = list(dict.fromkeys(d.key for d in deltas))
    forest = [ForestRow(key, _better_side(next(d for d in deltas if d.key == key)),
                        [_point(deltas, key, run) for run in runs]) for key in keys]
    reference = any(d.reference is not None for d in deltas)
    header = ["metric", "run", "base", "tuned", *(["reference", "gap closed"] if reference
                                                  else []), "delta", ci, "n"]
    rows = [[_label(d), d.run, _num(d.base), _num(d.tuned),
             *([_num(d.reference), _gap_cell(d)] if reference else []), *_delta_cells(d)]
            for d in deltas]
    numeric = set(range(2, len(header)))
    caption = (f"{panel} metrics (↓: lower is better; with a reference value: judged by the "
               "distance to it)")
    return Section(panel_title(panel), [
        Figure(f"{panel} panel: tuned − base", plot_forest(forest, runs, f"{panel} panel")),
        Table(caption if reference else f"{panel} metrics (↓: lower is better)", header, rows,
              numeric=numeric)])


def _label(d: Delta) -> str:
    return d.key + ("" if d.higher_is_better or d.reference is not None else " ↓")


def _better_side(d: Delta) -> bool | None:
    """Which side of zero the forest plot shades as better: toward the reference for a style
    statistic (none when the base is already there), else the metric's direction."""
    if d.reference is None or d.base is None:
        return d.higher_is_better
    return None if d.at_reference else d.reference > d.base


def format_gap(d: Delta) -> str:
    """The share of the base-to-reference gap closed, in words where there is none."""
    if d.reference is None or d.value is None:
        return "—"
    if d.at_reference:
        moved = {1: "", 0: ", tuned there too", -1: ", tuned moved away"}[d.closer]
        return f"base already at the reference{moved}"
    return f"{d.gap_closed:.0%}"


def _gap_cell(d: Delta) -> str | Cell:
    text = format_gap(d)
    return Cell(text, (d.tone + (" strong" if d.significant else "")).strip()) if d.tone else text


def _point(deltas: list[Delta], key: str, run: str) -> tuple[float, float, float] | None:
    d = next((d for d in deltas if d.key == key and d.run == run), None)
    if d is None or d.value is None:
        return None
    return (d.value, d.interval.low, d.interval.high) if d.interval else (d.value, math.nan,
                                                                          math.nan)


def _delta_cells(d: Delta) -> list[str | Cell]:
    """[delta, interval (or why there is none), n]."""
    if d.value is None:
        return ["—", d.note or "—", "—"]
    tone = (d.tone + " strong").strip() if d.significant else d.tone
    ci = (f"[{d.interval.low:+.3f}, {d.interval.high:+.3f}]"
          if d.interval and math.isfinite(d.interval.low) else "—")
    ci = " ".join(x for x in (ci if d.interval else "", d.note) if x) or "—"
    n = str(d.interval.n) if d.interval else "—"
    return [Cell(f"{round(d.value, 3) + 0.0:+.3f}", tone), Cell(ci, tone), n]


def build_other_metrics(runs: list[Run]) -> Block | None:
    """Metrics no panel declares (a benchmark added later), as point deltas."""
    rows = []
    for run in runs:
        for c in run.comparisons:
            for key, m in sorted(c.subject.results.metrics.items()):
                if find_spec(c.subject.results.config, key) is None:
                    b = c.base.results.metrics.get(key)
                    delta = m.value - b.value if b and None not in (b.value, m.value) else None
                    rows.append([key, run.label, _num(b.value if b else None), _num(m.value),
                                 _num(delta, signed=True)])
    if not rows:
        return None
    return Table("Other metrics (no panel declared by their benchmark class; point deltas)",
                 ["metric", "run", "base", "tuned", "delta"], rows, numeric={2, 3, 4})


def build_factuality(runs: list[Run], boot: BootstrapSettings) -> Section | None:
    """Closed-book metrics per SliCK category: base and every run in one bar chart per
    metric, and each run's delta with its interval (bootstrap within the category)."""
    keys = sorted({k for r in runs for c in r.comparisons for k in c.subject.results.metrics
                   if k.endswith(CATEGORY_SUFFIX)})
    if not keys:
        classes = {find_class(c.subject.results.config, k.partition("/")[0])
                   for r in runs for c in r.comparisons for k in c.subject.results.metrics}
        closed_book = any(cls is not None and issubclass(cls, ClosedBookQA) for cls in classes)
        return Section("Factuality per knowledge category", [Note(
            "the closed-book data carries no knowledge categories (no probe_category column: "
            "write it with curation's probe to split the scores by SliCK category)")]
        ) if closed_book else None
    blocks: list[Block] = [Note("Closed-book metrics split by the knowledge category curation's "
                                "probe assigned to each held-out fact (the benchmark's "
                                "category_field: SliCK categories from probe_category, or "
                                "memorisation levels 0-4 from probe_mem_level); intervals from "
                                "the paired bootstrap within each category. One base column "
                                "when every run's base results agree, else one per run.")]
    for key in sorted(keys, key=lambda k: _declared_order(runs, k)):
        blocks += _factuality_blocks(key, runs, boot)
    return Section("Factuality per knowledge category", blocks)


def _factuality_blocks(key: str, runs: list[Run], boot: BootstrapSettings) -> list[Block]:
    """One metric: a bar chart (base and each run per category) and a table of deltas. Runs
    whose base results agree share one base column; otherwise each run shows its own."""
    pairs = [(r, c) for r in runs for c in r.comparisons if key in c.subject.results.metrics]
    categories = sorted({g for _, c in pairs for g in c.subject.results.metrics[key].by_group},
                        key=lambda g: (CATEGORY_ORDER.index(g) if g in CATEGORY_ORDER else 99, g))
    bases = [c.base.results.metrics.get(key) for _, c in pairs]
    shared = all(b == bases[0] for b in bases)
    series = {"base": [_group(bases[0], g) for g in categories]} if shared else {}
    header, rows = ["category"] + (["base"] if shared else []), [[g] for g in categories]
    rows = [row + ([_num(series["base"][i])] if shared else []) for i, row in enumerate(rows)]
    for (run, c), base in zip(pairs, bases, strict=True):
        if not shared:
            series[f"base ({run.label})"] = [_group(base, g) for g in categories]
        series[run.label] = [_group(c.subject.results.metrics[key], g) for g in categories]
        header += ([] if shared else [f"base ({run.label})"]) + [
            run.label, "delta", f"{boot.confidence:.0%} CI", "n"]
        for row, g in zip(rows, categories, strict=True):
            row += ([] if shared else [_num(_group(base, g))]) + _category_cells(c, key, g, boot)
    plain_key = key.removesuffix(CATEGORY_SUFFIX)
    chart = plot_grouped_bars(categories, {k: [v or 0.0 for v in vs] for k, vs in series.items()},
                              plain_key, title=f"{plain_key} per knowledge category")
    return [Figure(f"{plain_key}: base vs each run per knowledge category", chart),
            Table(f"{plain_key} per knowledge category", header, rows,
                  numeric=set(range(1, len(header))))]


def _category_cells(c: Comparison, key: str, category: str, boot: BootstrapSettings
                    ) -> list[str | Cell]:
    """[tuned, delta, interval, n] of one category, bootstrapped within the category."""
    metric, plain_key = c.subject.results.metrics[key], key.removesuffix(CATEGORY_SUFFIX)
    values = (_group(c.base.results.metrics.get(key), category), _group(metric, category))
    spec = find_spec(c.subject.results.config, plain_key)
    interval, note = (compute_interval(c, plain_key, spec[1], boot, values,
                                       where=("category", category))
                      if spec else (None, "point only: no per-item form"))
    delta = Delta(key, "", "", (0, 0), *values, metric.higher_is_better, interval, note)
    return [_num(delta.tuned), *_delta_cells(delta)]


def _declared_order(runs: list[Run], key: str) -> tuple[tuple[int, int], str]:
    found = find_spec(runs[0].comparisons[0].subject.results.config,
                      key.removesuffix(CATEGORY_SUFFIX))
    return (found[0] if found else (10**6, 0), key)


def _group(metric, group: str) -> float | None:
    score = metric.by_group.get(group) if metric else None
    return score.value if score else None


def _num(value: float | None, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{round(value, 3) + 0.0:+.3f}" if signed else f"{value:.3f}"
