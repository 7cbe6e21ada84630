"""Knowledge probing of QA rows, SliCK-style (Gekhman et al., 2024; DESIGN §3.1).

For each item: ``n_prompts`` few-shot prompts, each with ``k_shots`` exemplars from the same
group (never the item itself); one greedy answer per prompt, plus ``n_samples`` samples per
prompt at a temperature. Correct = normalised exact match against any gold alias.

- P_greedy = share of prompts whose greedy answer is correct (always measured in full).
- HighlyKnown: P_greedy = 1. MaybeKnown: 0 < P_greedy < 1. WeaklyKnown: P_greedy = 0 and some
  sample correct. Unknown: neither.

The shortcut (``shortcut: true``, the default) samples only items with no correct greedy answer
and stops sampling an item after the first prompt whose samples include a correct one. The
categories are the same as the full protocol's, since a sample depends only on its prompt, the
seed and its index (the engine seeds each one), never on what else was drawn. What is stored is
what was measured:

- ``probe_n_samples``: samples drawn; ``probe_n_sample_hits``: how many of them were correct.
- ``probe_p_sample``: the sample hit rate where every sample of the protocol was drawn (the full
  protocol; or the shortcut for an item none of whose samples was correct, where it is 0.0),
  and null otherwise: an item that stopped early only has P_sample > 0, and an unsampled one
  has no measurement at all.

Which rows are probed, and how (``probe_kind``):

- ``short_answer``: gold answers that are short (``curation.core.records.is_short_answer``):
  SliCK as above, ``Q: … A:`` prompts, the first line of each answer against any alias.
- ``final_answer``: gold answers that are worked solutions (GSM8K: lines ending ``#### 72``),
  only when ``final_answer`` names an extractor (``gsm8k``): the same prompts and rates, with
  ``Question: … Answer:`` shots carrying worked solutions, a solution generated up to
  ``solution_max_new_tokens``, and "correct" meaning its final answer matches the gold one by
  the reasoning benchmark's extraction and normalisation: P_correct is "the model already
  solves it".
- any other row with long-form answers is not probed (null columns): it is open-ended, scored by
  likelihood (NLL, IFD) in ``curation.scores``. Exact match against a whole solution would call
  every such row Unknown.

``quick`` (3 prompts x 2 samples) is an approximation of SliCK's 10 x 16: HighlyKnown is easier
to reach (all of 3 greedy answers right, not all of 10) and WeaklyKnown rarer (6 samples, not
160); ``approximate_protocol`` says so, and the card marks such categories approximate.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from datasets import Dataset

from .answer_checks import (
    AnswerCheck,
    approximate_protocol,
    build_checks,
    describe_protocol,
    probe_kind,
)
from .core.cache import ResultCache, compute_key, map_cached
from .core.chat import build_qa_prompt
from .core.config import UserError
from .core.engine import DecodeSettings, GenerationEngine
from .core.records import KnowledgeCategory
from .steps import Annotator, has_long_answer_rows, has_qa_rows

__all__ = ["PROBE_COLUMNS", "ProbeConfig", "SlickProbe", "approximate_protocol",
           "build_probe_prompts", "categorize", "describe_protocol", "summarize_probe"]

log = logging.getLogger(__name__)

PROBE_VERSION = 2  # bump when prompts, matching or the stored record change: old cache rows miss


@dataclass
class ProbeConfig:
    """SliCK-style knowledge probing of QA rows (DESIGN §3.1)."""

    name: str = "quick"
    enabled: bool = True
    n_prompts: int = 3  # few-shot prompts per item (paper: 10)
    k_shots: int = 4  # exemplars per prompt, same group, never the item itself
    n_samples: int = 2  # samples per prompt at `temperature` (paper: 16)
    temperature: float = 0.5
    top_k: int = 40
    max_new_tokens: int = 16
    # sample only when no greedy answer was right, and stop at the first right sample: the
    # categories are the same as the full protocol at about half the cost
    shortcut: bool = True
    batch_size: int = 16
    chunk_size: int = 64  # items per cache commit: a killed run redoes at most one chunk
    # rows whose gold answer is a worked solution: null leaves them to likelihood scoring;
    # "gsm8k" (or "gsm8k_flexible") probes whether the model already solves them
    final_answer: str | None = None
    solution_max_new_tokens: int = 256  # lm-eval gsm8k's max_gen_toks


PROBE_COLUMNS = ("probe_p_greedy", "probe_p_sample", "probe_n_samples", "probe_n_sample_hits",
                 "probe_category", "probe_known", "probe_kind", "probe_protocol")


def categorize(p_greedy: float, p_sample: float | None) -> KnowledgeCategory:
    """SliCK's four categories from the greedy hit rate and the sampled one.

    ``p_sample`` only matters when ``p_greedy`` is 0; any positive value means some sample was
    correct, and None means nothing was sampled (treated as no correct sample).
    """
    if p_greedy >= 1.0:
        return KnowledgeCategory.HIGHLY_KNOWN
    if p_greedy > 0.0:
        return KnowledgeCategory.MAYBE_KNOWN
    if p_sample:
        return KnowledgeCategory.WEAKLY_KNOWN
    return KnowledgeCategory.UNKNOWN


def build_probe_prompts(rows: list[dict[str, Any]], n_prompts: int, k_shots: int, seed: int,
                        build: Any = build_qa_prompt) -> list[list[str]]:
    """``n_prompts`` few-shot prompts per row, exemplars from the row's own group.

    Prompt j of a group draws two disjoint seeded exemplar sets: items outside the first set
    use it, the items in it use the second (topped up from the first where the group is small),
    so no item is its own exemplar and the engine encodes each few-shot prefix once, not once
    per item.
    """
    by_group: dict[str | None, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_group[r["group"]].append(i)
    prompts: list[list[str]] = [[] for _ in rows]
    for group, members in sorted(by_group.items(), key=lambda kv: str(kv[0])):
        members = sorted(members, key=lambda i: rows[i]["id"])
        for j in range(n_prompts):
            drawn = random.Random(f"{seed}:{group}:{j}").sample(members, len(members))
            first, second = drawn[:k_shots], drawn[k_shots:2 * k_shots] + drawn[:k_shots]
            for i in members:
                pool = first if i not in first else second
                shots = [c for c in pool
                         if c != i and rows[c]["question"] != rows[i]["question"]][:k_shots]
                prompts[i].append(build(
                    rows[i]["question"],
                    [(rows[c]["question"], rows[c]["answers"][0]) for c in shots]))
    return prompts


def summarize_probe(record: dict[str, Any], n_prompts: int) -> dict[str, Any]:
    """The probe columns of one item from its stored record (see the module docstring)."""
    p_greedy = record["greedy_hits"] / n_prompts
    drawn, hits = record["n_samples"], record["sample_hits"]
    category = categorize(p_greedy, hits / drawn if drawn else None)
    return {"probe_p_greedy": p_greedy,
            "probe_p_sample": hits / drawn if drawn and record["complete"] else None,
            "probe_n_samples": drawn, "probe_n_sample_hits": hits,
            "probe_category": category.value, "probe_known": category.known}


class SlickProbe(Annotator):
    """Adds the ``PROBE_COLUMNS`` to the rows it can probe (see the module doc: short-answer
    QA, and worked solutions when ``final_answer`` is set); other rows get nulls.

    With a ``cache``, results are looked up per item before generating and committed after
    each chunk of ``cfg.chunk_size`` items, so a killed run resumes where it stopped.
    """

    name = "probe"

    def __init__(self, engine: GenerationEngine, cfg: Any, seed: int,
                 cache: ResultCache | None = None):
        self.engine, self.cfg, self.seed, self.cache = engine, cfg, seed, cache
        self.checks = build_checks(cfg)
        self.counts: dict[str, int] = {}

    @classmethod
    def from_config(cls, cfg, ds, context):
        probed = has_qa_rows(ds) or (cfg.probe.final_answer is not None
                                     and has_long_answer_rows(ds))
        if not (cfg.probe.enabled and probed):
            return []
        return [cls(context.engine(cfg.model.path, cfg.probe.batch_size), cfg.probe, cfg.seed,
                    context.cache(cfg.model.path))]

    def stats(self) -> dict[str, Any]:
        return {"protocol": describe_protocol(self.cfg), "rows_by_kind": dict(self.counts)}

    def annotate(self, ds: Dataset) -> Dataset:
        kinds = [probe_kind(a, self.checks) for a in ds["answers"]]
        columns: dict[str, list[Any]] = {c: [None] * len(ds) for c in PROBE_COLUMNS}
        self.counts, protocol = {}, describe_protocol(self.cfg)
        for kind, check in self.checks.items():
            idx = [i for i, k in enumerate(kinds) if k == kind]
            self.counts[kind] = len(idx)
            records = self.probe([ds[i] for i in idx], check) if idx else []
            for i, record in zip(idx, records, strict=True):
                for col, value in summarize_probe(record, self.cfg.n_prompts).items():
                    columns[col][i] = value
                columns["probe_kind"][i] = kind
                columns["probe_protocol"][i] = protocol
        self.counts["not_probed"] = kinds.count(None)
        log.info("probe %s: rows by kind %s", describe_protocol(self.cfg), self.counts)
        if self.cache is not None:
            log.info("probe cache %s: %s", self.cache.path, self.cache.stats)
        for col in PROBE_COLUMNS:
            ds = ds.add_column(col, columns[col])
        return ds

    def probe(self, rows: list[dict[str, Any]], check: AnswerCheck | None = None
              ) -> list[dict[str, Any]]:
        """One record per row: greedy answers and hits, samples drawn and correct, and whether
        every sample of the protocol was drawn (``complete``)."""
        cfg = self.cfg
        check = check or self.checks["short_answer"]
        if cfg.n_prompts < 1 or cfg.n_samples < 0:
            raise UserError(f"probe needs n_prompts >= 1 and n_samples >= 0, got "
                            f"{cfg.n_prompts} and {cfg.n_samples}")
        prompts = build_probe_prompts(rows, cfg.n_prompts, cfg.k_shots, self.seed, check.prompt)
        # chunks follow the groups, so a chunk's prompts share their few-shot prefixes
        order = sorted(range(len(rows)), key=lambda i: (str(rows[i]["group"]), rows[i]["id"]))
        keys = [compute_key([rows[i]["question"], rows[i]["answers"], prompts[i]])
                for i in order]
        records = map_cached(
            keys, lambda todo: self._probe_chunk([rows[order[t]] for t in todo],
                                                 [prompts[order[t]] for t in todo], check),
            cache=self.cache, kind="slick" if check.final is None else "solve",
            config=self.config_key(check), chunk_size=cfg.chunk_size, validate=self._valid)
        out: list[dict[str, Any]] = [{}] * len(rows)
        for t, i in enumerate(order):
            out[i] = records[t]
        return out

    def config_key(self, check: AnswerCheck | None = None) -> str:
        """Hash of every setting that changes a record (not batch or chunk sizes)."""
        cfg = self.cfg
        settings = {"version": PROBE_VERSION, "seed": self.seed,
                    "n_prompts": cfg.n_prompts, "k_shots": cfg.k_shots,
                    "n_samples": cfg.n_samples, "temperature": cfg.temperature,
                    "top_k": cfg.top_k, "max_new_tokens": cfg.max_new_tokens,
                    "shortcut": cfg.shortcut, "kernel": getattr(self.engine, "kernel", "-")}
        if check is not None and check.final is not None:
            settings.update(final_answer=check.final.name, max_new_tokens=check.max_new_tokens)
        return compute_key(settings)

    def _valid(self, r: dict[str, Any]) -> bool:
        n, s = self.cfg.n_prompts, max(0, self.cfg.n_samples)
        return (len(r["greedy"]) == n and all(isinstance(a, str) for a in r["greedy"])
                and 0 <= r["greedy_hits"] <= n and isinstance(r["complete"], bool)
                and 0 <= r["sample_hits"] <= r["n_samples"] <= n * s
                and r["n_samples"] % max(1, s) == 0)

    def _probe_chunk(self, rows: list[dict[str, Any]], prompts: list[list[str]],
                     check: AnswerCheck) -> list[dict[str, Any]]:
        cfg = self.cfg
        flat = [p for item in prompts for p in item]
        greedy = self.engine.generate(flat, DecodeSettings(
            max_new_tokens=check.max_new_tokens, stop=list(check.stop)),
            desc=f"probing {check.kind} (greedy)")
        records = []
        for i, row in enumerate(rows):
            answers = [check.answer(greedy[i * cfg.n_prompts + j][0])
                       for j in range(cfg.n_prompts)]
            records.append({"greedy": answers, "greedy_hits": check.hits(answers, row["answers"]),
                            "sample_hits": 0, "n_samples": 0, "complete": False})
        self._sample(rows, prompts, records, check)
        return records

    def _sample(self, rows, prompts, records, check: AnswerCheck) -> None:
        """Draw samples prompt by prompt into ``records`` (the shortcut skips and stops early)."""
        cfg = self.cfg
        todo = [i for i, r in enumerate(records) if cfg.n_samples > 0
                and (r["greedy_hits"] == 0 or not cfg.shortcut)]
        settings = DecodeSettings(max_new_tokens=check.max_new_tokens, stop=list(check.stop),
                                  do_sample=True, temperature=cfg.temperature, top_k=cfg.top_k,
                                  num_return_sequences=cfg.n_samples, seed=self.seed)
        for j in range(cfg.n_prompts):
            active = [i for i in todo if not (cfg.shortcut and records[i]["sample_hits"])]
            if not active:
                break
            outs = self.engine.generate([prompts[i][j] for i in active], settings,
                                        desc=f"probing {check.kind} (samples, prompt {j + 1})")
            for i, samples in zip(active, outs, strict=True):
                records[i]["n_samples"] += len(samples)
                records[i]["sample_hits"] += check.hits(map(check.answer, samples),
                                                        rows[i]["answers"])
        for i in todo:  # every prompt's samples drawn: the rate is measured, not bounded
            records[i]["complete"] = records[i]["n_samples"] == cfg.n_prompts * cfg.n_samples
