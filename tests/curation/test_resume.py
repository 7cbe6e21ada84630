"""Resume: a probe killed with SIGKILL after its first committed chunk, restarted, ends with the
same output as an uninterrupted run and does not regenerate the finished items."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import Dataset

from curation.core.cache import ResultCache, compute_model_fingerprint
from curation.core.engine import GenerationEngine
from curation.core.models import ModelConfig, load_model
from curation.probes import ProbeConfig, SlickProbe
from curation.steps import apply_step
from tests import PROJECT_ROOT

PROJECT = PROJECT_ROOT
N_ITEMS, CHUNK = 32, 4
PROBE = {"n_prompts": 2, "k_shots": 2, "n_samples": 2, "max_new_tokens": 6, "chunk_size": CHUNK}

# The killed run: the tiny model, slowed down so the kill lands after the first commit and well
# before the last one.
CHILD = """
import json, sys, time
import torch
torch.set_num_threads(1)
from curation.core.cache import ResultCache
from curation.core.engine import GenerationEngine
from curation.core.models import ModelConfig, load_model
from curation.probes import ProbeConfig, SlickProbe

model_dir, cache_path, rows_path, probe, fingerprint = sys.argv[1:6]
model, tokenizer = load_model(ModelConfig(path=model_dir, device="cpu", dtype="float32"))
engine = GenerationEngine(model, tokenizer, batch_size=8, show_progress=False)
generate = engine.generate
def slow_generate(*args, **kwargs):
    time.sleep(0.3)
    return generate(*args, **kwargs)
engine.generate = slow_generate
rows = json.loads(open(rows_path).read())
with ResultCache(cache_path, model=fingerprint) as cache:
    SlickProbe(engine, ProbeConfig(**json.loads(probe)), 0, cache).probe(rows)
"""

WORDS = "paris london rome berlin madrid tokyo france england italy germany spain japan".split()


def make_rows():
    return [{"id": f"q{i:02d}", "question": f"What is the capital of {WORDS[i % 12]} {i}?",
             "answers": [WORDS[(i * 5) % 12].capitalize()], "group": "ab"[i % 2]}
            for i in range(N_ITEMS)]


def count_rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def run_and_kill_after_first_commit(tmp_path, model_dir, fingerprint) -> Path:
    cache = tmp_path / "cache" / "probe.sqlite"
    rows_path = tmp_path / "rows.json"
    rows_path.write_text(json.dumps(make_rows()))
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(model_dir), str(cache),
                              str(rows_path), json.dumps(PROBE), fingerprint],
                             cwd=PROJECT, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while count_rows(cache) < CHUNK:
        if child.poll() is not None:
            pytest.fail(f"the probe exited early: {child.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("no chunk committed in 180 s")
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stderr.close()
    return cache


def test_killed_probe_resumes_to_identical_output(tmp_path, tiny_model_dir):
    fingerprint = compute_model_fingerprint("tiny", None, tiny_model_dir)
    cache_path = run_and_kill_after_first_commit(tmp_path, tiny_model_dir, fingerprint)
    committed = count_rows(cache_path)
    assert CHUNK <= committed < N_ITEMS and committed % CHUNK == 0  # whole chunks only

    model, tokenizer = load_model(ModelConfig(path=str(tiny_model_dir), device="cpu",
                                              dtype="float32"))
    engine = GenerationEngine(model, tokenizer, batch_size=8, show_progress=False)
    cfg, ds = ProbeConfig(**PROBE), Dataset.from_list(make_rows())
    with ResultCache(cache_path, model=fingerprint) as cache:
        resumed = apply_step(SlickProbe(engine, cfg, 0, cache), ds).dataset
        assert (cache.hits, cache.misses, cache.corrupt) == (committed, N_ITEMS - committed, 0)
    uninterrupted = apply_step(SlickProbe(engine, cfg, 0), ds).dataset
    assert resumed.to_list() == uninterrupted.to_list()
    assert count_rows(cache_path) == N_ITEMS

    # a row edited after the fact is not trusted: recomputed, and the output is unchanged
    with sqlite3.connect(cache_path) as db:
        db.execute("UPDATE results SET value = value || ' ' "
                   "WHERE item = (SELECT min(item) FROM results)")
    with ResultCache(cache_path, model=fingerprint) as cache:
        again = apply_step(SlickProbe(engine, cfg, 0, cache), ds).dataset
        assert (cache.hits, cache.misses, cache.corrupt) == (N_ITEMS - 1, 1, 1)
    assert again.to_list() == uninterrupted.to_list()
