"""PyTorch's default CPU linear (MKL sgemm) against oneDNN on pre-packed weights
(``curation.core.engine.packed_linear``), on SmolLM2-135M's linear shapes.

Each timing runs every layer's matrices in turn (30 layers' q, k, v, o, gate, up, down, then
lm_head: 425 MB of float32 weights, far over the L3 cache), as a forward pass does, for a number
of rows M (tokens in the batch): decode steps have M = rows (1-64), prefill forwards hundreds to
thousands. Random weights and inputs; the ratio is measured in the same process, interleaved.

    . .venv/bin/activate
    python benchmarks/bench_linear.py --threads 2 --rows 1 5 16 50 256 1024 4096
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.core.engine.packed_linear import PackedLinears  # noqa: E402

HIDDEN, INTER, KV, LAYERS, VOCAB = 576, 1536, 192, 30, 49152  # SmolLM2-135M


def smollm2_linears(vocab: int) -> torch.nn.Sequential:
    """SmolLM2-135M's linear layers (no bias), in forward order; random weights."""
    shapes = [(HIDDEN, HIDDEN), (KV, HIDDEN), (KV, HIDDEN), (HIDDEN, HIDDEN),
              (INTER, HIDDEN), (INTER, HIDDEN), (HIDDEN, INTER)] * LAYERS + [(vocab, HIDDEN)]
    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Linear(i, o, bias=False) for o, i in shapes])


def sweep(layers: torch.nn.Sequential, x_small: torch.Tensor, x_big: torch.Tensor) -> float:
    """Seconds for one pass over every matrix (inputs of the matching width)."""
    start = time.perf_counter()
    for layer in layers:
        layer(x_big if layer.in_features == INTER else x_small)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rows", type=int, nargs="+", default=[1, 5, 16, 50, 256, 1024, 4096])
    p.add_argument("--repeats", type=int, default=5, help="timed passes per kernel and M")
    p.add_argument("--vocab", type=int, default=VOCAB)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    layers = smollm2_linears(args.vocab)
    packs = PackedLinears(layers, enabled=True)
    if not packs.used:
        sys.exit("this torch build has no oneDNN linear ops")
    flops_per_row = 2 * sum(m.in_features * m.out_features for m in layers)
    results = []
    with torch.inference_mode():
        for rows in args.rows:
            x_small, x_big = torch.randn(rows, HIDDEN), torch.randn(rows, INTER)
            times = {"default": [], "packed": []}
            for _ in range(args.repeats + 1):  # the first pass of each warms up, dropped
                times["default"].append(sweep(layers, x_small, x_big))
                with packs.active():
                    times["packed"].append(sweep(layers, x_small, x_big))
            best = {k: min(v[1:]) for k, v in times.items()}
            results.append({
                "rows": rows,
                "default_ms": round(best["default"] * 1e3, 2),
                "packed_ms": round(best["packed"] * 1e3, 2),
                "speedup": round(best["default"] / best["packed"], 2),
                "default_gflops": round(rows * flops_per_row / best["default"] / 1e9, 1),
                "packed_gflops": round(rows * flops_per_row / best["packed"] / 1e9, 1)})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({
        "benchmark": "bench_linear",
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": args.threads,
                    "torch": torch.__version__},
        "command": "python " + " ".join(sys.argv),
        "weights_mb": round(4 * flops_per_row / 2 / 1e6, 1),
        "results": results}, indent=1))


if __name__ == "__main__":
    main()
