"""Style statistics of a model's responses against a reference set (DESIGN §5, imitation panel).

Imitation fine-tuning moves style towards the teacher long before (or without) moving
capability (Gudibande et al., 2023: list use 13% -> 81% against the teacher's 83%), so each
statistic is reported twice: the model's value (``style/<stat>``) and the reference responses'
value on the same prompts (``style/<stat>_reference``). Two more compare item by item: the
Pearson correlation of response lengths and the mean unigram F1 overlap with the reference.

A style statistic has no better direction of its own (more lists or more words is not better
in itself): the question is how far tuning moved the model toward the imitation target. The
report therefore judges each one by its distance to the ``*_reference`` value and shows the
share of the base-to-reference gap the tuned model closed (:mod:`evaluation.report.deltas`);
the ``higher_is_better`` recorded with it is only the plain reading of the number.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from curation.core.io import compute_file_fingerprint

from ..results import BenchmarkResult, GroupScore, Metric
from .base import Benchmark
from .panels import IMITATION, MetricSpec
from .responses import build_instruction_prompt, generate_responses, load_reference, prompt_format

log = logging.getLogger(__name__)

_LIST_LINE = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+\S", re.MULTILINE)
_HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s+\S.*|\*\*[^*\n]+\*\*:?|__[^_\n]+__:?)\s*$",
                           re.MULTILINE)
REFUSALS = ["I'm sorry, but", "I am sorry, but", "I can't help", "I cannot help",
            "I can't assist", "I cannot assist", "I can't provide", "I cannot provide",
            "I'm unable to", "I am unable to", "I won't", "As an AI", "as a language model"]
HEDGES = ["it depends", "might", "may", "perhaps", "possibly", "probably", "likely", "usually",
          "generally", "often", "I think", "I believe", "not sure", "could be"]
# stat name -> (field of compute_style's result, higher_is_better as recorded; the report
# judges these statistics by the distance to the reference value instead, see the module doc)
STATS = {"list_rate": ("list", True), "heading_rate": ("heading", True),
         "mean_words": ("words", True), "refusal_rate": ("refusal", False),
         "hedge_rate": ("hedge", True)}


def compute_style(text: str, refusals: list[str], hedges: list[str]) -> dict[str, float]:
    """Per-response statistics: list and heading use, length in words, refusal and hedging."""
    plain = text.replace("\u2019", "'")  # curly apostrophes would hide "I can't"
    return {"list": float(bool(_LIST_LINE.search(text))),
            "heading": float(bool(_HEADING_LINE.search(text))),
            "words": float(len(re.findall(r"\w+", text))),
            "refusal": float(_contains_any(plain, refusals)),
            "hedge": float(_contains_any(plain, hedges))}


def compute_unigram_f1(text: str, reference: str) -> float:
    """F1 of the lower-cased word multisets (SQuAD's token F1), 0 when either is empty."""
    a, b = Counter(re.findall(r"\w+", text.lower())), Counter(re.findall(r"\w+", reference.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _contains_any(text: str, phrases: list[str]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text, re.IGNORECASE) for p in phrases)


def _compared(stat: str, column: str) -> MetricSpec:
    """A statistic of the ``style`` sample column, shown beside the reference responses' value."""
    return MetricSpec(IMITATION, arg=f"style.{column}", reference=f"{stat}_reference")


@dataclass
class StyleStats(Benchmark):
    """Generate a response to every reference prompt (greedy) and compare styles."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "list_rate": _compared("list_rate", "list"),
        "heading_rate": _compared("heading_rate", "heading"),
        "mean_words": _compared("mean_words", "words"),
        "refusal_rate": _compared("refusal_rate", "refusal"),
        "hedge_rate": _compared("hedge_rate", "hedge"),
        "unigram_f1": MetricSpec(IMITATION),
        "length_correlation": MetricSpec(IMITATION, item=None),
        "*_reference": MetricSpec(None)}  # shown beside the statistic, not as a row of its own

    data: str  # reference jsonl: id, prompt, response, group
    name: str = "style"
    chat_template: bool = True
    max_new_tokens: int = 256
    stop: list[str] = field(default_factory=list)
    refusal_phrases: list[str] = field(default_factory=lambda: list(REFUSALS))
    hedge_phrases: list[str] = field(default_factory=lambda: list(HEDGES))
    limit: int | None = None

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "prompt_format": prompt_format(self.chat_template),
                "decoding": "greedy", "metric": "style statistics vs reference responses"}

    def load_data(self) -> list[dict[str, Any]]:
        return load_reference(self.data, name=self.name, limit=self.limit)

    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        items = data if data is not None else self.load_data()
        prompts = [build_instruction_prompt(engine.tokenizer, it["prompt"], self.chat_template)
                   for it in items]
        responses = generate_responses(engine, prompts, max_new_tokens=self.max_new_tokens,
                                       stop=list(self.stop), desc=self.name)
        rows = [self.score(it, p, r) for it, p, r in zip(items, prompts, responses, strict=True)]
        return BenchmarkResult(name=self.name, metrics=self.build_metrics(rows),
                               settings=self.settings(),
                               data_fingerprint=compute_file_fingerprint(self.data), samples=rows)

    def score(self, item: dict[str, Any], prompt: str, response: str) -> dict[str, Any]:
        """One samples row; ``score`` is the unigram F1 with the reference response."""
        return {"id": item["id"], "group": item["group"], "prompt": prompt,
                "generation": response, "prediction": response,
                "references": [item["response"]],
                "score": compute_unigram_f1(response, item["response"]),
                "style": compute_style(response, self.refusal_phrases, self.hedge_phrases),
                "reference_style": compute_style(item["response"], self.refusal_phrases,
                                                 self.hedge_phrases)}

    def build_metrics(self, rows: list[dict[str, Any]]) -> dict[str, Metric]:
        # per-group splits only for the overlap: a figure for every statistic would bury it
        metrics = {f"{self.name}/unigram_f1": _metric(rows, lambda r: r["score"], by_group=True)}
        for stat, (key, higher) in STATS.items():
            metrics[f"{self.name}/{stat}"] = _metric(rows, lambda r, k=key: r["style"][k], higher)
            metrics[f"{self.name}/{stat}_reference"] = _metric(
                rows, lambda r, k=key: r["reference_style"][k], higher)
        lengths = [(r["style"]["words"], r["reference_style"]["words"]) for r in rows]
        try:
            r = statistics.correlation(*zip(*lengths, strict=True))
            metrics[f"{self.name}/length_correlation"] = Metric(r, len(rows))
        except (statistics.StatisticsError, ValueError):
            log.warning("%s: length correlation undefined (fewer than 2 items or constant "
                        "lengths); not reported", self.name)
        return metrics


def _metric(rows: list[dict[str, Any]], value: Any, higher_is_better: bool = True, *,
            by_group: bool = False) -> Metric:
    """Mean of ``value(row)``, and per group (sorted) when asked."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(value(row))
    every = [v for vs in groups.values() for v in vs]
    split = {g: GroupScore(statistics.fmean(v), len(v)) for g, v in sorted(groups.items())}
    return Metric(statistics.fmean(every) if every else 0.0, len(every), higher_is_better,
                  split if by_group else {})
