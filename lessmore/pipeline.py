"""``lessmore pipeline out=DIR``: curate → train → evaluate → weights → report on the embedded
default.

When the evaluation suite declares closed-book ``facts`` (``demo`` and ``capability`` do, through
``conf/suite/closed_book.yaml``), those facts are first probed with the base model by a second
``curate`` run (every fact of the declared splits kept, in input order, so the evaluation's
prompts are those of the original file; the probe settings are the training set's) and the
evaluation reads that probed file, so factuality in the report splits by SliCK knowledge
category; ``probe_heldout=false`` skips it.

Each stage runs as its own process (``python -m <stage>``) with the overrides below, exactly as a
user would run it by hand, so the pipeline adds no code path of its own; each stage reads only
the previous stage's artifact directory.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf

from curation.core.config import UserError, register_schema, save_resolved_config, stage_main
from curation.core.contract import TRAIN_ROWS
from curation.core.models import ModelConfig

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
    probe: Any = None  # the conf/probe/<name>.yaml preset the curate stages use (its name)
    select: Any = None  # the conf/select/<name>.yaml preset the training set is selected by
    suite: Any = None  # the conf/suite/<name>.yaml preset the evaluate stage runs (its name)
    weights: bool = True  # intruder-dimension analysis of the run against its base
    probe_heldout: bool = True  # probe the closed-book evaluation facts: factuality per category
    curate: list[str] = field(default_factory=list)  # extra overrides per stage
    train: list[str] = field(default_factory=list)
    evaluate: list[str] = field(default_factory=list)


register_schema("pipeline_schema", PipelineConfig)


def build_commands(cfg: Any) -> list[tuple[str, list[str]]]:
    """The stage invocations, as (name, argv): curate, [probe-heldout,] train, evaluate,
    [weights,] report."""
    out = Path(cfg.out)
    curated, run_dir, results, report = (out / d for d in ("curated", "run", "results", "report"))
    inputs = "[" + ",".join(cfg.inputs) + "]"
    splits = "[" + ",".join(cfg.splits) + "]"
    py = [sys.executable, "-m"]
    probe, suite = preset_name(cfg, "probe"), preset_name(cfg, "suite")
    select = preset_name(cfg, "select")
    base = model_overrides(cfg.model)
    heldout, evaluate_extra = [], []
    facts = suite_facts(cfg) if cfg.probe_heldout else None
    if facts is not None:
        same_probe = [o for o in cfg.curate if o.lstrip("+~").startswith(("probe.", "probe="))]
        heldout = [("probe-heldout", [
            *py, "curation", f"input=[{facts.data}]", f"out={out / 'heldout'}", *base,
            f"seed={cfg.seed}", f"probe={probe}", *same_probe,
            f"splits=[{','.join(facts.splits)}]", f"budget={HELDOUT_BUDGET}", "select=random",
            "select.order=input"])]
        evaluate_extra = [f"suite.{facts.key}={out / 'heldout' / TRAIN_ROWS}"]
    return [
        ("curate", [*py, "curation", f"input={inputs}", f"out={curated}", *base,
                    f"splits={splits}", f"budget={cfg.budget}", f"seed={cfg.seed}",
                    f"probe={probe}", f"select={select}", *cfg.curate]),
        *heldout,
        ("train", [*py, "training", f"data={curated}", f"out={run_dir}", *base,
                   f"method={cfg.method}", f"seed={cfg.seed}", *cfg.train]),
        ("evaluate", [*py, "evaluation", *model_overrides(cfg.model, path=str(run_dir)),
                      f"out={results}", f"suite={suite}", *cfg.evaluate, *evaluate_extra]),
        *([("weights", [*py, "evaluation.weights", f"run={run_dir}",
                        f"out={results / 'weights'}"])] if cfg.weights else []),
        ("report", [*py, "evaluation.report", f"results=[{results}]", f"out={report}"]),
    ]


def model_overrides(model: Any, *, path: str | None = None) -> list[str]:
    """The pipeline's model for a stage: the ``model`` group option by name, then every field of
    :class:`~curation.core.models.ModelConfig` (read from the schema, so a field added there
    reaches every stage), with ``path`` in place of the model's own (the training run, for
    the evaluation: a run names its base itself, so no revision either)."""
    overrides = [f"model={model.name}"]
    for f in fields(ModelConfig):
        if f.name == "name":
            continue
        value = getattr(model, f.name)
        if path is not None and f.name in ("path", "revision"):
            value = path if f.name == "path" else None
        overrides.append(f"model.{f.name}={hydra_value(value)}")
    return overrides


def hydra_value(value: Any) -> str:
    """``value`` as a Hydra override takes it literally: null, true / false, numbers as they
    are, and strings quoted only when the override grammar would read them otherwise."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and not _reads_as_other_type(text):
        return text
    return "'" + text.replace("'", "\\'") + "'"


_PLAIN = re.compile(r"[\w./:@+-]+")  # no quote, space, comma, bracket, brace, '=' or '$'


def _reads_as_other_type(text: str) -> bool:
    """Whether Hydra would read the unquoted text as null, a bool or a number."""
    if text.lower() in ("null", "true", "false", "nan", "inf", "-inf", "+inf"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


HELDOUT_BUDGET = 1_000_000  # keep every probed fact: the evaluation scores all of them


def preset_name(cfg: Any, group: str) -> str:
    """The name of the ``probe``, ``select`` or ``suite`` preset chosen (``probe=slick``). Its
    settings reach the stages through ``curate=[…]`` / ``evaluate=[…]`` only, so a preset changed
    on the pipeline's own command line is an error rather than silently dropped."""
    chosen = cfg[group]
    name = chosen.get("name") if chosen is not None else None
    if not name:
        raise UserError(f"pipeline: choose a {group} preset by name ({group}=NAME, a file of "
                        f"conf/{group}/)")
    fresh = _compose(f"{group}/{name}", [])[group]
    if OmegaConf.to_container(fresh, resolve=True) != OmegaConf.to_container(chosen, resolve=True):
        stage = "evaluate" if group == "suite" else "curate"
        raise UserError(f"pipeline: set {group} fields for the {stage} stage with "
                        f"{stage}=['{group}.FIELD=VALUE'], not on the pipeline's command line")
    return str(name)


def suite_facts(cfg: Any) -> Any:
    """The closed-book facts the pipeline's evaluation suite declares (its ``facts`` field:
    the QA file, the splits it scores, and the suite key that reads the file), with the
    ``suite...`` overrides of ``evaluate`` applied; None when the suite declares none."""
    name, overrides = preset_name(cfg, "suite"), []
    for item in cfg.evaluate:
        if item.startswith("suite="):
            name = item.partition("=")[2]
        elif item.lstrip("+~").startswith("suite."):
            overrides.append(item)
    facts = _compose(f"suite/{name}", overrides).suite.get("facts")
    return facts if facts is not None and facts.get("data") else None


def _compose(name: str, overrides: list[str]) -> Any:
    """Compose a config file of conf/, inside this Hydra app (its search path) or outside."""
    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra

    from curation.core.config import compose_config

    if GlobalHydra.instance().is_initialized():
        return compose(config_name=name, overrides=overrides)
    return compose_config(name, overrides)


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
