"""The detail tables of one comparison (a tuned model and its base for one suite, or a model
alone): every metric with its delta, per-group splits, the benchmark settings, comparability
warnings, links to the samples files and a few sample rows side by side."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..results import Results
from .comparison import Comparison, Entry
from .panels import find_spec
from .plots import plot_grouped_bars
from .render import Block, Cell, Columns, Figure, Links, Note, Table

SAMPLE_TEXT_CHARS = 160  # prompt tail shown per sample row
PREDICTION_CHARS = 400  # a long response is cut here in the inline rows (the file has it all)


def check_comparable(base: Results, tuned: Results) -> list[Note]:
    """A warning per benchmark whose settings or data differ between base and tuned."""
    notes = []
    for name in sorted(set(base.settings) | set(tuned.settings)):
        if base.settings.get(name) != tuned.settings.get(name):
            notes.append(Note(f"{name}: base and tuned were evaluated with different settings",
                              warning=True))
        if base.data_fingerprint.get(name) != tuned.data_fingerprint.get(name):
            notes.append(Note(f"{name}: base and tuned were evaluated on different data",
                              warning=True))
    return notes


def build_metric_table(models: list[Entry]) -> Table:
    """Every metric: value and n for one model; base, tuned, delta and n for a pair (a style
    statistic's delta toned by the distance to its reference value, not by a direction)."""
    keys = sorted({k for e in models for k in e.results.metrics})
    rows = []
    for key in keys:
        metrics = [e.results.metrics.get(key) for e in models]
        reference = find_reference(models[-1].results, key)
        higher = all(m is None or m.higher_is_better for m in metrics)
        label = key + ("" if higher or reference is not None else " (lower is better)")
        rows.append([label + ("" if reference is None else " (nearer the reference is better)"),
                     *compare_cells(metrics, higher, reference)])
    return Table("Metrics", ["metric", *_columns(models)], rows, numeric=_numeric(models))


def find_reference(results: Results, key: str) -> float | None:
    """The reference responses' value recorded beside a metric (a style statistic's
    ``*_reference``), or None."""
    found = find_spec(results.config, key)
    if found is None or found[1].reference is None:
        return None
    metric = results.metrics.get(f"{key.partition('/')[0]}/{found[1].reference}")
    return None if metric is None or metric.value is None else float(metric.value)


def build_group_blocks(key: str, models: list[Entry]) -> list[Block]:
    """A metric split by group (relation, file, instruction type) as a table and bar chart."""
    groups = sorted({g for e in models if key in e.results.metrics
                     for g in e.results.metrics[key].by_group})
    higher = all(e.results.metrics[key].higher_is_better for e in models
                 if key in e.results.metrics)
    rows, series = [], {e.results.model.role: [] for e in models}
    for group in groups:
        scores = [e.results.metrics[key].by_group.get(group) if key in e.results.metrics else None
                  for e in models]
        rows.append([group, *compare_cells(scores, higher)])
        for e, s in zip(models, scores, strict=True):
            series[e.results.model.role].append(s.value if s and s.value is not None else 0.0)
    table = Table(f"{key} by group", ["group", *_columns(models)], rows, numeric=_numeric(models))
    return [Columns([table, Figure(f"{key} by group", plot_grouped_bars(groups, series, key))])]


def build_settings_table(results: Results) -> Table:
    rows = [[name, key, json.dumps(value, ensure_ascii=False)]
            for name, settings in sorted(results.settings.items())
            for key, value in sorted(settings.items())]
    rows += [[name, "data_fingerprint", fp] for name, fp in sorted(results.data_fingerprint.items())]
    return Table("Settings", ["benchmark", "setting", "value"], rows)


def build_sample_links(models: list[Entry], out: Path) -> Links | Note:
    """Relative links from the report's folder to every samples file of the comparison."""
    links = [(f"{e.label}: {name}", os.path.relpath(e.samples_path(name), out))
             for e in models for name in sorted(e.results.settings)
             if e.samples_path(name).is_file()]
    if not links:
        return Note("no samples files found beside these results")
    return Links("Samples files (prompt, raw generation, prediction, references, score per item)",
                 links)


def build_samples_table(c: Comparison, benchmark: str, limit: int) -> Table | Note:
    """The first ``limit`` items of the subject's samples file, next to the base's answer to
    the same item when there is a base."""
    rows = c.subject.read_samples(benchmark)[:limit]
    if not rows:
        return Note(f"{c.subject.label}: no samples for {benchmark}")
    base = {str(r.get("id")): r for r in c.base.read_samples(benchmark)} if c.base else {}
    header = ["id", "group", "prompt (end)", "references"]
    who = [("base", base), ("tuned", None)] if c.base else [("", None)]
    for role, _ in who:
        header += [f"{role} prediction".strip(), f"{role} score".strip()]
    table = []
    for row in rows:
        cells = [str(row.get("id")), _cut(row.get("group") or "—"),
                 "…" + _prompt(row)[-SAMPLE_TEXT_CHARS:],
                 " | ".join(map(str, row.get("references") or []))]
        for _, lookup in who:
            other = row if lookup is None else lookup.get(str(row.get("id")), {})
            cells += [_cut(other.get("prediction", "—")), format_score(other.get("score"))]
        table.append(cells)
    numeric = {i for i, h in enumerate(header) if h.endswith("score")}
    return Table(f"Samples: {benchmark}", header, table, numeric=numeric,
                 text={2, 3} | {i for i, h in enumerate(header) if h.endswith("prediction")})


def format_score(score: object) -> str:
    # a sample with no score (a failed judgment) shows as such, never as a 0
    return f"{score:g}" if isinstance(score, int | float) else "—"


def compare_cells(scores: list[Any], higher_is_better: bool = True,
                  reference: float | None = None) -> list[str | Cell]:
    """[value, n] for one model; [base, tuned, delta, n] for a pair (n as "b / t" if unequal);
    the delta's tone says whether the tuned model is better, respecting the direction, or,
    with a ``reference`` value, whether it is nearer the reference than the base."""
    scores = [s if s is not None and s.value is not None else None for s in scores]
    values = [f"{s.value:.3f}" if s else "—" for s in scores]
    ns = [str(s.n) if s else "—" for s in scores]
    if len(scores) == 1:
        return [values[0], ns[0]]
    base, tuned = scores
    if not (base and tuned):
        return [*values, "—", " / ".join(ns)]
    delta = round(tuned.value - base.value, 3) + 0.0  # never "-0.000"
    tone = "" if delta == 0 else ("better" if (delta > 0) == higher_is_better else "worse")
    if reference is not None:
        nearer = round(abs(tuned.value - reference) - abs(base.value - reference), 12)
        tone = "" if nearer == 0 else ("better" if nearer < 0 else "worse")
    return [*values, Cell(f"{delta:+.3f}", tone), ns[0] if ns[0] == ns[1] else " / ".join(ns)]


def _columns(models: list[Entry]) -> list[str]:
    return ["value", "n"] if len(models) == 1 else ["base", "tuned", "delta", "n"]


def _numeric(models: list[Entry]) -> set[int]:
    return set(range(1, len(_columns(models)) + 1))


def _prompt(row: dict[str, Any]) -> str:
    return str(row.get("prompt", row.get("text", "")))


def _cut(text: object) -> str:
    text = str(text)
    return text if len(text) <= PREDICTION_CHARS else text[:PREDICTION_CHARS] + "…"

