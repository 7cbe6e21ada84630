"""Pre-flight checks on each training row's loss mask, judged on the rows as TRL prepared them
(``input_ids``, ``labels``): a row must train on some tokens but not on all of them, only on
assistant turns, and on every assistant turn's ``<|im_end|>`` (else the model never learns to
stop). Each raises ``UserError`` showing the offending row with its trained tokens in ``[[...]]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from curation.core.chat import END_OF_TURN
from curation.core.config import UserError

from .preview import (
    IGNORE_INDEX,
    SHOWN_CHARS,
    Row,
    clip_middle,
    find_turns,
    render_trained_spans,
)

FOCUS_CONTEXT_TOKENS = 64  # tokens shown before the offending one when a row is long


def check_rows_train_something(rows: Iterable[Row], tokenizer: Any) -> None:
    """A row whose every label is ignored adds nothing but cost (an empty loss mask)."""
    for index, (ids, labels) in enumerate(rows):
        if all(label == IGNORE_INDEX for label in labels):
            raise _row_error(index, ids, labels, tokenizer, (
                "trains on no token: its loss mask is empty (does the chat template wrap the "
                "assistant's reply in {% generation %} ... {% endgeneration %}?)"))


def check_rows_do_not_train_everything(rows: Iterable[Row], tokenizer: Any) -> None:
    """A row trained on every token learns to write the user's turns too (no mask at all)."""
    for index, (ids, labels) in enumerate(rows):
        if all(label != IGNORE_INDEX for label in labels):
            raise _row_error(index, ids, labels, tokenizer, (
                "trains on every token, the prompt too: the loss mask covers the whole "
                "conversation (a {% generation %} block around more than the assistant's reply?)"))


def check_only_assistant_turns_trained(rows: Iterable[Row], tokenizer: Any) -> None:
    """Trained tokens lie inside assistant turns (their body and ``<|im_end|>``), never in a
    system or user turn or a turn's header."""
    for index, (ids, labels) in enumerate(rows):
        allowed = set()
        for turn in find_turns(ids, tokenizer):
            if turn.assistant:
                allowed.update(range(turn.body, turn.stop if turn.end is None else turn.end + 1))
        leak = next((i for i, label in enumerate(labels)
                     if label != IGNORE_INDEX and i not in allowed), None)
        if leak is not None:
            raise _row_error(index, ids, labels, tokenizer, (
                f"trains on token {leak} ({tokenizer.decode([ids[leak]])!r}), outside the "
                "assistant's replies: the loss mask leaks into the prompt"), focus=leak)


def check_end_of_turn_trained(rows: Iterable[Row], tokenizer: Any) -> None:
    """Every assistant turn ends with a trained ``<|im_end|>``: it is the token the model must
    learn to emit to stop (a template that closes the turn outside its generation block, or a
    truncation that cut the turn, leaves a model that never stops)."""
    for index, (ids, labels) in enumerate(rows):
        for turn in find_turns(ids, tokenizer):
            if not turn.assistant:
                continue
            if turn.end is None:
                problem = (f"has an assistant turn (from token {turn.start}) cut before its "
                           f"{END_OF_TURN}")
            elif labels[turn.end] == IGNORE_INDEX:
                problem = (f"does not train the {END_OF_TURN} of the assistant turn at token "
                           f"{turn.start}: the model would never learn to stop")
            else:
                continue
            raise _row_error(index, ids, labels, tokenizer, problem, focus=turn.start)


@contextlib.contextmanager
def explain_mask_refusal(dataset: Any, tokenizer: Any) -> Iterator[None]:
    """Around ``SFTTrainer(...)``: TRL refuses a chat template whose loss mask is empty before it
    prepares a row, naming no row; show the first row that would train on nothing instead."""
    try:
        yield
    except (ValueError, RuntimeError) as e:
        if "generation" not in str(e):  # both of TRL's refusals name the {% generation %} markers
            raise
        check_rows_train_something(build_template_rows(dataset["messages"], tokenizer), tokenizer)
        raise UserError("TRL refused the chat template's loss mask: "
                        f"{str(e).splitlines()[0]}") from e


def build_template_rows(conversations: Iterable[list[dict]], tokenizer: Any) -> Iterator[Row]:
    """(input_ids, labels) as TRL builds them with ``assistant_only_loss``: the tokenizer's chat
    template, trained where its ``{% generation %}`` blocks are."""
    for messages in conversations:
        out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True)
        ids = out["input_ids"]
        masks = out["assistant_masks"]
        yield ids, [t if m else IGNORE_INDEX for t, m in zip(ids, masks, strict=True)]


def _row_error(index: int, ids: list[int], labels: list[int], tokenizer: Any, problem: str, *,
               focus: int | None = None) -> UserError:
    shown, start = render_trained_spans(ids, labels, tokenizer), 0
    if focus is not None and len(shown) > SHOWN_CHARS:
        # shown from a little before the offending token: the head survives clipping
        start = max(0, focus - FOCUS_CONTEXT_TOKENS)
        shown = render_trained_spans(ids[start:], labels[start:], tokenizer)
    shown = clip_middle(shown)
    return UserError(f"training row {index} {problem}\n"
                     f"row {index} as trained (trained tokens in [[...]]"
                     f"{f', from token {start}' if start else ''}):\n{shown}")
