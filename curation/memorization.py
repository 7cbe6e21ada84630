"""Memorisation levels of QA facts over several completion templates (Ye et al., 2024; DESIGN §3.2).

For a fact (subject, relation, object): every completion template of the relation is filled
with the subject and sampled ``n_samples`` times; a hit is a sample that contains the object
(any gold alias, normalised, as whole words). R = hits / samples; level = 0 if R = 0 else
ceil(4R), so five levels 0-4.

A QA row has no subject field: the subject is recovered from its question with the relation's
question templates (EntityQuestions' ``relation_query_templates.json`` style, ``[X]`` marking
the subject: "Where was [X] born?" becomes a regex). Completion templates per relation come
from ``conf/memorization/*.yaml``: declarative ones ("[X] was born in") plus, with
``question_form``, each question template as a zero-shot "Q: ... A:" prompt (also the fallback
for a relation with no declarative templates).

The paper uses 21 templates per relation, 10 samples each; the shipped templates are 2-4
declarative ones per relation plus the question forms, so a level here is read off fewer
samples (the manifest's ``templates_per_relation`` and the card say how many). Add templates in
a config of your own (``templates:``) to get closer to the paper.

``select_levels`` keeps only the facts of the chosen level(s) (Ye et al. train on 60 or 240 facts
from one level; which level trains best depends on the model): ``MemorizationLevelFilter``.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasets import Dataset

from .core.answers import normalize_answer
from .core.cache import ResultCache, compute_key, map_cached
from .core.chat import build_qa_prompt
from .core.config import UserError
from .core.engine import DecodeSettings, GenerationEngine
from .core.records import is_short_answer
from .steps import Annotator, Filter, has_qa_rows

log = logging.getLogger(__name__)

MEM_VERSION = 1  # bump when prompts, matching or the stored record change: old cache rows miss
MEM_COLUMNS = ("probe_mem_rate", "probe_mem_level")
SUBJECT = "[X]"
PAPER_TEMPLATES = 21  # Ye et al. (2024): completion templates per relation, 10 samples each
LEVELS = range(5)


@dataclass
class MemorizationConfig:
    """Multi-template memorisation levels of QA rows (DESIGN §3.2)."""

    name: str = "default"
    enabled: bool = True
    n_samples: int = 10  # samples per template (paper: 10, over 21 templates)
    temperature: float = 0.7
    top_k: int = 0  # 0 = off
    top_p: float = 1.0
    max_new_tokens: int = 16
    question_form: bool = True  # add each question template as a "Q: ... A:" completion
    max_templates: int | None = None  # at most this many completions per relation (CPU runs)
    chunk_size: int = 64  # items per cache commit
    # an EntityQuestions-style JSON (relation -> question with [X]) whose questions are added
    query_templates_file: str | None = None
    questions: dict[str, list[str]] = field(default_factory=dict)  # relation -> questions
    templates: dict[str, list[str]] = field(default_factory=dict)  # relation -> completions
    # keep only facts of these levels (0-4), e.g. [4]; null: no selection by level
    select_levels: list[int] | None = None


@dataclass(frozen=True)
class RelationTemplates:
    """How to find a relation's subject in a question, and the prompts that test the object."""

    patterns: tuple[re.Pattern[str], ...]
    completions: tuple[str, ...]  # each holds one SUBJECT marker


def build_subject_pattern(template: str) -> re.Pattern[str]:
    """A regex that matches questions of ``template`` and captures the subject as ``subject``."""
    if template.count(SUBJECT) != 1:
        raise UserError(f"question template needs exactly one {SUBJECT}: {template!r}")
    before, after = (re.escape(part).replace(r"\ ", r"\s+") for part in template.split(SUBJECT))
    return re.compile(rf"\s*{before}(?P<subject>.+?){after}\s*",
                      re.IGNORECASE | re.DOTALL)


def extract_subject(question: str, patterns: tuple[re.Pattern[str], ...] | list) -> str | None:
    """The subject of the first pattern that matches the whole question, else None."""
    for pattern in patterns:
        m = pattern.fullmatch(question)
        if m and m.group("subject").strip():
            return m.group("subject").strip()
    return None


def load_relation_query_templates(path: str | Path) -> dict[str, list[str]]:
    """Relation -> question templates from an EntityQuestions ``relation_query_templates.json``;
    a ``P19_similar`` entry is a second question form of ``P19``."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for key in sorted(raw, key=lambda k: (k.endswith("_similar"), k)):
        out.setdefault(key.removesuffix("_similar"), []).append(raw[key])
    return out


def build_relation_templates(cfg: Any) -> dict[str, RelationTemplates]:
    """Per relation: subject patterns from its questions, and its completion templates.

    A relation without question templates is left out (its subjects cannot be found).
    """
    questions = {rel: list(qs) for rel, qs in cfg.questions.items()}
    if cfg.query_templates_file:
        for rel, qs in load_relation_query_templates(cfg.query_templates_file).items():
            questions.setdefault(rel, []).extend(q for q in qs if q not in questions[rel])
    out = {}
    for rel in sorted(set(questions) | set(cfg.templates)):
        completions = list(cfg.templates.get(rel, []))
        if not questions.get(rel):
            log.warning("memorization: relation %r has templates but no question to find its "
                        "subject in; skipped", rel)
            continue
        if cfg.question_form or not completions:
            completions += [build_qa_prompt(q, []) for q in questions[rel]]
        for c in completions:
            if c.count(SUBJECT) != 1:
                raise UserError(f"completion template needs exactly one {SUBJECT}: {c!r}")
        out[rel] = RelationTemplates(tuple(map(build_subject_pattern, questions[rel])),
                                     tuple(completions[:cfg.max_templates or None]))
    return out


def contains_answer(output: str, aliases: list[str]) -> bool:
    """Whether the normalised output contains any normalised alias as whole words."""
    text = f" {normalize_answer(output)} "
    return any(a and f" {a} " in text for a in map(normalize_answer, aliases))


def compute_memorization_level(rate: float) -> int:
    """0 if R = 0 else ceil(4R): 0.01 -> 1, 0.25 -> 1, 0.26 -> 2, 1.0 -> 4."""
    if rate <= 0:
        return 0
    return min(4, math.ceil(round(4 * rate, 9)))  # round: 4 * 0.35 must not become 1.4000001


def compute_level_from_counts(hits: int, total: int) -> int:
    """The level of ``hits`` out of ``total`` samples, in exact integer arithmetic."""
    return 0 if hits <= 0 else -(-4 * hits // total)


class MemorizationStep(Annotator):
    """Adds ``probe_mem_rate`` and ``probe_mem_level`` to QA rows whose relation (``group``)
    has templates and whose subject is found in the question; other rows get nulls, counted in
    ``self.counts`` (measured, not_qa, no_templates, no_subject)."""

    name = "memorization"

    def __init__(self, engine: GenerationEngine, cfg: Any, seed: int,
                 cache: ResultCache | None = None):
        self.engine, self.cfg, self.seed, self.cache = engine, cfg, seed, cache
        self.counts: Counter[str] = Counter()
        self.templates_used: dict[str, int] = {}

    @classmethod
    def from_config(cls, cfg, ds, context):
        if not (cfg.memorization.enabled and has_qa_rows(ds)):
            return []
        return [cls(context.engine(cfg.model.path, cfg.probe.batch_size), cfg.memorization,
                    cfg.seed, context.cache(cfg.model.path))]

    def stats(self) -> dict[str, Any]:
        return {"rows": dict(sorted(self.counts.items())),
                "templates_per_relation": dict(sorted(self.templates_used.items())),
                "paper_templates_per_relation": PAPER_TEMPLATES,
                "samples_per_template": max(1, self.cfg.n_samples)}

    def annotate(self, ds: Dataset) -> Dataset:
        relations = build_relation_templates(self.cfg)
        self.counts, self.templates_used = Counter(), {}
        items: list[tuple[int, list[str], list[str]]] = []  # (row index, prompts, aliases)
        for i, row in enumerate(ds.select_columns(["id", "question", "answers", "group"])):
            reason, prompts = self._prompts(row, relations)
            self.counts[reason] += 1
            if prompts:
                self.templates_used[row["group"]] = len(prompts)
                items.append((i, prompts, row["answers"]))
        columns: dict[str, list[Any]] = {c: [None] * len(ds) for c in MEM_COLUMNS}
        for (i, _, _), record in zip(items, self.measure([(p, a) for _, p, a in items]),
                                     strict=True):
            total = len(record["hits"]) * record["n"]
            columns["probe_mem_rate"][i] = sum(record["hits"]) / total
            columns["probe_mem_level"][i] = compute_level_from_counts(sum(record["hits"]), total)
        log.info("memorization: %s%s", dict(sorted(self.counts.items())),
                 f"; cache {self.cache.stats}" if self.cache is not None else "")
        for col in MEM_COLUMNS:
            ds = ds.add_column(col, columns[col])
        return ds

    def _prompts(self, row: dict[str, Any], relations: dict[str, RelationTemplates]
                 ) -> tuple[str, list[str]]:
        if not row["answers"] or not row["question"]:
            return "not_qa", []
        if not is_short_answer(row["answers"]):  # a worked solution is no fact's object
            return "long_answer", []
        rel = relations.get(row["group"])
        if rel is None:
            return "no_templates", []
        subject = extract_subject(row["question"], rel.patterns)
        if subject is None:
            return "no_subject", []
        return "measured", [c.replace(SUBJECT, subject) for c in rel.completions]

    def measure(self, items: list[tuple[list[str], list[str]]]) -> list[dict[str, Any]]:
        """For each (prompts, aliases): ``{"hits": [hits per prompt], "n": samples per prompt}``."""
        keys = [compute_key([prompts, aliases]) for prompts, aliases in items]
        return map_cached(keys, lambda todo: self._measure_chunk([items[t] for t in todo]),
                          cache=self.cache, kind="memorization", config=self.config_key(),
                          chunk_size=self.cfg.chunk_size, validate=self._valid)

    def config_key(self) -> str:
        cfg = self.cfg
        return compute_key({"version": MEM_VERSION, "seed": self.seed,
                            "n_samples": cfg.n_samples, "temperature": cfg.temperature,
                            "top_k": cfg.top_k, "top_p": cfg.top_p,
                            "max_new_tokens": cfg.max_new_tokens,
                            "kernel": getattr(self.engine, "kernel", "-")})

    def _valid(self, r: dict[str, Any]) -> bool:
        return (r["n"] == max(1, self.cfg.n_samples) and len(r["hits"]) > 0
                and all(isinstance(h, int) and 0 <= h <= r["n"] for h in r["hits"]))

    def _measure_chunk(self, items: list[tuple[list[str], list[str]]]) -> list[dict[str, Any]]:
        cfg = self.cfg
        settings = DecodeSettings(max_new_tokens=cfg.max_new_tokens, stop=["\n"], do_sample=True,
                                  temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p,
                                  num_return_sequences=max(1, cfg.n_samples), seed=self.seed)
        flat = [p for prompts, _ in items for p in prompts]
        outs = iter(self.engine.generate(flat, settings, desc="memorization (samples)"))
        return [{"hits": [sum(contains_answer(s, aliases) for s in next(outs)) for _ in prompts],
                 "n": max(1, cfg.n_samples)} for prompts, aliases in items]


class MemorizationLevelFilter(Filter):
    """Keeps only the facts whose memorisation level is one of ``levels``; every other row is
    dropped with its level, or as not measured (``memorization.select_levels``)."""

    name = "mem_level"

    def __init__(self, levels: list[int]):
        self.levels = sorted(set(levels))

    @classmethod
    def from_config(cls, cfg, ds, context):
        levels = cfg.memorization.select_levels
        if not levels:
            return []
        if not cfg.memorization.enabled:
            raise UserError("memorization.select_levels needs memorisation levels: set "
                            "memorization=default (or quick)")
        if any(level not in LEVELS for level in levels):
            raise UserError(f"memorization.select_levels={list(levels)}: levels are 0-4")
        return [cls(list(levels))]

    def decide(self, row: dict[str, Any]) -> str | None:
        level = row.get("probe_mem_level")
        if level is None:
            return "no memorisation level (not a QA fact whose relation has templates)"
        return None if level in self.levels else f"memorisation level {level} not in {self.levels}"
