"""Weight analysis (``python -m evaluation.weights``) of every adapted matrix of SmolLM2-135M.

Workload (built once into ``--workdir``):

- ``lora``: a LoRA adapter on the embedded SmolLM2-135M-Instruct, all linear layers of the 30
  decoder blocks (q, k, v, o, gate, up, down: 210 matrices), rank ``--rank``, A as peft
  initialises it and B drawn N(0, ``--b-std``) so ΔW is nonzero;
- ``full``: a "full fine-tune" control, the same base with every one of those matrices moved by a
  small dense Gaussian perturbation (``--full-rel`` of each matrix's RMS), saved as a model folder.

Timed, in this process: loading the LoRA pairs, the analysis itself (``analyse_pairs``), and
``evaluation.weights.run`` end to end (load, analyse, weights.json, plots) for the LoRA run alone
and again with the control beside it; ``--peft`` adds peft's ``reduce_intruder_dimension``
cross-check to both. Prints JSON (with the load average before and after: the machine is shared).

    python benchmarks/bench_weights.py --threads 1 --json-out /tmp/bench_weights.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build_lora(base: str, out: Path, rank: int, b_std: float) -> Path:
    """A random LoRA adapter on every linear layer of the decoder blocks (once)."""
    if (out / "adapter_config.json").is_file():
        return out
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=rank, lora_alpha=2 * rank,
                                                  target_modules="all-linear"))
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=b_std)
    peft_model.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def build_full(base: str, out: Path, rel: float) -> Path:
    """The base with each decoder-block linear weight moved by rel x its RMS of Gaussian noise."""
    if (out / "config.json").is_file():
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Linear) and ".layers." in name:
                w = module.weight
                w.add_(torch.randn_like(w) * rel * w.pow(2).mean().sqrt())
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="/tmp/bench_weights")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--b-std", type=float, default=0.02)
    parser.add_argument("--full-rel", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--peft", action="store_true", help="also time peft's cross-check")
    parser.add_argument("--json-out")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from curation.core.config import compose_config
    from curation.core.models import resolve_model_path
    from evaluation.weights import config as _schema  # noqa: F401  (registers the schema)
    from evaluation.weights.pairs import load_weight_pairs
    from evaluation.weights.run import analyse_pairs, run

    load_before = os.getloadavg()
    work = Path(args.workdir)
    base = resolve_model_path("embedded:smollm2")
    lora = build_lora(base, work / "lora", args.rank, args.b_std)
    full = build_full(base, work / "full", args.full_rel)
    torch.set_num_threads(args.threads)

    t = time.perf_counter()
    pairs = load_weight_pairs(str(lora))
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    matrices = analyse_pairs(pairs, top_k=10, epsilon=0.5, threads=args.threads)
    analyse_s = time.perf_counter() - t
    result = {"matrices": len(matrices), "shapes": sorted({str(m.shape) for m in matrices}),
              "load_s": round(load_s, 2), "analyse_s": round(analyse_s, 2)}
    del pairs

    # the control is a plain model folder: its base is named (the LoRA adapter names its own)
    common = [f"threads={args.threads}", f"peft_check={str(args.peft).lower()}"]
    t = time.perf_counter()
    run(compose_config("weights", [f"run={lora}", f"out={work / 'out-lora'}", *common]))
    result["lora_end_to_end_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    doc = run(compose_config("weights", [f"run={lora}", f"control={full}", f"base={base}",
                                         f"out={work / 'out'}", *common]))
    result["with_control_end_to_end_s"] = round(time.perf_counter() - t, 2)
    result["end_to_end_includes"] = "load, analyse, weights.json, plots" + (
        " + peft reduce_intruder_dimension on the lora run" if args.peft else "")
    for role, report in doc["runs"].items():
        result[role] = {k: report[k] for k in ("method", "intruders", "matrices_with_intruders",
                                                "sweep", "effective_rank_by_module", "peft")}
    result["env"] = {"machine": platform.machine(), "cpus": os.cpu_count(),
                     "threads": args.threads, "torch": torch.__version__,
                     "load_avg_before": [round(x, 2) for x in load_before],
                     "load_avg_after": [round(x, 2) for x in os.getloadavg()],
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    text = json.dumps(result, indent=1)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
