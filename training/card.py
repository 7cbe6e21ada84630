"""The run's model card: ``README.md`` with hub front matter (``library_name``, tags, the base
model when it is a hub id), built from the manifest alone: what was trained, on what, how, and
the results the run has (dev loss, per-category accuracy, plots, merged model)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from curation.core.io import write_text

CARD_NAME = "README.md"  # the model card here; a curated set's data card has the same name


def write_model_card(out: Path, manifest: dict[str, Any]) -> None:
    write_text(out / CARD_NAME, build_model_card(manifest, out))


def build_model_card(m: dict[str, Any], out: Path | None = None) -> str:
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
        f"- **Data**: `{m['data']['path']}` ({m['data']['fingerprint'] or 'hub dataset'})"
        + _data_card_link(m, out),
        f"- **Method**: {'LoRA adapter' if lora else 'full fine-tuning'}, loss on assistant "
        "turns only (content and `<|im_end|>`), ChatML training template",
        f"- **Rows**: {rows['trained']} trained, {rows['truncated']} truncated to "
        f"{m['max_length']} tokens, {rows['dropped']} dropped, {m['data']['rows_rejected']} "
        "rejected as invalid",
        f"- **Tokens per epoch**: {tokens['trained']:,} trained of {tokens['total']:,} "
        f"({share:.1%})",
        f"- **Final training loss**: {_fmt(metrics['final_loss'])} after {metrics['steps']} "
        f"steps (mean {_fmt(metrics['mean_loss'])})",
        *_results_section(m),
        "", "## Hyper-parameters", "", "| name | value |", "|---|---|", hyper, "",
        "Reload with `curation.core.models.load_model(ModelConfig(path=RUN_DIR))`; the full "
        "record is in `manifest.json` and `config.yaml`.", ""])


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
