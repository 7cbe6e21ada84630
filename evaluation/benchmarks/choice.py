"""Multiple choice by log-likelihood, scored as lm-eval scores ``output_type: multiple_choice``:
each choice is a continuation of the prompt (``target_delimiter`` + choice; no delimiter in chat
mode, where the generation prompt already ends the context), scored by ``engine.loglikelihood``.

- ``acc``: the choice with the highest log-likelihood is the gold one (ties: the first).
- ``acc_norm``: the same after dividing each log-likelihood by its choice's length in characters
  (lm-eval's definition; the delimiter is not counted).
- ``acc_bytes``: the same by the choice's length in UTF-8 bytes (lm-eval's ``acc_bytes``).
- TruthfulQA MC1: ``acc`` over ``mc1_targets``; MC2: the normalised probability mass of the true
  options of ``mc2_targets`` (see ``evaluation.benchmarks.truthfulqa``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from curation.core.config import UserError

from ..results import BenchmarkResult, build_metric
from .fewshot import FewShotBenchmark, compute_rows_fingerprint, render_field, render_list
from .panels import CAPABILITY, MetricSpec

CHOICE_METRICS = ("acc", "acc_norm", "acc_bytes")


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value; the first one on ties (as ``numpy.argmax``)."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def compute_choice_scores(lls: Sequence[float], choices: Sequence[str], gold: int
                          ) -> dict[str, float]:
    """``acc``, ``acc_norm`` (per character) and ``acc_bytes`` (per UTF-8 byte) of one item."""
    per_char = [ll / len(c) for ll, c in zip(lls, choices, strict=True)]
    per_byte = [ll / len(c.encode("utf-8")) for ll, c in zip(lls, choices, strict=True)]
    return {"acc": float(argmax(lls) == gold), "acc_norm": float(argmax(per_char) == gold),
            "acc_bytes": float(argmax(per_byte) == gold)}


def compute_true_mass(lls: Sequence[float], labels: Sequence[int]) -> float:
    """TruthfulQA MC2: the probability mass of the true options (label 1) after normalising
    the options' probabilities to sum to 1. Shifted by the largest log-likelihood first, which
    changes nothing but keeps long, unlikely options from underflowing to 0/0."""
    top = max(lls)
    probs = [math.exp(ll - top) for ll in lls]
    return sum(p for p, label in zip(probs, labels, strict=True) if label == 1) / sum(probs)


def split_trailing_whitespace(context: str, continuation: str) -> tuple[str, str]:
    """Move the context's trailing whitespace onto the continuation, as lm-eval does before
    tokenising, so a word boundary is tokenised with the word that follows it."""
    stripped = context.rstrip()
    return stripped, context[len(stripped):] + continuation


def score_choices(engine: Any, contexts: list[str], choices: list[list[str]], delimiter: str,
                  desc: str) -> list[list[float]]:
    """Each item's log-likelihoods, one per choice, from one batched ``loglikelihood`` call."""
    requests = [split_trailing_whitespace(ctx, delimiter + c)
                for ctx, cs in zip(contexts, choices, strict=True) for c in cs]
    flat = [ll for ll, _ in engine.loglikelihood(requests, desc=desc)]
    out, start = [], 0
    for cs in choices:
        out.append(flat[start:start + len(cs)])
        start += len(cs)
    return out


@dataclass
class MultipleChoice(FewShotBenchmark):
    """Any multiple-choice set: ``doc_to_choice`` gives the options, ``doc_to_target`` the gold
    one (an index, or the option's text). Defaults: ``question`` / ``choices`` / ``label``
    columns, lm-eval's ``Question: …\\nAnswer:`` prompt, zero-shot."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        m: MetricSpec(CAPABILITY, arg=f"scores.{m}") for m in CHOICE_METRICS}

    name: str = "multiple_choice"
    doc_to_choice: str = "choices"
    doc_to_target: str = "label"

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "scoring": "loglikelihood", "metrics": list(CHOICE_METRICS)}

    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        items, pool = data if data is not None else self.load_data()
        contexts = self.build_prompts(items, pool, engine.tokenizer)
        choices = [self.choices(item) for item in items]
        delimiter = "" if self.chat_template else self.target_delimiter
        lls = score_choices(engine, contexts, choices, delimiter, self.name)
        rows = [self.score(i, *args) for i, args
                in enumerate(zip(items, contexts, choices, lls, strict=True))]
        metrics = {f"{self.name}/{m}": build_metric([{"group": r["group"], "score": r["scores"][m]}
                                                     for r in rows]) for m in CHOICE_METRICS}
        return BenchmarkResult(name=self.name, metrics=metrics, settings=self.settings(),
                               data_fingerprint=compute_rows_fingerprint(items, pool),
                               samples=rows)

    def choices(self, row: dict[str, Any]) -> list[str]:
        value = render_list(self.doc_to_choice, row)
        if not isinstance(value, list) or not value:
            raise UserError(f"{self.name}: doc_to_choice {self.doc_to_choice!r} gave {value!r}, "
                            "not a list of choices")
        return [str(c) for c in value]

    def gold(self, row: dict[str, Any], choices: list[str]) -> int:
        """The gold index: an int, a string of digits (lm-eval reads it as an index when there
        are choices), or the gold choice's text."""
        target = render_field(self.doc_to_target, row)
        if isinstance(target, str):
            target = int(target) if target.isdigit() else (
                choices.index(target) if target in choices else None)
        if not isinstance(target, int) or not 0 <= target < len(choices):
            raise UserError(f"{self.name}: row {row.get('id', '')!r}: gold {target!r} is not "
                            f"one of its {len(choices)} choices")
        return target

    def shot_answer(self, row: dict[str, Any]) -> str:
        choices = self.choices(row)
        return choices[self.gold(row, choices)]

    def score(self, index: int, item: dict[str, Any], context: str, choices: list[str],
              lls: list[float]) -> dict[str, Any]:
        gold = self.gold(item, choices)
        scores = compute_choice_scores(lls, choices, gold)
        return {"id": item.get("id", index), "group": self.group_of(item), "prompt": context,
                "choices": choices, "loglikelihoods": lls, "prediction": choices[argmax(lls)],
                "references": [choices[gold]], "scores": scores, "score": scores["acc"]}
