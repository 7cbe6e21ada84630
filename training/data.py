"""The training set: records read from any SFT source, kept to their ``messages``, and the token
counts that the manifest reports (what was trained on, what was cut)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from curation.core.chat import compute_token_lengths
from curation.core.config import UserError
from curation.core.io import compute_file_fingerprint
from curation.core.readers import read_records

log = logging.getLogger(__name__)


def load_train_dataset(source: str) -> tuple[Any, dict[str, Any]]:
    """(a ``Dataset`` with one ``messages`` column, provenance of the source)."""
    from datasets import Dataset

    result = read_records(source)
    if result.rejections:
        first = result.rejections[0]
        where = f"first: {first.file}:{first.line} {first.field}: {first.reason}"
        if not result.records:
            raise UserError(f"{source} has no valid conversation ({where})")
        log.warning("%d of %d rows of %s are not valid conversations and are skipped (%s)",
                    len(result.rejections), result.rows_in, source, where)
    dataset = Dataset.from_dict({"messages": [r["messages"] for r in result.records]})
    local = Path(source).expanduser()
    provenance = {"path": str(local.resolve()) if local.exists() else source,
                  "fingerprint": compute_data_fingerprint(source),
                  "rows_read": result.rows_in, "rows_rejected": len(result.rejections)}
    return dataset, provenance


def compute_data_fingerprint(source: str) -> str | None:
    """The files' fingerprint for local data; ``None`` for a hub dataset (no local bytes)."""
    path = Path(source).expanduser()
    return compute_file_fingerprint(path) if path.exists() else None


def count_truncated_rows(dataset: Any, tokenizer: Any, max_length: int) -> int:
    """Rows longer than ``max_length`` under the training template (TRL cuts them silently)."""
    return sum(compute_token_lengths(tokenizer, m)[0] > max_length for m in dataset["messages"])


def count_trained_tokens(prepared: Any) -> dict[str, int]:
    """``{trained, total}`` tokens per epoch of a TRL-prepared dataset: trained = tokens with a
    label (the assistant mask), total = every token fed to the model."""
    trained = total = 0
    for labels in prepared["labels"]:
        total += len(labels)
        trained += sum(label != -100 for label in labels)
    return {"trained": trained, "total": total}
