"""``lessmore study NAME out=DIR [scale=cpu|paper] [model=...] [study.data.X=PATH]
[hydra/launcher=joblib|submitit_slurm|ray ...]``.

1. Resolve the study at its scale and check its claims (``python -m evaluation.study
   check_only=true``) before anything heavy runs; write ``OUT/study_spec.json``.
2. Run the shared preparation jobs that have no completion marker.
3. Launch the arms that are not done as a Hydra multirun of this same app with ``arm=NAME``,
   one multirun per wave (an arm with ``after`` runs in a wave after the arms it names)
   (``hydra/launcher=…`` and ``hydra.launcher.…`` overrides given to the study are passed on,
   so a launcher plugin spreads the arms over processes, a SLURM cluster or Ray); each arm job
   runs its stages as ordinary stage commands (:mod:`lessmore.study.arms`).
4. Run the ``finish`` jobs (analyses across arms), then analyse: ``python -m evaluation.study out=OUT`` writes ``study.json`` and the report.

A killed study started again skips finished jobs (their completion markers) and resumes the
one that did not finish.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from curation.core.config import UserError, save_resolved_config, stage_main
from curation.core.io import write_json

from .arms import arm_done, read_timings, run_arm, run_command, run_jobs
from .spec import StudySpec, arm_waves, resolve_study

log = logging.getLogger(__name__)
SPEC = "study_spec.json"  # read by evaluation.study


def run(cfg: Any) -> dict[str, Any]:
    spec = resolve_study(cfg)
    if cfg.arm is not None:  # one arm job of the multirun
        arms = {a.name: a for a in spec.arms}
        if cfg.arm not in arms:
            raise UserError(f"study {spec.name}: no arm {cfg.arm!r} at scale {cfg.scale} "
                            f"(arms: {sorted(arms)})")
        return run_arm(cfg, spec, arms[cfg.arm])
    out = Path(cfg.out)
    start = time.perf_counter()
    save_resolved_config(cfg, out)
    write_spec(cfg, spec, out, {})
    run_command("check claims", analysis_command(out, ["check_only=true"]), cfg.threads)
    run_jobs(cfg, spec.prepare, "prepare")
    pending = []
    for wave in arm_waves(spec.arms):  # an arm reading another's outputs runs after it
        names = [a.name for a in wave if not arm_done(out, a)]
        if names:
            launch_arms(cfg, out, names)
        pending += names
    run_jobs(cfg, spec.finish, "finish")
    write_spec(cfg, spec, out, read_timings(out, spec))
    run_command("analysis", analysis_command(out, [f"bootstrap_samples={cfg.bootstrap_samples}"]),
                cfg.threads)
    report = out / "report" / "report.html"
    log.info("study %s done in %.0f s (this invocation)", spec.name,
             time.perf_counter() - start)
    print(f"\nlessmore: study report written to {report.resolve()}")
    return {"report": str(report), "arms_run": pending}


def write_spec(cfg: Any, spec: StudySpec, out: Path, timings: dict[str, float]) -> None:
    """What the analysis reads: the resolved study, the command, and the jobs' wall times."""
    write_json(out / SPEC, {
        "name": spec.name, "paper": spec.paper, "finding": spec.finding, "scale": cfg.scale,
        "command": " ".join(["lessmore study", spec.name,
                             *[o for o in study_overrides() if not o.startswith("study=")]]),
        "model": {"name": cfg.model.name, "path": cfg.model.path},
        "arms": [{"name": a.name, "x": a.x} for a in spec.arms],
        "claims": spec.claims, "figure": spec.figure, "figures": spec.figures,
        "data": spec.data, "wall_s": timings})


def analysis_command(out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "evaluation.study", f"out={out}", *extra]


def launch_arms(cfg: Any, out: Path, arms: list[str]) -> None:
    """The pending arms as one multirun of this app (``arm=a,b,…``) under the launcher the study
    was given; the basic launcher runs them one after another in one process."""
    task, launcher = study_overrides(), launcher_overrides()
    argv = [sys.executable, "-m", "lessmore.study", "--multirun",
            *[o for o in task if not o.startswith("arm=")], f"arm={','.join(arms)}",
            *launcher, f"hydra.sweep.dir={out / 'multirun'}", "hydra.sweep.subdir=${hydra.job.num}"]
    log.info("launching %d arm(s): %s", len(arms), ", ".join(arms))
    if subprocess.run(argv).returncode != 0:
        raise UserError(f"study arms failed (command: {' '.join(argv[1:])}); rerun the same "
                        "command to resume: finished arms are skipped")


def study_overrides() -> list[str]:
    """The study's own command-line overrides (``study=NAME`` first), as Hydra received them."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task)


def launcher_overrides() -> list[str]:
    """The ``hydra/launcher=…`` and ``hydra.launcher.…`` overrides given to the study."""
    from hydra.core.hydra_config import HydraConfig

    return [o for o in HydraConfig.get().overrides.hydra
            if o.lstrip("+~").startswith(("hydra/launcher", "hydra.launcher"))]


main = stage_main("study")(run)
