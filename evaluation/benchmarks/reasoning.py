"""Few-shot generation scored by answer extraction and exact match: GSM8K-style reasoning by
default (lm-eval's ``gsm8k`` task: 5 random shots, strict ``#### n`` and flexible last-number
extraction, commas, ``$``, the worked solution and a final period ignored), and any other
``generate_until`` task declared the same way (the peer closed-book QA, for one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from curation.core.answers import (  # shared with probing (final-answer rows)
    GSM8K_IGNORE,
    Extraction,
    compute_lmeval_exact_match,
    extract_answer,
    gsm8k_filters,
)
from curation.core.config import UserError

from ..results import BenchmarkResult, build_metric
from .fewshot import FewShotBenchmark, compute_rows_fingerprint, render_list
from .panels import CAPABILITY, MetricSpec


@dataclass
class FewShotGeneration(FewShotBenchmark):
    """Greedy few-shot generation, one exact-match metric per extraction filter
    (``<name>/exact_match,<filter>``); defaults are lm-eval's ``gsm8k`` (v3)."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "exact_match,*": MetricSpec(CAPABILITY, arg="scores.{0}")}

    name: str = "gsm8k"
    k_shots: int = 5
    doc_to_target: str = "{{answer}}"  # a list (``{{answers}}``) means any alias counts
    stop: list[str] = field(default_factory=lambda: ["Question:", "</s>", "<|im_end|>"])
    max_new_tokens: int = 256  # lm-eval's default max_gen_toks
    filters: list[Extraction] = field(default_factory=gsm8k_filters)
    regexes_to_ignore: list[str] = field(default_factory=lambda: list(GSM8K_IGNORE))
    ignore_case: bool = True
    ignore_punctuation: bool = False

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "decoding": "greedy", "metric": "exact_match (lm-eval)"}

    def load_data(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if not self.filters:
            raise UserError(f"{self.name}: filters is empty; every score needs an extraction")
        return super().load_data()

    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        from curation.core.engine import DecodeSettings  # torch: only when evaluating

        items, pool = data if data is not None else self.load_data()
        prompts = self.build_prompts(items, pool, engine.tokenizer)
        decode = DecodeSettings(max_new_tokens=self.max_new_tokens, stop=list(self.stop),
                                do_sample=False)
        generations = [outs[0] for outs in engine.generate(prompts, decode, desc=self.name)]
        rows = [self.score(i, item, prompt, text) for i, (item, prompt, text)
                in enumerate(zip(items, prompts, generations, strict=True))]
        metrics = {f"{self.name}/exact_match,{f.name}": build_metric(
            [{"group": r["group"], "score": r["scores"][f.name]} for r in rows])
            for f in self.filters}
        return BenchmarkResult(name=self.name, metrics=metrics, settings=self.settings(),
                               data_fingerprint=compute_rows_fingerprint(items, pool),
                               samples=rows)

    def references(self, row: dict[str, Any]) -> list[str]:
        target = render_list(self.doc_to_target, row)
        return [str(t) for t in target] if isinstance(target, list) else [str(target)]

    def shot_answer(self, row: dict[str, Any]) -> str:
        return self.references(row)[0]  # lm-eval shows the first of several targets

    def score(self, index: int, item: dict[str, Any], prompt: str, generation: str
              ) -> dict[str, Any]:
        """One ``samples.jsonl`` row: the raw generation, each filter's answer and score."""
        references = self.references(item)
        norm = {"regexes_to_ignore": self.regexes_to_ignore, "ignore_case": self.ignore_case,
                "ignore_punctuation": self.ignore_punctuation}
        extracted = {f.name: extract_answer(generation, f) for f in self.filters}
        scores = {k: compute_lmeval_exact_match(v, references, **norm)
                  for k, v in extracted.items()}
        first = self.filters[0].name
        return {"id": item.get("id", index), "group": self.group_of(item), "prompt": prompt,
                "generation": generation, "prediction": extracted[first], "extracted": extracted,
                "references": references, "scores": scores, "score": scores[first]}
