"""Selection under a budget (rows not selected are filtered with the reason), and the policy for
QA rows the base model does not know.

``score_first`` is DEITA's selection rule (Liu et al., 2024, "What Makes Good Data for
Alignment?"): walk the rows by a score, highest first, and keep a row only if its cosine to every
row kept so far is ≤ ``tau``. DEITA's score is its "evol score", complexity × quality, each from
a LLaMA-13B scorer, on LLaMA embeddings with τ = 0.9. Here the rule runs on all-MiniLM-L6-v2
embeddings, whose cosines sit far lower (DEITA's 0.9 rejects almost nothing once SemDeDup has
removed cos > 0.9), so :data:`DEFAULT_TAU` was measured for MiniLM by
``benchmarks/calibrate_tau.py`` (its docstring holds the table and the rule that picked it).
The presets (``select=deita_ifd``, ``experiment=lima``) take IFD (``score_ifd``, from
``score=ifd``) as the score: DEITA's rule with IFD as the score, not DEITA's scorers.

Any numeric column works as the score (``select.score_column``). To use DEITA's own scorers
(``hkust-nlp/deita-complexity-scorer`` and ``hkust-nlp/deita-quality-scorer`` on the hub; each
prompts a fine-tuned LLaMA and reads the probabilities of the answers "1"…"6", score = Σ p·k)
where the hub is reachable, write a :class:`~curation.steps.Filter` of your own whose
``annotate`` adds e.g. ``score_deita`` = complexity × quality and whose ``drops`` returns
``{}``; list it in ``filters.steps`` (``{_target_: my_package.DeitaScorer}``) and select with
``select=deita_ifd select.score_column=score_deita`` (or a preset of your own).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from datasets import Dataset

from .core.config import UserError
from .core.records import KnowledgeCategory
from .diversity import kcenter_greedy, score_first_select
from .steps import Filter, Selector

STRATEGIES = ("known_first", "random", "score_first", "kcenter")
# DEITA's rule on MiniLM embeddings: benchmarks/calibrate_tau.py (table and rule in its docstring)
DEFAULT_TAU = 0.65


@dataclass
class SelectConfig:
    """How the budget is spent (DESIGN §3.4); presets in ``conf/select/``."""

    name: str = "known_first"
    # known_first: probed-known QA rows first, then the rest (seeded order within each tier)
    # random: seeded order | score_first: DEITA's rule (by score_column, skipping rows closer
    # than tau to a kept row) | kcenter: greedy coverage of the embedding space
    strategy: str = "known_first"
    unknown: str = "keep"  # keep | drop | relabel_idk (SliCK: what to do with Unknown facts)
    idk_answer: str = "I don't know."
    score_column: str | None = None  # score_first: rank by this column (any scorer's), highest first
    # score_first: max MiniLM cosine to the kept set (benchmarks/calibrate_tau.py; DEITA's 0.9
    # was for LLaMA embeddings)
    tau: float = DEFAULT_TAU
    category_mix: dict[str, float] = field(default_factory=dict)  # probe_category -> share
    quotas: dict[str, dict[str, float]] = field(default_factory=dict)  # column -> value -> quota
    kcenter_pool_cap: int | None = 100_000
    order: str = "rank"  # rows written in selection order (rank) or in input order (input)


class BudgetSelector(Selector):
    """Picks up to ``budget`` rows by the configured strategy, honouring quotas per column
    (a quota ≥ 1 is a count, below 1 a share of the budget; ``"*"`` matches any other value)."""

    name = "select"

    def __init__(self, budget: int, seed: int, cfg: SelectConfig | None = None,
                 embeddings: Callable[[Dataset], np.ndarray] | None = None):
        cfg = cfg or SelectConfig()
        if cfg.strategy not in STRATEGIES:
            raise UserError(f"select.strategy must be one of {STRATEGIES}, not {cfg.strategy!r}")
        if budget < 1:
            raise UserError(f"budget must be at least 1, got {budget}")
        if cfg.order not in ("rank", "input"):
            raise UserError(f"select.order must be rank or input, not {cfg.order!r}")
        if cfg.strategy == "score_first" and not cfg.score_column:
            raise UserError("select.strategy=score_first needs select.score_column")
        self.budget, self.seed, self.cfg, self.embeddings = budget, seed, cfg, embeddings
        self.quotas = {**cfg.quotas, **({"probe_category": cfg.category_mix}
                                        if cfg.category_mix else {})}
        self.input_order = cfg.order == "input"

    @classmethod
    def from_config(cls, cfg, ds, context):
        needs_embeddings = cfg.select.strategy in ("score_first", "kcenter")
        return [cls(cfg.budget, cfg.seed, cfg.select,
                    embeddings=context.embeddings() if needs_embeddings else None)]

    def select(self, ds: Dataset) -> tuple[list[int], dict[int, str]]:
        order, skipped = self._rank(ds)
        chosen, quota_full = self._fill(ds, order)
        reasons = {**skipped, **quota_full}
        default = f"not selected: budget {self.budget} reached ({self.cfg.strategy})"
        picked = set(chosen)
        return chosen, {i: reasons.get(i, default) for i in range(len(ds)) if i not in picked}

    def _rank(self, ds: Dataset) -> tuple[list[int], dict[int, str]]:
        """Candidates in preference order, and why others were ruled out before the budget."""
        n, cfg = len(ds), self.cfg
        walk = self.budget if not self.quotas else n  # quotas may skip rows: rank them all
        if cfg.strategy in ("known_first", "random"):
            order = list(range(n))
            random.Random(self.seed).shuffle(order)
            if cfg.strategy == "known_first" and "probe_known" in ds.column_names:
                known = ds["probe_known"]
                order.sort(key=lambda i: not known[i])  # stable: seeded order within tiers
            return order, {}
        emb = self._embeddings(ds)
        if cfg.strategy == "kcenter":
            k = min(n, walk if not self.quotas else 4 * self.budget)
            return kcenter_greedy(emb, k, seed=self.seed,
                                  pool_cap=cfg.kcenter_pool_cap).tolist(), {}
        scores = self._scores(ds)
        chosen = score_first_select(emb, scores, walk, tau=cfg.tau).tolist()
        # rows the walk passed over (ranked above the last kept row) were too close to a kept row
        by_score = np.argsort(-scores, kind="stable")
        last = int(np.flatnonzero(np.isin(by_score, chosen[-1:]))[0]) if chosen else -1
        kept = set(chosen)
        too_close = f"too similar to a selected row (cosine > select.tau = {cfg.tau})"
        return chosen, {int(i): too_close for i in by_score[:last] if int(i) not in kept}

    def _fill(self, ds: Dataset, order: list[int]) -> tuple[list[int], dict[int, str]]:
        """Walk ``order`` and keep rows until the budget, skipping rows whose quota is full."""
        if not self.quotas:
            return order[: self.budget], {}
        columns = {c: ds[c] for c in self.quotas if c in ds.column_names}
        missing = set(self.quotas) - set(columns)
        if missing:
            raise UserError(f"select quotas name unknown columns {sorted(missing)}")
        limits = {c: {v: q if q >= 1 else math.floor(q * self.budget) for v, q in quota.items()}
                  for c, quota in self.quotas.items()}
        counts: dict[tuple[str, str], int] = {}
        chosen, full = [], {}
        for i in order:
            if len(chosen) == self.budget:
                break
            keys = [(c, str(columns[c][i])) for c in columns]
            over = [(c, v) for c, v in keys if counts.get((c, v), 0) >= limits[c].get(
                v, limits[c].get("*", math.inf))]
            if over:
                full[i] = "quota full: " + ", ".join(f"{c}={v}" for c, v in over)
                continue
            for key in keys:
                counts[key] = counts.get(key, 0) + 1
            chosen.append(i)
        return chosen, full

    def _embeddings(self, ds: Dataset) -> np.ndarray:
        if self.embeddings is None:
            raise UserError(f"select.strategy={self.cfg.strategy} needs embeddings")
        return self.embeddings(ds)

    def _scores(self, ds: Dataset) -> np.ndarray:
        column = self.cfg.score_column
        if column not in ds.column_names:
            raise UserError(f"select.score_column {column!r} is not in the data (columns: "
                            f"{', '.join(ds.column_names)})")
        values = np.array([np.nan if v is None else float(v) for v in ds[column]])
        return np.where(np.isfinite(values), values, -np.inf)  # unscored rows last


UNKNOWN_POLICIES = ("keep", "drop", "relabel_idk")


class KnowledgePolicyStep(Filter):
    """What to do with QA rows the base model does not know (SliCK: Unknown examples are fitted
    late and then raise hallucination; dropping them or relabelling their answer as "I don't
    know" removes most of the harm). ``keep`` | ``drop`` | ``relabel_idk``: one step whichever
    the policy, so the manifest lists it every run."""

    name = "knowledge_policy"

    def __init__(self, unknown: str = "keep", idk_answer: str = "I don't know."):
        if unknown not in UNKNOWN_POLICIES:
            raise UserError(f"select.unknown must be one of {UNKNOWN_POLICIES}, not {unknown!r}")
        self.unknown, self.idk_answer = unknown, idk_answer

    @classmethod
    def from_config(cls, cfg, ds, context):
        return [cls(cfg.select.unknown, cfg.select.idk_answer)]

    def annotate(self, ds: Dataset) -> Dataset:
        """``relabel_idk``: Unknown rows answer :attr:`idk_answer`, marked ``sel_relabeled``."""
        if self.unknown != "relabel_idk" or "probe_category" not in ds.column_names:
            return ds
        return ds.map(self._relabel, with_indices=True,
                      fn_kwargs={"unknown": _is_unknown(ds)},
                      new_fingerprint=f"{ds._fingerprint}-idk")

    def drops(self, ds: Dataset) -> dict[int, str]:
        """``drop``: every Unknown row."""
        if self.unknown != "drop" or "probe_category" not in ds.column_names:
            return {}
        return {i: "Unknown to the base model (select.unknown=drop)"
                for i, u in enumerate(_is_unknown(ds)) if u}

    def _relabel(self, row, i, unknown):
        if not unknown[i]:
            return {"messages": row["messages"], "sel_relabeled": False}
        messages = [dict(m) for m in row["messages"]]
        messages[-1]["content"] = self.idk_answer
        return {"messages": messages, "sel_relabeled": True}


def _is_unknown(ds: Dataset) -> list[bool]:
    return [c == KnowledgeCategory.UNKNOWN.value for c in ds["probe_category"]]
