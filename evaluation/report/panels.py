"""Which panel each metric belongs to (DESIGN §5) and how its per-item value is read from a
``samples/<benchmark>.jsonl`` row for the bootstrap (:mod:`evaluation.report.bootstrap`).

The mapping is declared once, below, per benchmark class and metric name (a glob pattern, so
``exact_match,*`` covers every extraction filter of a renamed GSM8K-style benchmark). A metric
that matches nothing is shown under "other metrics" with point deltas only.

Item readers (``MetricSpec.item``), each returning one row's (numerator, denominator):

- ``field``: the value at ``arg`` (a dotted path, ``{0}`` = the text after the metric's comma);
  a missing value (a failed judgment) counts in neither part;
- ``answered_wrong``: 1 − score among rows not abstained (hallucination rate);
- ``instructions``: instructions followed (``arg``: strict | loose) over instructions given;
- ``pooled``: negative log-likelihood over ``arg`` (tokens | bytes), pooled like perplexity;
- ``decisive``: judged pairs whose two orders agreed, among judged pairs;
- ``failed``: pairs the judge failed on;
- ``None``: no per-item form (a correlation, a regression-based win rate): point delta only.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

IMITATION, CAPABILITY = "imitation", "capability"
PANELS = (IMITATION, CAPABILITY)


@dataclass(frozen=True)
class MetricSpec:
    panel: str | None  # None: shown elsewhere (per category, or as another metric's reference)
    item: str | None = "field"
    arg: str = "score"
    transform: str = "ratio"  # see evaluation.report.bootstrap.TRANSFORMS
    reference: str | None = None  # metric holding the reference responses' value (style)


def _style(stat: str, field: str) -> MetricSpec:
    return MetricSpec(IMITATION, arg=f"style.{field}", reference=f"{stat}_reference")


# benchmark class -> metric-name pattern -> spec; the panels list metrics in this order
METRICS: dict[str, dict[str, MetricSpec]] = {
    "StyleStats": {"list_rate": _style("list_rate", "list"),
                   "heading_rate": _style("heading_rate", "heading"),
                   "mean_words": _style("mean_words", "words"),
                   "refusal_rate": _style("refusal_rate", "refusal"),
                   "hedge_rate": _style("hedge_rate", "hedge"),
                   "unigram_f1": MetricSpec(IMITATION),
                   "length_correlation": MetricSpec(IMITATION, item=None),
                   "*_reference": MetricSpec(None)},
    "PairwiseJudge": {"win_rate": MetricSpec(IMITATION),
                      "lc_win_rate": MetricSpec(IMITATION, item=None),
                      "position_consistency": MetricSpec(IMITATION, item="decisive"),
                      "failure_rate": MetricSpec(IMITATION, item="failed")},
    "IFEval": {"prompt_strict": MetricSpec(IMITATION),
               "prompt_loose": MetricSpec(IMITATION, arg="score_loose"),
               "instruction_strict": MetricSpec(IMITATION, item="instructions", arg="strict"),
               "instruction_loose": MetricSpec(IMITATION, item="instructions", arg="loose")},
    "ClosedBookQA": {"exact_match": MetricSpec(CAPABILITY),
                     "hallucination_rate": MetricSpec(CAPABILITY, item="answered_wrong"),
                     "abstention_rate": MetricSpec(CAPABILITY, arg="abstained"),
                     "*,category": MetricSpec(None)},
    "FewShotGeneration": {"exact_match,*": MetricSpec(CAPABILITY, arg="scores.{0}")},
    "MultipleChoice": {m: MetricSpec(CAPABILITY, arg=f"scores.{m}")
                       for m in ("acc", "acc_norm", "acc_bytes")},
    "TruthfulQA": {m: MetricSpec(CAPABILITY, arg=f"scores.{m}") for m in ("mc1", "mc2")},
    "Perplexity": {"perplexity": MetricSpec(CAPABILITY, "pooled", "tokens", "exp"),
                   "bits_per_byte": MetricSpec(CAPABILITY, "pooled", "bytes", "bits")},
}
# results without the suite config (hand-written files) fall back on the shipped names
DEFAULT_CLASSES = {"closed_book_qa": "ClosedBookQA", "gsm8k": "FewShotGeneration",
                   "arc_easy": "MultipleChoice", "multiple_choice": "MultipleChoice",
                   "truthfulqa": "TruthfulQA", "perplexity": "Perplexity", "ifeval": "IFEval",
                   "style": "StyleStats", "judge": "PairwiseJudge"}


def find_class(config: dict[str, Any], benchmark: str) -> str | None:
    """The class name of the benchmark called ``benchmark`` in a results file's suite config."""
    entries = ((config.get("suite") or {}).get("benchmarks") or {}).values()
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == benchmark and entry.get("_target_"):
            return str(entry["_target_"]).rsplit(".", 1)[-1]
    return DEFAULT_CLASSES.get(benchmark)


def find_spec(config: dict[str, Any], key: str) -> tuple[int, MetricSpec] | None:
    """(declaration order, spec) of a ``benchmark/metric`` key, or None if undeclared."""
    benchmark, _, metric = key.partition("/")
    cls = find_class(config, benchmark)
    declared = [(cls_name, pattern, spec) for cls_name, specs in METRICS.items()
                for pattern, spec in specs.items()]
    for order, (cls_name, pattern, spec) in enumerate(declared):
        if cls_name == cls and fnmatch.fnmatchcase(metric, pattern):
            return order, spec
    return None


def read_item(row: dict[str, Any], spec: MetricSpec, metric: str) -> tuple[float, float]:
    """One samples row's (numerator, denominator) of the metric; see the module doc."""
    if spec.item == "field":
        value = _dig(row, spec.arg.format(metric.partition(",")[2]))
        return (0.0, 0.0) if value is None else (float(value), 1.0)
    if spec.item == "answered_wrong":
        return (0.0, 0.0) if row.get("abstained") else (1.0 - float(row["score"]), 1.0)
    if spec.item == "instructions":
        checks = row.get("instructions") or []
        return float(sum(bool(c[spec.arg]) for c in checks)), float(len(checks))
    if spec.item == "pooled":
        return -float(row["loglikelihood"]), float(row[spec.arg])
    if spec.item == "decisive":
        return (0.0, 0.0) if row.get("score") is None else (float(row["score"] != 0.5), 1.0)
    if spec.item == "failed":
        return float(row.get("score") is None), 1.0
    raise ValueError(f"no per-item reader {spec.item!r}")


def _dig(row: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        row = row.get(part) if isinstance(row, dict) else None
    return row
