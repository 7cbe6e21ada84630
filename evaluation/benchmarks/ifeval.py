"""IFEval-format verifiable instruction following (Zhou et al., 2023; DESIGN §5, imitation panel).

Each item is a prompt carrying one or more instructions whose compliance a rule can check
(``instruction_id_list`` + ``kwargs``, as in IFEval's ``input_data.jsonl`` and the hub's
``google/IFEval``). Four scores, as IFEval reports them:

- ``prompt_strict`` / ``prompt_loose``: share of prompts whose every instruction is followed;
- ``instruction_strict`` / ``instruction_loose``: share of all instructions followed, with the
  split per instruction type in ``by_group``.

Loose scoring also accepts the response without its first and/or last line and with ``*``
removed (see :func:`evaluation.benchmarks.ifeval_checks.response_variants`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from curation.core.config import UserError
from curation.core.readers import iter_raw_rows

from ..results import BenchmarkResult, GroupScore, Metric
from .base import Benchmark
from .ifeval_checks import CHECKS, RELATIONS, check_instruction
from .language import LANGUAGES
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
        "instruction_loose": MetricSpec(IMITATION, item="instructions", arg="loose")}

    data: str  # a local input_data.jsonl (or .json/.parquet), or a hub name: google/IFEval
    name: str = "ifeval"
    split: str = "train"  # the hub split (google/IFEval has only train)
    chat_template: bool = True  # instruction as one user turn of the training chat template
    max_new_tokens: int = 512  # lm-evaluation-harness allows 1280; long-answer items need ~400
    stop: list[str] = field(default_factory=list)
    limit: int | None = None  # first n prompts, for smoke runs

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "prompt_format": prompt_format(self.chat_template),
                "decoding": "greedy",
                "metric": "IFEval prompt/instruction accuracy, strict and loose"}

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
        rows = [score_item(item, prompt, response)
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
    if kwargs.get("language", "en") not in LANGUAGES:
        raise UserError(f"{where}: {instruction_id}: language {kwargs['language']!r} is not "
                        f"one the detector knows ({', '.join(sorted(LANGUAGES))})")


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
    return metrics


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
