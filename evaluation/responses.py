"""Open-ended responses for the imitation panel (IFEval, style statistics, judged win rate):
rendering an instruction as a prompt, greedy generation, and the reference set of responses.

Chat-template mode is part of every benchmark's definition here: an instruction is rendered as
one user turn with lessmore's training template (``curation.core.chat``), or passed as raw text
(lm-evaluation-harness's default for IFEval). Either way the choice is recorded with the score.
"""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from typing import Any

from curation.core.chat import render_chat
from curation.core.config import UserError
from curation.core.generation import DecodeSettings
from curation.core.io import read_jsonl

log = logging.getLogger(__name__)

REFERENCE_FIELDS = ("id", "prompt", "response")

# engine -> {(prompt, max_new_tokens, stops): text}. Greedy text is a function of the engine and
# those settings alone, so the style and judge benchmarks share one generation of the same
# prompts; keyed weakly, so it is freed with the engine (one model in memory at a time).
_GREEDY_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple, str]] = weakref.WeakKeyDictionary()


def prompt_format(chat_template: bool) -> str:
    """The name recorded in settings for how an instruction was rendered."""
    return "instruction/chat_template" if chat_template else "instruction/raw"


def build_instruction_prompt(tokenizer: Any, instruction: str, chat_template: bool) -> str:
    """One user turn under the training chat template, or the raw instruction text."""
    if not chat_template:
        return instruction
    return render_chat(tokenizer, [{"role": "user", "content": instruction}],
                       add_generation_prompt=True)


def generate_responses(engine: Any, prompts: list[str], *, max_new_tokens: int,
                       stop: list[str], desc: str) -> list[str]:
    """Greedy completions of ``prompts``, generated once per engine and settings."""
    try:
        cache = _GREEDY_CACHE.setdefault(engine, {})
    except TypeError:  # an engine that cannot be weakly referenced: no sharing
        cache = {}
    keys = [(p, max_new_tokens, tuple(stop)) for p in prompts]
    missing = sorted({k[0] for k in keys if k not in cache})
    if missing:
        decode = DecodeSettings(max_new_tokens=max_new_tokens, stop=list(stop), do_sample=False)
        outs = engine.generate(missing, decode, desc=desc)
        cache.update({(p, max_new_tokens, tuple(stop)): o[0]
                      for p, o in zip(missing, outs, strict=True)})
    return [cache[k] for k in keys]


def load_reference(path: str, *, name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows ``{id, prompt, response, group?}`` of a reference set, checked; ``limit``: first n."""
    if not Path(path).is_file():
        raise UserError(f"{name}: reference file not found: {path}")
    try:
        rows = read_jsonl(path)
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"{name}: {path} is not valid JSON lines ({e})") from None
    for i, row in enumerate(rows, start=1):
        missing = [f for f in REFERENCE_FIELDS
                   if not isinstance(row.get(f), str | int if f == "id" else str)]
        if missing:
            raise UserError(f"{name}: {path} row {i} lacks {missing}")
    ids = [str(r["id"]) for r in rows]
    if len(set(ids)) != len(ids):
        raise UserError(f"{name}: {path} has duplicate ids")
    rows = rows[:limit] if limit is not None else rows
    if not rows:
        raise UserError(f"{name}: {path} has no rows")
    return [{**r, "id": str(r["id"]), "group": str(r.get("group", "all"))} for r in rows]
