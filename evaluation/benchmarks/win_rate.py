"""Pairwise judged win rate, with positions swapped and a length-controlled variant
(DESIGN §5, imitation panel).

The evaluated model answers every prompt of a reference set; a judge compares each answer with
a baseline answer to the same prompt twice, once as A/B and once as B/A. Both orders agreeing
give a win or a loss; disagreeing orders (position bias) give a tie worth 1/2. A pair whose
judge failed in either order is counted in ``judge/failure_rate`` and left out of the win rates:
a failure is never turned into a verdict.

Length control (AlpacaEval 2 regresses the preference on the length difference and reads the
win rate off at zero difference, so a judge that simply prefers longer answers does not reward
a model for rambling) comes as two metrics, each named after its estimator:

- ``judge/length_adjusted_win_rate`` (always): the same GLM without the terms only AlpacaEval's
  hub data gives, ``logit P(win) = θ + β·tanh(Δwords / sd)``, fitted without any penalty (see
  :func:`fit_length_adjusted`). The report bootstraps it over judged pairs.
- ``judge/lc_win_rate`` (only on AlpacaEval's own instructions, ``alpaca_eval_set``, with the
  optional ``alpaca-eval`` package and the Hugging Face hub reachable): AlpacaEval's
  ``get_length_controlled_winrate`` (GLM ``length_controlled_v1``: tanh of the standardised
  length difference in characters + instruction difficulty + the not-gamed-baseline term, L1
  with cross-validation), with a percentile interval over pairs from ``lc_bootstrap_samples``
  refits (``judge/lc_win_rate_low`` / ``_high``).

The setting ``length_control_used`` in the results says which estimators ran, and why AlpacaEval's
did not.

The baseline answers are the reference set's own responses, or any earlier evaluation's
``samples/<benchmark>.jsonl`` (rows with ``id`` and ``generation``): that is how a tuned model is
judged against its base (see ``conf/suite/judge.yaml``).
"""

from __future__ import annotations

import logging
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
from .length_control import (  # noqa: F401  (re-exported: the report and tests use them here)
    ALPACA_GLM,
    compute_alpaca_eval_lc,
    compute_length_adjusted_win_rate,
    fit_length_adjusted,
    load_alpaca_eval_set,
)
from .panels import IMITATION, MetricSpec
from .responses import build_instruction_prompt, generate_responses, load_reference, prompt_format

log = logging.getLogger(__name__)

JUDGE_TEMPLATE = (
    "Compare two responses to the same instruction and decide which one is better: more "
    "helpful, more accurate and clearer. Do not let the order of the responses or their "
    "length decide.\n\n[Instruction]\n{instruction}\n\n[Response A]\n{response_a}\n\n"
    "[Response B]\n{response_b}\n\nWhich response is better? Answer with a single letter: A or B.")


LENGTH_ADJUSTED = "length_adjusted_win_rate"  # this module's GLM: see fit_length_adjusted
ALPACA_LC = "lc_win_rate"  # AlpacaEval 2's own estimator (alpaca-eval package, hub data)
LENGTH_ADJUSTED_ESTIMATOR = ("unpenalised logistic GLM, preference ~ 1 + tanh(word-length "
                             "difference / sd), read at zero difference (Firth if separated)")


def combine_verdicts(first: Verdict, second: Verdict) -> float | None:
    """The candidate's preference from (candidate as A, candidate as B): 1 win, 0 loss,
    1/2 when the two orders disagree, None when either judgment failed."""
    if first.choice is None or second.choice is None:
        return None
    wins = (first.choice == "A") + (second.choice == "B")
    return wins / 2


@dataclass
class PairwiseJudge(Benchmark):
    """Judge the model's answers against baseline answers, both orders; see the module doc."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "win_rate": MetricSpec(IMITATION),
        LENGTH_ADJUSTED: MetricSpec(IMITATION, item="preference_length",
                                    transform="length_adjusted"),
        # AlpacaEval's fit needs its hub data: no per-item form the report could refit
        ALPACA_LC: MetricSpec(IMITATION, item=None),
        f"{ALPACA_LC}_low": MetricSpec(None),  # its percentile interval, shown beside it
        f"{ALPACA_LC}_high": MetricSpec(None),
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
    # auto: AlpacaEval's estimator too where it applies (see the module doc); length_adjusted:
    # only this module's GLM
    length_control: str = "auto"
    alpaca_eval_set: str | None = None  # AlpacaEval's instructions: a JSON list of {instruction}
    lc_bootstrap_samples: int = 100  # AlpacaEval refits for judge/lc_win_rate's interval
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
        self.alpaca_eval_indices(items)  # a missing or malformed set fails here
        return items, baseline

    def alpaca_eval_indices(self, items: list[dict[str, Any]]) -> list[int] | None:
        """Each item's index among AlpacaEval's instructions (``alpaca_eval_set``), or None
        when the set is not given, ``length_control`` is not auto, or a prompt is not one of
        them (AlpacaEval's instruction difficulties are known only for its own instructions)."""
        if self.length_control == "length_adjusted" or self.alpaca_eval_set is None:
            return None
        index = load_alpaca_eval_set(self.alpaca_eval_set, self.name)
        found = [index.get(it["prompt"].strip()) for it in items]
        if None in found:
            log.info("%s: %d of %d prompts are not AlpacaEval instructions: length-adjusted "
                     "win rate only", self.name, found.count(None), len(found))
            return None
        return found

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
        if self.length_control not in ("auto", "length_adjusted"):
            raise UserError(f"{self.name}: length_control must be auto or length_adjusted, "
                            f"got {self.length_control!r}")

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
        indices = self.alpaca_eval_indices(items)
        for row, index in zip(rows, indices or [], strict=False):
            row["alpaca_eval_index"] = index
        metrics = build_metrics(self.name, rows)
        used = f"{LENGTH_ADJUSTED}: {LENGTH_ADJUSTED_ESTIMATOR}"
        if indices is not None and f"{self.name}/win_rate" in metrics:
            alpaca, how = self.alpaca_eval_metrics(rows)
            metrics.update(alpaca)
            used += f"; {ALPACA_LC}: {how}"
        fingerprint = compute_file_fingerprint(self.data)
        if self.baseline is not None:
            fingerprint += " baseline " + compute_file_fingerprint(self.baseline)
        return BenchmarkResult(name=self.name, metrics=metrics,
                               settings={**self.settings(), "length_control_used": used},
                               data_fingerprint=fingerprint, samples=rows)

    def alpaca_eval_metrics(self, rows: list[dict[str, Any]]) -> tuple[dict[str, Metric], str]:
        """AlpacaEval's length-controlled win rate and its percentile interval over pairs, and
        what produced them; ({}, why not) when the package or the hub is not there: the
        number is never filled in by another estimator under this name."""
        valid = [r for r in rows if r["score"] is not None]
        try:
            value, low, high, version = compute_alpaca_eval_lc(
                valid, samples=self.lc_bootstrap_samples, seed=0)
        except Exception as e:  # ImportError, no hub, a library change: the report goes on
            log.warning("%s: AlpacaEval's length-controlled win rate not computed (%s: %s); "
                        "length-adjusted win rate only", self.name, type(e).__name__, e)
            return {}, f"not computed ({type(e).__name__}: {str(e).splitlines()[0][:200]})"
        n, key = len(valid), f"{self.name}/{ALPACA_LC}"
        metrics = {key: Metric(value, n)}
        if self.lc_bootstrap_samples > 0:
            metrics |= {f"{key}_low": Metric(low, n), f"{key}_high": Metric(high, n)}
        return metrics, (f"alpaca-eval {version} get_length_controlled_winrate "
                         f"({ALPACA_GLM}); 95% percentile interval over "
                         f"{self.lc_bootstrap_samples} resamples of pairs")

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
    """Win rate, length-adjusted win rate, position consistency and failure rate."""
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
    metrics[f"{name}/{LENGTH_ADJUSTED}"] = Metric(
        compute_length_adjusted_win_rate(prefs, [r["length_diff"] for r in valid]), len(prefs))
    metrics[f"{name}/position_consistency"] = Metric(
        sum(p != 0.5 for p in prefs) / len(prefs), len(prefs))
    return metrics


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))
