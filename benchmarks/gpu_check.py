"""Prove lessmore's GPU path on a lent GPU and measure it; prints one JSON object.

Two parts, so the embedded model's 98 MB GGUF can travel to the device machine in two halves
(one call carries at most 64 MiB):

- ``--part train``: bf16 matrix-multiply peak; the training stage in bf16 with LoRA and with full
  fine-tuning on a randomly initialised SmolLM2-135M (the real architecture and tokenizer; weights
  do not change tokens/s), tokens/s, peak GPU memory and MFU; the stage under ``accelerate
  launch`` (plain, and each shipped ``conf/accelerate/*.yaml`` that one GPU can run).
- ``--part probe``: the real SmolLM2-135M-Instruct (GGUF joined from its halves and converted):
  engine throughput on the probing benchmark's prompts (items/s by batch size, bf16 and fp32) and
  agreement of greedy answers with the CPU fp32 answers recorded in ``gpu_expected.json``; a full
  SliCK curation (``probe=slick``: 10 prompts, 16 samples at T=0.5) of the sample facts; LoRA on
  the curated set; the evaluation stage on held-out facts.

Every step is timed and guarded: a failing step records its error and the rest still run.

    python benchmarks/gpu_check.py --part train --out $OUT/train.json
    python benchmarks/gpu_check.py --part probe --gguf /tmp/parts/model.gguf --out $OUT/probe.json
    python benchmarks/gpu_check.py --part expected   # here, on CPU: writes gpu_expected.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
EXPECTED = REPO / "benchmarks" / "gpu_expected.json"
CHATS = REPO / "data" / "chats" / "chats.jsonl"
FACTS = REPO / "data" / "qa" / "facts.jsonl"
N_ITEMS = 200
RESULTS: dict = {"steps": {}}
OUT_PATH: str | None = None
SMOKE = False  # --smoke: the same steps on CPU at toy sizes, to check the script here


def step(name: str):
    """Run the decorated function now, recording its result, its time and any error."""
    def wrap(fn):
        t = time.perf_counter()
        try:
            RESULTS["steps"][name] = {"ok": True, **(fn() or {})}
        except Exception as e:  # a failed step must not hide the others' results
            RESULTS["steps"][name] = {"ok": False, "error": f"{type(e).__name__}: {e}",
                                      "trace": traceback.format_exc()[-3000:]}
        RESULTS["steps"][name]["wall_s"] = round(time.perf_counter() - t, 2)
        print(f"[gpu_check] {name}: {json.dumps(RESULTS['steps'][name])[:1500]}", flush=True)
        if OUT_PATH:  # kept current after every step: a run cut off still leaves its results
            Path(OUT_PATH).write_text(json.dumps(RESULTS, indent=1, default=str) + "\n")
        return fn
    return wrap


def environment() -> dict:
    import torch
    import transformers
    import trl

    env = {"torch": torch.__version__, "transformers": transformers.__version__,
           "trl": trl.__version__, "cuda": torch.version.cuda, "python": sys.version.split()[0]}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        env.update(gpu=p.name, gpu_mem_gib=round(p.total_memory / 2**30, 1),
                   sms=p.multi_processor_count)
    return env


def matmul_peak_tflops(n: int = 8192, reps: int = 10) -> float:
    import torch

    if SMOKE:
        return 1.0

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e12


def build_random_smollm2(meta: Path, out: Path) -> Path:
    """SmolLM2-135M's architecture and tokenizer with seeded random weights (fp32 safetensors)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(meta))
    model.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(meta).save_pretrained(out)
    return out


def write_train_data(work: Path, copies: int) -> Path:
    """The sample chats, ``copies`` times over (each copy's first turn tagged, so rows differ):
    a set big enough to keep a GPU busy for a measurable while."""
    from curation.core.readers import read_records

    rows = read_records(str(CHATS)).records
    path = work / "train.jsonl"
    with open(path, "w") as f:
        for k in range(copies):
            for r in rows:
                messages = [dict(m) for m in r["messages"]]
                first = next(m for m in messages if m["role"] == "user")
                first["content"] = f"[{k}] {first['content']}"
                f.write(json.dumps({"messages": messages}) + "\n")
    return path


def train_once(model_dir: Path, out: Path, method: str, *extra: str) -> dict:
    """The training stage in this process; tokens/s over the whole run, peak memory, MFU."""
    import torch

    from curation.core.config import compose_config
    from training.run import run

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    overrides = [f"data={TRAIN_DATA}", f"out={out}", f"method={method}", f"model.path={model_dir}",
                 "model.name=smollm2", "show_progress=false", "max_length=1024",
                 "trainer.num_train_epochs=2", "trainer.per_device_train_batch_size=16",
                 "trainer.logging_steps=10", *extra,
                 *(["model.device=cpu", "++trainer.max_steps=2"] if SMOKE else [])]
    manifest = run(compose_config("train", overrides))
    m, tokens = manifest["metrics"], manifest["tokens"]
    epochs = m["epochs"] or 2
    tok_s = tokens["total"] * epochs / m["runtime_s"]
    return {"method": method, "tokens_per_s": round(tok_s), "runtime_s": m["runtime_s"],
            "steps": m["steps"], "final_loss": m["final_loss"], "bf16":
            manifest["hyperparameters"]["bf16"], "tokens_per_epoch": tokens,
            "peak_gpu_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None}


def launch(args: list[str], out: Path, timeout: int = 150) -> dict:
    """``accelerate launch ... -m training`` as a user runs it; the run dir must be complete."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch", *args, "-m", "training",
           f"data={CHATS}", f"out={out}", f"model.path={RANDOM_DIR}", "model.name=smollm2",
           "trainer=smoke", "show_progress=false", *(["model.device=cpu"] if SMOKE else [])]
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    manifest = out / "manifest.json"
    result = {"cmd": " ".join(cmd[3:]), "rc": p.returncode, "s": round(time.perf_counter() - t, 1),
              "manifest": manifest.exists()}
    if p.returncode or not manifest.exists():
        result["tail"] = (p.stdout + p.stderr)[-2500:]
        raise RuntimeError(json.dumps(result))
    result["world_size"] = json.loads(manifest.read_text()).get("world_size")
    return result


def part_train(work: Path) -> None:
    import torch

    global RANDOM_DIR, TRAIN_DATA
    TRAIN_DATA = write_train_data(work, 2 if SMOKE else 10)
    RESULTS["env"] = environment()
    peak = RESULTS["env"]["bf16_matmul_tflops"] = round(matmul_peak_tflops(), 1)
    RANDOM_DIR = build_random_smollm2(REPO / ".gpu" / "smollm2-meta", work / "smollm2-random")
    n_params = sum(p.numel() for p in __import__("safetensors.torch", fromlist=["x"])
                   .load_file(RANDOM_DIR / "model.safetensors").values())
    RESULTS["env"]["n_params"] = n_params

    for method in ("lora", "full"):
        @step(f"train_{method}_bf16")
        def _(method=method):
            r = train_once(RANDOM_DIR, work / method, method)
            # 6N FLOPs per token (forward 2N + backward 4N); LoRA skips the frozen weights'
            # gradients (~4N), so its MFU by the 6N convention overstates the work done
            r["mfu_6N"] = round(6 * n_params * r["tokens_per_s"] / (peak * 1e12), 4)
            if method == "lora":
                r["mfu_4N"] = round(4 * n_params * r["tokens_per_s"] / (peak * 1e12), 4)
            return r

    RESULTS["torch_cuda_ok"] = torch.cuda.is_available()


def part_extras(work: Path) -> None:
    """A plain ``accelerate launch``, packing, and the shipped FSDP / ZeRO-3 configs on one GPU
    (``--part train`` only: the launcher's configs were checked on their own, see RESULTS.md)."""
    @step("accelerate_launch_plain")
    def _():
        return launch(["--num_processes", "1", "--mixed_precision", "bf16"], work / "accel")

    @step("train_lora_bf16_packing")
    def _():
        return train_once(RANDOM_DIR, work / "lora-packed", "lora", "trainer.packing=true")

    for name in ("fsdp", "zero3"):
        config = REPO / "conf" / "accelerate" / f"{name}.yaml"
        if not config.exists():
            RESULTS["steps"][f"accelerate_{name}"] = {"ok": None, "why": "config not shipped"}
            continue

        @step(f"accelerate_{name}")
        def _(config=config, name=name):
            return launch(["--config_file", str(config), "--num_processes", "1"],
                          work / f"accel-{name}")


RANDOM_DIR = Path()
TRAIN_DATA = CHATS
DEVICE = "cuda"


def probe_workload() -> tuple[list[str], list[dict]]:
    from bench_probe import build_workload, lessmore_prompts

    work = build_workload(N_ITEMS)
    return lessmore_prompts(work), work["items"]


def engine_answers(model_dir: str, dtype: str, device: str, batch_size: int) -> tuple[list, float]:
    from curation.core.engine import DecodeSettings, GenerationEngine
    from curation.core.models import ModelConfig, load_model

    prompts, _ = probe_workload()
    model, tok = load_model(ModelConfig(path=model_dir, dtype=dtype, device=device))
    engine = GenerationEngine(model, tok, batch_size=batch_size, show_progress=False)
    settings = DecodeSettings(max_new_tokens=16, stop=["\n"])
    engine.generate(prompts[:batch_size], settings)  # warm-up: kernels, allocator
    if device == "cuda":
        import torch

        torch.cuda.synchronize()
    t = time.perf_counter()
    answers = [c[0] for c in engine.generate(prompts, settings)]
    return answers, time.perf_counter() - t


def part_expected() -> None:
    """Here on CPU: the fp32 greedy answers the GPU run is compared with."""
    from curation.core.models import resolve_model_path

    answers, seconds = engine_answers(resolve_model_path("embedded:smollm2"), "float32", "cpu", 16)
    EXPECTED.write_text(json.dumps({"model": "embedded:smollm2 fp32 cpu", "items": N_ITEMS,
                                    "max_new_tokens": 16, "answers": answers}, indent=1) + "\n")
    RESULTS["expected"] = {"items": len(answers), "cpu_s": round(seconds, 1)}


def part_probe(work: Path, gguf: Path | None) -> None:
    """With ``gguf``: the real model, answers compared with CPU fp32. Without: the random
    SmolLM2 of ``part_train`` (throughput only: every answer runs to max_new_tokens)."""
    from curation.core.models import resolve_model_path

    RESULTS.setdefault("env", environment())
    os.environ["LESSMORE_CACHE"] = str(work / "cache")
    model_dir = resolve_model_path(str(gguf)) if gguf else str(RANDOM_DIR)
    expected = json.loads(EXPECTED.read_text())["answers"] if gguf else None

    for dtype, sizes in (("float32", (16,)), ("bfloat16", (64, 200))):
        for bs in sizes:
            @step(f"engine_{dtype}_bs{bs}")
            def _(dtype=dtype, bs=bs):
                answers, seconds = engine_answers(model_dir, dtype, DEVICE, bs)
                r = {"items_per_s": round(len(answers) / seconds, 1), "gen_s": round(seconds, 2)}
                if expected:
                    same = sum(a == b for a, b in zip(answers, expected, strict=False))
                    r["same_as_cpu_fp32"] = f"{same}/{len(expected)}"
                return r

    curated = work / "curated"

    @step("curate_probe")
    def _():
        # probe=slick (465 rows x 10 prompts x 17 sequences) ran past 150 s on an H100
        probe = "probe=quick"
        return stage(["-m", "curation", f"input={FACTS}", f"out={curated}", probe,
                      "probe.batch_size=256", "select=known_first", "budget=120",
                      "dedup.semantic=false",  # MiniLM is not on the device machine
                      f"model.path={model_dir}"], curated)

    run_dir = work / "lora-curated"

    @step("train_lora_on_curated")
    def _():
        return stage(["-m", "training", f"data={curated}", f"out={run_dir}", "method=lora",
                      f"model.path={model_dir}", "trainer.num_train_epochs=3"], run_dir)

    @step("evaluate_closed_book")
    def _():
        r = stage(["-m", "evaluation", f"model.path={run_dir}", f"out={work / 'eval'}"],
                  work / "eval")
        r["results"] = _read_eval(work / "eval")
        return r


def stage(args: list[str], out: Path, timeout: int = 150) -> dict:
    t = time.perf_counter()
    extra = ["model.device=cpu"] if SMOKE else []
    p = subprocess.run([sys.executable, *args, "show_progress=false", *extra], cwd=REPO,
                       capture_output=True, text=True, timeout=timeout)
    result = {"cmd": " ".join(args), "rc": p.returncode, "s": round(time.perf_counter() - t, 1)}
    if p.returncode:
        raise RuntimeError(json.dumps({**result, "tail": (p.stdout + p.stderr)[-2500:]}))
    manifest = out / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        result["manifest_keys"] = sorted(m)[:30]
        for key in ("rows", "counts", "categories", "metrics", "tokens"):
            if key in m:
                result[key] = m[key]
    return result


def _read_eval(out: Path) -> dict:
    found = {}
    for path in sorted(out.rglob("results.json"))[:4]:
        data = json.loads(path.read_text())
        found[str(path.relative_to(out))] = {k: data[k] for k in ("metrics",) if k in data}
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("train", "probe", "all", "expected"), required=True)
    ap.add_argument("--gguf", type=Path, help="the SmolLM2 GGUF (part probe)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gpu-check"))
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    ap.add_argument("--smoke", action="store_true", help="toy sizes on CPU (checks the script)")
    args = ap.parse_args()
    global SMOKE, N_ITEMS, DEVICE, OUT_PATH
    OUT_PATH = str(args.out) if args.out else None
    if args.smoke:
        SMOKE, N_ITEMS, DEVICE = True, 8, "cpu"
    args.work.mkdir(parents=True, exist_ok=True)
    RESULTS.update(part=args.part, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   command=" ".join(sys.argv))
    if args.part == "train":
        part_train(args.work)
        part_extras(args.work)
    elif args.part == "probe":
        part_probe(args.work, args.gguf)
    elif args.part == "all":  # one call: training, then probing/eval on the random model
        part_train(args.work)
        part_probe(args.work, None)
    else:
        part_expected()
    text = json.dumps(RESULTS, indent=1, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
