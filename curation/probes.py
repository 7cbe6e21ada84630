"""Knowledge probing of QA rows, SliCK-style (Gekhman et al., 2024; DESIGN §3.1).

For each item: ``n_prompts`` few-shot prompts, each with ``k_shots`` exemplars from the same
group (never the item itself); one greedy answer per prompt, plus samples at a temperature.
P_greedy / P_sample are the shares of correct answers; the category follows from them.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from datasets import Dataset

from .core.answers import compute_exact_match, extract_short_answer
from .core.chat import build_qa_prompt
from .core.generation import DecodeSettings, GenerationEngine
from .core.records import KnowledgeCategory
from .steps import Step, StepResult

log = logging.getLogger(__name__)


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
PROBE_COLUMNS = ("probe_p_greedy", "probe_p_sample", "probe_category", "probe_known")


def categorize(p_greedy: float, p_sample: float | None) -> KnowledgeCategory:
    """SliCK's four categories from the greedy and sampled hit rates."""
    if p_greedy >= 1.0:
        return KnowledgeCategory.HIGHLY_KNOWN
    if p_greedy > 0.0:
        return KnowledgeCategory.MAYBE_KNOWN
    if p_sample:
        return KnowledgeCategory.WEAKLY_KNOWN
    return KnowledgeCategory.UNKNOWN


def build_probe_prompts(rows: list[dict[str, Any]], n_prompts: int, k_shots: int, seed: int
                        ) -> list[list[str]]:
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
                prompts[i].append(build_qa_prompt(
                    rows[i]["question"],
                    [(rows[c]["question"], rows[c]["answers"][0]) for c in shots]))
    return prompts


class SlickProbe(Step):
    """Adds ``probe_p_greedy``, ``probe_p_sample``, ``probe_category`` and ``probe_known`` to
    QA rows (rows with ``answers``); other rows get nulls."""

    name = "probe"

    def __init__(self, engine: GenerationEngine, cfg: Any, seed: int):
        self.engine, self.cfg, self.seed = engine, cfg, seed

    def __call__(self, ds: Dataset) -> StepResult:
        qa_idx = [i for i, a in enumerate(ds["answers"]) if a]
        rows = [ds[i] for i in qa_idx]
        scores = self.probe(rows) if rows else []
        columns: dict[str, list[Any]] = {c: [None] * len(ds) for c in PROBE_COLUMNS}
        for i, (p_greedy, p_sample) in zip(qa_idx, scores, strict=True):
            category = categorize(p_greedy, p_sample)
            for col, value in zip(PROBE_COLUMNS, (p_greedy, p_sample, category.value,
                                                  category.known), strict=True):
                columns[col][i] = value
        for col in PROBE_COLUMNS:
            ds = ds.add_column(col, columns[col])
        return StepResult(ds)

    def probe(self, rows: list[dict[str, Any]]) -> list[tuple[float, float | None]]:
        """(P_greedy, P_sample) per row; P_sample is None where no sample was drawn."""
        cfg = self.cfg
        prompts = build_probe_prompts(rows, cfg.n_prompts, cfg.k_shots, self.seed)
        flat = [p for item in prompts for p in item]
        greedy = self.engine.generate(flat, DecodeSettings(
            max_new_tokens=cfg.max_new_tokens, stop=["\n"]), desc="probing (greedy)")
        hits = [[compute_exact_match(extract_short_answer(greedy[i * cfg.n_prompts + j][0]),
                                     row["answers"]) for j in range(cfg.n_prompts)]
                for i, row in enumerate(rows)]
        p_greedy = [sum(h) / len(h) for h in hits]
        p_sample = self._sample(rows, prompts, p_greedy)
        return list(zip(p_greedy, p_sample, strict=True))

    def _sample(self, rows, prompts, p_greedy) -> list[float | None]:
        cfg = self.cfg
        todo = [i for i, p in enumerate(p_greedy) if cfg.n_samples > 0
                and (p == 0.0 or not cfg.shortcut)]
        hits: dict[int, int] = dict.fromkeys(todo, 0)
        drawn: dict[int, int] = dict.fromkeys(todo, 0)
        settings = DecodeSettings(max_new_tokens=cfg.max_new_tokens, stop=["\n"], do_sample=True,
                                  temperature=cfg.temperature, top_k=cfg.top_k,
                                  num_return_sequences=cfg.n_samples, seed=self.seed)
        for j in range(cfg.n_prompts):
            # shortcut: an item leaves the loop at its first correct sample
            active = [i for i in todo if not (cfg.shortcut and hits[i])]
            if not active:
                break
            outs = self.engine.generate([prompts[i][j] for i in active], settings,
                                        desc=f"probing (samples, prompt {j + 1})")
            for i, samples in zip(active, outs, strict=True):
                drawn[i] += len(samples)
                hits[i] += sum(compute_exact_match(extract_short_answer(s), rows[i]["answers"])
                               for s in samples)
        return [hits[i] / drawn[i] if drawn.get(i) else None for i in range(len(rows))]
