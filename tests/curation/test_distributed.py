"""Probing split across two launched processes (torchrun, gloo on CPU) gives the same curated
set as one process, and only the main process writes it."""

import json
import os
import subprocess
import sys

import pytest


def curate(args, out, nproc, cache_dir):
    launch = ([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
               "-m", "curation"] if nproc > 1 else [sys.executable, "-m", "curation"])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LESSMORE_CACHE": str(cache_dir)}
    proc = subprocess.run([*launch, *args, f"out={out}"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.parametrize("extra", [["probe.shortcut=true"], ["score=ifd"]])
def test_two_processes_give_the_same_curated_set(tmp_path, cache_dir, tiny_model_dir, extra):
    pool = tmp_path / "pool.jsonl"
    rows = [{"id": f"q{i}", "question": f"What is the capital of land {i}?",
             "answers": [f"City {i}"], "group": "abc"[i % 3]} for i in range(24)]
    rows += [{"id": f"c{i}", "messages": [
        {"role": "user", "content": f"Tell me fact number {i} about rivers and seas."},
        {"role": "assistant", "content": f"Fact {i}: rivers carry water {i} ways to seas."}]}
        for i in range(6)]
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = [f"input={pool}", "model=tiny", "dedup.semantic=false", "budget=12",
            "show_progress=false", "filters=none", *extra]
    one = curate(args, tmp_path / "one", 1, cache_dir)
    two = curate(args, tmp_path / "two", 2, cache_dir)
    assert (one / "train.jsonl").read_bytes() == (two / "train.jsonl").read_bytes()
    assert (one / "filtered.jsonl").read_bytes() == (two / "filtered.jsonl").read_bytes()
    probed = json.loads((two / "manifest.json").read_text())["categories_probed"]
    assert sum(probed.values()) == 24
