"""``python -m evaluation.report results=[DIR,...] out=DIR``: compare any number of tuned models
against their base models, from ``results.json`` files (and the samples, training runs and
curated sets they point to) only.

The page, top to bottom: a verdict per run and panel in plain words, computed from the
intervals (:mod:`.verdicts`), the imitation and capability panels side by side (tuned − base
with paired bootstrap intervals, forest plots; judged win rates as levels with their own
intervals, :mod:`.win_rates`), factuality per knowledge category, then one section
per run (training curves, weight analysis, the curated set's data card, every metric, settings,
links to the samples and sample rows), then models evaluated on their own. Base-vs-tuned deltas
are only meaningful under the same benchmark settings and data, so a mismatch is shown as a
warning next to the numbers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from curation.core.config import save_resolved_config
from curation.core.io import write_text

from .comparison import Comparison, Run, collect_results, group_runs, pair_results
from .config import ReportConfig
from .deltas import BootstrapSettings, build_deltas
from .details import (
    build_group_blocks,
    build_metric_table,
    build_sample_links,
    build_samples_table,
    build_settings_table,
    check_comparable,
)
from .provenance import build_card_blocks, build_training_blocks, find_curated_dir, find_run_dir
from .render import Block, Note, Section, render_html, render_markdown
from .sections import CATEGORY_SUFFIX, build_factuality, build_other_metrics, build_panels
from .verdicts import build_verdicts
from .weights import build_weights_blocks, find_weights
from .win_rates import build_win_rate_table

log = logging.getLogger(__name__)


def run(cfg: ReportConfig) -> dict[str, str]:
    """Write ``report.md`` and ``report.html`` into ``cfg.out``; returns their paths."""
    comparisons = pair_results(collect_results(list(cfg.results)))
    boot = BootstrapSettings(cfg.bootstrap_samples, cfg.bootstrap_seed, cfg.confidence)
    out = Path(cfg.out)
    sections = build_sections(comparisons, boot, out, cfg.samples_per_model)
    save_resolved_config(cfg, out)
    paths = {"markdown": out / "report.md", "html": out / "report.html"}
    write_text(paths["markdown"], render_markdown(cfg.title, sections))
    write_text(paths["html"], render_html(cfg.title, sections))
    log.info("report: %d comparison(s) -> %s", len(comparisons), paths["html"])
    return {k: str(v) for k, v in paths.items()}


def build_sections(comparisons: list[Comparison], boot: BootstrapSettings, out: Path,
                   samples: int) -> list[Section]:
    """The overview across runs, one section per run, one per model shown alone."""
    runs = group_runs(comparisons)
    sections = []
    if runs:
        deltas = [d for r in runs for d in build_deltas(r, boot)]
        weights = {r.label: find_run_weights(r) for r in runs}
        sections.append(build_verdicts([r.label for r in runs], deltas, boot.confidence,
                                       weights))
        panels = build_panels(runs, deltas, boot)
        wins = build_win_rate_table([(f"{r.label}: {e.label}", e) for r in runs
                                     for c in r.comparisons for e in (c.base, c.subject)], boot)
        other = build_other_metrics(runs)
        panels.blocks += [b for b in (wins, other) if b]
        factuality = build_factuality(runs, boot)
        sections += [panels] + ([factuality] if factuality else [])
    sections += [build_run_section(r, out, samples, weights[r.label]) for r in runs]
    for c in comparisons:
        if c.base is None:
            wins = build_win_rate_table([(c.subject.label, c.subject)], boot)
            sections.append(Section(c.subject.label, [
                Note(f"{c.subject.label}: {c.subject.results.model.path} — results in "
                     f"{c.subject.dir}"), *([wins] if wins else []),
                *build_suite_blocks(c, out, samples)]))
    return sections


def build_run_section(run: Run, out: Path, samples: int, weights: Path | None) -> Section:
    """What the run was trained on and how, then every suite's details against its base."""
    base = run.comparisons[0].base.results.model.name
    entries = {id(e): e for c in run.comparisons for e in (c.subject, c.base)}.values()
    blocks: list[Block] = [Note(f"{e.label}: {e.results.model.path} — results in {e.dir}")
                           for e in entries]
    for c in run.comparisons:
        blocks += check_comparable(c.base.results, c.subject.results)
    blocks += build_provenance(run, weights)
    blocks += [Section(f"Suite {c.subject.results.suite}: every metric, settings, samples",
                       build_suite_blocks(c, out, samples), collapsed=True)
               for c in run.comparisons]
    return Section(f"{run.label} vs {base}", blocks)


def find_run_weights(run: Run) -> Path | None:
    """The run's ``weights.json``: beside the results, the evaluation folder, its parent, the
    run and the run's parent; None when the run is not a training run directory here."""
    run_dir = find_run_dir(run.model_path)
    if run_dir is None:
        return None
    folders = [p for c in run.comparisons for p in (c.subject.dir, c.subject.dir.parent,
                                                    c.subject.dir.parent.parent)]
    return find_weights([*folders, run_dir, run_dir.parent], run_dir)


def build_provenance(run: Run, weights: Path | None) -> list[Section]:
    """Training curves, intruder dimensions and the data card, each where it is found."""
    run_dir = find_run_dir(run.model_path)
    if run_dir is None:
        return [Section("Training", [Note(f"{run.model_path} is not a training run directory "
                                          "here: no curves or data card")])]
    sections = [Section("Training", build_training_blocks(run_dir))]
    if weights:
        sections.append(Section("Intruder dimensions", build_weights_blocks(weights)))
    curated = find_curated_dir(run_dir)
    sections.append(Section("Curated training set", build_card_blocks(curated) if curated
                            else [Note("the run's manifest names no curated set with a data "
                                       "card (README.md)")]))
    return sections


def build_suite_blocks(c: Comparison, out: Path, samples: int) -> list[Block]:
    """Every metric (and its per-group splits), settings, samples links and rows."""
    models = [c.base, c.subject] if c.base else [c.subject]
    blocks: list[Block] = [build_metric_table(models)]
    for key in sorted(c.subject.results.metrics):
        # knowledge categories are shown across runs in the factuality section
        if c.subject.results.metrics[key].by_group and not (
                c.base and key.endswith(CATEGORY_SUFFIX)):
            blocks += build_group_blocks(key, models)
    blocks += [build_settings_table(c.subject.results), build_sample_links(models, out)]
    blocks += [build_samples_table(c, name, samples)
               for name in sorted(c.subject.results.settings)]
    return blocks
