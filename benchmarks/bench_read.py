"""Reading a large SFT pool: lessmore's streaming path vs holding the records in memory.

Workload: ``--rows`` synthetic Alpaca rows in one jsonl (written once to ``--workdir``), ~0.4 kB
each, 1% malformed. Two ways, each in a fresh subprocess (peak RSS is per process):

- ``memory``: ``read_records`` collecting records in a list, then ``Dataset.from_list`` (what
  curation did before the arrow store);
- ``store``: ``curation.store.RecordStore.read``: records stream into a memory-mapped arrow file.

Reports rows/s, peak RSS (``ru_maxrss``) and the ratio, as JSON.

    python benchmarks/bench_read.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORDS = ("data model train answer question result method paper set token curate probe "
         "knowledge fact style length score cluster budget seed").split()


def write_pool(path: Path, rows: int) -> None:
    rng = random.Random(0)
    with open(path, "w") as f:
        for i in range(rows):
            if i % 100 == 99:
                f.write("{broken json\n")
                continue
            instruction = " ".join(rng.choices(WORDS, k=20)) + f" #{i}?"
            output = " ".join(rng.choices(WORDS, k=40)) + "."
            f.write(json.dumps({"instruction": instruction, "input": "", "output": output}) + "\n")


def worker(way: str, pool: str, cache: str) -> dict:
    sys.path.insert(0, str(REPO))
    t = time.perf_counter()
    if way == "memory":
        from datasets import Dataset

        from curation.core.readers import read_records

        read = read_records(pool)
        ds = Dataset.from_list(read.records)
    else:
        from curation.store import RecordStore

        read, ds = RecordStore(cache).read(pool, max_chars=100_000)
    seconds = time.perf_counter() - t
    return {"way": way, "rows_in": read.rows_in, "records": len(ds),
            "rejected": len(read.rejections), "seconds": round(seconds, 1),
            "rows_per_s": round(read.rows_in / seconds),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/lessmore-bench-read"))
    ap.add_argument("--_worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._worker:
        print(json.dumps(worker(*args._worker)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    pool = args.workdir / f"pool-{args.rows}.jsonl"
    if not pool.exists():
        write_pool(pool, args.rows)
    results = {}
    for way in ("store", "memory"):
        out = subprocess.run([sys.executable, __file__, "--_worker", way, str(pool),
                              str(args.workdir / "cache")], capture_output=True, text=True,
                             check=True, env={**os.environ, "HF_DATASETS_OFFLINE": "1"})
        results[way] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({
        "benchmark": "bench_read", "rows": args.rows, "pool_mb": round(pool.stat().st_size / 2**20),
        "machine": f"{platform.machine()} {os.cpu_count()} cores", "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"), **results,
        "rss_ratio_memory_over_store": round(results["memory"]["peak_rss_mb"]
                                             / results["store"]["peak_rss_mb"], 2)}, indent=1))


if __name__ == "__main__":
    main()
