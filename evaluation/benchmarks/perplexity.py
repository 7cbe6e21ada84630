"""Forgetting (DESIGN §5): perplexity of held-out general text, which fine-tuning should not raise.

Each paragraph (blank-line separated; line breaks inside it joined with spaces) of each ``.txt``
file is one document, scored on its own as the continuation of the BOS (else EOS) token by
``engine.loglikelihood``, as lm-eval's rolling log-likelihood starts a document.

- ``perplexity``: exp(total negative log-likelihood / total tokens), token-level, pooled over
  documents (not a mean of per-document perplexities).
- ``bits_per_byte``: total NLL / (ln 2 × total UTF-8 bytes); unlike perplexity it compares
  models with different tokenizers.

Both are split by file (the group is the file's stem) and lower is better.
"""

from __future__ import annotations

import glob
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from curation.core.config import UserError

from ..results import BenchmarkResult, GroupScore, Metric
from .base import Benchmark
from .fewshot import compute_rows_fingerprint
from .panels import CAPABILITY, MetricSpec

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def compute_perplexity(nll: float, tokens: int) -> float:
    """exp of the mean negative log-likelihood per token."""
    return math.exp(nll / tokens) if tokens else float("nan")


def compute_bits_per_byte(nll: float, n_bytes: int) -> float:
    """Negative log-likelihood in bits per UTF-8 byte of text."""
    return nll / (n_bytes * math.log(2)) if n_bytes else float("nan")


def split_documents(text: str) -> list[str]:
    """Paragraphs of a text, each on one line (wrapped lines joined by spaces)."""
    return [" ".join(p.split()) for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


@dataclass
class Perplexity(Benchmark):
    """Perplexity and bits per byte of general text (metric keys ``<name>/perplexity``,
    ``<name>/bits_per_byte``)."""

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "perplexity": MetricSpec(CAPABILITY, "pooled", "tokens", "exp"),
        "bits_per_byte": MetricSpec(CAPABILITY, "pooled", "bytes", "bits")}

    data: str  # a .txt file, a folder of .txt files, or a glob
    name: str = "perplexity"
    limit: int | None = None  # first n documents

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "document": "paragraph", "conditioning": "bos",
                "metrics": ["perplexity (token-level)", "bits_per_byte"]}

    def load_data(self) -> list[dict[str, Any]]:
        files = self._files()
        docs = [{"id": f"{path.stem}:{k}", "group": path.stem, "text": text}
                for path in files
                for k, text in enumerate(split_documents(path.read_text(encoding="utf-8")))]
        docs = docs[:self.limit] if self.limit is not None else docs
        if not docs:
            raise UserError(f"{self.name}: no text in {self.data}")
        return docs

    def evaluate(self, engine: Any, data: Any = None) -> BenchmarkResult:
        docs = data if data is not None else self.load_data()
        tokens = [len(engine.tokenizer.encode(d["text"], add_special_tokens=False)) for d in docs]
        longest = max(tokens)
        if getattr(engine, "max_length", None) and longest > engine.max_length:
            raise UserError(f"{self.name}: a paragraph has {longest} tokens, more than the "
                            f"model's {engine.max_length}; split it with a blank line")
        scores = engine.loglikelihood([("", d["text"]) for d in docs], desc=self.name)
        rows = [{"id": d["id"], "group": d["group"], "text": d["text"], "tokens": n,
                 "bytes": len(d["text"].encode("utf-8")), "loglikelihood": ll,
                 "score": compute_perplexity(-ll, n)}
                for d, n, (ll, _) in zip(docs, tokens, scores, strict=True)]
        metrics = {f"{self.name}/perplexity": build_pooled_metric(rows, "perplexity"),
                   f"{self.name}/bits_per_byte": build_pooled_metric(rows, "bits_per_byte")}
        return BenchmarkResult(name=self.name, metrics=metrics, settings=self.settings(),
                               data_fingerprint=compute_rows_fingerprint(docs), samples=rows)

    def _files(self) -> list[Path]:
        path = Path(self.data).expanduser()
        if path.is_dir():
            files = sorted(path.glob("*.txt"))
        elif any(ch in self.data for ch in "*?["):
            files = sorted(Path(p) for p in glob.glob(str(path)))
        else:
            files = [path] if path.is_file() else []
        if not files:
            raise UserError(f"{self.name}: no text files at {self.data}")
        return files


def build_pooled_metric(rows: list[dict[str, Any]], kind: str) -> Metric:
    """Perplexity or bits per byte pooled over all rows and per group; n counts documents."""
    def pooled(part: list[dict[str, Any]]) -> float:
        nll = -sum(r["loglikelihood"] for r in part)
        if kind == "perplexity":
            return compute_perplexity(nll, sum(r["tokens"] for r in part))
        return compute_bits_per_byte(nll, sum(r["bytes"] for r in part))

    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    by_group = {g: GroupScore(pooled(part), len(part)) for g, part in sorted(groups.items())}
    return Metric(pooled(rows), len(rows), higher_is_better=False, by_group=by_group)
