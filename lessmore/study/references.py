"""``python -m lessmore.study.references input=PATH out=DIR [limit=N]``: a reference set for the
style and win-rate benchmarks (jsonl ``{id, prompt, response, group}``) from AlpacaEval-format
outputs (a JSON list of ``{instruction, output, generator?, dataset?}``, e.g. AlpacaEval's
``alpaca_eval_text_davinci_003.json``) or Alpaca-format rows (``instruction``, ``input``,
``output``), for a study's preparation. The first ``limit`` rows in file order are kept (a
smaller evaluation at ``scale=cpu``); ``OUT/manifest.json`` counts what was read and kept.
Bad rows are an error naming file, row and field.
"""

from __future__ import annotations

import json
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
    limit: int | None = None  # the first N rows (null: all)


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
    take = rows[: cfg.limit] if cfg.limit is not None else rows
    refs = [build_reference(r, f"{path} row {i + 1}", i) for i, r in enumerate(take)]
    write_jsonl(Path(cfg.out) / "reference.jsonl", refs)
    manifest = {"input": str(cfg.input), "rows_read": len(rows), "kept": len(refs),
                "past_limit": len(rows) - len(refs), "limit": cfg.limit,
                "generators": sorted({str(r.get("generator")) for r in take
                                      if isinstance(r, dict) and r.get("generator")})}
    write_json(Path(cfg.out) / "manifest.json", manifest)
    return manifest


main = stage_main("references")(run)

if __name__ == "__main__":
    main()
