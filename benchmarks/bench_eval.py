"""lessmore's evaluation vs lm-evaluation-harness on the three ../shared/peer tasks, end to end.

Both sides run as subprocesses with the same thread count, one after the other (alternating the
order over ``--repeats``), on the same float32 model folder (``embedded:smollm2`` converted):

- lm-eval: the real ``lm-eval run`` CLI, ``--model hf --device cpu --batch_size 8
  --include_path tasks --tasks peer_arith_gen,peer_cbqa_gen,peer_mc_ll --log_samples`` run from
  the peer folder (its task files name their data relative to it), through a tiny driver that
  only pins torch's threads and times model loading.
- lessmore: the real CLI, ``python -m evaluation model.path=<folder> suite=peer``.

End to end = each process's wall time (imports, model load, data, prompts, inference, scoring,
writing results). Per item, lm-eval's ``--log_samples`` prompts, responses, extracted answers,
exact-match scores and log-likelihoods are compared with lessmore's samples; a generation that
differs gets the top-two logit margin at its first diverging token (DESIGN §5: a near-tie well
under 1e-3 is not a bug).

    . .venv/bin/activate
    python benchmarks/bench_eval.py --lmeval /work/.venv-lmeval/bin/lm-eval --threads 2
"""

from __future__ import annotations

import argparse
import datetime as _dt
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from machine import Contention, cpu_model, lmeval_python, lmeval_version, wait_quiet  # noqa: E402

TASKS = ("peer_arith_gen", "peer_cbqa_gen", "peer_mc_ll")
LL_TOLERANCE, NEAR_TIE = 1e-4, 1e-3

LMEVAL_DRIVER = r'''
import json, os, sys, time
T0 = time.perf_counter()
import torch
torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
import lm_eval.models.huggingface as hf
from lm_eval.__main__ import cli_evaluate
S = {"load_s": 0.0}
_init = hf.HFLM.__init__
def init(self, *a, **k):
    t = time.perf_counter(); _init(self, *a, **k); S["load_s"] += time.perf_counter() - t
hf.HFLM.__init__ = init
out = sys.argv.pop(1)
sys.argv[0] = "lm-eval"
try:
    cli_evaluate()
finally:
    S["threads"] = torch.get_num_threads()
    json.dump(S, open(out, "w"))
'''


def child_env(threads: int, extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "BENCH_THREADS": str(threads), **extra}
    return env


def run_side(name: str, cmd: list[str], cwd: Path, env: dict[str, str], root: Path,
             wait: float) -> dict:
    quiet_before = wait_quiet(wait) if wait else None
    t = time.perf_counter()
    with Contention() as c:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    (root / f"{name}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        sys.exit(f"{name} failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    return {"process_wall_s": round(wall, 2), "own_cpu_s": round(c.own_cpu_s, 1),
            "other_cores_during": round(c.other_cores, 2),
            "other_cores_before": None if quiet_before is None else round(quiet_before, 2)}


def run_lmeval(args, model_dir: str, root: Path, chat: bool) -> tuple[dict, dict]:
    driver, stats = root / "lmeval_driver.py", root / "lmeval_stats.json"
    driver.write_text(LMEVAL_DRIVER)
    out = root / "lmeval_out"
    cmd = [lmeval_python(args.lmeval), str(driver), str(stats), "run", "--model", "hf",
           "--model_args", f"pretrained={model_dir},dtype=float32", "--device", "cpu",
           "--batch_size", str(args.lmeval_batch_size), "--include_path", "tasks",
           "--tasks", ",".join(TASKS), "--output_path", str(out), "--log_samples",
           *(["--apply_chat_template"] if chat else [])]
    env = child_env(args.threads, {"HF_DATASETS_CACHE": str(root / "hf_datasets_cache")})
    timing = run_side("lmeval", cmd, Path(args.peer_dir), env, root, args.wait_quiet)
    timing.update(json.loads(stats.read_text()))
    samples: dict = {}
    for task in TASKS:
        (path,) = glob.glob(str(out / "**" / f"samples_{task}_*.jsonl"), recursive=True)
        for line in open(path, encoding="utf-8"):
            s = json.loads(line)
            samples.setdefault(task, {}).setdefault(s["doc_id"], {})[s["filter"]] = s
    return timing, samples


def run_lessmore(args, model_dir: str, root: Path, chat: bool) -> tuple[dict, dict]:
    out = root / "lessmore_out"
    cmd = [sys.executable, "-m", "evaluation", f"model.path={model_dir}", f"out={out}",
           "suite=peer", f"batch_size={args.batch_size}", "show_progress=false",
           *([f"suite.benchmarks.{t}.chat_template=true" for t in TASKS] if chat else [])]
    env = child_env(args.threads, {"LESSMORE_PEER_DIR": str(Path(args.peer_dir).resolve())})
    timing = run_side("lessmore", cmd, REPO, env, root, args.wait_quiet)
    samples = {t: [json.loads(x) for x in open(out / "model" / "samples" / f"{t}.jsonl")]
               for t in TASKS}
    return timing, {"samples": samples,
                    "metrics": json.loads((out / "model" / "results.json").read_text())["metrics"]}


def compare(lme: dict, ours: dict, margins) -> dict:
    """Per task: prompts, responses, extracted answers, scores (and log-likelihoods) equal."""
    report = {}
    for task in TASKS:
        rows, ref = ours["samples"][task], lme[task]
        stats = {"items": len(rows), "prompt_mismatches": 0, "response_mismatches": 0,
                 "answer_or_score_mismatches": 0, "flips": []}
        for i, row in enumerate(rows):
            by_filter = ref[i]
            first = next(iter(by_filter.values()))
            stats["prompt_mismatches"] += row["prompt"] != first["arguments"]["gen_args_0"]["arg_0"]
            if task == "peer_mc_ll":
                lls = [float(x[0][0]) if isinstance(x[0], list) else float(x[0])
                       for x in first["resps"]]
                gap = max(abs(a - b) for a, b in zip(row["loglikelihoods"], lls, strict=True))
                stats["max_ll_diff"] = max(stats.get("max_ll_diff", 0.0), gap)
                stats["answer_or_score_mismatches"] += (
                    (row["scores"]["acc"], row["scores"]["acc_norm"]) != (first["acc"], first["acc_norm"]))
                continue
            if row["generation"] != first["resps"][0][0]:
                stats["response_mismatches"] += 1
                stats["flips"].append({"doc_id": i, "margin": margins(row["prompt"], row["generation"],
                                                                     first["resps"][0][0])})
                continue
            stats["answer_or_score_mismatches"] += sum(
                (row["extracted"][f], row["scores"][f]) != (s["filtered_resps"][0], s["exact_match"])
                for f, s in by_filter.items())
        report[task] = stats
    return report


def build_margins(model_dir: str, threads: int):
    """A lazy batch-1 top-two logit margin at the first token where two completions differ."""
    cache: dict = {}

    def margin(prompt: str, ours: str, theirs: str) -> float:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not cache:
            torch.set_num_threads(threads)
            cache["tok"] = AutoTokenizer.from_pretrained(model_dir)
            cache["model"] = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        tok, model = cache["tok"], cache["model"]
        a, b = (tok.encode(x, add_special_tokens=False) for x in (ours, theirs))
        k = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        ids = tok.encode(prompt, add_special_tokens=False) + a[:k]
        with torch.inference_mode():
            top = model(torch.tensor([ids])).logits[0, -1].float().topk(2).values
        return round(float(top[0] - top[1]), 6)

    return margin


def scores(lme: dict, ours: dict) -> dict:
    out = {}
    for key, metric in sorted(ours["metrics"].items()):
        task, name = key.split("/")
        filt = name.split(",")[1] if "," in name else "none"
        metric_name = name.split(",")[0]
        vals = [by_filter[filt][metric_name] for by_filter in lme[task].values()
                if filt in by_filter and metric_name in by_filter[filt]]
        out[key] = {"lessmore": round(metric["value"], 4),
                    "lmeval": round(sum(vals) / len(vals), 4) if vals else None}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lmeval", default="/work/.venv-lmeval/bin/lm-eval")
    p.add_argument("--peer-dir", default=os.environ.get("LESSMORE_PEER_DIR",
                                                        str(REPO.parent / "shared" / "peer")))
    p.add_argument("--model", default="embedded:smollm2")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lmeval-batch-size", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64, help="lessmore's batch_size (its default)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--chat", action="store_true", help="both sides with the chat template")
    p.add_argument("--wait-quiet", type=float, default=0.0,
                   help="wait up to this many seconds for a quiet machine before each run")
    p.add_argument("--workdir", default=None)
    p.add_argument("--json-out", default=None)
    args = p.parse_args()

    from curation.core.models import resolve_model_path

    model_dir = resolve_model_path(args.model)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="bench_eval_"))
    runs = []
    for k in range(args.repeats):
        order = ("lmeval", "lessmore") if k % 2 == 0 else ("lessmore", "lmeval")
        run = {}
        for side in order:
            side_root = root / f"run{k}_{side}"
            side_root.mkdir(parents=True, exist_ok=True)
            fn = run_lmeval if side == "lmeval" else run_lessmore
            run[side] = fn(args, model_dir, side_root, args.chat)
        runs.append({"order": list(order), **{s: run[s][0] for s in order},
                     "speedup_e2e": round(run["lmeval"][0]["process_wall_s"]
                                          / run["lessmore"][0]["process_wall_s"], 2)})
    lme, ours = run["lmeval"][1], run["lessmore"][1]  # items agree across repeats on each side
    out = {"benchmark": "bench_eval",
           "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
           "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                       "lm_eval": lmeval_version(args.lmeval)},
           "command": " ".join([Path(sys.executable).name] + sys.argv),
           "settings": {"model_dir": model_dir, "threads": args.threads, "chat": args.chat,
                        "lmeval_batch_size": args.lmeval_batch_size,
                        "lessmore_batch_size": args.batch_size},
           "runs": runs, "agreement": compare(lme, ours, build_margins(model_dir, args.threads)),
           "scores": scores(lme, ours)}
    text = json.dumps(out, indent=1)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
