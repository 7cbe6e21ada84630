"""IFEval-format verifiable instruction following (Zhou et al., 2023; DESIGN §5, imitation panel).

Each item is a prompt carrying one or more instructions whose compliance a rule can check
(``instruction_id_list`` + ``kwargs``, as in IFEval's ``input_data.jsonl`` and the hub's
``google/IFEval``). Four scores, as IFEval reports them:

- ``prompt_strict`` / ``prompt_loose``: share of prompts whose every instruction is followed;
- ``instruction_strict`` / ``instruction_loose``: share of all instructions followed, with the
  split per instruction type in ``by_group``.

Loose scoring also accepts the response without its first and/or last line and with ``*``
removed (see :func:`evaluation.benchmarks.ifeval_checks.response_variants`).

Responses may be up to ``max_new_tokens`` long, lm-evaluation-harness's 1280 by default: a
response cut at the limit loses its end (end phrase, postscript, closing quote, word counts), so
``ifeval/at_limit`` reports the share of responses that reached it and each sample row says
whether it did (``tokens``: the response's length in tokens, re-encoded with the model's
tokenizer; ``at_limit``: 1.0 when that is ``max_new_tokens`` or more).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from curation.core.config import UserError
from curation.core.readers import iter_raw_rows

from ..results import BenchmarkResult, GroupScore, Metric
from .base import Benchmark
from .ifeval_checks import (
    CHECKS,
    REGEX_KWARGS,
    RELATIONS,
    check_instruction,
    language_codes,
    library_versions,
)
from .panels import IMITATION, MetricSpec
from .responses import build_instruction_prompt, generate_responses, prompt_format

RELATION_KWARGS = ("relation", "let_relation", "capital_relation")


@dataclass
class IFEval(Benchmark):
    """Generate a response to every prompt (greedy) and check each instruction, strict and loose."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "prompt_strict": MetricSpec(IMITATION),
        "prompt_loose": MetricSpec(IMITATION, arg="score_loose"),
        "instruction_strict": MetricSpec(IMITATION, item="instructions", arg="strict"),
        "instruction_loose": MetricSpec(IMITATION, item="instructions", arg="loose"),
        "at_limit": MetricSpec(IMITATION, arg="at_limit")}

    data: str  # a local input_data.jsonl (or .json/.parquet), or a hub name: google/IFEval
    name: str = "ifeval"
    split: str = "train"  # the hub split (google/IFEval has only train)
    chat_template: bool = True  # instruction as one user turn of the training chat template
    max_new_tokens: int = 1280  # lm-evaluation-harness's max_gen_toks
    stop: list[str] = field(default_factory=list)
    limit: int | None = None  # first n prompts, for smoke runs

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "prompt_format": prompt_format(self.chat_template),
                "decoding": "greedy",
                "metric": "IFEval prompt/instruction accuracy, strict and loose",
                "at_limit": "response re-encodes to max_new_tokens tokens or more",
                "checker_libraries": library_versions()}

    def load_data(self) -> tuple[list[dict[str, Any]], str]:
        """(checked items, fingerprint of all rows); a bad row fails here, naming it."""
        items = []
        for raw in iter_raw_rows(self.data, split=self.split):
            where = f"{self.name}: {raw.file}:{raw.line}"
            if raw.error is not None:
                raise UserError(f"{where}: {raw.error.reason}")
            items.append(parse_item(raw.value, where))
        if not items:
            raise UserError(f"{self.name}: no prompts in {self.data}")
        canonical = json.dumps(items, sort_keys=True, ensure_ascii=False).encode()
        fingerprint = "sha256:" + hashlib.sha256(canonical).hexdigest()
        return (items[:self.limit] if self.limit is not None else items), fingerprint

    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        items, fingerprint = data if data is not None else self.load_data()
        prompts = [build_instruction_prompt(engine.tokenizer, item["prompt"], self.chat_template)
                   for item in items]
        responses = generate_responses(engine, prompts, max_new_tokens=self.max_new_tokens,
                                       stop=list(self.stop), desc=self.name)
        rows = [{**score_item(item, prompt, response),
                 **length_fields(engine.tokenizer, response, self.max_new_tokens)}
                for item, prompt, response in zip(items, prompts, responses, strict=True)]
        return BenchmarkResult(name=self.name, metrics=build_metrics(self.name, rows),
                               settings=self.settings(), data_fingerprint=fingerprint,
                               samples=rows)


def parse_item(row: Any, where: str) -> dict[str, Any]:
    """One IFEval row, with ``kwargs`` stripped of the hub's null placeholders and checked."""
    if not isinstance(row, Mapping) or not {"key", "prompt", "instruction_id_list"} <= set(row):
        raise UserError(f"{where}: expected key, prompt, instruction_id_list and kwargs")
    ids = list(row["instruction_id_list"])
    # the hub's arrow schema gives every kwargs dict every key, unused ones as null
    kwargs = [{k: v for k, v in (kw or {}).items() if v is not None}
              for kw in row.get("kwargs") or [{}] * len(ids)]
    if len(kwargs) != len(ids) or not ids:
        raise UserError(f"{where}: {len(ids)} instructions but {len(kwargs)} kwargs")
    for instruction_id, kw in zip(ids, kwargs, strict=True):
        check_kwargs(instruction_id, kw, where)
    return {"key": row["key"], "prompt": str(row["prompt"]), "instruction_id_list": ids,
            "kwargs": kwargs}


def check_kwargs(instruction_id: str, kwargs: dict[str, Any], where: str) -> None:
    """Unknown instruction types, missing or unknown kwargs and bad values fail at load time."""
    if instruction_id not in CHECKS:
        raise UserError(f"{where}: unknown instruction type {instruction_id!r}")
    try:
        inspect.signature(CHECKS[instruction_id]).bind("", **kwargs)
    except TypeError as e:
        raise UserError(f"{where}: {instruction_id}: {e}") from None
    for key in RELATION_KWARGS:
        if key in kwargs and kwargs[key] not in RELATIONS:
            raise UserError(f"{where}: {instruction_id}: {key} must be one of {RELATIONS}")
    if kwargs.get("language", "en") not in language_codes():
        raise UserError(f"{where}: {instruction_id}: language {kwargs['language']!r} is not "
                        f"one langdetect knows ({', '.join(sorted(language_codes()))})")
    for key in REGEX_KWARGS:
        for pattern in _as_list(kwargs.get(key)):
            try:
                re.compile(pattern)
            except re.error as e:  # IFEval reads these as regular expressions
                raise UserError(f"{where}: {instruction_id}: {key} {pattern!r} is not a "
                                f"valid regular expression ({e})") from None


def _as_list(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def length_fields(tokenizer: Any, response: str, max_new_tokens: int) -> dict[str, Any]:
    """A sample's length in tokens and whether it reached the generation limit (None, None
    with no tokenizer to count with)."""
    if tokenizer is None:
        return {"tokens": None, "at_limit": None}
    tokens = len(tokenizer.encode(response, add_special_tokens=False))
    return {"tokens": tokens, "at_limit": float(tokens >= max_new_tokens)}


def score_item(item: Mapping[str, Any], prompt: str, response: str) -> dict[str, Any]:
    """One ``samples.jsonl`` row: the raw response and every instruction's strict/loose verdict."""
    checks = [{"id": i, "kwargs": kw, "strict": check_instruction(i, response, kw),
               "loose": check_instruction(i, response, kw, loose=True)}
              for i, kw in zip(item["instruction_id_list"], item["kwargs"], strict=True)]
    return {"id": str(item["key"]), "group": ",".join(item["instruction_id_list"]),
            "prompt": prompt, "generation": response, "prediction": response,
            "references": list(item["instruction_id_list"]), "instructions": checks,
            "score": float(all(c["strict"] for c in checks)),
            "score_loose": float(all(c["loose"] for c in checks))}


def build_metrics(name: str, rows: list[dict[str, Any]]) -> dict[str, Metric]:
    """Prompt- and instruction-level accuracy, strict and loose; instructions split by type."""
    metrics = {}
    for mode in ("strict", "loose"):
        prompt_scores = [float(all(c[mode] for c in r["instructions"])) for r in rows]
        metrics[f"{name}/prompt_{mode}"] = Metric(_mean(prompt_scores), len(prompt_scores))
        by_type: dict[str, list[float]] = {}
        for check in (c for r in rows for c in r["instructions"]):
            by_type.setdefault(check["id"], []).append(float(check[mode]))
        every = [s for scores in by_type.values() for s in scores]
        metrics[f"{name}/instruction_{mode}"] = Metric(
            _mean(every), len(every),
            by_group={k: GroupScore(_mean(v), len(v)) for k, v in sorted(by_type.items())})
    counted = [r["at_limit"] for r in rows if r.get("at_limit") is not None]
    if counted:
        metrics[f"{name}/at_limit"] = Metric(_mean(counted), len(counted), higher_is_better=False)
    return metrics


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
