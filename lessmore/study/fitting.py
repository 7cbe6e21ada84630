"""``python -m lessmore.study.fitting run=RUN_DIR out=DIR [threshold=0.5]``: when a training run
fitted each knowledge category (Gekhman et al. 2024, Fig. 1: Unknown facts are fitted later than
Known ones), read from the run's ``curves.jsonl`` (train accuracy per SliCK category over steps,
``training`` ``curves.every_steps``).

Writes ``OUT/fitting.json``: per category the first step whose train accuracy reaches
``threshold`` (null if none did), its accuracy at the first and the last measured step, and the
mean accuracy over the measured steps; ``known`` pools HighlyKnown, MaybeKnown and WeaklyKnown
(weighted by the rows each curve measured); ``unknown_later_by_steps`` is Unknown's fitting step
minus Known's, with a category that never reached the threshold counted at the last measured
step (``unknown_censored`` says so: the true gap is then at least that). One run's curve on a
fixed sample of rows: a point, no interval.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from curation.core.config import UserError, register_schema, stage_main
from curation.core.contract import CURVES
from curation.core.io import read_jsonl, write_json
from curation.core.records import KnowledgeCategory

KNOWN = [c.value for c in KnowledgeCategory if c.known]  # pooled as "known"


@dataclass
class FittingConfig:
    run: str = MISSING  # a training run directory with curves.jsonl
    out: str = MISSING
    threshold: float = 0.5  # train accuracy at which a category counts as fitted


register_schema("fitting_schema", FittingConfig)


def summarize_curve(points: list[tuple[int, float]], threshold: float) -> dict[str, Any]:
    """One category's curve [(step, accuracy)] in step order."""
    fit = next((step for step, acc in points if acc >= threshold), None)
    return {"fit_step": fit, "first": points[0][1], "last": points[-1][1],
            "mean": sum(acc for _, acc in points) / len(points), "steps": len(points)}


def analyse_curves(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    by_category: dict[str, dict[int, tuple[float, int]]] = defaultdict(dict)
    for r in rows:
        by_category[r["category"]][int(r["step"])] = (float(r["accuracy"]), int(r.get("n") or 1))
    if not by_category:
        raise UserError("fitting: the run's curves.jsonl has no points")
    categories = {c: summarize_curve(sorted((s, a) for s, (a, _) in pts.items()), threshold)
                  for c, pts in by_category.items()}
    pooled: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for c in KNOWN:
        for step, point in by_category.get(c, {}).items():
            pooled[step].append(point)
    known = (summarize_curve(sorted((s, sum(a * n for a, n in pts) / sum(n for _, n in pts))
                                    for s, pts in pooled.items()), threshold)
             if pooled else None)
    unknown = categories.get("Unknown")
    last = max(int(r["step"]) for r in rows)
    later = censored = None
    if known is not None and unknown is not None and known["fit_step"] is not None:
        censored = unknown["fit_step"] is None
        later = (last if censored else unknown["fit_step"]) - known["fit_step"]
    return {"threshold": threshold, "last_step": last, "categories": categories,
            "known": known, "unknown_later_by_steps": later, "unknown_censored": censored}


def run(cfg: Any) -> dict[str, Any]:
    path = Path(cfg.run).expanduser() / CURVES
    if not path.is_file():
        raise UserError(f"fitting: {path} not found (train with curves.every_steps > 0 on data "
                        "with probe_category)")
    doc = {"run": str(cfg.run), **analyse_curves(read_jsonl(path), cfg.threshold)}
    write_json(Path(cfg.out) / "fitting.json", doc)
    return doc


main = stage_main("fitting")(run)

if __name__ == "__main__":
    main()
