"""How a training row looks to the loss: its sequences and ChatML turns, and its text with the
trained spans marked (as ``axolotl preprocess --debug`` shows it), for the pre-flight checks'
errors and for ``dry_run=true``.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.core.chat import CHATML_SPECIAL_TOKENS
from curation.core.io import write_text

IGNORE_INDEX = -100  # the label of a token that carries no loss (TRL's and PyTorch's convention)
PLAIN_MARKS = ("[[", "]]")  # survives copying into a file, an issue or a log
COLOR_MARKS = ("\033[1;32m", "\033[0m")  # bold green, on a terminal only
SHOWN_CHARS = 1600  # an error message shows at most this much of a row (head and tail)
DRY_RUN_NAME = "dry_run.txt"

Row = tuple[Sequence[int], Sequence[int]]  # (input_ids, labels) of one training sequence


def split_sequences(prepared: Any, *, wrapped: bool = False) -> list[Row]:
    """The training sequences of a TRL-prepared dataset (``input_ids``, ``labels``): its rows,
    or the conversations inside each row packed with ``bfd`` (``seq_lengths``). ``wrapped``
    packing cuts conversations anywhere, so its rows are joined back into one stream (in order,
    as TRL cut them) that the checks judge whole."""
    rows = list(zip(prepared["input_ids"], prepared["labels"], strict=True))
    if wrapped:
        return [([t for ids, _ in rows for t in ids], [t for _, labels in rows for t in labels])]
    if "seq_lengths" not in prepared.column_names:
        return rows
    sequences = []
    for (ids, labels), lengths in zip(rows, prepared["seq_lengths"], strict=True):
        starts = list(itertools.accumulate(lengths, initial=0))
        sequences += [(ids[a:b], labels[a:b]) for a, b in itertools.pairwise(starts)]
    return sequences


@dataclass(frozen=True)
class Turn:
    """One ChatML turn of a token sequence: ``<|im_start|>`` at ``start``, the role's tokens,
    the body from ``body`` on, ``<|im_end|>`` at ``end`` (None if cut before it), and ``stop``,
    where the next turn (or the sequence) begins."""

    start: int
    body: int
    end: int | None
    stop: int
    assistant: bool


def find_turns(ids: list[int], tokenizer: Any) -> list[Turn]:
    """The ChatML turns of ``ids``, found by token id (the role word is matched as the tokenizer
    encodes it alone: ``<|im_start|>`` is special, so the word always starts a new token)."""
    start_id, end_id = tokenizer.convert_tokens_to_ids(list(CHATML_SPECIAL_TOKENS))
    role = tokenizer.encode("assistant", add_special_tokens=False)
    starts = [i for i, token in enumerate(ids) if token == start_id]
    turns = []
    for start, stop in zip(starts, [*starts[1:], len(ids)], strict=True):
        end = next((i for i in range(start + 1, stop) if ids[i] == end_id), None)
        assistant = list(ids[start + 1:start + 1 + len(role)]) == role
        turns.append(Turn(start, start + 1 + len(role) * assistant, end, stop, assistant))
    return turns


def render_trained_spans(input_ids: Sequence[int], labels: Sequence[int], tokenizer: Any, *,
                         color: bool = False) -> str:
    """The row's text, every run of trained tokens wrapped in ``[[...]]`` (or green)."""
    start, end = COLOR_MARKS if color else PLAIN_MARKS
    parts = []
    pairs = zip(input_ids, labels, strict=True)
    for trained, run in itertools.groupby(pairs, key=lambda pair: pair[1] != IGNORE_INDEX):
        text = tokenizer.decode([token for token, _ in run], skip_special_tokens=False)
        parts.append(f"{start}{text}{end}" if trained else text)
    return "".join(parts)


def clip_middle(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` as it is if short, else its head and tail around a note of what was left out."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters not shown ...]\n{text[-half:]}"


def build_dry_run_report(rows: Sequence[Row], tokenizer: Any, *,
                         summary: Sequence[str], results: Sequence[tuple[str, str | None]],
                         color: bool = False) -> str:
    """The dry run's text: ``rows`` rendered with their trained spans marked and their token
    counts, the data summary, then each pre-flight check's verdict."""
    marks = "green" if color else "[[...]]"
    lines = [f"Trained tokens are shown in {marks}; everything else carries no loss.", ""]
    for index, (ids, labels) in enumerate(rows):
        trained = sum(label != IGNORE_INDEX for label in labels)
        lines += [f"--- row {index}: {len(ids)} tokens, {trained} trained ---",
                  render_trained_spans(ids, labels, tokenizer, color=color).rstrip("\n"), ""]
    lines += ["--- data ---", *summary, "", "--- pre-flight checks ---"]
    for name, error in results:
        lines += [f"ok    {name}"] if error is None else [f"FAIL  {name}: {error}", ""]
    return "\n".join(lines) + "\n"


def show_dry_run(rows: Sequence[Row], tokenizer: Any, out: Path,
                 *, summary: Sequence[str], results: Sequence[tuple[str, str | None]]) -> Path:
    """Print the dry run's report on stdout (coloured on a terminal) and write it, plainly
    marked, to ``OUT/dry_run.txt``; return that path."""
    kwargs = dict(summary=summary, results=results)
    print(build_dry_run_report(rows, tokenizer, color=sys.stdout.isatty(), **kwargs))
    out.mkdir(parents=True, exist_ok=True)
    path = out / DRY_RUN_NAME
    write_text(path, build_dry_run_report(rows, tokenizer, **kwargs))
    return path
