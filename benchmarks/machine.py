"""What every benchmark here measures of the machine it runs on: the CPU used by other
processes while a measured child runs, a wait for a quiet machine, the fp32 matmul peak, the CPU
model, and the interpreter and version of an lm-evaluation-harness install. Imported by the
``bench_*.py`` scripts beside it (they run as scripts: this folder is on their path)."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Contention:
    """CPU used by *other* processes while a child runs: machine busy time (/proc/stat) minus the
    child's own CPU time, per wall second (0 = quiet; 1 = another job kept a whole core busy)."""

    def __enter__(self):
        self.t, self.busy, self.cpu = time.perf_counter(), _cpu_jiffies()[0], _children_cpu()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t
        hz = os.sysconf("SC_CLK_TCK")
        own = _children_cpu() - self.cpu
        self.own_cpu_s = own
        self.other_cores = max(0.0, ((_cpu_jiffies()[0] - self.busy) / hz - own) / wall)


def wait_quiet(max_wait: float, threshold: float = 0.15, window: float = 3.0) -> float:
    """Wait (at most ``max_wait`` s) for a ``window`` in which other processes use less than
    ``threshold`` cores; returns the cores they used in the last window."""
    deadline = time.perf_counter() + max_wait
    while True:
        b0, t0 = _cpu_jiffies()
        time.sleep(window)
        b1, t1 = _cpu_jiffies()
        busy = (os.cpu_count() or 1) * (b1 - b0) / max(1, t1 - t0)
        if busy < threshold or time.perf_counter() >= deadline:
            return busy


def matmul_peak(threads: int, n: int = 2048, reps: int = 8) -> float:
    """Best fp32 ``torch.mm`` FLOP/s of an n x n product over ``reps`` tries."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(reps))
    return 2 * n ** 3 / best


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def lmeval_python(path: str) -> str:
    """The interpreter of lm-eval's venv, from either its ``lm-eval`` script or a python."""
    p = Path(shutil.which(path) or path)
    if p.name.startswith(("lm-eval", "lm_eval")):
        p = p.with_name("python")
    if not p.exists():
        sys.exit(f"no python next to {path}; pass the lm-eval venv's bin/lm-eval or bin/python")
    return str(p)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def lmeval_version(path: str) -> str | None:
    with contextlib.suppress(Exception):
        return subprocess.run([lmeval_python(path), "-c",
                               "from importlib.metadata import version; print(version('lm_eval'))"],
                              capture_output=True, text=True).stdout.strip()
    return None
