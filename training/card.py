"""The run's model card: ``README.md`` with hub front matter (``library_name``, tags, the base
model when it is a hub id), built from the manifest alone: what was trained, on what, how, and
the results the run has (dev loss, per-category accuracy, plots, merged model)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from curation.core.contract import CARD
from curation.core.io import write_text

from .config import ADAPTER_METHODS

METHOD_NAMES = {"lora": "LoRA adapter",
                "qlora": "QLoRA adapter (trained on the base quantised to 4-bit NF4; it loads "
                         "on the unquantised base)",
                "full": "full fine-tuning"}


def write_model_card(out: Path, manifest: dict[str, Any]) -> None:
    write_text(out / CARD, build_model_card(manifest, out))


def build_model_card(m: dict[str, Any], out: Path | None = None) -> str:
    """The card's markdown; ``out`` (the run directory) makes the data card link relative."""
    tokens, rows, metrics = m["tokens"], m["rows"], m["metrics"]
    share = tokens["trained"] / tokens["total"] if tokens["total"] else 0.0
    hyper = "\n".join(f"| `{k}` | `{v}` |" for k, v in sorted(m["hyperparameters"].items()))
    return "\n".join([
        *_front_matter(m), "",
        f"# {m['base_model']['name']} fine-tuned with lessmore ({m['method']})", "",
        f"- **Base model**: `{m['base_model']['path']}` (loaded from `{m['base_model_path']}`)",
        f"- **Data**: `{m['data']['path']}` ({m['data']['fingerprint'] or 'hub dataset'})"
        + _data_card_link(m, out),
        f"- **Method**: {METHOD_NAMES[m['method']]}, loss on assistant turns only (content and "
        "`<|im_end|>`), ChatML training template",
        *_launch_line(m.get("launch")),
        f"- **Rows**: {rows['trained']} trained, {rows['truncated']} truncated to "
        f"{m['max_length']} tokens, {rows['dropped']} dropped, {m['data']['rows_rejected']} "
        "rejected as invalid",
        *_dev_rows_line(rows.get("dev"), m["max_length"]),
        f"- **Tokens per epoch**: {tokens['trained']:,} trained of {tokens['total']:,} "
        f"({share:.1%})",
        f"- **Final training loss**: {_fmt(metrics['final_loss'])} after {metrics['steps']} "
        f"steps (mean {_fmt(metrics['mean_loss'])})",
        *_results_section(m),
        "", "## Hyper-parameters", "", "| name | value |", "|---|---|", hyper, "",
        "Reload with `curation.core.models.load_model(ModelConfig(path=RUN_DIR))`; the full "
        "record is in `manifest.json` and `config.yaml`.", ""])


def _front_matter(m: dict[str, Any]) -> list[str]:
    """Hub metadata: an adapter is a peft library model; the base model only when a hub id."""
    adapter = m["method"] in ADAPTER_METHODS
    tags = ["lessmore", "trl", "sft", *(["lora"] if adapter else []),
            *(["qlora"] if m["method"] == "qlora" else [])]
    hub_id = m["base_model"]["path"] if not Path(m["base_model_path"]).exists() else None
    return ["---", f"library_name: {'peft' if adapter else 'transformers'}",
            "pipeline_tag: text-generation", f"tags: [{', '.join(tags)}]",
            *([f"base_model: {hub_id}"] if hub_id else []), "---"]


def _dev_rows_line(dev: dict[str, int] | None, max_length: int) -> list[str]:
    """The dev set's rows, under the same over_length policy as the training rows."""
    if not dev:
        return []
    return [f"- **Dev rows**: {dev['evaluated']} evaluated, {dev['truncated']} truncated to "
            f"{max_length} tokens, {dev['dropped']} dropped"]


def _launch_line(launch: dict[str, Any] | None) -> list[str]:
    """How many processes trained, under which launcher, and the global batch they made."""
    if not launch:
        return []
    n = launch["world_size"]
    how = "no launcher" if launch["launcher"] == "none" else f"launched by {launch['launcher']}"
    if launch.get("accelerate_config"):
        how += f", accelerate config `{launch['accelerate_config']}`"
    return [f"- **Launch**: {n} process{'es' if n > 1 else ''}, {how} "
            f"({launch['distributed_type']}); global batch {launch['global_batch_size']} (per "
            f"device {launch['per_device_batch_size']} x accumulation "
            f"{launch['gradient_accumulation_steps']} x processes {n})"]


def _data_card_link(m: dict[str, Any], out: Path | None) -> str:
    card = m.get("outputs", {}).get("data_card")
    if not card:
        return ""
    return f"; [data card]({os.path.relpath(card, out) if out else card})"


def _results_section(m: dict[str, Any]) -> list[str]:
    """Dev loss, the last train accuracy per knowledge category, the plots and the merged
    model, where the run has them."""
    metrics, outputs = m["metrics"], m.get("outputs", {})
    lines = []
    if "eval_loss" in metrics:
        lines.append(f"- **Dev loss**: {_fmt(metrics['eval_loss'])} at the end, best "
                     f"{_fmt(metrics['best_eval_loss'])} at step {metrics['best_eval_step']}"
                     + (f"; early stopping ended the run at step {metrics['steps']}"
                        if outputs.get("stopped_early") else ""))
    if outputs.get("resumed_from"):
        lines.append(f"- **Resumed** from `checkpoints/{outputs['resumed_from']}`")
    if outputs.get("merged"):
        lines.append(f"- **Merged model**: `{outputs['merged']}/` holds the adapter merged into "
                     "the base, a plain model that loads without peft")
    accuracy, sizes = metrics.get("category_accuracy", {}), outputs.get("category_sample", {})
    if accuracy:
        lines += ["", f"## Train accuracy per knowledge category (step "
                      f"{metrics['category_accuracy_step']})", "",
                  "Greedy exact match on a fixed sample of training rows per SliCK category; "
                  f"the curve over training is in `{outputs.get('curves')}`.", "",
                  "| category | accuracy | n |", "|---|---|---|"]
        lines += [f"| {c} | {a:.3f} | {sizes.get(c, 'n/a')} |" for c, a in accuracy.items()]
    if outputs.get("plots"):
        lines += ["", "## Plots", ""]
        lines += [f"![{Path(p).stem}]({p})" for p in outputs["plots"]]
    return lines


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
