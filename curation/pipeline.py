"""``lessmore pipeline out=DIR``: curate → train → evaluate → weights → report on the embedded
default.

Each stage runs as its own process (``python -m <stage>``) with the overrides below, exactly as a
user would run it by hand, so the pipeline adds no code path of its own; each stage reads only
the previous stage's artifact directory.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from .core.config import UserError, register_schema, save_resolved_config, stage_main
from .core.models import ModelConfig

log = logging.getLogger(__name__)


@dataclass
class PipelineConfig:
    out: str = MISSING
    model: ModelConfig = field(default_factory=ModelConfig)  # used by every stage
    inputs: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=lambda: ["pool"])
    budget: int = 100
    seed: int = 0
    method: str = "lora"
    probe: str = "quick"
    suite: str = "demo"  # conf/suite/<name>.yaml: both panels, CPU-sized
    weights: bool = True  # intruder-dimension analysis of the run against its base
    curate: list[str] = field(default_factory=list)  # extra overrides per stage
    train: list[str] = field(default_factory=list)
    evaluate: list[str] = field(default_factory=list)


register_schema("pipeline_schema", PipelineConfig)


def build_commands(cfg: Any) -> list[tuple[str, list[str]]]:
    """The stage invocations, as (name, argv): curate, train, evaluate, [weights,] report."""
    out = Path(cfg.out)
    curated, run_dir, results, report = (out / d for d in ("curated", "run", "results", "report"))
    inputs = "[" + ",".join(cfg.inputs) + "]"
    splits = "[" + ",".join(cfg.splits) + "]"
    py = [sys.executable, "-m"]
    m = cfg.model
    # the model group option by name, then each field, so model.path=… etc. reach every stage
    model = [f"model={m.name}", f"model.dtype={m.dtype}", f"model.device={m.device}",
             f"model.trust_remote_code={m.trust_remote_code}", f"model.backend={m.backend}"]
    base = [*model, f"model.path={m.path}"] + ([f"model.revision={m.revision}"]
                                                if m.revision else [])
    return [
        ("curate", [*py, "curation", f"input={inputs}", f"out={curated}", *base,
                    f"splits={splits}", f"budget={cfg.budget}", f"seed={cfg.seed}",
                    f"probe={cfg.probe}", *cfg.curate]),
        ("train", [*py, "training", f"data={curated}", f"out={run_dir}", *base,
                   f"method={cfg.method}", f"seed={cfg.seed}", *cfg.train]),
        ("evaluate", [*py, "evaluation", *model, f"model.path={run_dir}",
                      f"out={results}", f"suite={cfg.suite}", *cfg.evaluate]),
        *([("weights", [*py, "evaluation.weights", f"run={run_dir}",
                        f"out={results / 'weights'}"])] if cfg.weights else []),
        ("report", [*py, "evaluation.report", f"results=[{results}]", f"out={report}"]),
    ]


def run(cfg: Any) -> dict[str, Any]:
    out = Path(cfg.out)
    save_resolved_config(cfg, out)
    timings = {}
    for name, argv in build_commands(cfg):
        log.info("[%s] %s", name, " ".join(argv[1:]))
        start = time.perf_counter()
        if subprocess.run(argv).returncode != 0:
            raise UserError(f"stage {name} failed (command: {' '.join(argv[1:])})")
        timings[name] = round(time.perf_counter() - start, 1)
        log.info("[%s] done in %.1f s", name, timings[name])
    report = out / "report" / "report.html"
    log.info("report: %s (and report.md beside it); stage times %s", report, timings)
    print(f"\nlessmore: report written to {report.resolve()}")
    return {"report": str(report), "timings_s": timings}


main = stage_main("pipeline")(run)

if __name__ == "__main__":
    main()
