"""The intruder-dimension analysis of a run's weights in the report: the ``weights.json`` that
``python -m evaluation.weights run=RUN out=DIR`` writes (schema_version 1) and its plots.

The file is looked for near the run's results and near the run directory, and used only when
its ``runs.run.path`` is the run compared, so another run's analysis lying near by is never
shown as this one's. The module reads the file, not :mod:`evaluation.weights` (which needs
torch), so the report stays light.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from curation.core.contract import INTRUDER_PLOT, SWEEP_PLOT, WEIGHTS

from .provenance import read_json, read_png
from .render import Block, Figure, Note, Table

log = logging.getLogger(__name__)

PLOTS = (INTRUDER_PLOT, SWEEP_PLOT)


def find_weights(folders: list[Path], run_dir: Path) -> Path | None:
    """The first ``weights.json`` in ``folders`` or one level below that analyses ``run_dir``."""
    for folder in dict.fromkeys(folders):
        for candidate in [folder / WEIGHTS, *sorted(folder.glob(f"*/{WEIGHTS}"))]:
            doc = read_json(candidate) if candidate.is_file() else None
            if doc is not None and _analyses(doc, run_dir):
                return candidate
            if doc is not None:
                log.info("%s analyses another run; not shown for %s", candidate, run_dir)
    return None


def _analyses(doc: dict[str, Any], run_dir: Path) -> bool:
    path = ((doc.get("runs") or {}).get("run") or {}).get("path")
    try:
        return path is not None and Path(path).expanduser().resolve() == run_dir.resolve()
    except OSError:
        return False


def build_weights_blocks(path: Path) -> list[Block]:
    """What was counted, the counts per run and control (and per epsilon), per module with the
    effective rank of ΔW, and the analysis' own plots."""
    doc = read_json(path) or {}
    settings, runs = doc.get("settings") or {}, doc.get("runs") or {}
    blocks: list[Block] = [Note(
        f"From {path}: a tuned top-{settings.get('top_k')} left singular vector is an intruder "
        f"when its largest |cos| with every base singular vector is below epsilon = "
        f"{settings.get('epsilon')}. A full fine-tune control, where analysed, is expected "
        "near 0.")]
    if runs:
        # the run first, then its control (the file's keys come back sorted)
        runs = {role: runs[role] for role in sorted(runs, key=lambda r: (r != "run", r))}
        blocks += [_summary_table(runs), _module_table(runs)]
    for name in PLOTS:
        png = read_png(path.parent / name, path.parent)
        if png:
            blocks.append(Figure(f"{Path(name).stem.replace('_', ' ')} ({name})", png))
    return blocks


def _summary_table(runs: dict[str, Any]) -> Table:
    epsilons = sorted({e for r in runs.values() for e in r.get("sweep") or {}}, key=float)
    rows = [[role, str(r.get("method")), str(r.get("intruders")),
             f"{r.get('matrices_with_intruders')} / {len(r.get('matrices') or [])}",
             *(str((r.get("sweep") or {}).get(e, "—")) for e in epsilons)]
            for role, r in runs.items()]
    header = ["", "method", "intruders", "matrices with intruders",
              *(f"at ε={e}" for e in epsilons)]
    return Table("Intruder dimensions per run", header, rows, numeric=set(range(2, len(header))))


def _module_table(runs: dict[str, Any]) -> Table:
    modules = sorted({m for r in runs.values() for m in r.get("by_module") or {}})
    header = ["module"] + [f"{role} {what}" for role in runs
                           for what in ("intruders", "effective rank of ΔW")]
    rows = [[m, *(cell for r in runs.values() for cell in (
        str((r.get("by_module") or {}).get(m, "—")),
        _fmt((r.get("effective_rank_by_module") or {}).get(m))))] for m in modules]
    return Table("Per module (summed over layers; rank: mean over layers)", header, rows,
                 numeric=set(range(1, len(header))))


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "—"
