"""``python -m lessmore.study.facts input=PATH out=DIR``: short-answer QA facts split by fact,
for a study's preparation (``prepare: {facts: {stage: lessmore.study.facts, args: [...]}}``).

Reads an EntityQuestions folder (``train/<relation>.train.jsonl``, ``{question, answers}``: the
relation becomes the row's ``group``), or any QA jsonl (``question`` and ``answers`` or
``answer``, a string or a list; ``group`` / ``relation`` kept, else ``group_default``). Takes
the first ``per_group`` rows of each of the first ``groups`` groups (sorted by name; file
order within a group), and gives each a ``split`` by a seeded hash of its question, so the
same fact falls in the same split whatever else is read. Writes ``OUT/facts.jsonl`` (id,
question, answers, group, split) and ``OUT/manifest.json`` (counts per split and group, the
input, the settings). Bad rows are an error naming file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from curation.core.config import UserError, register_schema, stage_main
from curation.core.io import write_json, write_jsonl


@dataclass
class FactsConfig:
    input: str = MISSING  # an EntityQuestions folder, or a QA jsonl file
    out: str = MISSING
    # "split:share" of each group's facts, in order (what is left of 1.0 is not read)
    splits: list[str] = field(default_factory=lambda: ["pool:0.8", "test:0.2"])
    groups: int | None = None  # the first N groups by name; null: all
    per_group: int | None = None  # the first N facts of each group; null: all
    group_default: str = "qa"  # group of a row that names none
    seed: int = 0


register_schema("facts_schema", FactsConfig)


def read_facts(path: Path, group_default: str) -> list[dict[str, Any]]:
    """(question, answers, group) rows, with file and line kept for errors."""
    files = sorted((path / "train").glob("*.jsonl")) if (path / "train").is_dir() else (
        sorted(path.glob("*.jsonl")) if path.is_dir() else [path])
    if not files:
        raise UserError(f"{path}: no jsonl file of facts")
    rows = []
    for file in files:
        relation = file.name.split(".")[0] if path.is_dir() else None
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{file}:{n}: not JSON ({e.msg})") from None
            answers = row.get("answers", row.get("answer"))
            answers = [answers] if isinstance(answers, str) else answers
            if not isinstance(row.get("question"), str) or not row["question"].strip():
                raise UserError(f"{file}:{n}: field 'question' must be a non-empty string")
            if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
                raise UserError(f"{file}:{n}: field 'answers' (or 'answer') must be a non-empty "
                                "string or list of strings")
            group = row.get("group") or row.get("relation") or relation or group_default
            rows.append({"question": row["question"].strip(), "answers": answers,
                         "group": str(group)})
    return rows


def parse_splits(items: list[str]) -> dict[str, float]:
    """``["pool:0.6", "test:0.4"]`` as ``{"pool": 0.6, "test": 0.4}``."""
    splits = {}
    for item in items:
        name, _, share = str(item).partition(":")
        try:
            splits[name.strip()] = float(share)
        except ValueError:
            raise UserError(f"facts: split {item!r} is not NAME:SHARE (e.g. pool:0.8)") from None
    return splits


def assign_split(question: str, splits: dict[str, float], seed: int) -> str | None:
    """The split a fact falls in: a uniform number from a hash of (seed, question) against the
    cumulative shares, in the order the splits are listed; None past their sum."""
    digest = hashlib.sha256(f"{seed}\n{question}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    edge = 0.0
    for name, share in splits.items():
        edge += share
        if u < edge:
            return name
    return None


def run(cfg: Any) -> dict[str, Any]:
    splits = parse_splits(list(cfg.splits))
    if any(v < 0 for v in splits.values()) or sum(splits.values()) > 1 + 1e-9:
        raise UserError(f"facts: split shares must be >= 0 and sum to <= 1, got {splits}")
    rows = read_facts(Path(cfg.input).expanduser(), cfg.group_default)
    by_group: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_group.setdefault(row["group"], []).append(row)
    chosen = sorted(by_group)[: cfg.groups] if cfg.groups else sorted(by_group)
    kept, seen = [], set()
    skipped = {"other_groups": sum(len(v) for g, v in by_group.items() if g not in chosen),
               "past_per_group": 0, "duplicate": 0, "no_split": 0}
    for group in chosen:
        rows_of = by_group[group]
        take = rows_of[: cfg.per_group] if cfg.per_group else rows_of
        skipped["past_per_group"] += len(rows_of) - len(take)
        for row in take:
            if row["question"] in seen:  # one fact, one split
                skipped["duplicate"] += 1
                continue
            seen.add(row["question"])
            split = assign_split(row["question"], splits, cfg.seed)
            if split is None:
                skipped["no_split"] += 1
            else:
                fact_id = hashlib.sha256(row["question"].encode()).hexdigest()[:16]
                kept.append({"id": f"{group}-{fact_id}", **row, "split": split})
    out = Path(cfg.out)
    write_jsonl(out / "facts.jsonl", kept)
    counts = {s: sum(r["split"] == s for r in kept) for s in splits}
    assert len(kept) + sum(skipped.values()) == len(rows)  # every row read is accounted for
    manifest = {"input": str(cfg.input), "rows_read": len(rows), "facts": len(kept),
                "skipped": skipped,
                "by_split": counts, "groups": {g: sum(r["group"] == g for r in kept)
                                               for g in chosen},
                "settings": {"splits": splits, "groups": cfg.groups,
                             "per_group": cfg.per_group, "seed": cfg.seed}}
    write_json(out / "manifest.json", manifest)
    return manifest


main = stage_main("facts")(run)

if __name__ == "__main__":
    main()
