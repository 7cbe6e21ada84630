"""`lessmore curate` killed with SIGKILL mid-probe and started again finishes with the same
outputs as an uninterrupted run, and does not probe the rows it had finished."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

N_ROWS = 200


def count_cached(path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def start(pool, out, cache_dir):
    args = [sys.executable, "-m", "curation", f"input={pool}", f"out={out}", "model=tiny",
            "budget=50", "probe.chunk_size=8", "probe.batch_size=4", "show_progress=false"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LESSMORE_CACHE": str(cache_dir)}
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


def test_killed_curate_resumes_to_identical_outputs(tmp_path, cache_dir, tiny_model_dir):
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({
        "id": f"q{i}", "question": f"What is the {w} of item {i}?", "answers": [f"A{i % 7}"],
        "group": w}) + "\n" for i, w in ((i, "river" if i % 2 else "capital")
                                         for i in range(N_ROWS))))
    out = tmp_path / "killed"
    proc = start(pool, out, cache_dir)
    db = out / "cache" / "probe.sqlite"
    deadline = time.monotonic() + 120
    while count_cached(db) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = count_cached(db)
    assert 0 < done_before < N_ROWS and not (out / "manifest.json").exists()

    resumed = start(pool, out, cache_dir)
    log = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, log[-3000:]
    hits = [int(h) for h in re.findall(r"'hits': (\d+)", log)]
    assert hits and hits[0] >= done_before  # finished rows were read back, not probed again

    fresh = start(pool, tmp_path / "fresh", cache_dir)
    assert fresh.wait(timeout=300) == 0
    for name in ("train.jsonl", "filtered.jsonl", "rejected.jsonl", "README.md"):
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
