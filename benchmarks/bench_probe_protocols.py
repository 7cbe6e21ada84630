"""How far ``probe=quick`` (3 prompts x 2 samples) is from SliCK's protocol (10 x 16) on real
facts: the confusion matrix of the two protocols' categories and the cost of each.

    python benchmarks/bench_probe_protocols.py [--per-relation 125] [--relations 8] \
        [--data ../shared/data/entity_questions] [--cache /tmp/protocols] [--threads 2]

Facts: the first ``--per-relation`` rows of each of the first ``--relations`` EntityQuestions
relations (sorted by name; line order of ``train/<rel>.train.jsonl``), probed with the embedded
SmolLM2-135M-Instruct (fp32, CPU) through the same ``SlickProbe`` step ``lessmore curate`` runs,
once with ``conf/probe/quick.yaml`` and once with ``conf/probe/slick.yaml`` (both with the
shortcut: same categories as the full protocol). Each protocol has its own result cache under
``--cache``, so a killed run resumes; a cached protocol is not timed again (its cost is then read
from the cost file written when it ran). Prints JSON: facts, relations, per protocol the
category counts, wall and CPU seconds, greedy prompts and sampled sequences decoded; the 4x4
confusion matrix (rows: slick, columns: quick), agreement, and each slick category's recall
(each share with its 95% Wilson interval).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_model  # noqa: E402  (this folder)

from curation.core.io import write_text as atomic_write_text  # noqa: E402

CATEGORIES = ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"]


def load_facts(folder: Path, relations: int, per_relation: int) -> list[dict]:
    files = sorted((folder / "train").glob("*.train.jsonl"))[:relations]
    if len(files) < relations:
        raise SystemExit(f"{folder}/train has {len(files)} relations, {relations} asked for")
    rows = []
    for path in files:
        rel = path.name.split(".")[0]
        lines = path.read_text(encoding="utf-8").splitlines()[:per_relation]
        rows += [{"id": f"{rel}-{n + 1}", "group": rel, **json.loads(line)}
                 for n, line in enumerate(lines)]
    return rows


class Counting:
    """Wraps the engine: counts greedy prompts and sampled sequences decoded."""

    def __init__(self, engine):
        self.engine, self.greedy, self.sampled = engine, 0, 0
        self.tokenizer, self.kernel = engine.tokenizer, getattr(engine, "kernel", "-")

    def generate(self, prompts, settings, desc="generating"):
        if settings.do_sample:
            self.sampled += len(prompts) * max(1, settings.num_return_sequences)
        else:
            self.greedy += len(prompts)
        return self.engine.generate(prompts, settings, desc=desc)


def probe(name: str, rows: list[dict], engine, cache_root: Path, seed: int) -> dict:
    import torch
    from omegaconf import OmegaConf

    from curation.core.cache import ResultCache
    from curation.probes import ProbeConfig, SlickProbe, summarize_probe

    cfg = OmegaConf.to_object(OmegaConf.merge(
        OmegaConf.structured(ProbeConfig), OmegaConf.load(ROOT / "conf/probe" / f"{name}.yaml")))
    cost_file = cache_root / f"{name}.cost.json"
    cache = ResultCache(cache_root / f"{name}.sqlite", model="smollm2")
    counting = Counting(engine)
    wall, cpu = time.perf_counter(), time.process_time()
    records = SlickProbe(counting, cfg, seed, cache).probe(rows)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    cache.close()
    cost = json.loads(cost_file.read_text()) if cost_file.exists() else {}
    if "runs" not in cost:  # a cost file from one uninterrupted run, or none yet
        cost = {"runs": [{k: cost[k] for k in ("wall_s", "cpu_s", "greedy_prompts",
                                               "sampled_sequences")}] if cost else []}
    if counting.greedy:  # measured now: the facts not read from the cache
        cost["runs"].append({"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                             "greedy_prompts": counting.greedy,
                             "sampled_sequences": counting.sampled,
                             "threads": torch.get_num_threads()})
    timed = sum(r["greedy_prompts"] for r in cost["runs"]) // cfg.n_prompts
    cost.update({key: round(sum(r[key] for r in cost["runs"]), 1) for key in
                 ("wall_s", "cpu_s", "greedy_prompts", "sampled_sequences")})
    cost["facts_timed"] = timed
    cost["complete_run"] = timed == len(rows)
    if timed:  # a resumed run is timed only on the facts it probed: per fact, and scaled up
        cost["wall_s_per_fact"] = round(cost["wall_s"] / timed, 3)
        cost["wall_s_scaled_to_all_facts"] = round(cost["wall_s"] / timed * len(rows), 1)
    atomic_write_text(cost_file, json.dumps(cost))
    cats = [summarize_probe(r, cfg.n_prompts)["probe_category"] for r in records]
    return {"protocol": f"{cfg.n_prompts} prompts x {cfg.n_samples} samples, shortcut "
                        f"{cfg.shortcut}", "categories": dict(Counter(cats)), "cost": cost,
            "per_fact": cats}


def share(hits: int, n: int, z: float = 1.96) -> dict:
    """hits / n with its 95% Wilson score interval."""
    p = hits / n
    centre, half = (p + z * z / (2 * n)), z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    scale = 1 + z * z / n
    return {"value": round(p, 4), "hits": hits, "n": n,
            "low": round((centre - half) / scale, 4), "high": round((centre + half) / scale, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/entity_questions"))
    ap.add_argument("--relations", type=int, default=8)
    ap.add_argument("--per-relation", type=int, default=125)
    ap.add_argument("--cache", default="/tmp/lessmore-probe-protocols")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--protocols", default="quick,slick")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    from curation.core.engine import GenerationEngine
    from curation.core.models import ModelConfig, load_model

    rows = load_facts(Path(args.data), args.relations, args.per_relation)
    cache_root = Path(args.cache)
    cache_root.mkdir(parents=True, exist_ok=True)
    model, tok = load_model(ModelConfig(path="embedded:smollm2", dtype="float32", device="cpu"))
    engine = GenerationEngine(model, tok, batch_size=args.batch_size, show_progress=True)
    results = {name: probe(name, rows, engine, cache_root, args.seed)
               for name in args.protocols.split(",")}
    out = {"date": _dt.date.today().isoformat(), "machine": cpu_model(),
           "threads": args.threads, "facts": len(rows),
           "relations": sorted({r["group"] for r in rows}),
           "model": "SmolLM2-135M-Instruct (embedded GGUF -> fp32), CPU",
           "protocols": {k: {kk: vv for kk, vv in v.items() if kk != "per_fact"}
                         for k, v in results.items()}}
    if {"quick", "slick"} <= set(results):
        pairs = list(zip(results["slick"]["per_fact"], results["quick"]["per_fact"], strict=True))
        matrix = {s: {q: sum(p == (s, q) for p in pairs) for q in CATEGORIES}
                  for s in CATEGORIES}
        out["confusion_slick_rows_quick_columns"] = matrix
        out["agreement"] = share(sum(s == q for s, q in pairs), len(pairs))
        out["recall_of_slick_category"] = {
            s: share(matrix[s][s], n) if (n := sum(matrix[s].values())) else None
            for s in CATEGORIES}
        out["known_agreement"] = share(sum((s == "Unknown") == (q == "Unknown")
                                           for s, q in pairs), len(pairs))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
