"""The curated set's dataset card (``README.md`` with YAML front matter, loadable as a hub
dataset card) and manifest helpers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .probes import approximate_protocol, describe_protocol


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M"


def build_card(manifest: dict[str, Any]) -> str:
    """Markdown card stating what was read, what every step did, and what was probed with what."""
    counts, probe = manifest["counts"], manifest["probe"]
    lines = [
        "---",
        "pretty_name: lessmore curated SFT set",
        "task_categories:",
        "- text-generation",
        "size_categories:",
        f"- {_size_category(counts['kept'])}",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        "    path: train.jsonl",
        "tags:",
        "- lessmore",
        "- sft",
        "---",
        "",
        "# Curated SFT set",
        "",
        f"Built by `lessmore curate` from {', '.join(f'`{s}`' for s in manifest['inputs'])} "
        f"with seed {manifest['seed']}.",
        "",
        "## Counts",
        "",
        "| rows in | kept | filtered | rejected |",
        "|---:|---:|---:|---:|",
        f"| {counts['rows_in']} | {counts['kept']} | {counts['filtered']} | {counts['rejected']} |",
        "",
        "Every row not kept is listed with its step and reason in `filtered.jsonl` "
        "(dropped by a curation step) or `rejected.jsonl` (invalid input: file, line, field).",
        "",
        "## Steps",
        "",
        "| step | rows in | rows out | filtered |",
        "|---|---:|---:|---:|",
        *[f"| {s['name']} | {s['rows_in']} | {s['rows_out']} | {s['filtered']} |"
          for s in manifest["steps"]],
        "",
        "## Knowledge probing",
        "",
    ]
    if probe["enabled"]:
        protocol = SimpleNamespace(**probe)
        tag = f"{probe['name']}, approximate" if approximate_protocol(protocol) else probe["name"]
        lines += [
            f"QA rows were probed with **{manifest['model']['path']}**, protocol "
            f"`{describe_protocol(protocol)}` ({probe['k_shots']} exemplars per prompt, greedy + "
            f"{probe['n_samples']} samples per prompt at T={probe['temperature']}, "
            f"{'shortcut' if probe['shortcut'] else 'full'} protocol)."
            + (" Categories from fewer prompts or samples than SliCK's 10 x 16 are approximate: "
               "HighlyKnown is easier to reach and WeaklyKnown rarer."
               if approximate_protocol(protocol) else ""),
            "",
            *_probe_kinds(manifest, probe),
            "| category (protocol) | probed | kept |",
            "|---|---:|---:|",
            *[f"| {cat} ({tag}) | {n} | {manifest['categories_kept'].get(cat, 0)} |"
              for cat, n in manifest["categories_probed"].items()],
        ]
    else:
        lines.append("Probing was switched off; rows carry no knowledge category.")
    cfg = manifest["config"]
    select, dedup = cfg["select"], cfg["dedup"]
    lines += ["", "## Dedup and selection", "",
              "- exact dedup on normalised text; semantic dedup "
              + (f"with `{dedup['embedding_model']}` embeddings, near-duplicate when cosine > "
                 f"{1 - dedup['eps']:.3f}" if dedup["semantic"] else "off"),
              f"- selection: `{select['strategy']}` under a budget of {cfg['budget']} "
              f"(Unknown facts: `{select['unknown']}`"
              + (f", category mix {select['category_mix']}" if select["category_mix"] else "")
              + (f", quotas {select['quotas']}" if select["quotas"] else "") + ")",
              "- response scoring (NLL, IFD): "
              + ("on, IFD ≥ " + str(cfg["score"]["max_ifd"]) + " filtered"
                 if cfg["score"]["enabled"] else "off"),
              f"- memorisation levels: {_memorization(manifest, cfg['memorization'])}"]
    if manifest.get("plots"):
        lines += ["", "## Plots", "", *[f"![{Path(p).stem}]({p})" for p in manifest["plots"]]]
    lines += ["", "## Token lengths", "",
              f"Measured with the training template of `{manifest['model']['path']}`: "
              f"{manifest['tokens']['total']} tokens in kept rows, "
              f"{manifest['tokens']['assistant']} of them in assistant turns (trained).", ""]
    return "\n".join(lines)


def _probe_kinds(manifest: dict[str, Any], probe: dict[str, Any]) -> list[str]:
    """Which probe each row got (the probe step's ``rows_by_kind``), as card lines."""
    step = next((s for s in manifest["steps"] if s["name"] == "probe"), None)
    if not step or "rows_by_kind" not in step:
        return []
    kinds = step["rows_by_kind"]
    final = (f"final answer by `{probe['final_answer']}` extraction (does the model already "
             "solve it?)" if probe.get("final_answer") else "final answer (off)")
    return [f"Rows by probe: short-answer exact match {kinds.get('short_answer', 0)}, "
            f"{final} {kinds.get('final_answer', 0)}, not probed "
            f"{kinds.get('not_probed', 0)} (chats and long-form answers: scored by likelihood, "
            "NLL / IFD, when scoring is on).", ""]


def _memorization(manifest: dict[str, Any], mem: dict[str, Any]) -> str:
    """The memorisation line: templates per relation against the paper's, and any level filter."""
    if not mem["enabled"]:
        return "off"
    step = next((s for s in manifest["steps"] if s["name"] == "memorization"), {})
    used = sorted(step.get("templates_per_relation", {}).values())
    if not used:
        return "on (no row measured)"
    spread = f"{used[0]}" if used[0] == used[-1] else f"{used[0]}-{used[-1]}"
    line = (f"on, {spread} templates per relation x {step['samples_per_template']} samples "
            f"(paper: {step['paper_templates_per_relation']} x 10; fewer samples make coarser "
            "levels)")
    if mem.get("select_levels"):
        line += f"; only facts of level {', '.join(map(str, mem['select_levels']))} kept"
    return line
