"""Selection under a budget. Rows not selected are filtered with the reason."""

from __future__ import annotations

import random

from datasets import Dataset

from .core.config import UserError
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
