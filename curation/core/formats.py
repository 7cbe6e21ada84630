"""The SFT formats lessmore reads, one converter each, into the record schema (DESIGN §2).

Formats (detected per row, or forced with ``input_format``): ``messages`` (OpenAI chat),
``sharegpt`` (``conversations`` with ``from``/``value``), ``alpaca`` (``instruction``/``input``/
``output``, optional ``history``; self-instruct seed tasks with ``instances``),
``prompt_completion``, ``qa`` (``question`` + ``answer``/``answers``) and ``oasst`` (message
trees: the best-ranked path). A converter raises :class:`~.records.RecordError` naming the field
of a row it cannot convert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .records import RecordError

FORMATS = ("messages", "sharegpt", "alpaca", "prompt_completion", "qa", "oasst")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "chatgpt": "assistant", "bard": "assistant", "bing": "assistant",
                   "model": "assistant", "system": "system"}
_OASST_ROLES = {"prompter": "user", "assistant": "assistant"}


def detect_format(row: dict[str, Any]) -> str:
    """Name a row's format from its keys."""
    if "messages" in row:
        return "messages"
    if "conversations" in row:
        return "sharegpt"
    if "replies" in row and "role" in row:
        return "oasst"
    if "instruction" in row and ("output" in row or "instances" in row):
        return "alpaca"
    if "prompt" in row and "completion" in row:
        return "prompt_completion"
    if "question" in row and ("answer" in row or "answers" in row):
        return "qa"
    raise RecordError("(row)", f"cannot detect the format from keys {sorted(row)[:8]}; "
                      f"set input_format to one of {FORMATS}")


def _convert_messages(row: dict[str, Any], source: str) -> dict[str, Any]:
    messages = row["messages"]
    if isinstance(messages, list):
        messages = [_flatten_content(m) for m in messages]
    record = _record(messages, row, source)
    # a curated QA set read again stays QA: its question, answers and group come along (its
    # messages as they are, e.g. an answer relabelled "I don't know.")
    answers = row.get("answers")
    if (isinstance(row.get("question"), str) and row["question"].strip()
            and isinstance(answers, list) and answers
            and all(isinstance(a, str) and a.strip() for a in answers)):
        group = row.get("group")
        record.update(question=row["question"], answers=list(answers),
                      group=str(group) if group is not None else None)
    return record


def _convert_sharegpt(row: dict[str, Any], source: str) -> dict[str, Any]:
    convo = row["conversations"]
    if not isinstance(convo, list):
        raise RecordError("conversations", f"expected a list, got {type(convo).__name__}")
    messages = []
    for i, turn in enumerate(convo):
        if not isinstance(turn, dict) or "from" not in turn:
            raise RecordError(f"conversations[{i}].from", "missing")
        role = _SHAREGPT_ROLES.get(str(turn["from"]).lower())
        if role is None:
            raise RecordError(f"conversations[{i}].from", f"unknown speaker {turn['from']!r}")
        messages.append({"role": role, "content": turn.get("value")})
    if row.get("system"):
        messages.insert(0, {"role": "system", "content": row["system"]})
    return _record(messages, row, source)


def _convert_alpaca(row: dict[str, Any], source: str) -> dict[str, Any]:
    if "output" not in row:  # self-instruct seed task: take its first instance
        instances = row.get("instances")
        if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict):
            raise RecordError("instances", "expected a non-empty list of {input, output}")
        row = {**row, **instances[0]}
    instruction = _require_str(row, "instruction")
    extra = row.get("input") or ""
    if not isinstance(extra, str):
        raise RecordError("input", f"expected a string, got {type(extra).__name__}")
    messages = [{"role": "system", "content": row["system"]}] if row.get("system") else []
    history = row.get("history") or []
    if not isinstance(history, list):
        raise RecordError("history", f"expected a list of [user, assistant], got {type(history).__name__}")
    for i, pair in enumerate(history):
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise RecordError(f"history[{i}]", "expected a [user, assistant] pair")
        messages += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    prompt = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    messages += [{"role": "user", "content": prompt},
                 {"role": "assistant", "content": row.get("output")}]
    return _record(messages, row, source)


def _convert_prompt_completion(row: dict[str, Any], source: str) -> dict[str, Any]:
    prompt, completion = row["prompt"], row["completion"]
    if isinstance(prompt, list) and isinstance(completion, list):  # conversational form
        return _record([*map(_flatten_content, prompt), *map(_flatten_content, completion)],
                       row, source)
    return _record([{"role": "user", "content": prompt},
                    {"role": "assistant", "content": completion}], row, source)


def _convert_qa(row: dict[str, Any], source: str) -> dict[str, Any]:
    question = _require_str(row, "question")
    key = "answers" if "answers" in row else "answer"
    answers = row[key]
    if isinstance(answers, str):
        answers = [answers]
    if (not isinstance(answers, list) or not answers
            or not all(isinstance(a, str) and a.strip() for a in answers)):
        raise RecordError(key, "expected a non-empty string or list of non-empty strings")
    group = row.get("group", row.get("relation"))
    record = _record([{"role": "user", "content": question},
                      {"role": "assistant", "content": answers[0]}], row, source)
    record.update(question=question, answers=list(answers),
                  group=str(group) if group is not None else None)
    return record


def _convert_oasst(row: dict[str, Any], source: str) -> dict[str, Any]:
    messages, node = [], row
    while isinstance(node, dict):
        role = _OASST_ROLES.get(node.get("role"))
        if role is None:
            raise RecordError("role", f"unknown OpenAssistant role {node.get('role')!r}")
        messages.append({"role": role, "content": node.get("text")})
        node = _best_reply(node.get("replies") or [])
    if messages and messages[-1]["role"] == "user":
        messages.pop()  # an unanswered last prompt is not a training target
    record = _record(messages, row, source)
    record["id"] = str(row["message_id"]) if row.get("message_id") else None
    return record


def _best_reply(replies: list[Any]) -> dict[str, Any] | None:
    """The reply ranked best (rank 0); unranked replies come after ranked ones, in order."""
    live = [r for r in replies if isinstance(r, dict) and not r.get("deleted")]
    if not live:
        return None
    return min(enumerate(live), key=lambda ir: (ir[1].get("rank") is None,
                                               ir[1].get("rank") or 0, ir[0]))[1]


CARRIED_PREFIX = "probe_"  # columns of an input row kept on its record (see _record)

CONVERTERS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "messages": _convert_messages, "sharegpt": _convert_sharegpt, "alpaca": _convert_alpaca,
    "prompt_completion": _convert_prompt_completion, "qa": _convert_qa, "oasst": _convert_oasst,
}


def _record(messages: Any, row: dict[str, Any], source: str) -> dict[str, Any]:
    rid = row.get("id")
    if rid is not None and not isinstance(rid, str | int):
        raise RecordError("id", f"expected a string or integer, got {type(rid).__name__}")
    src = row.get("source") if isinstance(row.get("source"), str) else source
    split = row.get("split") if isinstance(row.get("split"), str) else None
    record = {"id": None if rid is None else str(rid), "messages": messages, "source": src,
              "question": None, "answers": None, "group": None, "split": split}
    # a curated set curated again keeps what the probes measured (a probed pool is selected
    # from by category or memorisation level without probing again; a probe that runs anew
    # overwrites these columns)
    record.update({k: v for k, v in row.items() if k.startswith(CARRIED_PREFIX)})
    return record


def _flatten_content(turn: Any) -> Any:
    """OpenAI content parts (``[{type: text, text: …}]``) become one string."""
    if isinstance(turn, dict) and isinstance(turn.get("content"), list):
        parts = turn["content"]
        if all(isinstance(p, dict) and p.get("type") == "text" for p in parts):
            return {**turn, "content": "".join(p.get("text", "") for p in parts)}
    return turn


def _require_str(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        raise RecordError(key, "missing")
    if not isinstance(value, str):
        raise RecordError(key, f"expected a string, got {type(value).__name__}")
    if not value.strip():
        raise RecordError(key, "empty")
    return value
