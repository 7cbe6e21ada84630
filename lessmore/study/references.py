"""``python -m lessmore.study.references input=PATH out=DIR [limit=N]``: a reference set for the
style and win-rate benchmarks (jsonl ``{id, prompt, response, group}``) from AlpacaEval-format
outputs (a JSON list of ``{instruction, output, generator?, dataset?}``, e.g. AlpacaEval's
``alpaca_eval_text_davinci_003.json``) or Alpaca-format rows (``instruction``, ``input``,
``output``), for a study's preparation. ``limit`` rows are kept (a smaller evaluation at
``scale=cpu``): the first in file order, or with ``sample=seeded`` a seeded draw (in file order;
AlpacaEval's file is sorted by source dataset, so its first rows are all one group);
``OUT/manifest.json`` counts what was read and kept, per group.
Bad rows are an error naming file, row and field.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from curation.core.config import UserError, register_schema, stage_main
from curation.core.io import read_jsonl, write_json, write_jsonl


@dataclass
class ReferencesConfig:
    input: str = MISSING  # a JSON list or jsonl of AlpacaEval / Alpaca rows
    out: str = MISSING
    limit: int | None = None  # N rows (null: all)
    sample: str = "first"  # first: the first N rows in file order | seeded: N drawn by seed
    seed: int = 0


register_schema("references_schema", ReferencesConfig)


def read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UserError(f"references: {path} not found")
    try:
        if path.suffix == ".jsonl":
            return read_jsonl(path)
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"references: {path} is not valid JSON ({e})") from None
    if not isinstance(rows, list):
        raise UserError(f"references: {path} holds no JSON list of rows")
    return rows


def build_reference(row: Any, where: str, index: int) -> dict[str, Any]:
    """One reference row: the instruction (with Alpaca's ``input`` appended) and its output."""
    if not isinstance(row, dict):
        raise UserError(f"{where}: not an object")
    for field in ("instruction", "output"):
        if not isinstance(row.get(field), str) or not row[field].strip():
            raise UserError(f"{where}: field {field!r} must be a non-empty string")
    prompt = row["instruction"].strip()
    if isinstance(row.get("input"), str) and row["input"].strip():
        prompt = f"{prompt}\n\n{row['input'].strip()}"
    return {"id": str(index), "prompt": prompt, "response": row["output"].strip(),
            "group": str(row.get("dataset") or "all")}


def run(cfg: Any) -> dict[str, Any]:
    path = Path(cfg.input).expanduser()
    rows = read_rows(path)
    if cfg.sample not in ("first", "seeded"):
        raise UserError(f"references: sample must be first or seeded, not {cfg.sample!r}")
    chosen = list(range(len(rows)))
    if cfg.limit is not None and cfg.sample == "seeded":  # every group has its chance
        chosen = sorted(random.Random(cfg.seed).sample(chosen, min(cfg.limit, len(rows))))
    elif cfg.limit is not None:
        chosen = chosen[: cfg.limit]
    take = [rows[i] for i in chosen]
    refs = [build_reference(rows[i], f"{path} row {i + 1}", i) for i in chosen]
    write_jsonl(Path(cfg.out) / "reference.jsonl", refs)
    manifest = {"input": str(cfg.input), "rows_read": len(rows), "kept": len(refs),
                "past_limit": len(rows) - len(refs), "limit": cfg.limit, "sample": cfg.sample,
                "seed": cfg.seed, "groups": dict(Counter(r["group"] for r in refs)),
                "generators": sorted({str(r.get("generator")) for r in take
                                      if isinstance(r, dict) and r.get("generator")})}
    write_json(Path(cfg.out) / "manifest.json", manifest)
    return manifest


main = stage_main("references")(run)

if __name__ == "__main__":
    main()
