"""Running a study's jobs: each arm is the ordinary stage commands (``python -m curation`` …)
into its own folder, exactly as a user would type them, so any arm can be opened, rerun alone
or copied; completion markers make a killed study skip what finished.

Layout of ``OUT``::

    prepare/<job>/            a shared job's output (e.g. a probed pool)
    finish/<job>/             a job run after every arm (e.g. intruders against a control)
    arms/<arm>/curated/       the arm's curated set
    arms/<arm>/run/           its training run
    arms/<arm>/results/       tuned/ and base/ results (+ weights/ with weights: true)
    arms/<arm>/done/<stage>.json, prepare/<job>.done.json
                              completion markers: the command and its wall time
    cache/evaluate/           one generation cache for every arm's evaluation (the base is
                              evaluated once, then read back for the other arms)
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from curation.core.config import UserError
from curation.core.io import write_json

from ..pipeline import model_overrides
from .spec import Arm, Job, StudySpec

log = logging.getLogger(__name__)


def arm_dir(out: Path, arm: str) -> Path:
    return out / "arms" / arm


def arm_commands(cfg: Any, spec: StudySpec, arm: Arm) -> list[tuple[str, list[str]]]:
    """(stage, argv) for one arm: curate, train, evaluate and, with ``weights``, weights."""
    out = Path(cfg.out)
    here = arm_dir(out, arm.name)
    curated, run_dir, results = here / "curated", here / "run", here / "results"
    py = [sys.executable, "-m"]
    base = model_overrides(cfg.model)
    if arm.model is not None:  # a model evaluated as it is (e.g. proxy-tuned)
        return [("evaluate", [*py, "evaluation", *model_overrides(cfg.model, path=arm.model),
                              f"out={results}", f"cache_dir={out / 'cache' / 'evaluate'}",
                              *spec.common["evaluate"], *arm.evaluate])]
    commands = [] if arm.data else [
        ("curate", [*py, "curation", f"out={curated}", *base, f"seed={cfg.seed}",
                    *spec.common["curate"], *arm.curate])]
    commands += [
        ("train", [*py, "training", f"data={arm.data or curated}", f"out={run_dir}", *base,
                   f"seed={cfg.seed}", *spec.common["train"], *arm.train]),
        ("evaluate", [*py, "evaluation", *model_overrides(cfg.model, path=str(run_dir)),
                      f"out={results}", f"cache_dir={out / 'cache' / 'evaluate'}",
                      *spec.common["evaluate"], *arm.evaluate]),
    ]
    if arm.weights:
        commands.append(("weights", [*py, "evaluation.weights", f"run={run_dir}",
                                     f"out={results / 'weights'}"]))
    return commands


def job_command(cfg: Any, job: Job, phase: str) -> list[str]:
    out = Path(cfg.out) / phase / job.name
    extra = model_overrides(cfg.model) if job.stage in ("curation", "evaluation") else []
    return [sys.executable, "-m", job.stage, f"out={out}", *extra, *job.args]


def arm_done(out: Path, arm: Arm) -> bool:
    """Every stage of the arm has its completion marker."""
    stages = arm.stages + (["weights"] if arm.weights else [])
    return all((arm_dir(out, arm.name) / "done" / f"{s}.json").is_file() for s in stages)


def run_arm(cfg: Any, spec: StudySpec, arm: Arm) -> dict[str, float]:
    """Run the arm's stages that have no completion marker, in order; returns wall seconds per
    stage run now. A stage that started before and did not finish resumes: curation and
    evaluation read their caches; training gets ``resume=true``, which continues from its newest
    complete checkpoint where the trainer saved one (``trainer.save_strategy``) and otherwise
    trains from the start."""
    here = arm_dir(Path(cfg.out), arm.name)
    timings = {}
    for stage, argv in arm_commands(cfg, spec, arm):
        marker = here / "done" / f"{stage}.json"
        if marker.is_file():
            log.info("[%s/%s] done before: skipped", arm.name, stage)
            continue
        started = here / "done" / f"{stage}.started"
        if stage == "train" and started.exists():
            argv = [*argv, "resume=true"]
        started.parent.mkdir(parents=True, exist_ok=True)
        started.touch()
        timings[stage] = run_command(f"{arm.name}/{stage}", argv, cfg.threads)
        write_json(marker, {"command": argv[1:], "wall_s": timings[stage], "job_pid": os.getpid(),
                            "threads": cfg.threads})
        started.unlink()
    return timings


def run_jobs(cfg: Any, jobs: list[Job], phase: str) -> dict[str, float]:
    """The ``prepare`` (or ``finish``) jobs without a completion marker, in order."""
    timings = {}
    for job in jobs:
        marker = Path(cfg.out) / phase / f"{job.name}.done.json"
        if marker.is_file():
            continue
        argv, label = job_command(cfg, job, phase), f"{phase}/{job.name}"
        timings[label] = run_command(label, argv, cfg.threads)
        write_json(marker, {"command": argv[1:], "wall_s": timings[label]})
    return timings


def run_command(label: str, argv: list[str], threads: int | None) -> float:
    """One stage process, threads pinned when asked; a failure names the command."""
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    log.info("[%s] %s", label, " ".join(argv[1:]))
    start = time.perf_counter()
    if subprocess.run(argv, env=env).returncode != 0:
        raise UserError(f"study job {label} failed (command: {' '.join(argv[1:])})")
    wall = round(time.perf_counter() - start, 1)
    log.info("[%s] done in %.1f s", label, wall)
    return wall


def read_timings(out: Path, spec: StudySpec) -> dict[str, float]:
    """Wall seconds of every finished job, from the completion markers."""
    found = {}
    for phase, jobs in (("prepare", spec.prepare), ("finish", spec.finish)):
        for job in jobs:
            marker = out / phase / f"{job.name}.done.json"
            if marker.is_file():
                found[f"{phase}/{job.name}"] = json.loads(marker.read_text())["wall_s"]
    for arm in spec.arms:
        for marker in sorted((arm_dir(out, arm.name) / "done").glob("*.json")):
            found[f"{arm.name}/{marker.stem}"] = json.loads(marker.read_text())["wall_s"]
    return found
