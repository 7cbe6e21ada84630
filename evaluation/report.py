"""``python -m evaluation.report results=[DIR,...] out=DIR``: compare every tuned model against
its base model, from ``results.json`` files only.

A tuned result is paired with the base result its ``model.base.path`` names (preferring the one
evaluated beside it, ``<eval>/base/``); base-vs-tuned deltas are only meaningful under the same
benchmark settings and data, so a mismatch is shown as a warning next to the numbers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from curation.core.config import UserError, save_resolved_config, stage_main
from curation.core.io import write_text

from .config import ReportConfig
from .render import Figure, Note, Section, Table, plot_grouped_bars, render_html, render_markdown
from .results import RESULTS_NAME, SAMPLES_DIR, Results, load_results

log = logging.getLogger(__name__)

SAMPLE_TEXT_CHARS = 160  # prompt tail shown per sample row


@dataclass
class Entry:
    dir: Path
    results: Results

    @property
    def label(self) -> str:
        return f"{self.results.model.name} ({self.results.model.role})"


@dataclass
class Comparison:
    subject: Entry  # a tuned model, or a model shown on its own
    base: Entry | None = None


def run(cfg: ReportConfig) -> dict[str, str]:
    """Write ``report.md`` and ``report.html`` into ``cfg.out``; returns their paths."""
    comparisons = pair_results(collect_results(list(cfg.results)))
    sections = [build_section(c, cfg.samples_per_model) for c in comparisons]
    out = Path(cfg.out)
    save_resolved_config(cfg, out)
    paths = {"markdown": out / "report.md", "html": out / "report.html"}
    write_text(paths["markdown"], render_markdown(cfg.title, sections))
    write_text(paths["html"], render_html(cfg.title, sections))
    log.info("report: %d comparison(s) -> %s", len(comparisons), paths["html"])
    return {k: str(v) for k, v in paths.items()}


def collect_results(dirs: list[str]) -> list[Entry]:
    """Every ``results.json`` under the given folders (or the files themselves), in path order."""
    found: dict[Path, None] = {}
    for d in dirs:
        path = Path(d).expanduser()
        if not path.exists():
            raise UserError(f"results folder not found: {d}")
        files = [path] if path.is_file() else sorted(path.rglob(RESULTS_NAME))
        found.update((f.resolve(), None) for f in files)
    if not found:
        raise UserError(f"no {RESULTS_NAME} under {', '.join(dirs)}")
    return [Entry(f.parent, load_results(f)) for f in sorted(found)]


def pair_results(entries: list[Entry]) -> list[Comparison]:
    """Each tuned result with its base; results used as nobody's base are shown alone."""
    candidates = [e for e in entries if e.results.model.role in ("base", "model")]
    comparisons, used = [], set()
    for entry in entries:
        if entry.results.model.role == "tuned":
            base = find_base(entry, candidates)
            used.add(id(base))
            comparisons.append(Comparison(entry, base))
    comparisons += [Comparison(e) for e in candidates if id(e) not in used]
    return comparisons


def find_base(tuned: Entry, candidates: list[Entry]) -> Entry | None:
    want = tuned.results.model.base or {}
    matches = [c for c in candidates if c.results.suite == tuned.results.suite
               and c.results.model.path == want.get("path")]
    siblings = [c for c in matches if c.dir.parent == tuned.dir.parent]
    if not matches:
        log.warning("no base results for %s (base %s)", tuned.dir, want.get("path"))
    return (siblings or matches or [None])[0]


# --- sections -------------------------------------------------------------------------------------

def build_section(c: Comparison, samples_per_model: int) -> Section:
    models = [c.base, c.subject] if c.base else [c.subject]
    title = (f"{c.subject.results.model.name} vs {c.base.results.model.name}" if c.base
             else c.subject.label)
    section = Section(title, [Note(f"{e.label}: {e.results.model.path} — results in {e.dir}")
                              for e in models])
    if c.base:
        section.blocks += check_comparable(c.base.results, c.subject.results)
    section.blocks.append(build_metric_table(models))
    for key in sorted(c.subject.results.metrics):
        if c.subject.results.metrics[key].by_group:
            section.blocks += build_group_blocks(key, models)
    section.blocks.append(build_settings_table(c.subject.results))
    section.blocks += [build_samples_table(e, name, samples_per_model)
                       for e in models for name in sorted(e.results.settings)]
    return section


def check_comparable(base: Results, tuned: Results) -> list[Note]:
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
    keys = sorted({k for e in models for k in e.results.metrics})
    rows = []
    for key in keys:
        metrics = [e.results.metrics.get(key) for e in models]
        direction = "" if all(m is None or m.higher_is_better for m in metrics) else " (lower is better)"
        rows.append([key + direction, *_compare_cells([(m.value, m.n) if m else None
                                                       for m in metrics])])
    return Table("Metrics", ["metric", *_columns(models)], rows, numeric=_numeric(models))


def build_group_blocks(key: str, models: list[Entry]) -> list[Table | Figure]:
    groups = sorted({g for e in models if key in e.results.metrics
                     for g in e.results.metrics[key].by_group})
    rows, series = [], {e.results.model.role: [] for e in models}
    for group in groups:
        scores = [e.results.metrics[key].by_group.get(group) if key in e.results.metrics else None
                  for e in models]
        rows.append([group, *_compare_cells([(s.value, s.n) if s else None for s in scores])])
        for e, s in zip(models, scores, strict=True):
            series[e.results.model.role].append(s.value if s else 0.0)
    table = Table(f"{key} by group", ["group", *_columns(models)], rows, numeric=_numeric(models))
    figure = Figure(f"{key} by group", plot_grouped_bars(groups, series, key))
    return [table, figure]


def build_settings_table(results: Results) -> Table:
    rows = [[name, key, json.dumps(value, ensure_ascii=False)]
            for name, settings in sorted(results.settings.items())
            for key, value in sorted(settings.items())]
    rows += [[name, "data_fingerprint", fp] for name, fp in sorted(results.data_fingerprint.items())]
    return Table("Settings", ["benchmark", "setting", "value"], rows)


def build_samples_table(entry: Entry, benchmark: str, limit: int) -> Table | Note:
    path = entry.dir / SAMPLES_DIR / f"{benchmark}.jsonl"
    if not path.is_file():
        return Note(f"{entry.label}: no samples file {path}")
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(rows) >= limit:
                break
            if line.strip():
                s = json.loads(line)
                rows.append([str(s.get("id")), str(s.get("group")),
                             "…" + str(s.get("prompt", ""))[-SAMPLE_TEXT_CHARS:],
                             str(s.get("prediction")), " | ".join(map(str, s.get("references", []))),
                             _format_score(s.get("score"))])
    return Table(f"Samples: {entry.label}, {benchmark}",
                 ["id", "group", "prompt (end)", "prediction", "references", "score"], rows,
                 numeric={5}, text={2, 3, 4})


def _format_score(score: object) -> str:
    # a sample with no score (a failed judgment) shows as such, never as a 0
    return f"{score:g}" if isinstance(score, int | float) else "—"


def _columns(models: list[Entry]) -> list[str]:
    if len(models) == 1:
        return ["value", "n"]
    return ["base", "tuned", "delta", "n"]


def _numeric(models: list[Entry]) -> set[int]:
    return set(range(1, len(_columns(models)) + 1))


def _compare_cells(scores: list[tuple[float, int] | None]) -> list[str]:
    """[value, n] for one model; [base, tuned, delta, n] for a pair (n as "b / t" if unequal)."""
    values = [f"{s[0]:.3f}" if s else "—" for s in scores]
    ns = [str(s[1]) if s else "—" for s in scores]
    if len(scores) == 1:
        return [values[0], ns[0]]
    base, tuned = scores
    # round first so a zero difference never prints as "-0.000"
    delta = f"{round(tuned[0] - base[0], 3) + 0.0:+.3f}" if base and tuned else "—"
    return [*values, delta, ns[0] if ns[0] == ns[1] else " / ".join(ns)]


if __name__ == "__main__":
    stage_main("report")(run)()
