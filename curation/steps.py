"""Curation steps: three roles, and the one function that applies a step.

- An :class:`Annotator` adds or rewrites prefixed columns and keeps every row, in order.
- A :class:`Filter` may annotate first, then says for each row to drop why: one row at a time
  (:meth:`Filter.decide`) or, when the decision needs the whole set, for all rows at once
  (:meth:`Filter.drops`).
- A :class:`Selector` picks an ordered subset under the budget and says why each other row was
  not picked.

A step never builds a drop record nor selects rows itself: :func:`apply_step` does, counts rows
and checks that every row is kept or filtered. A step class joins a run through
:meth:`Step.from_config` (the table of contents is ``curation.run.STEPS``).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, NamedTuple

from datasets import Dataset

from .core.chat import compute_token_lengths
from .core.config import UserError
from .core.models import load_tokenizer
from .core.records import compute_content_key, is_open_ended, is_short_answer

log = logging.getLogger(__name__)


class StepResult(NamedTuple):
    """What applying a step gives: the rows it keeps, and a drop record per row it filtered."""

    dataset: Dataset
    filtered: list[dict[str, Any]]  # {"id", "origin", "step", "reason"[, "probe_category"]}


def filtered_entry(row: dict[str, Any], step: str, reason: str) -> dict[str, Any]:
    """What ``filtered.jsonl`` keeps of a dropped row: enough to find and inspect it."""
    entry = {"id": row["id"], "origin": row.get("origin"), "step": step, "reason": reason}
    if row.get("probe_category"):
        entry["probe_category"] = row["probe_category"]
    return entry


class Step:
    """A named step of the curation run; subclass one of the three roles below."""

    name = "step"

    @classmethod
    def from_config(cls, cfg: Any, ds: Dataset, context: Any) -> list[Step]:
        """The step(s) this class adds to a run of the stage config ``cfg`` on the input ``ds``,
        with the run's shared models (``context``); ``[]`` when switched off or not applicable."""
        raise TypeError(f"{cls.__name__} does not build itself from the stage config")

    def stats(self) -> dict[str, Any]:
        """Counts for the manifest beyond rows in/out (e.g. failures); empty by default."""
        return {}


class Annotator(Step):
    """Adds or rewrites prefixed columns; every row is kept, in order."""

    def annotate(self, ds: Dataset) -> Dataset:
        raise TypeError(f"{type(self).__name__} must define annotate")


class Filter(Step):
    """Drops rows with a reason each: subclasses write :meth:`decide` (one row), or override
    :meth:`drops` where the decision needs the whole set; :meth:`annotate` may add columns
    first (every row kept, in order)."""

    def annotate(self, ds: Dataset) -> Dataset:
        return ds

    def drops(self, ds: Dataset) -> dict[int, str]:
        """Why to drop each dropped row, by row index; the default asks :meth:`decide`."""
        self.reset()
        out = {}
        for i, row in enumerate(ds):
            reason = self.decide(row)
            if reason is not None:
                out[i] = reason
        return out

    def decide(self, row: dict[str, Any]) -> str | None:
        """Why to drop ``row``, or None to keep it."""
        raise TypeError(f"{type(self).__name__} must define decide or drops")

    def reset(self) -> None:
        """Clear per-run state (for filters that remember earlier rows)."""


class Selector(Step):
    """Picks an ordered subset of the rows; the runner adds each kept row's ``sel_rank``."""

    input_order = False  # write the picked rows in input order instead of rank order

    def select(self, ds: Dataset) -> tuple[list[int], dict[int, str]]:
        """The picked row indices, best first, and why each other row was not picked."""
        raise TypeError(f"{type(self).__name__} must define select")


def apply_step(step: Step, ds: Dataset) -> StepResult:
    """Apply one step: its kept rows and the drop record of every other row (in input order).

    Raises RuntimeError when the step breaks its role's contract (an annotator changing the
    number of rows, a selector picking a row twice or not saying why a row was left out).
    """
    n_in = len(ds)
    if isinstance(step, Selector):
        result = _apply_selector(step, ds)
    elif isinstance(step, Annotator | Filter):
        ds = step.annotate(ds)
        if len(ds) != n_in:
            raise RuntimeError(f"step {step.name} annotated {n_in} rows into {len(ds)}")
        drops = step.drops(ds) if isinstance(step, Filter) else {}
        keep = [i for i in range(n_in) if i not in drops]
        result = StepResult(_select(ds, keep) if drops else ds,
                            _drop_records(ds, drops, step.name))
    else:
        raise TypeError(f"{type(step).__name__} is no Annotator, Filter or Selector")
    if n_in != len(result.dataset) + len(result.filtered):
        raise RuntimeError(f"step {step.name} lost rows: {n_in} in, {len(result.dataset)} out, "
                           f"{len(result.filtered)} filtered")
    return result


def _apply_selector(step: Selector, ds: Dataset) -> StepResult:
    chosen, reasons = step.select(ds)
    rank = {int(i): r for r, i in enumerate(chosen)}
    if len(rank) != len(chosen):
        raise RuntimeError(f"selector {step.name} picked a row twice")
    left_out = {i: reasons.get(i) for i in range(len(ds)) if i not in rank}
    if None in left_out.values():
        raise RuntimeError(f"selector {step.name} gave no reason for leaving out some rows")
    rows = sorted(rank) if step.input_order else list(rank)
    return StepResult(_select(ds, rows).add_column("sel_rank", [rank[i] for i in rows]),
                      _drop_records(ds, left_out, step.name))


def _select(ds: Dataset, rows: list[int]) -> Dataset:
    """``ds.select(rows)``; no rows gives a fresh empty table of the same features, since an
    empty selection of a table with added columns cannot take another column (datasets 4)."""
    if rows:
        return ds.select(rows)
    return Dataset.from_dict({c: [] for c in ds.column_names}, features=ds.features)


def _drop_records(ds: Dataset, drops: dict[int, str], step: str) -> list[dict[str, Any]]:
    if not drops:
        return []
    order = sorted(drops)
    columns = [c for c in ("id", "origin", "probe_category") if c in ds.column_names]
    rows = ds.select(order).select_columns(columns)
    return [filtered_entry(row, step, drops[i]) for i, row in zip(order, rows, strict=True)]


def has_qa_rows(ds: Dataset) -> bool:
    """Whether any row is short-answer QA (short gold ``answers``: see ``is_short_answer``)."""
    return any(map(is_short_answer, ds["answers"]))


def has_long_answer_rows(ds: Dataset) -> bool:
    """Whether any row has gold answers that are long-form (a worked solution, a paragraph)."""
    return any(a and not is_short_answer(a) for a in ds["answers"])


def has_open_ended_rows(ds: Dataset) -> bool:
    """Whether any row is open-ended (no answers, or long-form ones: see ``is_open_ended``)."""
    return any(is_open_ended({"answers": a}) for a in ds["answers"])


class SplitFilter(Filter):
    """Keeps rows whose ``split`` is listed (rows without a split are kept)."""

    name = "split"

    def __init__(self, splits: list[str]):
        self.splits = list(splits)

    @classmethod
    def from_config(cls, cfg, ds, context):
        return [cls(cfg.splits)] if cfg.splits else []

    def decide(self, row):
        split = row.get("split")
        if split is None or split in self.splits:
            return None
        return f"split {split!r} not in {self.splits}"


class ExactDedupFilter(Filter):
    """Drops a row whose normalised conversation equals an earlier row's (NFKC, case, spaces)."""

    name = "exact_dedup"

    @classmethod
    def from_config(cls, cfg, ds, context):
        return [cls()]

    def reset(self):
        self.seen: dict[str, str] = {}

    def decide(self, row):
        key = compute_content_key(row["messages"])
        if key in self.seen:
            return f"exact duplicate of {self.seen[key]}"
        self.seen[key] = row["id"]
        return None


class TokenLengthStep(Filter):
    """Adds ``len_tokens`` / ``len_assistant_tokens`` / ``len_truncated`` under the training
    template, then applies the over-length policy (``drop``, ``truncate``: keep, or ``error``):
    TRL truncates silently, so this is decided here and counted."""

    name = "length"

    def __init__(self, tokenizer: Any, max_length: int, policy: str, fingerprint: str):
        if policy not in ("drop", "truncate", "error"):
            raise UserError(f"over_length must be drop, truncate or error, not {policy!r}")
        self.tokenizer, self.max_length, self.policy = tokenizer, max_length, policy
        self.fingerprint = fingerprint

    @classmethod
    def from_config(cls, cfg, ds, context):
        return [cls(load_tokenizer(cfg.model), cfg.max_length, cfg.over_length,
                    f"{cfg.model.path}@{cfg.model.revision}")]

    def _measure(self, row: dict[str, Any]) -> dict[str, Any]:
        total, assistant = compute_token_lengths(self.tokenizer, row["messages"])
        return {"len_tokens": total, "len_assistant_tokens": assistant,
                "len_truncated": total > self.max_length}

    def annotate(self, ds: Dataset) -> Dataset:
        # explicit fingerprint: otherwise `datasets` hashes the whole tokenizer on every call
        tag = hashlib.sha256(f"{self.fingerprint}:{self.max_length}".encode()).hexdigest()[:16]
        return ds.map(self._measure, new_fingerprint=f"{ds._fingerprint}-len-{tag}",
                      desc="measuring token lengths")

    def drops(self, ds: Dataset) -> dict[int, str]:
        if len(ds) == 0:  # nothing measured: map adds no column to an empty set
            return {}
        over = [i for i, t in enumerate(ds["len_truncated"]) if t]
        if not over or self.policy == "truncate":
            return {}
        if self.policy == "error":
            row = ds[over[0]]
            raise UserError(f"{row['origin']}: row {row['id']!r} has {row['len_tokens']} tokens "
                            f"> max_length {self.max_length} ({len(over)} rows over; "
                            f"set over_length=drop or truncate)")
        tokens = ds.select(over)["len_tokens"]
        return {i: f"over_length: {n} tokens > max_length {self.max_length}"
                for i, n in zip(over, tokens, strict=True)}
