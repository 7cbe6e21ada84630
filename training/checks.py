"""Pre-flight checks: what TRL will train, judged after ``SFTTrainer`` has tokenised and masked
the data and before the first step (DESIGN §4: the mistakes users of axolotl and TRL lose days to).

Each check is a small function that raises ``UserError`` and shows the offending row with its
trained tokens in ``[[...]]``. A row must train on some tokens but not on all of them, only on
assistant turns, and on every assistant turn's ``<|im_end|>`` (else the model never learns to
stop); the template, the tokenizer and the model must agree on that EOS, and padding must not be
an EOS. No switch turns them off: a run that fails one would waste its compute.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
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
    show_dry_run,
    split_sequences,
)

log = logging.getLogger(__name__)

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


def check_eos_agrees(tokenizer: Any, model: Any) -> None:
    """The template's end of turn is *the* EOS: the tokenizer's EOS is that token (TRL, collators
    and generation take its one id), and the model's config and generation config count it among
    their EOS ids. Those may list more stop tokens (a base model's ``<|endoftext|>``): an extra
    stop only ends generation, it never hides the trained one, so it is no disagreement."""
    eos = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    if tokenizer.eos_token_id != eos:
        raise UserError(f"the tokenizer's EOS is {tokenizer.eos_token!r} (id "
                        f"{tokenizer.eos_token_id}), not the template's end of turn "
                        f"{END_OF_TURN} (id {eos}): generation would not stop where training did")
    for where, ids in _model_eos_ids(model).items():
        if eos not in ids:
            raise UserError(f"the model's {where} is {ids or None}, without the template's end of "
                            f"turn {END_OF_TURN} (id {eos}): generation would not stop at it")


def check_pad_is_not_eos(tokenizer: Any, model: Any) -> None:
    """Padding is no EOS: code that masks padding by id (collators, attention masks built from
    ``input_ids != pad``) would mask the EOS too, so it would never be trained or seen."""
    eos_ids = {tokenizer.eos_token_id, *_as_ids(model.generation_config.eos_token_id)}
    pads = {"tokenizer's pad token": tokenizer.pad_token_id,
            "generation_config.pad_token_id": model.generation_config.pad_token_id}
    for where, pad in pads.items():
        if pad is None or pad in eos_ids:
            raise UserError(f"the {where} is {_describe(tokenizer, pad)}, an EOS or none: padding "
                            "must be a token of its own (the stage picks one distinct from EOS)")


ROW_CHECKS = (check_rows_train_something, check_rows_do_not_train_everything,
              check_only_assistant_turns_trained, check_end_of_turn_trained)
MODEL_CHECKS = (check_eos_agrees, check_pad_is_not_eos)


def collect_check_results(prepared: Any, tokenizer: Any, model: Any, args: Any = None
                          ) -> list[tuple[str, str | None]]:
    """Every check's name and its error message (None when it passed), on a TRL-prepared
    dataset; ``args`` (the ``SFTConfig``) tells whether it was packed ``wrapped``."""
    rows = split_sequences(prepared, wrapped=_is_wrapped(args))
    calls = [(check, (rows, tokenizer)) for check in ROW_CHECKS]
    calls += [(check, (tokenizer, model)) for check in MODEL_CHECKS]
    results = []
    for check, check_args in calls:
        try:
            check(*check_args)
            results.append((_name(check), None))
        except UserError as e:
            results.append((_name(check), str(e)))
    return results


def run_preflight_checks(prepared: Any, tokenizer: Any, model: Any, args: Any = None) -> None:
    """Run every check; raise the first failure as a ``UserError``."""
    results = collect_check_results(prepared, tokenizer, model, args)
    failed = [error for _, error in results if error is not None]
    if failed:
        raise UserError(failed[0])
    log.info("pre-flight checks passed: %s", ", ".join(name for name, _ in results))


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


def run_dry_run(trainer: Any, tokenizer: Any, cfg: Any, rows: dict[str, Any],
                tokens: dict[str, int]) -> dict[str, Any]:
    """``dry_run=true``: print the first ``cfg.dry_run_rows`` rows as they will be trained, the
    token counts and every check's verdict; write them to ``OUT/dry_run.txt``; fail if a check
    failed. Nothing is trained."""
    prepared, args = trainer.train_dataset, trainer.args
    _remove_if_empty(Path(args.output_dir))  # the Trainer makes it on construction; nothing to keep
    results = collect_check_results(prepared, tokenizer, trainer.model, args)
    share = tokens["trained"] / tokens["total"] if tokens["total"] else 0.0
    summary = [f"{rows['trained']} rows to train with {cfg.method}; over_length={cfg.over_length} "
               f"at max_length={cfg.max_length}: {rows['truncated']} truncated, "
               f"{rows['dropped']} dropped",
               f"{tokens['trained']:,} of {tokens['total']:,} tokens per epoch carry loss "
               f"({share:.1%})"]
    if "dev" in rows:
        dev = rows["dev"]
        summary.append(f"dev set: {dev['evaluated']} rows to evaluate, {dev['truncated']} "
                       f"truncated, {dev['dropped']} dropped")
    shown = split_sequences(prepared, wrapped=_is_wrapped(args))[:cfg.dry_run_rows]
    path = show_dry_run(shown, tokenizer, Path(cfg.out), summary=summary, results=results)
    failed = [name for name, error in results if error is not None]
    if failed:
        raise UserError(f"dry run: {len(failed)} pre-flight check(s) failed ({', '.join(failed)}); "
                        f"the rows and the reasons are in {path}")
    return {"dry_run": str(path), "rows": rows, "tokens": tokens,
            "checks": {name: "ok" for name, _ in results}}


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _is_wrapped(args: Any) -> bool:
    return bool(args is not None and args.packing and args.packing_strategy == "wrapped")


def _name(check: Any) -> str:
    return check.__name__.removeprefix("check_").replace("_", " ")


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


def _model_eos_ids(model: Any) -> dict[str, list[int]]:
    ids = {"generation_config.eos_token_id": _as_ids(model.generation_config.eos_token_id)}
    config_eos = model.config.get_text_config().eos_token_id
    if config_eos is not None:  # unset there, generation reads the generation config alone
        ids["config.eos_token_id"] = _as_ids(config_eos)
    return ids


def _as_ids(value: int | list[int] | None) -> list[int]:
    return [] if value is None else [value] if isinstance(value, int) else list(value)


def _describe(tokenizer: Any, token_id: int | None) -> str:
    if token_id is None:
        return "unset"
    return f"{tokenizer.convert_ids_to_tokens(token_id)!r} (id {token_id})"
