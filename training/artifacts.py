"""What a run leaves behind: the weights (adapter or full) and tokenizer, ``manifest.json`` and a
``README.md`` model card. The manifest holds no timestamps, so equal runs write equal files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from curation.core.config import to_container
from curation.core.io import collect_versions, write_json, write_text

from .launch import gather_state_dict

MANIFEST_NAME = "manifest.json"
CARD_NAME = "README.md"


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
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    return {"final_loss": losses[-1] if losses else None,
            "mean_loss": train_output.training_loss,
            "runtime_s": train_output.metrics.get("train_runtime"),
            "steps": train_output.global_step,
            "epochs": train_output.metrics.get("epoch")}


def build_hyperparameters(cfg: Any, args: Any) -> dict[str, Any]:
    """The ``trainer`` group as run (the method's learning rate and the precision resolved) and,
    for LoRA, the adapter's arguments as ``lora.*``."""
    hyper = {**to_container(cfg.trainer), "learning_rate": args.learning_rate, "bf16": args.bf16}
    if cfg.method == "lora":
        hyper.update({f"lora.{k}": v for k, v in to_container(cfg.lora).items()})
    return hyper


def build_manifest(cfg: Any, *, base_model: dict[str, Any], base_path: str,
                   data: dict[str, Any], rows: dict[str, int], tokens: dict[str, int],
                   hyperparameters: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    return {"stage": "train", "method": cfg.method, "seed": cfg.seed,
            "max_length": cfg.max_length, "base_model": base_model,
            "base_model_path": base_path, "data": data, "rows": rows, "tokens": tokens,
            "hyperparameters": hyperparameters, "metrics": metrics,
            "versions": collect_versions()}


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / MANIFEST_NAME, manifest)


def write_model_card(out: Path, manifest: dict[str, Any]) -> None:
    write_text(out / CARD_NAME, build_model_card(manifest))


def build_model_card(m: dict[str, Any]) -> str:
    lora = m["method"] == "lora"
    hub_id = m["base_model"]["path"] if not Path(m["base_model_path"]).exists() else None
    front = ["---", f"library_name: {'peft' if lora else 'transformers'}",
             "pipeline_tag: text-generation", "tags: [lessmore, trl, sft"
             + (", lora]" if lora else "]")] + ([f"base_model: {hub_id}"] if hub_id else [])
    tokens, rows, metrics = m["tokens"], m["rows"], m["metrics"]
    share = tokens["trained"] / tokens["total"] if tokens["total"] else 0.0
    hyper = "\n".join(f"| `{k}` | `{v}` |" for k, v in sorted(m["hyperparameters"].items()))
    return "\n".join([
        *front, "---", "",
        f"# {m['base_model']['name']} fine-tuned with lessmore ({m['method']})", "",
        f"- **Base model**: `{m['base_model']['path']}` (loaded from `{m['base_model_path']}`)",
        f"- **Data**: `{m['data']['path']}` ({m['data']['fingerprint'] or 'hub dataset'})",
        f"- **Method**: {'LoRA adapter' if lora else 'full fine-tuning'}, loss on assistant "
        "turns only (content and `<|im_end|>`), ChatML training template",
        f"- **Rows**: {rows['trained']} trained, {rows['truncated']} truncated to "
        f"{m['max_length']} tokens, {rows['dropped']} dropped, {m['data']['rows_rejected']} "
        "rejected as invalid",
        f"- **Tokens per epoch**: {tokens['trained']:,} trained of {tokens['total']:,} "
        f"({share:.1%})",
        f"- **Final training loss**: {_fmt(metrics['final_loss'])} after {metrics['steps']} "
        f"steps (mean {_fmt(metrics['mean_loss'])})",
        "", "## Hyper-parameters", "", "| name | value |", "|---|---|", hyper, "",
        "Reload with `curation.core.models.load_model(ModelConfig(path=RUN_DIR))`; the full "
        "record is in `manifest.json` and `config.yaml`.", ""])


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
