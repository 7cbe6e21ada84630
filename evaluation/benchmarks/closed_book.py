"""Few-shot closed-book QA on short-answer facts, scored by exact match against any gold alias
(NQ-open rules; DESIGN §5, capability panel), split by relation group and by the SliCK knowledge
category curation's probe gave each fact."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from curation.core.chat import build_chat_qa_messages, build_qa_prompt, render_chat
from curation.core.config import UserError
from curation.core.io import compute_file_fingerprint
from curation.core.readers import iter_raw_rows, read_records

from ..results import BenchmarkResult, Metric, build_metric
from .base import Benchmark
from .metrics import compute_exact_match, extract_short_answer
from .panels import CAPABILITY, MetricSpec

log = logging.getLogger(__name__)


@dataclass
class ClosedBookQA(Benchmark):
    """Few-shot closed-book QA scored by exact match against any gold alias (NQ-open rules).

    Exemplars come from ``exemplar_split``: the first ``k_shots`` of the item's own group in
    file order, topped up from other groups when the group has too few, so every prompt has the
    same number of shots and prompts of one group share a prefix.

    An answer equal (normalised) to one of ``idk_answers`` is an abstention, not an error
    (DESIGN §5): ``abstention_rate`` counts them, ``hallucination_rate`` is wrong answers among
    the rest. When rows carry ``category_field`` (the SliCK category curation's probe assigned),
    each metric is also reported split by it, as ``<metric>,category``.
    """

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "exact_match": MetricSpec(CAPABILITY),
        "hallucination_rate": MetricSpec(CAPABILITY, item="answered_wrong"),
        "abstention_rate": MetricSpec(CAPABILITY, arg="abstained"),
        "*,category": MetricSpec(None)}  # the report's factuality section

    data: str
    name: str = "closed_book_qa"
    eval_split: str = "heldout"
    exemplar_split: str = "exemplar"
    k_shots: int = 4
    max_new_tokens: int = 16
    stop: list[str] = field(default_factory=lambda: ["\n"])
    chat_template: bool = False  # render with the training chat template instead of Q:/A: text
    idk_answers: list[str] = field(default_factory=lambda: ["I don't know."])  # select.idk_answer
    category_field: str | None = "probe_category"  # the probe's SliCK category; None: no split
    limit: int | None = None  # first n eval items, for smoke runs

    def settings(self) -> dict[str, Any]:
        fmt = "chat_template" if self.chat_template else "plain_few_shot"
        return {**super().settings(), "prompt_format": f"qa/{fmt}", "decoding": "greedy",
                "extraction": "first_line_stripped", "metric": "exact_match (any alias)"}

    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        from curation.core.engine import DecodeSettings  # torch: only when evaluating

        items, exemplars = data if data is not None else self.load_data()
        prompts = [self.build_prompt(item, exemplars, engine.tokenizer) for item in items]
        decode = DecodeSettings(max_new_tokens=self.max_new_tokens, stop=list(self.stop),
                                do_sample=False)
        generations = [outs[0] for outs in engine.generate(prompts, decode, desc=self.name)]
        rows = [self.score(item, prompt, text)
                for item, prompt, text in zip(items, prompts, generations, strict=True)]
        metrics = self.build_metrics(rows, "group", "")
        settings = self.settings()
        if any(row["category"] is not None for row in rows):
            metrics.update(self.build_metrics(rows, "category", ",category"))
            # which probe protocol gave the categories (quick ones are approximate)
            settings["category_protocol"] = ", ".join(self._read_protocols()) or "not recorded"
        return BenchmarkResult(name=self.name, metrics=metrics, settings=settings,
                               data_fingerprint=compute_file_fingerprint(self.data), samples=rows)

    def build_metrics(self, rows: list[dict[str, Any]], by: str, suffix: str
                      ) -> dict[str, Metric]:
        """Exact match, abstention and hallucination rates, split by the ``by`` field."""
        answered = [r for r in rows if not r["abstained"]]
        return {
            f"{self.name}/exact_match{suffix}": build_metric(
                [{"group": r[by], "score": r["score"]} for r in rows]),
            f"{self.name}/abstention_rate{suffix}": build_metric(
                [{"group": r[by], "score": float(r["abstained"])} for r in rows],
                higher_is_better=False),
            f"{self.name}/hallucination_rate{suffix}": build_metric(
                [{"group": r[by], "score": 1.0 - r["score"]} for r in answered],
                higher_is_better=False)}

    def load_data(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(eval items, exemplar pool) from the data file, split by the ``split`` field."""
        if not Path(self.data).is_file():
            raise UserError(f"{self.name}: data file not found: {self.data}")
        read = read_records(self.data, input_format="qa")
        for bad in read.rejections:
            log.warning("%s: skipped %s:%d (%s: %s)", self.name, bad.file, bad.line,
                        bad.field, bad.reason)
        categories = self._read_categories()
        items = [{**r, "category": categories.get(r["origin"])} for r in read.records
                 if r["split"] == self.eval_split]
        exemplars = [r for r in read.records if r["split"] == self.exemplar_split]
        if self.limit is not None:
            items = items[:self.limit]
        if not items:
            raise UserError(f"{self.name}: no rows with split {self.eval_split!r} in {self.data}")
        if len(exemplars) < self.k_shots:
            raise UserError(f"{self.name}: k_shots={self.k_shots} but {self.data} has only "
                            f"{len(exemplars)} rows with split {self.exemplar_split!r}")
        return items, exemplars

    def _read_categories(self) -> dict[str, str]:
        """``category_field`` of every row that has one, keyed by ``file:line`` (the records'
        ``origin``), since the record schema keeps only the QA fields."""
        if not self.category_field:
            return {}
        return {f"{raw.file}:{raw.line}": str(raw.value[self.category_field])
                for raw in iter_raw_rows(self.data)
                if isinstance(raw.value, dict) and raw.value.get(self.category_field) is not None}

    def _read_protocols(self) -> list[str]:
        """The distinct ``probe_protocol`` values of the data file (curation writes one per
        probed row, e.g. ``quick (3 prompts x 2 samples; approximate: SliCK uses 10 x 16)``)."""
        return sorted({str(raw.value["probe_protocol"]) for raw in iter_raw_rows(self.data)
                       if isinstance(raw.value, dict) and raw.value.get("probe_protocol")})

    def build_prompt(self, item: Mapping[str, Any], pool: list[dict[str, Any]],
                     tokenizer: Any) -> str:
        shots = [(ex["question"], ex["answers"][0]) for ex in self.pick_exemplars(item, pool)]
        if not self.chat_template:
            return build_qa_prompt(item["question"], shots)
        return render_chat(tokenizer, build_chat_qa_messages(item["question"], shots),
                           add_generation_prompt=True)

    def pick_exemplars(self, item: Mapping[str, Any], pool: list[dict[str, Any]]
                       ) -> list[dict[str, Any]]:
        others = [ex for ex in pool if ex["id"] != item["id"]]
        same = [ex for ex in others if ex["group"] == item["group"]]
        rest = [ex for ex in others if ex["group"] != item["group"]]
        return (same + rest)[:self.k_shots]

    def score(self, item: Mapping[str, Any], prompt: str, generation: str) -> dict[str, Any]:
        """One ``samples.jsonl`` row; the raw generation is kept so extraction can be audited."""
        prediction = extract_short_answer(generation)
        return {"id": item["id"], "group": item["group"], "category": item.get("category"),
                "prompt": prompt, "generation": generation, "prediction": prediction,
                "references": list(item["answers"]),
                "score": compute_exact_match(prediction, item["answers"]),
                "abstained": compute_exact_match(prediction, self.idk_answers) == 1.0}
