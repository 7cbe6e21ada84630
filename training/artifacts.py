"""What a run leaves behind: the weights (adapter or full) and tokenizer, the curves and plots, the
merged model and ``manifest.json`` (the model card is ``card.py``). The manifest holds no
timestamps, so equal runs write equal files."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from curation.core.config import to_container
from curation.core.contract import CARD, CURVES, MANIFEST, MERGED
from curation.core.io import (
    atomic_path,
    collect_versions,
    redact_secrets,
    write_json,
    write_jsonl,
)
from curation.core.models import ModelConfig, load_model

from .callbacks import CURVE_KEY, CategoryAccuracyCallback, read_curves
from .config import ADAPTER_METHODS
from .plots import write_plots
from .runtime import gather_state_dict

log = logging.getLogger(__name__)



def save_weights(trainer: Any, tokenizer: Any, out: Path, base_path: str) -> None:
    """The adapter (LoRA) or the full safetensors weights, and the tokenizer with the training
    template. An adapter names the resolved local base folder, so ``load_model(path=out)``
    rebuilds base + adapter without the embedded or hub spec."""
    model = trainer.accelerator.unwrap_model(trainer.model)  # FSDP wraps it
    if hasattr(model, "peft_config"):
        for adapter_cfg in model.peft_config.values():
            adapter_cfg.base_model_name_or_path = base_path
            if isinstance(adapter_cfg.target_modules, set):  # "all-linear", expanded: sort it so
                adapter_cfg.target_modules = sorted(adapter_cfg.target_modules)  # equal runs match
    else:
        # training turns the cache off (it is useless there); the saved model is for generation
        model.config.use_cache = True
    state_dict = gather_state_dict(trainer)  # every rank takes part (FSDP, DeepSpeed)
    if trainer.is_world_process_zero():  # one writer; the other ranks wait for it below
        _write_weights(model, tokenizer, out, state_dict)
    trainer.accelerator.wait_for_everyone()


def _write_weights(model: Any, tokenizer: Any, out: Path, state_dict: Any) -> None:
    # written beside `out` and moved in file by file: a reader never sees a half-written file,
    # and manifest.json (written last) marks a complete run
    with tempfile.TemporaryDirectory(prefix=".weights-", dir=out) as tmp_name:
        tmp = Path(tmp_name)
        model.save_pretrained(tmp, state_dict=state_dict, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        for path in sorted(tmp.iterdir()):
            os.replace(path, out / path.name)


def compute_train_metrics(train_output: Any, log_history: list[dict[str, Any]]) -> dict[str, Any]:
    """Final and mean loss (mean over this session: a resumed run averages what it trained),
    the dev loss where the run evaluated, and the last train accuracy per knowledge category."""
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    metrics = {"final_loss": losses[-1] if losses else None,
               "mean_loss": train_output.training_loss,
               "runtime_s": train_output.metrics.get("train_runtime"),
               "steps": train_output.global_step,
               "epochs": train_output.metrics.get("epoch")}
    evals = [entry for entry in log_history if "eval_loss" in entry]
    if evals:
        best = min(evals, key=lambda entry: entry["eval_loss"])
        metrics.update(eval_loss=evals[-1]["eval_loss"], best_eval_loss=best["eval_loss"],
                       best_eval_step=best["step"])
    curves = [entry for entry in log_history if any(k.startswith(CURVE_KEY) for k in entry)]
    if curves:
        last = read_curves(curves[-1:], {})
        metrics["category_accuracy"] = {r["category"]: r["accuracy"] for r in last}
        metrics["category_accuracy_step"] = curves[-1]["step"]
    return metrics


def write_run_outputs(cfg: Any, trainer: Any, tokenizer: Any, out: Path,
                      resumed_from: str | None) -> dict[str, Any]:
    """``curves.jsonl``, ``plots/`` and, for LoRA with ``merge=true``, ``merged/``; returns
    what the manifest records of them. Only the main process writes."""
    if not trainer.is_world_process_zero():
        return {}
    history = trainer.state.log_history
    sizes = next((cb.sizes for cb in trainer.callback_handler.callbacks
                  if isinstance(cb, CategoryAccuracyCallback)), {})
    curves = read_curves(history, sizes)
    if curves:
        write_jsonl(out / CURVES, curves)
    data_card = Path(cfg.data).expanduser().resolve() / CARD
    return {"plots": write_plots(out, history, curves),
            "curves": CURVES if curves else None, "category_sample": sizes,
            "merged": save_merged(trainer, tokenizer, out) if cfg.merge else None,
            "resumed_from": Path(resumed_from).name if resumed_from else None,
            "stopped_early": trainer.state.global_step < trainer.state.max_steps,
            "data_card": str(data_card) if data_card.is_file() else None}


def save_merged(trainer: Any, tokenizer: Any, out: Path) -> str | None:
    """The LoRA adapter merged into its base, as a plain model in ``OUT/merged`` (weights,
    tokenizer and training template). Merges the trainer's model in place (call it last), or,
    when FSDP / DeepSpeed shard it or its base is 4-bit (QLoRA), the adapter saved in ``out``
    into a fresh, unquantised copy of the base."""
    model = trainer.model
    if not hasattr(model, "merge_and_unload"):
        log.info("merge=true: a full fine-tune is already a plain model; nothing to merge")
        return None
    quantized = getattr(model, "hf_quantizer", None) is not None
    if trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled or quantized:
        dtype = str(getattr(model, "dtype", "auto")).removeprefix("torch.")
        merged, _ = load_model(ModelConfig(path=str(out), device="cpu", dtype=dtype))
    else:
        merged = model.merge_and_unload()
    merged.config.use_cache = True
    with atomic_path(out / MERGED) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return MERGED


def build_hyperparameters(cfg: Any, args: Any) -> dict[str, Any]:
    """The ``trainer`` group as run (the method's learning rate and the precision resolved) and,
    for LoRA and QLoRA, the adapter's arguments as ``lora.*``."""
    hyper = {**to_container(cfg.trainer), "learning_rate": args.learning_rate, "bf16": args.bf16}
    if cfg.method in ADAPTER_METHODS:
        hyper.update({f"lora.{k}": v for k, v in to_container(cfg.lora).items()})
    return redact_secrets(hyper)  # a hub_token passed as a trainer argument stays out of files


def build_manifest(cfg: Any, *, base_model: dict[str, Any], base_path: str,
                   data: dict[str, Any], rows: dict[str, Any], tokens: dict[str, int],
                   hyperparameters: dict[str, Any], metrics: dict[str, Any],
                   outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"stage": "train", "method": cfg.method, "seed": cfg.seed,
            "max_length": cfg.max_length, "base_model": base_model,
            "base_model_path": base_path, "data": data, "rows": rows, "tokens": tokens,
            "hyperparameters": hyperparameters, "metrics": metrics, "outputs": outputs or {},
            "versions": collect_versions()}


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / MANIFEST, manifest)
