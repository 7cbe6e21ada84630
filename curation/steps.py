"""Curation steps. A step takes a ``datasets.Dataset`` and returns the rows it keeps plus, for
every row it drops, a reason; the runner (not the step) counts rows and writes the report.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from datasets import Dataset

from .core.chat import compute_token_lengths
from .core.config import UserError
from .core.records import compute_content_key

log = logging.getLogger(__name__)


@dataclass
class StepResult:
    dataset: Dataset
    filtered: list[dict[str, Any]] = field(default_factory=list)  # {"id", "step", "reason"}


def filtered_entry(row: dict[str, Any], step: str, reason: str) -> dict[str, Any]:
    """What ``filtered.jsonl`` keeps of a dropped row: enough to find and inspect it."""
    entry = {"id": row["id"], "origin": row.get("origin"), "step": step, "reason": reason}
    if row.get("probe_category"):
        entry["probe_category"] = row["probe_category"]
    return entry


class Step:
    """A named transformation of the dataset."""

    name = "step"

    def __call__(self, ds: Dataset) -> StepResult:
        raise TypeError(f"{type(self).__name__} must define __call__")

    def stats(self) -> dict[str, Any]:
        """Counts for the manifest beyond rows in/out (e.g. failures); empty by default."""
        return {}


class Filter(Step):
    """Drops rows for which :meth:`decide` returns a reason; subclasses write ``decide``."""

    def decide(self, row: dict[str, Any]) -> str | None:
        raise TypeError(f"{type(self).__name__} must define decide")

    def reset(self) -> None:
        """Clear per-run state (for filters that remember earlier rows)."""

    def __call__(self, ds: Dataset) -> StepResult:
        self.reset()
        keep, filtered = [], []
        for i, row in enumerate(ds):
            reason = self.decide(row)
            if reason is None:
                keep.append(i)
            else:
                filtered.append(filtered_entry(row, self.name, reason))
        return StepResult(ds.select(keep) if len(keep) < len(ds) else ds, filtered)


class SplitFilter(Filter):
    """Keeps rows whose ``split`` is listed (rows without a split are kept)."""

    name = "split"

    def __init__(self, splits: list[str]):
        self.splits = list(splits)

    def decide(self, row):
        split = row.get("split")
        if split is None or split in self.splits:
            return None
        return f"split {split!r} not in {self.splits}"


class ExactDedupFilter(Filter):
    """Drops a row whose normalised conversation equals an earlier row's (NFKC, case, spaces)."""

    name = "exact_dedup"

    def reset(self):
        self.seen: dict[str, str] = {}

    def decide(self, row):
        key = compute_content_key(row["messages"])
        if key in self.seen:
            return f"exact duplicate of {self.seen[key]}"
        self.seen[key] = row["id"]
        return None


class TokenLengthStep(Step):
    """Adds ``len_tokens`` / ``len_assistant_tokens`` under the training template and applies
    the over-length policy: TRL truncates silently, so this is decided here and counted."""

    name = "length"

    def __init__(self, tokenizer: Any, max_length: int, policy: str, fingerprint: str):
        if policy not in ("drop", "truncate", "error"):
            raise UserError(f"over_length must be drop, truncate or error, not {policy!r}")
        self.tokenizer, self.max_length, self.policy = tokenizer, max_length, policy
        self.fingerprint = fingerprint

    def _measure(self, row: dict[str, Any]) -> dict[str, Any]:
        total, assistant = compute_token_lengths(self.tokenizer, row["messages"])
        return {"len_tokens": total, "len_assistant_tokens": assistant,
                "len_truncated": total > self.max_length}

    def __call__(self, ds: Dataset) -> StepResult:
        # explicit fingerprint: otherwise `datasets` hashes the whole tokenizer on every call
        tag = hashlib.sha256(f"{self.fingerprint}:{self.max_length}".encode()).hexdigest()[:16]
        ds = ds.map(self._measure, new_fingerprint=f"{ds._fingerprint}-len-{tag}",
                    desc="measuring token lengths")
        over = [i for i, t in enumerate(ds["len_truncated"]) if t]
        if not over or self.policy == "truncate":
            return StepResult(ds)
        if self.policy == "error":
            row = ds[over[0]]
            raise UserError(f"{row['origin']}: row {row['id']!r} has {row['len_tokens']} tokens "
                            f"> max_length {self.max_length} ({len(over)} rows over; "
                            f"set over_length=drop or truncate)")
        keep = sorted(set(range(len(ds))) - set(over))
        filtered = [filtered_entry(ds[i], self.name, f"over_length: {ds[i]['len_tokens']} tokens "
                                                     f"> max_length {self.max_length}")
                    for i in over]
        return StepResult(ds.select(keep), filtered)
