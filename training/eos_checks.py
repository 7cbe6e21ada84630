"""Pre-flight checks on the special tokens: the template's end of turn is the tokenizer's EOS
and one of the model's EOS ids (generation stops where training taught it to), and padding is
a token of its own, never an EOS (code that masks padding by id would hide the EOS too)."""

from __future__ import annotations

from typing import Any

from curation.core.chat import END_OF_TURN
from curation.core.config import UserError


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
