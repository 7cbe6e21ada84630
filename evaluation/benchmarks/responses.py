"""Open-ended responses for the imitation panel (IFEval, style statistics, judged win rate):
rendering an instruction as a prompt, greedy generation, and the reference set of responses.

Chat-template mode is part of every benchmark's definition here: an instruction is rendered as
one user turn with lessmore's training template (``curation.core.chat``), or passed as raw text
(lm-evaluation-harness's default for IFEval). Either way the choice is recorded with the score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.core.chat import render_chat
from curation.core.config import UserError
from curation.core.io import read_jsonl

REFERENCE_FIELDS = ("id", "prompt", "response")


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
    """One greedy completion per prompt. The style and judge benchmarks ask for the same
    prompts with the same settings; the evaluation's generation cache (``cache_dir``) answers
    the second from the first."""
    from curation.core.engine import DecodeSettings  # torch: only when evaluating

    decode = DecodeSettings(max_new_tokens=max_new_tokens, stop=list(stop), do_sample=False)
    return [outs[0] for outs in engine.generate(prompts, decode, desc=desc)]


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
