"""The training stage's speed and memory on CPU (issue 4): lessmore's loop against a bare TRL
script, LoRA against full fine-tuning, packing on and off.

Every run is a fresh subprocess with the same pinned threads (``OMP_NUM_THREADS``,
``torch.set_num_threads``) on the embedded SmolLM2-135M in float32, LoRA r=16 all-linear as in
``conf/peft/lora.yaml``, batch 4, ``max_length`` 256, seed 0:

- ``overhead``: ``training.run.run(cfg)`` (the whole stage: reading, ``over_length``, pre-flight
  checks, callbacks, saving, manifest, card, plots) against a bare ``SFTTrainer`` script with the
  same model folder, rows (the sample chats lessmore's reader accepts), ``SFTConfig`` and
  ``LoraConfig``, written as a user would write it (only lessmore's training template is
  imported). ``--repeats`` pairs, alternating which side goes first. Per-step time is the
  Trainer's own: ``train_runtime / global_step`` (the training loop from ``on_train_begin`` to
  the last step; model load and dataset preparation are timed apart, in ``phases_s``). Beside it:
  the median step interval (first step left out), the process CPU time per step (with one
  thread, the step's work whatever else runs on the machine) and the time spent in callback
  events. The two ``SFTConfig``s are compared field by field (``args_differences``) and the
  final losses must be equal.
- ``methods``: LoRA (the overhead runs' lessmore side) and full fine-tuning through the stage:
  tokens/s (non-padding tokens seen / ``train_runtime``) and the process's peak RSS
  (``ru_maxrss``).
- ``packing``: the stage with LoRA on a mixed-length set (the sample chats and the QA facts,
  17-157 tokens, shuffled): packing off, on (``bfd``, padding-free) and on with one packed row
  per step; tokens/s, steps per epoch, and the share of computed positions that are padding over
  one epoch of the Trainer's own dataloader.

The machine may be shared: ``other_cores_during`` is the CPU other processes used during each
run (see ``bench_probe.py``), and ``--wait-quiet S`` waits up to S s for them to leave the run's
cores free. About 10 minutes with the defaults on a quiet 2-core machine.

    . .venv/bin/activate
    python benchmarks/bench_train.py --wait-quiet 120 --json-out /tmp/bench_train.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from machine import Contention, wait_quiet  # noqa: E402  (same folder)

CHATS = REPO / "data" / "chats" / "chats.jsonl"
FACTS = REPO / "data" / "qa" / "facts.jsonl"
# lessmore's conf/trainer/default.yaml and conf/peft/lora.yaml, written out as a bare script
# would; the stage's args are compared with these field by field after each pair of runs
BARE_SFT_ARGS = dict(num_train_epochs=3, gradient_accumulation_steps=1, lr_scheduler_type="cosine",
                     warmup_steps=0.03, weight_decay=0.0, max_grad_norm=1.0, optim="adamw_torch",
                     bf16=False, activation_checkpointing=False, shuffle_dataset=False,
                     logging_steps=5, logging_first_step=True, save_strategy="no",
                     report_to="none", dataloader_num_workers=0, assistant_only_loss=True,
                     eos_token="<|im_end|>", use_cpu=True, disable_tqdm=True,
                     include_num_input_tokens_seen="non_padding")
BARE_LORA_ARGS = dict(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear",
                      bias="none", task_type="CAUSAL_LM")
LEARNING_RATES = {"lora": 2e-4, "full": 2e-5}
# SFTConfig fields that name paths or the process, not the training
UNCOMPARED_ARGS = {"output_dir", "logging_dir"}


# ------------------------------------------------------------------ workloads


def write_workloads(root: Path, seed: int) -> dict[str, Path]:
    """``chats.jsonl`` (the sample chats lessmore's reader accepts) and ``mixed.jsonl`` (those
    chats and the QA facts, shuffled): messages only, so both sides read the same rows."""
    from curation.core.readers import read_records

    chats = [r["messages"] for r in read_records(str(CHATS)).records]
    facts = [r["messages"] for r in read_records(str(FACTS)).records]
    mixed = chats + facts
    random.Random(seed).shuffle(mixed)
    paths = {"chats": root / "chats.jsonl", "mixed": root / "mixed.jsonl"}
    for name, rows in (("chats", chats), ("mixed", mixed)):
        paths[name].write_text("".join(json.dumps({"messages": m}) + "\n" for m in rows))
    return paths


# ------------------------------------------------------------------ worker (one subprocess)


def _step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall and process CPU time at the start of training and at the end of every step (CPU
        time shrugs off other processes on the machine: with one thread it is the step's work)."""

        def __init__(self):
            self.times: list[float] = []
            self.cpu: list[float] = []

        def on_train_begin(self, args, state, control, **kwargs):
            self.times, self.cpu = [time.perf_counter()], [time.process_time()]
            # the peak so far: loading, preparing, wrapping; training's own comes on top
            self.rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter())
            self.cpu.append(time.process_time())

    return StepTimer()


class Phases:
    """Accumulated wall time per named phase of a run."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def time(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            with self.time(name):
                return fn(*args, **kwargs)
        return timed


def time_callbacks(trainer, phases: Phases) -> None:
    """Every callback event (each callback's on_step_end, on_log, ...) timed as ``callbacks``:
    what callbacks add to the loop, lessmore's and the Trainer's own alike."""
    call_event = trainer.callback_handler.call_event

    def timed(event, *args, **kwargs):
        with phases.time("callbacks"):
            return call_event(event, *args, **kwargs)

    trainer.callback_handler.call_event = timed


def run_lessmore(spec: dict, phases: Phases, timer) -> tuple[object, dict]:
    """The stage as ``python -m training`` runs it, its steps timed by wrapping the functions
    ``training.run`` calls (the wrappers add a call and two clock reads each, once per run)."""
    import training.config  # noqa: F401  (registers the schema)
    import training.run as stage
    from curation.core.config import compose_config

    trainers, real_build = [], stage.build_trainer

    def build_trainer(*args, **kwargs):
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), timer]  # last: after lessmore's
        trainer = real_build(*args, **kwargs)
        trainer.train = phases.wrap("train", trainer.train)
        time_callbacks(trainer, phases)
        trainers.append(trainer)
        return trainer

    for name in ("load_train_dataset", "load_model_for_training", "apply_over_length_to_sets",
                 "build_callbacks", "run_preflight_checks", "select_resume_checkpoint",
                 "save_weights", "write_run_outputs", "write_manifest", "write_model_card"):
        setattr(stage, name, phases.wrap(name, getattr(stage, name)))
    stage.build_trainer = phases.wrap("build_trainer", build_trainer)
    cfg = compose_config("train", [
        f"data={spec['data']}", f"out={spec['out']}", f"model.path={spec['model']}",
        "model.device=cpu", "model.dtype=float32", f"method={spec['method']}",
        f"seed={spec['seed']}", f"max_length={spec['max_length']}", "show_progress=false",
        f"trainer.per_device_train_batch_size={spec['batch']}",
        f"+trainer.max_steps={spec['max_steps']}", f"trainer.packing={spec['packing']}",
        "+trainer.include_num_input_tokens_seen=non_padding"])
    with phases.time("stage_run"):
        manifest = stage.run(cfg)
    return trainers[0], {"rows": manifest["rows"], "final_loss": manifest["metrics"]["final_loss"]}


def run_bare(spec: dict, phases: Phases, timer) -> tuple[object, dict]:
    """A bare TRL script: load, set the training template, build ``SFTTrainer``, train, save."""
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from curation.core.chat import CHATML_TRAINING_TEMPLATE

    with phases.time("load_model"):
        model = AutoModelForCausalLM.from_pretrained(spec["model"], dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(spec["model"])
    tokenizer.chat_template = CHATML_TRAINING_TEMPLATE
    tokenizer.pad_token = "<|endoftext|>"  # SmolLM2 pads with its EOS; pad apart from it
    with phases.time("load_dataset"):
        dataset = load_dataset("json", data_files=spec["data"], split="train")
    args = SFTConfig(output_dir=str(Path(spec["out"]) / "checkpoints"), seed=spec["seed"],
                     max_length=spec["max_length"], max_steps=spec["max_steps"],
                     per_device_train_batch_size=spec["batch"], packing=spec["packing"],
                     learning_rate=LEARNING_RATES[spec["method"]], **BARE_SFT_ARGS)
    peft_config = LoraConfig(**BARE_LORA_ARGS) if spec["method"] == "lora" else None
    with phases.time("build_trainer"):
        trainer = SFTTrainer(model=model, args=args, train_dataset=dataset,
                             processing_class=tokenizer, peft_config=peft_config,
                             callbacks=[timer])
    time_callbacks(trainer, phases)
    with phases.time("train"):
        output = trainer.train()
    with phases.time("save_model"):
        trainer.save_model(spec["out"])
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return trainer, {"rows": {"trained": len(trainer.train_dataset)},
                     "final_loss": losses[-1] if losses else None,
                     "mean_loss": output.training_loss}


def count_padding(trainer) -> dict:
    """Steps and padding over one epoch of the Trainer's own dataloader (collation only)."""
    positions = real = steps = 0
    for batch in trainer.get_train_dataloader():
        steps += 1
        positions += batch["input_ids"].numel()
        mask = batch.get("attention_mask")
        real += int(mask.sum()) if mask is not None else batch["input_ids"].numel()
    return {"steps_per_epoch": steps, "positions_per_epoch": positions,
            "real_tokens_per_epoch": real,
            "padding_share": round(1 - real / positions, 4) if positions else None}


def profile_train(report: dict) -> None:
    """``--profile``: cProfile and the garbage collector's time around ``Trainer.train`` (both
    sides call it), into ``report`` when training ends. Profiling slows the run: compare its
    call counts and shares of time, not its timings."""
    import cProfile
    import gc
    import pstats

    from transformers import Trainer

    profiler, gc_s, started, real_train = cProfile.Profile(), [0.0], [0.0], Trainer.train

    def on_gc(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            gc_s[0] += time.perf_counter() - started[0]

    def train(self, *args, **kwargs):
        gc.callbacks.append(on_gc)
        profiler.enable()
        try:
            return real_train(self, *args, **kwargs)
        finally:
            profiler.disable()
            gc.callbacks.remove(on_gc)
            stats = pstats.Stats(profiler)
            top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]  # by own time
            report.update(function_calls=stats.total_calls, gc_s=gc_s[0], top_own_time_s={
                f"{Path(f).name}:{line}({name})": round(v[2], 3)
                for (f, line, name), v in top})

    Trainer.train = train


def worker(spec_path: str) -> None:
    """Subprocess body: one run of one side; writes its measurements next to the spec."""
    spec = json.loads(Path(spec_path).read_text())
    import torch

    torch.set_num_threads(spec["threads"])
    phases, timer, profile = Phases(), _step_timer(), {}
    if spec.get("profile"):
        profile_train(profile)
    run = run_lessmore if spec["side"] == "lessmore" else run_bare
    trainer, result = run(spec, phases, timer)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # the run's closing metrics (logging steps also carry a running train_runtime: tokens seen)
    train = next(e for e in trainer.state.log_history if "train_loss" in e)
    steps = trainer.state.global_step
    intervals = [b - a for a, b in zip(timer.times, timer.times[1:], strict=False)]
    result.update(
        side=spec["side"], method=spec["method"], packing=spec["packing"],
        phases_s={k: round(v, 3) for k, v in phases.seconds.items()},
        train_runtime_s=train["train_runtime"], steps=steps,
        s_per_step=train["train_runtime"] / steps,
        median_step_s=statistics.median(intervals[1:]) if len(intervals) > 1 else None,
        first_step_s=intervals[0] if intervals else None,
        cpu_s_per_step=(timer.cpu[-1] - timer.cpu[0]) / steps,
        callbacks_ms_per_step=1000 * phases.seconds.get("callbacks", 0.0) / steps,
        tokens_seen=trainer.state.num_input_tokens_seen,
        tokens_per_s=trainer.state.num_input_tokens_seen / train["train_runtime"],
        peak_rss_mb=rss_kb / 1024, peak_rss_before_train_mb=timer.rss_before_kb / 1024,
        threads=torch.get_num_threads(),
        callbacks=[type(c).__name__ for c in trainer.callback_handler.callbacks],
        args={k: v for k, v in trainer.args.to_dict().items() if k not in UNCOMPARED_ARGS})
    if spec.get("count_padding"):
        result.update(count_padding(trainer))
    if profile:
        result["profile"] = {**profile, "function_calls_per_step": profile["function_calls"] / steps}
    Path(spec["result"]).write_text(json.dumps(result, default=str))


# ------------------------------------------------------------------ parent


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    return env


def run_worker(args, root: Path, name: str, **spec) -> dict:
    """One subprocess run after an optional quiet wait, with the contention measured."""
    spec.update(model=args.model_dir, threads=args.threads, seed=args.seed,
                out=str(root / name), result=str(root / f"{name}.json"))
    spec_path = root / f"{name}.spec.json"
    spec_path.write_text(json.dumps(spec))
    # quiet enough: the other processes leave this run's threads a core each
    threshold = max(0.15, (os.cpu_count() or 1) - args.threads - 0.15)
    waited = time.perf_counter()
    quiet = wait_quiet(args.wait_quiet, threshold) if args.wait_quiet else None
    waited = time.perf_counter() - waited
    load = os.getloadavg()[0]
    t = time.perf_counter()
    with Contention() as c:
        proc = subprocess.run([sys.executable, __file__, "--_worker", str(spec_path)],
                              env=child_env(args.threads), capture_output=True, text=True)
    (root / f"{name}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        sys.exit(f"{name} failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    result = json.loads(Path(spec["result"]).read_text())
    result.update(run=name, wall_s=time.perf_counter() - t, waited_s=waited,
                  loadavg_1m_before=load,
                  other_cores_before=quiet, other_cores_during=round(c.other_cores, 3))
    print(f"# {name}: {result['s_per_step']:.3f} s/step, {result['tokens_per_s']:.0f} tok/s, "
          f"other cores {c.other_cores:.2f}", file=sys.stderr)
    return result


def compare_args(a: dict, b: dict) -> dict:
    """SFTConfig fields whose values differ between two runs (both as ``to_dict`` gives them)."""
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def bench_overhead(args, root: Path, data: Path) -> dict:
    """``--repeats`` pairs of (lessmore, bare), alternating which goes first."""
    common = dict(data=str(data), method="lora", max_length=args.max_length, batch=args.batch,
                  max_steps=args.steps, packing=False, profile=args.profile)
    pairs = []
    for r in range(args.repeats):
        order = ("lessmore", "bare") if r % 2 == 0 else ("bare", "lessmore")
        runs = {side: run_worker(args, root, f"overhead_{side}_{r}", side=side, **common)
                for side in order}
        pairs.append(runs)
    differences = [compare_args(p["lessmore"].pop("args"), p["bare"].pop("args")) for p in pairs]
    ratios = [p["lessmore"]["s_per_step"] / p["bare"]["s_per_step"] for p in pairs]
    median_ratios = [p["lessmore"]["median_step_s"] / p["bare"]["median_step_s"] for p in pairs]
    cpu_ratios = [p["lessmore"]["cpu_s_per_step"] / p["bare"]["cpu_s_per_step"] for p in pairs]
    first = pairs[0]
    return {"settings": common,
            "sides": {side: _summarise([p[side] for p in pairs]) for side in ("lessmore", "bare")},
            "pairs": pairs,
            "ratio_s_per_step": [round(x, 4) for x in ratios],
            "ratio_median_step": [round(x, 4) for x in median_ratios],
            "ratio_cpu_per_step": [round(x, 4) for x in cpu_ratios],
            "ratio_s_per_step_median": round(statistics.median(ratios), 4),
            "ratio_median_step_median": round(statistics.median(median_ratios), 4),
            "ratio_cpu_per_step_median": round(statistics.median(cpu_ratios), 4),
            "target_ratio": 1.05,
            "pass": statistics.median(ratios) <= 1.05,
            "args_differences": differences[0] if all(d == differences[0] for d in differences)
            else differences,
            "callbacks": {s: first[s]["callbacks"] for s in ("lessmore", "bare")}}


def bench_methods(args, root: Path, data: Path, lora_runs: list[dict]) -> dict:
    """Full fine-tuning through the stage, next to the LoRA runs the overhead pairs made."""
    full = [run_worker(args, root, f"full_{r}", side="lessmore", data=str(data), method="full",
                       max_length=args.max_length, batch=args.batch, max_steps=args.steps,
                       packing=False) for r in range(args.full_repeats)]
    return {method: _summarise(runs) for method, runs in (("lora", lora_runs), ("full", full))}


def bench_packing(args, root: Path, data: Path) -> dict:
    """The stage with LoRA on the mixed-length set: packing off, on (``bfd``, padding-free: a
    step's rows are flattened into one sequence), and on with one packed row per step (the
    flattened sequence of ``--batch`` packed rows is attended as one, see RESULTS.md)."""
    variants = {"off": (False, args.batch), "on": (True, args.batch), "on_batch1": (True, 1)}
    out = {}
    for name, (packing, batch) in variants.items():
        runs = [run_worker(args, root, f"packing_{name}_{r}", side="lessmore", data=str(data),
                           method="lora", max_length=args.max_length, batch=batch,
                           max_steps=args.packing_steps, packing=packing, count_padding=True)
                for r in range(args.packing_repeats)]
        out[name] = {"packing": packing, "batch": batch, **_summarise(runs)}
    return out


def _summarise(runs: list[dict]) -> dict:
    keys = ("tokens_per_s", "s_per_step", "median_step_s", "cpu_s_per_step",
            "callbacks_ms_per_step", "peak_rss_mb", "peak_rss_before_train_mb",
            "other_cores_during", "wall_s",
            "steps_per_epoch", "padding_share", "real_tokens_per_epoch", "positions_per_epoch")
    summary = {k: [round(r[k], 4) for r in runs] for k in keys if k in runs[0]}
    summary["runs"] = [r["run"] for r in runs]
    return summary


def machine_info(threads: int) -> dict:
    import peft
    import torch
    import transformers
    import trl

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "trl": trl.__version__,
            "peft": peft.__version__, "threads": threads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1,
                    help="torch/OpenMP threads of every run (1: on a shared 2-core machine a "
                         "second thread waits on other processes; CPU time per step stays exact)")
    ap.add_argument("--model", default="embedded:smollm2")
    ap.add_argument("--steps", type=int, default=10, help="max_steps of the overhead and "
                    "LoRA/full runs")
    ap.add_argument("--packing-steps", type=int, default=6, help="max_steps of the packing runs "
                    "(a packed step holds several times the tokens)")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="(lessmore, bare) pairs")
    ap.add_argument("--full-repeats", type=int, default=1)
    ap.add_argument("--packing-repeats", type=int, default=1)
    ap.add_argument("--parts", default="overhead,methods,packing")
    ap.add_argument("--profile", action="store_true",
                    help="overhead runs under cProfile: Python calls per step, gc time, the "
                         "functions with most own time (slower: compare counts, not timings)")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="before each run, wait up to this long for the other processes on the "
                         "machine to leave the run's cores free (other processes under "
                         "cores - threads - 0.15 cores, at least 0.15, over 3 s)")
    ap.add_argument("--workdir", help="keep rows, runs and logs here (default: a temp folder)")
    ap.add_argument("--json-out", help="also write the JSON here")
    ap.add_argument("--_worker", dest="worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from curation.core.models import resolve_model_path

    args.model_dir = resolve_model_path(args.model)
    parts = args.parts.split(",")
    started = time.perf_counter()
    ctx = (contextlib.nullcontext(args.workdir) if args.workdir
           else tempfile.TemporaryDirectory(prefix="bench_train_"))
    with ctx as tmp:
        root = Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        data = write_workloads(root, args.seed)
        out: dict = {"date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                     "machine": machine_info(args.threads), "command": sys.argv,
                     "model": args.model, "model_dir": args.model_dir}
        if "overhead" in parts or "methods" in parts:
            out["overhead"] = bench_overhead(args, root, data["chats"])
        if "methods" in parts:
            lora = [p["lessmore"] for p in out["overhead"]["pairs"]]
            out["methods"] = bench_methods(args, root, data["chats"], lora)
        if "packing" in parts:
            out["packing"] = bench_packing(args, root, data["mixed"])
    out["total_wall_s"] = round(time.perf_counter() - started, 1)
    text = json.dumps(out, indent=1, default=str)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
