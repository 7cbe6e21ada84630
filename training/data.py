"""The training set: records read from any SFT source, kept to their ``messages``, rows over
``max_length`` dropped or cut to whole turns before TRL sees them, and the token counts that the
manifest reports (what was trained on, what was cut)."""

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


def apply_over_length(dataset: Any, tokenizer: Any, max_length: int, policy: str, *,
                      label: str = "training") -> tuple[Any, dict[str, int]]:
    """Rows longer than ``max_length`` under the training template, handled before TRL sees them
    (its own truncation cuts silently, mid-turn): ``drop`` them, ``truncate`` them to whole turns
    (see ``fit_whole_turns``; a row with no fitting prefix is dropped), or stop with an ``error``.
    Returns the dataset and ``{truncated, dropped}``, logged as a warning when not zero;
    ``label`` names the set in messages (``training`` or ``dev``)."""
    from datasets import Dataset

    conversations = list(dataset["messages"])
    lengths = [compute_token_lengths(tokenizer, m, tokenizer.chat_template)[0]
               for m in conversations]
    over = [i for i, n in enumerate(lengths) if n > max_length]
    if not over:
        return dataset, {"truncated": 0, "dropped": 0}
    where = f"first: row {over[0]}, {lengths[over[0]]} tokens > max_length={max_length}"
    if policy == "error":
        raise UserError(f"{len(over)} of {len(lengths)} {label} rows are longer than max_length "
                        f"({where}); raise max_length or set over_length=drop|truncate")
    fitted: dict[int, Any] = dict.fromkeys(over)
    if policy == "truncate":
        fitted = {i: fit_whole_turns(conversations[i], tokenizer, max_length) for i in over}
    kept = [m for m in (fitted.get(i, m) for i, m in enumerate(conversations)) if m is not None]
    counts = {"truncated": sum(m is not None for m in fitted.values()),
              "dropped": sum(m is None for m in fitted.values())}
    if not kept:
        raise UserError(f"no {label} row is left: all {len(lengths)} are longer than max_length "
                        f"under over_length={policy} ({where}); raise max_length")
    log.warning("over_length=%s: %d of %d %s rows are longer than max_length: %d cut to whole "
                "turns, %d dropped (%s)", policy, len(over), len(lengths), label,
                counts["truncated"], counts["dropped"], where)
    return Dataset.from_dict({"messages": kept}), counts


def fit_whole_turns(messages: list[dict[str, str]], tokenizer: Any, max_length: int
                    ) -> list[dict[str, str]] | None:
    """The longest prefix of whole turns that fits in ``max_length`` and ends on an assistant
    turn, so its last reply keeps its trained ``<|im_end|>``; None if there is none (a cut
    inside a turn would teach a reply that never ends)."""
    for end in range(len(messages), 0, -1):
        prefix = messages[:end]
        if (prefix[-1]["role"] == "assistant"
                and compute_token_lengths(tokenizer, prefix, tokenizer.chat_template)[0] <= max_length):
            return prefix
    return None


def apply_over_length_to_sets(train: Any, dev: Any, tokenizer: Any, max_length: int,
                              policy: str) -> tuple[Any, Any, dict[str, dict[str, int]]]:
    """``apply_over_length`` on the training set and on the dev set where there is one (TRL
    would cut its long rows silently too). Returns both sets and, per set (``train``, ``dev``),
    the counts plus the rows ``handed`` on to TRL."""
    train, cut = apply_over_length(train, tokenizer, max_length, policy)
    cuts = {"train": {**cut, "handed": len(train)}}
    if dev is not None:
        dev, dev_cut = apply_over_length(dev, tokenizer, max_length, policy, label="dev")
        cuts["dev"] = {**dev_cut, "handed": len(dev)}
    return train, dev, cuts


def count_rows(trainer: Any, cuts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The manifest's ``rows``: trained, truncated and dropped; with a dev set also ``dev``:
    evaluated, truncated and dropped. Rows are dropped by ``over_length`` or by TRL, which drops
    those its own truncation left with no trained token. A packed set's rows each hold several
    conversations and TRL drops none there, so the rows handed on are the rows kept."""
    args = trainer.args
    rows = _count_set(cuts["train"], trainer.train_dataset, args.packing, "trained")
    if "dev" in cuts:
        packed = args.packing if args.eval_packing is None else args.eval_packing
        rows["dev"] = _count_set(cuts["dev"], trainer.eval_dataset, packed, "evaluated")
    return rows


def _count_set(cut: dict[str, int], prepared: Any, packed: bool, kept_key: str
               ) -> dict[str, int]:
    kept = cut["handed"] if packed else len(prepared)
    return {kept_key: kept, "truncated": cut["truncated"],
            "dropped": cut["dropped"] + cut["handed"] - kept}


def count_trained_tokens(prepared: Any) -> dict[str, int]:
    """``{trained, total}`` tokens per epoch of a TRL-prepared dataset: trained = tokens with a
    label (the assistant mask), total = every token fed to the model."""
    trained = total = 0
    for labels in prepared["labels"]:
        total += len(labels)
        trained += sum(label != -100 for label in labels)
    return {"trained": trained, "total": total}
