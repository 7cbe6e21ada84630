"""Pairwise judged win rate, with positions swapped and a length-controlled variant
(DESIGN §5, imitation panel).

The evaluated model answers every prompt of a reference set; a judge compares each answer with
a baseline answer to the same prompt twice, once as A/B and once as B/A. Both orders agreeing
give a win or a loss; disagreeing orders (position bias) give a tie worth 1/2. A pair whose
judge failed in either order is counted in ``judge/failure_rate`` and left out of the win rates:
a failure is never turned into a verdict.

The length-controlled win rate follows AlpacaEval 2: a logistic regression of the preference
on tanh(word-length difference / its standard deviation), read off at zero length difference,
so a judge that simply prefers longer answers does not reward a model for rambling.

The baseline answers are the reference set's own responses, or any earlier evaluation's
``samples/<benchmark>.jsonl`` (rows with ``id`` and ``generation``): that is how a tuned model is
judged against its base (see ``conf/suite/judge.yaml``).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from curation.core.config import UserError
from curation.core.io import compute_file_fingerprint, read_jsonl
from curation.core.models import ModelConfig

from ..results import BenchmarkResult, Metric
from .base import Benchmark
from .judges import EndpointJudge, LocalJudge, Verdict
from .panels import IMITATION, MetricSpec
from .responses import build_instruction_prompt, generate_responses, load_reference, prompt_format

log = logging.getLogger(__name__)

JUDGE_TEMPLATE = (
    "Compare two responses to the same instruction and decide which one is better: more "
    "helpful, more accurate and clearer. Do not let the order of the responses or their "
    "length decide.\n\n[Instruction]\n{instruction}\n\n[Response A]\n{response_a}\n\n"
    "[Response B]\n{response_b}\n\nWhich response is better? Answer with a single letter: A or B.")


def combine_verdicts(first: Verdict, second: Verdict) -> float | None:
    """The candidate's preference from (candidate as A, candidate as B): 1 win, 0 loss,
    1/2 when the two orders disagree, None when either judgment failed."""
    if first.choice is None or second.choice is None:
        return None
    wins = (first.choice == "A") + (second.choice == "B")
    return wins / 2


def compute_lc_win_rate(preferences: list[float], length_diffs: list[float]) -> float:
    """Win rate at zero length difference (AlpacaEval 2's length control, without its
    per-instruction term). Ties enter as half a win and half a loss (sample weights)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    prefs, diffs = np.asarray(preferences, float), np.asarray(length_diffs, float)
    scale = diffs.std()
    x = np.tanh(diffs / scale) if scale > 0 else np.zeros_like(diffs)
    features = np.concatenate([x, x])[:, None]
    labels = np.concatenate([np.ones_like(x), np.zeros_like(x)])
    weights = np.concatenate([prefs, 1 - prefs])
    keep = weights > 0
    if len(set(labels[keep])) < 2:  # all wins or all losses: nothing to regress
        return float(prefs.mean())
    model = LogisticRegression().fit(features[keep], labels[keep], sample_weight=weights[keep])
    return float(1 / (1 + math.exp(-model.intercept_[0])))


@dataclass
class PairwiseJudge(Benchmark):
    """Judge the model's answers against baseline answers, both orders; see the module doc."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "win_rate": MetricSpec(IMITATION),
        "lc_win_rate": MetricSpec(IMITATION, item=None),
        "position_consistency": MetricSpec(IMITATION, item="decisive"),
        "failure_rate": MetricSpec(IMITATION, item="failed")}

    data: str  # reference jsonl: id, prompt, response, group
    name: str = "judge"
    baseline: str | None = None  # None: the reference responses; else a jsonl with id + generation
    chat_template: bool = True  # how the evaluated model's prompts are rendered
    max_new_tokens: int = 256
    stop: list[str] = field(default_factory=list)
    judge_backend: str = "local"  # local | endpoint
    judge_model: str = "embedded:smollm2"  # local: a model path; endpoint: the model name sent
    judge_chat_template: bool = True  # local judge: render its prompt with the chat template
    judge_base_url: str | None = None  # endpoint: e.g. http://localhost:8000/v1
    judge_api_key_env: str | None = None  # endpoint: NAME of the env variable holding the key
    judge_timeout_s: float = 60.0
    judge_retries: int = 2  # retries after HTTP 408/409/429/5xx and connection errors
    judge_retry_wait_s: float = 1.0  # doubled after every retry
    judge_workers: int = 4  # concurrent endpoint requests
    judge_max_tokens: int = 8
    template: str = JUDGE_TEMPLATE  # fields: {instruction} {response_a} {response_b}
    limit: int | None = None

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "prompt_format": prompt_format(self.chat_template),
                "decoding": "greedy", "metric": "pairwise win rate, positions swapped"}

    def load_data(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """(reference items, baseline answer by id); a config error fails here."""
        self.check_judge_config()
        items = load_reference(self.data, name=self.name, limit=self.limit)
        baseline = ({it["id"]: it["response"] for it in items} if self.baseline is None
                    else load_baseline(self.baseline, self.name))
        missing = [it["id"] for it in items if it["id"] not in baseline]
        if missing:
            raise UserError(f"{self.name}: baseline {self.baseline} has no answer for ids "
                            f"{missing[:5]}{' ...' if len(missing) > 5 else ''}")
        return items, baseline

    def check_judge_config(self) -> None:
        if self.judge_backend not in ("local", "endpoint"):
            raise UserError(f"{self.name}: judge_backend must be local or endpoint, "
                            f"got {self.judge_backend!r}")
        if self.judge_backend == "endpoint" and not self.judge_base_url:
            raise UserError(f"{self.name}: judge_backend=endpoint needs judge_base_url")
        key_env = self.judge_api_key_env
        if self.judge_backend == "endpoint" and key_env and not os.environ.get(key_env):
            raise UserError(f"{self.name}: environment variable {key_env} (judge_api_key_env) "
                            f"is not set")
        try:  # a stray brace or an unknown field would otherwise fail after generation
            self.judge_prompt("", "", "")
        except (KeyError, IndexError, ValueError) as e:
            raise UserError(f"{self.name}: template: {type(e).__name__} {e}") from None
        if "{response_a}" not in self.template or "{response_b}" not in self.template:
            raise UserError(f"{self.name}: template needs {{response_a}} and {{response_b}}")

    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        items, baseline = data if data is not None else self.load_data()
        prompts = [build_instruction_prompt(engine.tokenizer, it["prompt"], self.chat_template)
                   for it in items]
        answers = generate_responses(engine, prompts, max_new_tokens=self.max_new_tokens,
                                     stop=list(self.stop), desc=self.name)
        others = [baseline[it["id"]] for it in items]
        verdicts = self.build_judge().judge(
            [self.judge_prompt(it["prompt"], a, b) for it, a, b in zip(items, answers, others, strict=True)]
            + [self.judge_prompt(it["prompt"], b, a) for it, a, b in zip(items, answers, others, strict=True)])
        n = len(items)
        rows = [build_row(it, p, a, b, verdicts[k], verdicts[n + k])
                for k, (it, p, a, b) in enumerate(zip(items, prompts, answers, others, strict=True))]
        fingerprint = compute_file_fingerprint(self.data)
        if self.baseline is not None:
            fingerprint += " baseline " + compute_file_fingerprint(self.baseline)
        return BenchmarkResult(name=self.name, metrics=build_metrics(self.name, rows),
                               settings=self.settings(), data_fingerprint=fingerprint,
                               samples=rows)

    def judge_prompt(self, instruction: str, response_a: str, response_b: str) -> str:
        return self.template.format(instruction=instruction, response_a=response_a,
                                    response_b=response_b)

    def build_judge(self) -> LocalJudge | EndpointJudge:
        """The judge, built once and kept: the same judge scores base and tuned."""
        if getattr(self, "_judge", None) is None:
            if self.judge_backend == "endpoint":
                self._judge = EndpointJudge(
                    base_url=str(self.judge_base_url), model=self.judge_model,
                    api_key_env=self.judge_api_key_env, timeout_s=self.judge_timeout_s,
                    retries=self.judge_retries, retry_wait_s=self.judge_retry_wait_s,
                    workers=self.judge_workers, max_tokens=self.judge_max_tokens)
            else:
                from curation.core.engine import build_engine  # torch: only for a local judge

                cfg = ModelConfig(name=Path(self.judge_model).name or self.judge_model,
                                  path=self.judge_model)
                self._judge = LocalJudge(build_engine(cfg, show_progress=False),
                                         chat_template=self.judge_chat_template)
        return self._judge


def load_baseline(path: str, name: str) -> dict[str, str]:
    """Baseline answers by id: ``generation`` (a samples file) or ``response`` (a reference set)."""
    if not Path(path).is_file():
        raise UserError(f"{name}: baseline file not found: {path}")
    answers = {}
    for row in read_jsonl(path):
        text = row.get("generation", row.get("response"))
        if "id" not in row or not isinstance(text, str):
            raise UserError(f"{name}: {path}: every row needs id and generation (or response)")
        answers[str(row["id"])] = text
    return answers


def build_row(item: dict[str, Any], prompt: str, answer: str, baseline: str,
              first: Verdict, second: Verdict) -> dict[str, Any]:
    """One samples row: both answers, both verdicts, and the candidate's preference."""
    preference = combine_verdicts(first, second)
    return {"id": item["id"], "group": item["group"], "prompt": prompt, "generation": answer,
            "prediction": answer, "references": [baseline], "score": preference,
            "length_diff": _words(answer) - _words(baseline),
            "verdicts": {"candidate_first": vars(first), "candidate_second": vars(second)}}


def build_metrics(name: str, rows: list[dict[str, Any]]) -> dict[str, Metric]:
    """Win rate, length-controlled win rate, position consistency and failure rate."""
    valid = [r for r in rows if r["score"] is not None]
    failures = Counter(v["error"] for r in rows if r["score"] is None
                       for v in r["verdicts"].values() if v["error"])
    metrics = {f"{name}/failure_rate": Metric((len(rows) - len(valid)) / len(rows), len(rows),
                                              higher_is_better=False)}
    if failures:
        log.warning("%s: %d of %d pairs failed to be judged (%s); left out of the win rates",
                    name, len(rows) - len(valid), len(rows), dict(sorted(failures.items())))
    if not valid:
        log.error("%s: no pair was judged; no win rate reported", name)
        return metrics
    prefs = [r["score"] for r in valid]
    metrics[f"{name}/win_rate"] = Metric(sum(prefs) / len(prefs), len(prefs))
    metrics[f"{name}/lc_win_rate"] = Metric(
        compute_lc_win_rate(prefs, [r["length_diff"] for r in valid]), len(prefs))
    metrics[f"{name}/position_consistency"] = Metric(
        sum(p != 0.5 for p in prefs) / len(prefs), len(prefs))
    return metrics


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))
