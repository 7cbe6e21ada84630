"""Probing engine vs lm-evaluation-harness on the same SliCK-style closed-book QA prompts.

Workload: ``--items`` QA rows of ``data/qa/facts.jsonl`` (splits ``pool`` + ``heldout``, taken
round-robin over the groups), each asked with a 4-shot prompt whose exemplars are the row's own
group's ``exemplar`` split (lessmore's ``build_qa_prompt`` format; SliCK, DESIGN §3.1). Greedy,
stop at the first newline, ``--max-gen-toks`` tokens at most.

Both sides run as subprocesses with the same thread count, one after the other (alternating
order over ``--repeats``), on the same float32 model folder:

- lm-eval: the real ``lm-eval run`` CLI (``--model hf ... --batch_size 8 --device cpu``) on a
  local task per group (``generate_until``, 4-shot, ``first_n`` sampler on that group's
  exemplars; YAML + jsonl written to a temp dir), started from a tiny driver that only adds
  timers (model load = ``HFLM.__init__``; the request loop = ``HFLM.generate_until``; prefill =
  the first model forward of each ``generate`` call).
- lessmore: ``GenerationEngine.generate`` after ``load_model``; ``GenerationEngine._prefill``
  and ``_forward`` are wrapped with timers.

Items/s exclude model load on both sides: ``e2e`` = (process wall - interpreter/package import
- model load), i.e. prompt/data building, generation, answer extraction, scoring and writing
results; ``gen`` = the generation call alone. Prompts are compared byte for byte with lm-eval's
``--log_samples`` ``arguments``; completions and extracted answers item by item, and every
disagreement gets the top-two logit margin at its first diverging step from a batch-1 forward
pass (DESIGN §5: a flip with a margin well under 1e-3 is a near-tie, anything else a bug).

Also: the machine's fp32 matmul FLOP/s (``torch.mm`` 2048x2048, same threads, best of several)
and the engine's achieved prefill FLOP/s (2 x linear params x prefilled tokens + attention
score/value FLOPs + the LM-head rows kept), and the prefill tokens each side computes.

    . .venv/bin/activate
    python benchmarks/bench_probe.py --lmeval /work/.venv-lmeval/bin/lm-eval --items 200
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

T_PROCESS = time.perf_counter()
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from machine import (  # noqa: E402  (this folder)
    Contention,
    cpu_model,
    lmeval_python,
    lmeval_version,
    matmul_peak,
    wait_quiet,
)

FACTS = REPO / "data" / "qa" / "facts.jsonl"
TAG = "lessmore_slick_cbqa"
STOP = ["\n"]
K_SHOTS = 4
# Must equal lessmore's curation.core.chat.QA_PROMPT_PREFIX / format_qa_shot (checked at run time).
DESCRIPTION = "Answer each question with a short answer.\n\n"
NEAR_TIE = 1e-3


# ------------------------------------------------------------------ workload


def build_workload(n_items: int) -> dict:
    """Items (round-robin over groups, pool + heldout) and each group's k exemplars."""
    rows = [json.loads(line) for line in FACTS.read_text().splitlines() if line.strip()]
    by_group: dict[str, list[dict]] = defaultdict(list)
    shots: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        (shots if r["split"] == "exemplar" else by_group)[r["group"]].append(r)
    groups = sorted(g for g in by_group if len(shots[g]) >= K_SHOTS)
    items: list[dict] = []
    for k in range(max(len(v) for v in by_group.values())):
        items += [by_group[g][k] for g in groups if k < len(by_group[g])]
    items = items[:n_items]
    used = sorted({r["group"] for r in items})
    return {"items": items, "exemplars": {g: shots[g][:K_SHOTS] for g in used}}


def lessmore_prompts(work: dict) -> list[str]:
    from curation.core.chat import build_qa_prompt

    return [build_qa_prompt(r["question"], [(e["question"], e["answers"][0])
                                            for e in work["exemplars"][r["group"]]])
            for r in work["items"]]


def _q(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def write_lmeval_tasks(work: dict, root: Path, max_gen_toks: int) -> list[str]:
    """One generate_until task per group (its exemplars = the few-shot split), tagged TAG."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "tasks").mkdir(parents=True, exist_ok=True)
    names = []
    for group, shots in work["exemplars"].items():
        name = f"lessmore_slick_{group}"
        test = [r for r in work["items"] if r["group"] == group]
        for split, rows in (("train", shots), ("test", test)):
            with open(root / "data" / f"{group}_{split}.jsonl", "w") as f:
                for r in rows:
                    f.write(json.dumps({k: r[k] for k in ("id", "question", "answers", "group")})
                            + "\n")
        (root / "tasks" / f"{name}.yaml").write_text(f"""\
# SliCK-style 4-shot closed-book QA, one group (modelled on shared/peer/tasks/peer_cbqa_gen.yaml)
task: {name}
tag: {TAG}
dataset_path: json
dataset_kwargs:
  data_files:
    train: {_q(str(root / 'data' / f'{group}_train.jsonl'))}
    test: {_q(str(root / 'data' / f'{group}_test.jsonl'))}
output_type: generate_until
training_split: train
fewshot_split: train
test_split: test
num_fewshot: {K_SHOTS}
fewshot_config:
  sampler: first_n
description: {_q(DESCRIPTION)}
doc_to_text: "Q: {{{{question}}}}\\nA:"
doc_to_target: "{{{{answers}}}}"
target_delimiter: " "
fewshot_delimiter: "\\n\\n"
generation_kwargs:
  until: {json.dumps(STOP)}
  do_sample: false
  temperature: 0.0
  max_gen_toks: {max_gen_toks}
filter_list:
  - name: remove_whitespace
    filter:
      - function: remove_whitespace
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
    regexes_to_ignore:
      - "\\\\b(?:The |the |An |A |The |a |an )"
metadata:
  version: 1.0
""")
        names.append(name)
    return names


# lm-eval side: the real CLI, plus timers. Runs under lm-eval's own interpreter.
LMEVAL_DRIVER = r'''
import json, os, sys, time
T0 = time.perf_counter()
S = dict(load_s=0.0, generate_until_s=0.0, prefill_s=0.0, prefill_calls=0, prefill_real_tokens=0,
         prefill_padded_tokens=0, prefill_attn_pairs=0, forward_s=0.0, forward_calls=0,
         generate_calls=0, rows_decoded=0)
import torch
torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
import lm_eval.models.huggingface as hf
from lm_eval.__main__ import cli_evaluate

_init, _gen_until, _gen = hf.HFLM.__init__, hf.HFLM.generate_until, hf.HFLM._model_generate
FLAG = {"prefill": False}

def init(self, *a, **k):
    t = time.perf_counter()
    _init(self, *a, **k)
    S["load_s"] += time.perf_counter() - t
    model = self.model
    fwd = model.forward
    def forward(*fa, **fk):
        t = time.perf_counter()
        out = fwd(*fa, **fk)
        dt = time.perf_counter() - t
        S["forward_s"] += dt; S["forward_calls"] += 1
        if FLAG["prefill"]:
            FLAG["prefill"] = False
            ids, mask = fk.get("input_ids"), fk.get("attention_mask")
            real = mask[:, -ids.shape[1]:].sum(1)
            S["prefill_s"] += dt; S["prefill_calls"] += 1
            S["prefill_real_tokens"] += int(real.sum()); S["prefill_padded_tokens"] += ids.numel()
            S["prefill_attn_pairs"] += int((real * (real + 1) // 2).sum())
        return out
    model.forward = forward

def gen_until(self, *a, **k):
    t = time.perf_counter()
    try:
        return _gen_until(self, *a, **k)
    finally:
        S["generate_until_s"] += time.perf_counter() - t

def model_generate(self, context, *a, **k):
    FLAG["prefill"] = True
    S["generate_calls"] += 1; S["rows_decoded"] += int(context.shape[0])
    return _gen(self, context, *a, **k)

hf.HFLM.__init__, hf.HFLM.generate_until, hf.HFLM._model_generate = init, gen_until, model_generate
S["import_s"] = time.perf_counter() - T0
out = sys.argv.pop(1)
sys.argv[0] = "lm-eval"
t = time.perf_counter()
try:
    cli_evaluate()
finally:
    S["cli_s"] = time.perf_counter() - t
    S["process_s"] = time.perf_counter() - T0
    S["threads"] = torch.get_num_threads()
    with open(out, "w") as f:
        json.dump(S, f)
'''


def child_env(threads: int, root: Path) -> dict:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), BENCH_THREADS=str(threads),
               HF_DATASETS_CACHE=str(root / "hf_datasets_cache"))
    return env


def run_lmeval(args, model_dir: str, root: Path, run: int) -> dict:
    driver = root / "lmeval_driver.py"
    driver.write_text(LMEVAL_DRIVER)
    out_dir = root / f"lmeval_out_{run}"
    stats_file = root / f"lmeval_stats_{run}.json"
    cmd = [lmeval_python(args.lmeval), str(driver), str(stats_file), "run", "--model", "hf",
           "--model_args", f"pretrained={model_dir},dtype=float32", "--device", "cpu",
           "--batch_size", str(args.lmeval_batch_size), "--include_path", str(root / "tasks"),
           "--tasks", TAG, "--output_path", str(out_dir), "--log_samples"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=child_env(args.threads, root), capture_output=True, text=True)
    wall = time.perf_counter() - t
    (root / f"lmeval_{run}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        sys.exit(f"lm-eval failed ({proc.returncode}); log: {root / f'lmeval_{run}.log'}\n"
                 + (proc.stdout + proc.stderr)[-3000:])
    stats = json.loads(stats_file.read_text())
    stats["wall_s"] = wall
    samples = {}
    for path in glob.glob(str(out_dir / "**" / "samples_*.jsonl"), recursive=True):
        for line in open(path):
            s = json.loads(line)
            samples[s["doc"]["id"]] = {
                "prompt": s["arguments"]["gen_args_0"]["arg_0"],
                "gen_kwargs": s["arguments"]["gen_args_0"]["arg_1"],
                "completion": s["resps"][0][0], "filtered": s["filtered_resps"][0],
                "exact_match": s.get("exact_match")}
    stats["samples"] = samples
    return stats


# ------------------------------------------------------------------ lessmore side


def engine_worker(root: Path) -> None:
    """Subprocess body: load, then probe the workload with GenerationEngine, timing each part."""
    cfg = json.loads((root / "engine_cfg.json").read_text())
    import torch

    torch.set_num_threads(cfg["threads"])
    from curation.core.answers import compute_exact_match, extract_short_answer
    from curation.core.engine import DecodeSettings, GenerationEngine
    from curation.core.models import ModelConfig, load_model

    S = dict(import_s=time.perf_counter() - T_PROCESS, prefill_s=0.0, prefill_calls=0,
             prefill_forwards=0, prefill_real_tokens=0, prefill_padded_tokens=0,
             prefill_attn_pairs=0, prefill_kept_rows=0, forward_s=0.0, forward_calls=0,
             decode_rows=0, prefill_batch_rows=[])
    t = time.perf_counter()
    model, tok = load_model(ModelConfig(path=cfg["model_dir"], dtype="float32", device="cpu"))
    S["load_s"] = time.perf_counter() - t

    flag = {"prefill": False}
    fwd, prefill = GenerationEngine._forward, GenerationEngine._prefill

    def timed_forward(self, input_ids, mask, positions, cache=None, *, keep=0):
        t = time.perf_counter()
        out = fwd(self, input_ids, mask, positions, cache, keep=keep)
        dt = time.perf_counter() - t
        S["forward_s"] += dt
        S["forward_calls"] += 1
        if flag["prefill"]:
            real = mask[:, -input_ids.shape[1]:].bool()
            S["prefill_forwards"] += 1
            S["prefill_real_tokens"] += int(real.sum())
            S["prefill_padded_tokens"] += input_ids.numel()
            S["prefill_attn_pairs"] += int((positions + 1)[real].sum())
            S["prefill_kept_rows"] += input_ids.shape[0] * max(1, keep)
        else:
            S["decode_rows"] += input_ids.shape[0]
        return out

    def timed_prefill(self, plan, rows, kv, **kwargs):
        flag["prefill"] = True
        t = time.perf_counter()
        try:
            return prefill(self, plan, rows, kv, **kwargs)
        finally:
            S["prefill_s"] += time.perf_counter() - t
            S["prefill_calls"] += 1
            S["prefill_batch_rows"].append(len(rows))
            flag["prefill"] = False

    GenerationEngine._forward, GenerationEngine._prefill = timed_forward, timed_prefill

    t_start = time.perf_counter()
    work = json.loads((root / "workload.json").read_text())
    prompts = lessmore_prompts(work)
    engine = GenerationEngine(model, tok, batch_size=cfg["batch_size"], show_progress=False)
    t = time.perf_counter()
    outs = engine.generate(prompts, DecodeSettings(max_new_tokens=cfg["max_gen_toks"],
                                                   stop=list(STOP)))
    S["generate_s"] = time.perf_counter() - t
    results = {}
    for r, p, o in zip(work["items"], prompts, outs, strict=True):
        answer = extract_short_answer(o[0])
        results[r["id"]] = {"prompt": p, "completion": o[0], "answer": answer,
                            "exact_match": compute_exact_match(answer, r["answers"])}
    (root / f"engine_results_{cfg['run']}.json").write_text(json.dumps(results))
    S["e2e_s"] = time.perf_counter() - t_start
    S["process_s"] = time.perf_counter() - T_PROCESS
    S["threads"] = torch.get_num_threads()
    lin = [m.weight.numel() for name, m in model.named_modules()
           if isinstance(m, torch.nn.Linear) and "lm_head" not in name]
    c = model.config
    S["model"] = dict(linear_params=sum(lin), layers=c.num_hidden_layers,
                      attn_width=c.num_attention_heads * (getattr(c, "head_dim", None)
                                                          or c.hidden_size // c.num_attention_heads),
                      hidden=c.hidden_size, vocab=c.vocab_size,
                      params=sum(p.numel() for p in model.parameters()))
    (root / f"engine_stats_{cfg['run']}.json").write_text(json.dumps(S))


def run_engine(args, model_dir: str, root: Path, run: int) -> dict:
    (root / "engine_cfg.json").write_text(json.dumps(dict(
        model_dir=model_dir, threads=args.threads, batch_size=args.engine_batch_size,
        max_gen_toks=args.max_gen_toks, run=run)))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--_engine-worker", str(root)],
                          env=child_env(args.threads, root), capture_output=True, text=True)
    wall = time.perf_counter() - t
    (root / f"engine_{run}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        sys.exit(f"engine worker failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    stats = json.loads((root / f"engine_stats_{run}.json").read_text())
    stats["wall_s"] = wall
    stats["samples"] = json.loads((root / f"engine_results_{run}.json").read_text())
    return stats


# ------------------------------------------------------------------ measurements


def prefill_flops(s: dict, m: dict) -> dict:
    """Useful FLOPs of the prefill forwards: linear layers on real tokens, attention over the
    causal keys each real token sees, and the LM-head rows kept; padded = as computed."""
    per_tok = 2 * m["linear_params"]
    attn = 4 * m["attn_width"] * m["layers"]  # QK^T and AV, per (query, key) pair
    head = 2 * m["vocab"] * m["hidden"]
    useful = per_tok * s["prefill_real_tokens"] + attn * s["prefill_attn_pairs"] \
        + head * s.get("prefill_kept_rows", s.get("prefill_calls", 0))
    padded = useful + per_tok * (s["prefill_padded_tokens"] - s["prefill_real_tokens"])
    return {"useful": useful, "padded": padded}


def margin_analysis(model_dir: str, work: dict, prompts: list[str], diffs: list[str],
                    eng: dict, lme: dict, max_gen_toks: int, threads: int) -> list[dict]:
    """Batch-1 greedy reference with no padding or cache reuse; the top-two logit gap at the
    first step where each side's completion departs from it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from curation.core.engine.decoding import cut_at_stop

    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    eos = {tok.eos_token_id, model.generation_config.eos_token_id} - {None}
    by_id = {r["id"]: (r, p) for r, p in zip(work["items"], prompts, strict=True)}
    report = []
    for item_id in diffs:
        _, prompt = by_id[item_id]
        ids = tok.encode(prompt, add_special_tokens=False)
        steps = []  # (token, margin, top2 tokens, text so far)
        out: list[int] = []
        with torch.inference_mode():
            for _ in range(max_gen_toks):
                logits = model(torch.tensor([ids + out])).logits[0, -1].float()
                top = logits.topk(2)
                token = int(top.indices[0])
                margin = float(top.values[0] - top.values[1])
                if token in eos:
                    steps.append((token, margin, top.indices.tolist(), None))
                    break
                out.append(token)
                text = tok.decode(out, skip_special_tokens=True)
                steps.append((token, margin, top.indices.tolist(), text))
                if any(st in text for st in STOP):
                    break
        ref_text = cut_at_stop(tok.decode(out, skip_special_tokens=True), STOP)
        entry = {"id": item_id, "engine": eng[item_id]["completion"],
                 "lmeval": lme[item_id]["completion"], "reference": ref_text}
        for side, text in (("engine", entry["engine"]), ("lmeval", entry["lmeval"])):
            div = None
            for j, (_, _, _, so_far) in enumerate(steps):
                cut = text if so_far is None else cut_at_stop(so_far, STOP)
                ended = so_far is None or cut != so_far
                if not text.startswith(cut) or (ended and cut != text):
                    div = j
                    break
            if div is None and ref_text != text:
                div = len(steps) - 1  # ran out of tokens at a different point
            if div is None:
                entry[f"{side}_matches_reference"] = True
                continue
            token, margin, top2, _ = steps[div]
            entry[f"{side}_matches_reference"] = False
            entry[f"{side}_diverging_step"] = div
            entry[f"{side}_margin"] = margin
            entry[f"{side}_top2"] = [tok.decode([t]) for t in top2]
        margins = [entry[k] for k in ("engine_margin", "lmeval_margin") if k in entry]
        entry["margin"] = min(margins) if margins else None
        entry["near_tie"] = bool(margins) and max(margins) < NEAR_TIE
        report.append(entry)
    return report


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--lmeval", default=os.environ.get("LMEVAL", "lm-eval"),
                    help="the lm-eval venv's bin/lm-eval (or its python)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="embedded:smollm2")
    ap.add_argument("--max-gen-toks", type=int, default=16)
    ap.add_argument("--lmeval-batch-size", type=int, default=8)
    ap.add_argument("--engine-batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1,
                    help="runs of each side, alternating which goes first")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="before each run, wait up to this long for the other processes on the "
                         "machine to go quiet (< 0.15 cores over 3 s)")
    ap.add_argument("--workdir", help="keep the task files and outputs here (default: temp)")
    ap.add_argument("--json-out", help="also write the JSON here")
    ap.add_argument("--_engine-worker", dest="engine_worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine_worker:
        return engine_worker(Path(args.engine_worker))

    import torch

    from curation.core.chat import QA_PROMPT_PREFIX, format_qa_shot
    from curation.core.models import resolve_model_path

    assert QA_PROMPT_PREFIX == DESCRIPTION and format_qa_shot("q", "a") == "Q: q\nA: a\n\n", \
        "lessmore's QA prompt format changed: update the task YAML template"
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model_dir = resolve_model_path(args.model)
    work = build_workload(args.items)
    prompts = lessmore_prompts(work)

    ctx = (contextlib.nullcontext(args.workdir) if args.workdir
           else tempfile.TemporaryDirectory(prefix="bench_probe_"))
    with ctx as tmp:
        root = Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        write_lmeval_tasks(work, root, args.max_gen_toks)
        (root / "workload.json").write_text(json.dumps(work))
        peaks = [matmul_peak(args.threads)]
        runs = {"lmeval": [], "engine": []}
        for r in range(args.repeats):
            order = ("lmeval", "engine") if r % 2 == 0 else ("engine", "lmeval")
            for side in order:
                quiet = wait_quiet(args.wait_quiet) if args.wait_quiet else None
                load = os.getloadavg()[0]
                with Contention() as c:
                    res = (run_lmeval if side == "lmeval" else run_engine)(args, model_dir,
                                                                            root, r)
                res.update(loadavg_1m_before=load, other_cores_before=quiet,
                           other_cores_during=c.other_cores, own_cpu_s=c.own_cpu_s)
                runs[side].append(res)
            peaks.append(matmul_peak(args.threads))

        lme, eng = runs["lmeval"][0]["samples"], runs["engine"][0]["samples"]
        ids = [r["id"] for r in work["items"]]
        missing = [i for i in ids if i not in lme]
        prompt_mismatch = [i for i in ids if i in lme and lme[i]["prompt"] != eng[i]["prompt"]]
        gen_kwargs = next(iter(lme.values()))["gen_kwargs"] if lme else None
        diffs = [i for i in ids if i in lme and lme[i]["completion"] != eng[i]["completion"]]
        ans_diff = [i for i in ids if i in lme and lme[i]["filtered"].strip()
                    != eng[i]["answer"]]
        # repeat consistency: every run of a side should give the same completions
        unstable = {side: sum(any(x["samples"][i]["completion"] != rs[0]["samples"][i]
                                  ["completion"] for x in rs[1:]) for i in ids)
                    for side, rs in runs.items()}
        disagreements = margin_analysis(model_dir, work, prompts, diffs, eng, lme,
                                        args.max_gen_toks, args.threads)

    n = len(ids)
    peak = max(peaks)
    model_info = runs["engine"][0]["model"]

    def side_summary(rs: list[dict], side: str) -> dict:
        summ = []
        for s in rs:
            e2e = (s["cli_s"] - s["load_s"]) if side == "lmeval" else s["e2e_s"]
            gen = s["generate_until_s"] if side == "lmeval" else s["generate_s"]
            fl = prefill_flops(s, model_info)
            summ.append({
                "process_wall_s": round(s["wall_s"], 2), "import_s": round(s["import_s"], 2),
                "load_s": round(s["load_s"], 2), "e2e_excl_load_s": round(e2e, 2),
                "generate_s": round(gen, 2), "items_per_s_e2e": round(n / e2e, 2),
                "items_per_s_generate": round(n / gen, 2),
                "prefill_s": round(s["prefill_s"], 2),
                "prefill_real_tokens": s["prefill_real_tokens"],
                "prefill_padded_tokens": s["prefill_padded_tokens"],
                "prefill_gflop_useful": round(fl["useful"] / 1e9, 1),
                "prefill_gflops_per_s": round(fl["useful"] / s["prefill_s"] / 1e9, 1),
                "forward_s": round(s["forward_s"], 2), "forward_calls": s["forward_calls"],
                "decode_forward_s": round(s["forward_s"] - s["prefill_s"], 2),
                "other_s": round(gen - s["forward_s"], 2),
                "threads": s["threads"], "loadavg_1m_before": round(s["loadavg_1m_before"], 2),
                "other_cores_during": round(s["other_cores_during"], 2),
                "own_cpu_s": round(s["own_cpu_s"], 1)})
            if side == "engine":
                summ[-1]["prefill_calls"] = s["prefill_calls"]
                summ[-1]["prefill_forwards"] = s["prefill_forwards"]
                summ[-1]["decode_rows"] = s["decode_rows"]
                summ[-1]["other_s"] = round(gen - s["forward_s"], 2)
            else:
                summ[-1]["generate_calls"] = s["generate_calls"]
        return {"runs": summ,
                "best_items_per_s_e2e": max(x["items_per_s_e2e"] for x in summ),
                "best_items_per_s_generate": max(x["items_per_s_generate"] for x in summ)}

    lm_sum, en_sum = side_summary(runs["lmeval"], "lmeval"), side_summary(runs["engine"], "engine")
    pairs = list(zip(lm_sum["runs"], en_sum["runs"], strict=True))
    ratio_e2e = [e["items_per_s_e2e"] / lm["items_per_s_e2e"] for lm, e in pairs]
    ratio_gen = [e["items_per_s_generate"] / lm["items_per_s_generate"] for lm, e in pairs]
    eng_pf = max(x["prefill_gflops_per_s"] for x in en_sum["runs"])
    # the pair of runs that other processes disturbed least
    quietest = min(range(len(pairs)), key=lambda k: max(pairs[k][0]["other_cores_during"],
                                                        pairs[k][1]["other_cores_during"]))
    bugs = [d["id"] for d in disagreements if not d["near_tie"]]
    import transformers

    out = {
        "benchmark": "bench_probe",
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "transformers": transformers.__version__,
                    "lm_eval": lmeval_version(args.lmeval),
                    "note": "shared machine: other_cores_during = cores other processes kept "
                            "busy during a run (0 = quiet)"},
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "workload": {"items": n, "groups": len(work["exemplars"]), "k_shots": K_SHOTS,
                     "source": "data/qa/facts.jsonl (pool+heldout items, exemplar split shots)",
                     "stop": STOP, "max_gen_toks": args.max_gen_toks,
                     "lmeval_batch_size": args.lmeval_batch_size,
                     "engine_batch_size": args.engine_batch_size, "threads": args.threads,
                     "repeats": args.repeats, "lmeval_gen_kwargs": gen_kwargs,
                     "avg_prompt_tokens": None},
        "prompts": {"compared": n - len(missing), "missing_in_lmeval": len(missing),
                    "mismatches": len(prompt_mismatch), "mismatch_ids": prompt_mismatch[:10]},
        "agreement": {"items": n, "completions_agree": n - len(missing) - len(diffs),
                      "answers_agree": n - len(missing) - len(ans_diff),
                      "disagreements": disagreements, "non_near_tie_disagreements": bugs,
                      "repeat_unstable_items": unstable,
                      "exact_match": {"engine": _mean([eng[i]["exact_match"] for i in ids]),
                                      "lmeval": _mean([lme[i]["exact_match"] for i in ids
                                                       if i in lme])}},
        "lmeval": lm_sum, "engine": en_sum,
        "speedup": {"items_per_s_e2e": [round(x, 2) for x in ratio_e2e],
                    "items_per_s_generate": [round(x, 2) for x in ratio_gen],
                    "quietest_pair": quietest,
                    "quietest_pair_other_cores": max(pairs[quietest][0]["other_cores_during"],
                                                     pairs[quietest][1]["other_cores_during"]),
                    "quietest_pair_e2e": round(ratio_e2e[quietest], 2),
                    "quietest_pair_generate": round(ratio_gen[quietest], 2),
                    "target": 3.0},
        "flops": {"matmul_peak_gflops_per_s": round(peak / 1e9, 1),
                  "matmul_peak_samples": [round(p / 1e9, 1) for p in peaks],
                  "engine_prefill_gflops_per_s_best": eng_pf,
                  "engine_prefill_fraction_of_peak": round(eng_pf * 1e9 / peak, 3),
                  "target_fraction": 0.40,
                  "lmeval_prefill_gflops_per_s_best": max(x["prefill_gflops_per_s"]
                                                          for x in lm_sum["runs"]),
                  "prefill_tokens": {"lmeval_real": lm_sum["runs"][0]["prefill_real_tokens"],
                                     "lmeval_padded": lm_sum["runs"][0]["prefill_padded_tokens"],
                                     "engine_real": en_sum["runs"][0]["prefill_real_tokens"],
                                     "engine_padded": en_sum["runs"][0]["prefill_padded_tokens"],
                                     "prompt_tokens_total": None},
                  "model": model_info},
    }
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    total = sum(len(tok.encode(p, add_special_tokens=False)) for p in prompts)
    out["workload"]["avg_prompt_tokens"] = round(total / n, 1)
    out["flops"]["prefill_tokens"]["prompt_tokens_total"] = total
    text = json.dumps(out, indent=1)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    print(text)


def _mean(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(statistics.fmean(xs), 4) if xs else None


if __name__ == "__main__":
    main()
