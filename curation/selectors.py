"""Selection under a budget. Rows not selected are filtered with the reason."""

from __future__ import annotations

import random

from datasets import Dataset

from .core.config import UserError
from .core.records import KnowledgeCategory
from .steps import Step, StepResult, filtered_entry

SELECTIONS = ("known_first", "random")


class BudgetSelector(Step):
    """Picks up to ``budget`` rows, seeded: ``known_first`` takes probed-known QA rows first
    (in seeded random order), then the rest; ``random`` ignores knowledge."""

    name = "select"

    def __init__(self, budget: int, seed: int, strategy: str = "known_first"):
        if strategy not in SELECTIONS:
            raise UserError(f"selection must be one of {SELECTIONS}, not {strategy!r}")
        if budget < 1:
            raise UserError(f"budget must be at least 1, got {budget}")
        self.budget, self.seed, self.strategy = budget, seed, strategy

    def __call__(self, ds: Dataset) -> StepResult:
        rng = random.Random(self.seed)
        order = list(range(len(ds)))
        rng.shuffle(order)
        if self.strategy == "known_first" and "probe_known" in ds.column_names:
            known = ds["probe_known"]
            order.sort(key=lambda i: not known[i])  # stable: keeps the seeded order within tiers
        chosen, rest = order[: self.budget], order[self.budget:]
        ds_out = ds.select(chosen).add_column("sel_rank", list(range(len(chosen))))
        reason = f"not selected: budget {self.budget} reached ({self.strategy})"
        filtered = [filtered_entry(ds[i], self.name, reason) for i in sorted(rest)]
        return StepResult(ds_out, filtered)


UNKNOWN_POLICIES = ("keep", "drop", "relabel_idk")


class KnowledgePolicyStep(Step):
    """What to do with QA rows the base model does not know (SliCK: Unknown examples are fitted
    late and then raise hallucination; dropping them or relabelling their answer as "I don't
    know" removes most of the harm). ``keep`` | ``drop`` | ``relabel_idk``."""

    name = "knowledge_policy"

    def __init__(self, unknown: str = "keep", idk_answer: str = "I don't know."):
        if unknown not in UNKNOWN_POLICIES:
            raise UserError(f"select.unknown must be one of {UNKNOWN_POLICIES}, not {unknown!r}")
        self.unknown, self.idk_answer = unknown, idk_answer

    def __call__(self, ds: Dataset) -> StepResult:
        if self.unknown == "keep" or "probe_category" not in ds.column_names:
            return StepResult(ds)
        unknown = [c == KnowledgeCategory.UNKNOWN.value for c in ds["probe_category"]]
        if self.unknown == "drop":
            keep = [i for i, u in enumerate(unknown) if not u]
            filtered = [filtered_entry(ds[i], self.name,
                                       "Unknown to the base model (select.unknown=drop)")
                        for i, u in enumerate(unknown) if u]
            return StepResult(ds.select(keep), filtered)
        return StepResult(ds.map(self._relabel, with_indices=True,
                                 fn_kwargs={"unknown": unknown},
                                 new_fingerprint=f"{ds._fingerprint}-idk"))

    def _relabel(self, row, i, unknown):
        if not unknown[i]:
            return {"messages": row["messages"], "sel_relabeled": False}
        messages = [dict(m) for m in row["messages"]]
        messages[-1]["content"] = self.idk_answer
        return {"messages": messages, "sel_relabeled": True}
