"""The artifact contract between the stages (DESIGN §1): the name of every file one stage leaves
for another, and the readers of each stage's manifest.

A stage finds another stage's outputs through these names only, never through its code, so any
stage can be rerun alone, and a user can bring their own curated set, model or results::

    curated set (curate)   dataset/  train.jsonl  filtered.jsonl  rejected.jsonl
                           manifest.json  README.md (data card)  plots/  config.yaml
    training run (train)   weights + tokenizer  manifest.json  README.md (model card)
                           curves.jsonl  plots/loss.png  plots/category_accuracy.png
                           checkpoints/  merged/  config.yaml
    results (evaluate)     <role>/results.json  <role>/samples/<benchmark>.jsonl  config.yaml
    weight analysis        weights.json  plots/intruders.png  plots/epsilon_sweep.png
    report                 report.html  report.md
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .errors import UserError
from .models import is_adapter_dir, read_adapter_base

log = logging.getLogger(__name__)

# every stage
CONFIG = "config.yaml"  # the resolved config, secrets redacted
MANIFEST = "manifest.json"  # what a stage did: config, inputs, counts, versions; no timestamps
CARD = "README.md"  # the curated set's data card, or the training run's model card
PLOTS = "plots"

# curated set
DATASET = "dataset"  # datasets.save_to_disk
TRAIN_ROWS = "train.jsonl"  # the kept rows, one record per line
FILTERED = "filtered.jsonl"  # every row a step dropped, with the step and the reason
REJECTED = "rejected.jsonl"  # every invalid input row, with file, line, field and reason

# training run
CHECKPOINTS = "checkpoints"
CURVES = "curves.jsonl"  # train accuracy per knowledge category over the steps
MERGED = "merged"  # LoRA merged into its base (merge=true)
LOSS_PLOT = f"{PLOTS}/loss.png"
CATEGORY_PLOT = f"{PLOTS}/category_accuracy.png"

# evaluation results, one folder per model role (tuned, base, or model)
RESULTS = "results.json"
SAMPLES = "samples"  # samples/<benchmark>.jsonl: prompt, generation, prediction, score

# weight analysis
WEIGHTS = "weights.json"
INTRUDER_PLOT = f"{PLOTS}/intruders.png"
SWEEP_PLOT = f"{PLOTS}/epsilon_sweep.png"

STAGES = ("curate", "train")  # the stages that write a manifest.json


def read_manifest(directory: str | Path, stage: str, *, strict: bool = True
                  ) -> dict[str, Any] | None:
    """The ``manifest.json`` that ``stage`` (curate | train) wrote into ``directory``, or None
    when the folder holds none, or another stage's. An unreadable file is a one-line
    :class:`UserError` when ``strict``, else logged and None (a report shows what it can)."""
    if stage not in STAGES:
        raise ValueError(f"no stage {stage!r} writes a manifest (stages: {STAGES})")
    path = Path(directory).expanduser() / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        if strict:
            raise UserError(f"{path}: unreadable manifest ({e})") from None
        log.warning("unreadable %s (%s)", path, e)
        return None
    if not isinstance(manifest, dict) or manifest.get("stage") != stage:
        return None
    return manifest


def read_train_manifest(path: str | Path) -> dict[str, Any] | None:
    """The manifest of a lessmore training run directory, or None for any other model path."""
    manifest = read_manifest(path, "train")
    if manifest is None:
        return None
    if not isinstance(manifest.get("base_model"), dict) or "path" not in manifest["base_model"]:
        raise UserError(f"{Path(path).expanduser() / MANIFEST}: training manifest has no "
                        f"base_model.path")
    return manifest


def read_run_base(path: str | Path) -> str | None:
    """The base model of a LoRA adapter folder or of a lessmore training run (its manifest's
    resolved ``base_model_path`` while that folder exists, else ``base_model.path``); None for
    any other folder."""
    local = Path(path).expanduser()
    if is_adapter_dir(local):
        return read_adapter_base(local)
    manifest = read_train_manifest(local)
    if manifest is None:
        return None
    resolved = manifest.get("base_model_path")
    if resolved and Path(resolved).is_dir():
        return resolved
    return manifest["base_model"]["path"]
