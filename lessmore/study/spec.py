"""The study command's schema, and a study config resolved at one scale.

``conf/study/<name>.yaml`` (the ``study`` group, under the ``study`` key) holds:

- ``name``, ``paper``, ``finding``: what is reproduced, from where;
- ``data``: the datasets it reads, by hub name or local path (override on the command line:
  ``study.data.alpaca=../shared/data/alpaca/alpaca_5000.json``);
- ``prepare``: shared jobs run once before any arm, ``{name: {stage, args}}`` (``stage``: a
  module, ``curation`` or ``evaluation``; its ``out`` is ``OUT/prepare/<name>``; a job set to
  null at a scale is not run there);
- ``common``: ``curate`` / ``train`` / ``evaluate`` overrides every arm gets;
- ``arms``: ``{name: {x, curate, train, evaluate, weights, data, model, after}}``: each arm
  runs curate → train → evaluate (→ weights) into ``OUT/arms/<name>`` (with ``data``, a
  curated set to train on, no curate; with ``model``, a model to evaluate as it is, no curate
  and no training: e.g. a proxy-tuned large model, its ``evaluate`` overrides naming another
  arm's run); ``after``: arms whose outputs this one reads, run before it (arms run in waves,
  each wave one multirun); ``x`` places it on the figure's axis;
- ``finish``: jobs run once after every arm, same form (``OUT/finish/<name>``): an analysis
  across arms, e.g. one arm's intruder dimensions with another as the control;
- ``claims``: what is checked and by which rule (see :mod:`evaluation.study.claims`, which
  also checks them); ``figure``: the headline figure (see :mod:`evaluation.study.figures`);
- ``scales``: ``{cpu: {...}, paper: {...}}``, merged over the rest at the chosen ``scale`` (an
  arm set to null there is not run at that scale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING, OmegaConf

from curation.core.config import UserError, register_schema
from curation.core.models import ModelConfig

STAGES = ("curate", "train", "evaluate")
_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class StudyConfig:
    out: str = MISSING
    model: ModelConfig = field(default_factory=ModelConfig)  # used by every stage of every arm
    study: Any = None  # the conf/study/<name>.yaml content
    scale: str = "cpu"  # cpu | paper: which of the study's `scales` is merged in
    seed: int = 0
    arm: str | None = None  # set by the study for each arm job; null: run the whole study
    threads: int | None = None  # torch / BLAS threads of every stage process (null: default)
    bootstrap_samples: int = 1000  # resamples per interval
    confidence: float = 0.95


register_schema("study_schema", StudyConfig)


@dataclass
class Arm:
    name: str
    x: Any = None
    curate: list[str] = field(default_factory=list)
    train: list[str] = field(default_factory=list)
    evaluate: list[str] = field(default_factory=list)
    weights: bool = False  # also run the intruder-dimension analysis of the arm's run
    data: str | None = None  # train on this curated set (a prepare job's) instead of curating
    model: str | None = None  # evaluate this model as it is: no curate, no training
    after: list[str] = field(default_factory=list)  # arms that must finish before this one

    @property
    def stages(self) -> list[str]:
        """The stages this arm runs, in order (weights excluded)."""
        if self.model is not None:
            return ["evaluate"]
        return ([] if self.data else ["curate"]) + ["train", "evaluate"]


@dataclass
class Job:
    """A shared preparation job: one stage module with its arguments."""

    name: str
    stage: str
    args: list[str]


@dataclass
class StudySpec:
    name: str
    paper: str
    finding: str
    prepare: list[Job]
    arms: list[Arm]
    finish: list[Job]
    claims: list[dict[str, Any]]
    figure: dict[str, Any]
    common: dict[str, list[str]]
    data: dict[str, Any]
    figures: list[dict[str, Any]] = field(default_factory=list)


def resolve_study(cfg: Any) -> StudySpec:
    """The study config at ``cfg.scale``, interpolations resolved, checked."""
    if cfg.study is None:
        raise UserError("study: name one (lessmore study NAME out=DIR; NAME a file of conf/study/)")
    node = cfg.study
    scales = node.get("scales") or {}
    if cfg.scale not in scales:
        raise UserError(f"study {node.get('name')}: scale={cfg.scale!r} is not one of "
                        f"{sorted(scales)}")
    merged = OmegaConf.merge(node, scales[cfg.scale])
    # resolve against the whole config, so ${out}, ${seed} and ${study.data.X} work
    root = OmegaConf.merge(cfg, {"study": merged})
    study = OmegaConf.to_container(root.study, resolve=True)
    name = study.get("name") or "study"
    arms = []
    for arm_name, body in (study.get("arms") or {}).items():
        if body is None:
            continue  # not run at this scale
        _check_name(arm_name, f"study {name}: arm")
        unknown = set(body) - {"x", "weights", "data", "model", "after", *STAGES}
        if unknown:
            raise UserError(f"study {name}: arm {arm_name}: unknown field(s) {sorted(unknown)}")
        arm = Arm(arm_name, body.get("x"), *(list(body.get(s) or []) for s in STAGES),
                  bool(body.get("weights", False)), body.get("data"), body.get("model"),
                  list(body.get("after") or []))
        if arm.model is not None and (arm.data or arm.curate or arm.train or arm.weights):
            raise UserError(f"study {name}: arm {arm_name} evaluates `model` as it is: it "
                            "takes no data, curate, train or weights")
        arms.append(arm)
    if not arms:
        raise UserError(f"study {name}: no arm at scale {cfg.scale}")
    arm_waves(arms, f"study {name}")  # unknown or circular `after` fails here
    prepare, finish = (_jobs(study, name, key) for key in ("prepare", "finish"))
    common = {s: list((study.get("common") or {}).get(s) or []) for s in STAGES}
    return StudySpec(name, study.get("paper", ""), study.get("finding", ""), prepare, arms, finish,
                     list(study.get("claims") or []),
                     study.get("figure") or {}, common, study.get("data") or {},
                     list(study.get("figures") or []))


def arm_waves(arms: list[Arm], where: str = "study") -> list[list[Arm]]:
    """The arms in waves: each arm in the first wave after every arm it names in ``after``."""
    names = {a.name for a in arms}
    for arm in arms:
        missing = [d for d in arm.after if d not in names]
        if missing:
            raise UserError(f"{where}: arm {arm.name} runs after {missing}, not arms at this "
                            f"scale ({sorted(names)})")
    waves, placed = [], set()
    while len(placed) < len(arms):
        wave = [a for a in arms if a.name not in placed and set(a.after) <= placed]
        if not wave:
            stuck = sorted(a.name for a in arms if a.name not in placed)
            raise UserError(f"{where}: arms {stuck} wait on each other (circular `after`)")
        waves.append(wave)
        placed |= {a.name for a in wave}
    return waves


def _jobs(study: dict[str, Any], name: str, key: str) -> list[Job]:
    jobs = []
    for job_name, body in (study.get(key) or {}).items():
        _check_name(job_name, f"study {name}: {key} job")
        if body is None:
            continue  # not run at this scale
        if "stage" not in body:
            raise UserError(f"study {name}: {key} job {job_name} needs a `stage` module")
        unknown = set(body) - {"stage", "args"}
        if unknown:
            raise UserError(f"study {name}: {key} job {job_name}: unknown field(s) "
                            f"{sorted(unknown)}")
        jobs.append(Job(job_name, body["stage"], list(body.get("args") or [])))
    return jobs


def _check_name(name: str, what: str) -> None:
    if not _NAME.fullmatch(name):
        raise UserError(f"{what} name {name!r}: use letters, digits, - and _ only")
