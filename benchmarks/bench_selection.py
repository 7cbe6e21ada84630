"""Selection at scale: score-first, SemDeDup and k-center on synthetic MiniLM-sized embeddings.

    python benchmarks/bench_selection.py            # 1,000,000 × 384, the targets below
    python benchmarks/bench_selection.py --n 100000 # a quick look

The embeddings are a float16 memory map in a temporary folder, written in chunks: rows around
2,000 topic centres (same-topic cosine ≈ 0.5, like MiniLM's nearest distinct rows) with 5%
planted near-duplicates (cosine ≈ 0.97 to their original). Prints one JSON object: each time,
its target and pass/fail, peak RSS, the machine and the date.
"""

from __future__ import annotations

import argparse
import os

# pin every thread pool to the machine before numpy / torch load their BLAS
THREADS = str(os.cpu_count() or 1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, THREADS)

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from curation.diversity import (  # noqa: E402
    assign_clusters,
    default_num_clusters,
    fit_spherical_kmeans,
    kcenter_greedy,
    score_first_select,
    semdedup,
)

DIM = 384
TARGETS_S = {"score_first": 10.0, "semdedup": 180.0, "kcenter": 60.0}
TARGET_RSS_GB = 4.0
# 0.9: the threshold of the recorded runs (a speed measurement on synthetic embeddings); it is
# SemDeDup's MiniLM threshold (DEFAULT_EPS = 0.1), not select.tau's default (0.65)
TAU = EPS_THRESHOLD = 0.9


def write_embeddings(path: Path, n: int, seed: int = 0, chunk: int = 65536,
                     topics: int = 2000, dup_share: float = 0.05) -> int:
    """Fill a float16 ``.npy`` memmap chunk by chunk; returns the number of planted copies."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, DIM))
    planted = 0
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        crng = np.random.default_rng([seed, lo])
        x = centres[crng.integers(0, topics, m)] + \
            crng.standard_normal((m, DIM), dtype=np.float32) / np.sqrt(DIM)
        copies = crng.choice(m, int(m * dup_share), replace=False)
        x[copies] = x[crng.integers(0, m, len(copies))] + \
            0.25 * crng.standard_normal((len(copies), DIM), dtype=np.float32) / np.sqrt(DIM)
        planted += len(copies)
        out[lo:lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    out.flush()
    del out
    return planted


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, round(time.perf_counter() - start, 2)


def bench(n: int, budget: int, centres: int, pool: int, folder: Path) -> dict:
    path = folder / "emb.npy"
    planted, gen_s = timed(write_embeddings, path, n)
    emb = np.load(path, mmap_mode="r")
    rng = np.random.default_rng(1)
    scores = rng.random(n)

    selected, sf_s = timed(score_first_select, emb, scores, budget, tau=TAU)
    k = default_num_clusters(n)
    cents, fit_s = timed(fit_spherical_kmeans, emb, k, seed=0)
    labels, assign_s = timed(assign_clusters, emb, cents)
    (keep, _), greedy_s = timed(semdedup, emb, scores, eps=1 - EPS_THRESHOLD, labels=labels)
    picked, kc_s = timed(kcenter_greedy, emb, centres, seed=0, pool_cap=pool)

    dedup_s = round(fit_s + assign_s + greedy_s, 2)
    results = {
        "score_first": {"seconds": sf_s, "selected": len(selected), "budget": budget,
                        "tau": TAU},
        "semdedup": {"seconds": dedup_s, "kmeans_fit_s": fit_s, "assign_s": assign_s,
                     "greedy_s": greedy_s, "k": k, "removed": int((~keep).sum()),
                     "planted_near_duplicates": planted, "eps": round(1 - EPS_THRESHOLD, 3),
                     "largest_cluster": int(np.bincount(labels).max())},
        "kcenter": {"seconds": kc_s, "centres": len(picked), "pool": min(pool, n)},
    }
    for name, row in results.items():
        row["target_s"] = TARGETS_S[name]
        row["pass"] = row["seconds"] <= TARGETS_S[name]
    return {"generate_s": gen_s, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--centres", type=int, default=1_000)
    parser.add_argument("--pool", type=int, default=100_000)
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(int(THREADS))
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="bench-selection-") as tmp:
        out = bench(args.n, args.budget, args.centres, args.pool, Path(tmp))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    report = {
        "benchmark": "selection", "n": args.n, "dim": DIM, "dtype": "float16 memmap",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "threads": int(THREADS)},
        **out,
        "peak_rss_gb": round(peak_gb, 2), "peak_rss_target_gb": TARGET_RSS_GB,
        "peak_rss_pass": peak_gb <= TARGET_RSS_GB,
    }
    report["all_pass"] = report["peak_rss_pass"] and all(
        r["pass"] for r in report["results"].values())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
