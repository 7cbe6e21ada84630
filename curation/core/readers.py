"""Read SFT data from a hub name or local files in every common format into records.

Formats (detected per row, or forced with ``input_format``): ``messages`` (OpenAI chat),
``sharegpt`` (``conversations`` with ``from``/``value``), ``alpaca`` (``instruction``/``input``/
``output``, optional ``history``; self-instruct seed tasks with ``instances``),
``prompt_completion``, ``qa`` (``question`` + ``answer``/``answers``) and ``oasst`` (message
trees: the best-ranked path). Every input row becomes a record or a :class:`Rejection` naming
file, line and field; nothing is dropped silently.
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import UserError
from .records import MAX_MESSAGE_CHARS, RecordError, Rejection, compute_record_id, validate_messages

LOCAL_SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv",
                  ".tsv": "csv"}
FORMATS = ("messages", "sharegpt", "alpaca", "prompt_completion", "qa", "oasst")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "chatgpt": "assistant", "bard": "assistant", "bing": "assistant",
                   "model": "assistant", "system": "system"}
_OASST_ROLES = {"prompter": "user", "assistant": "assistant"}


@dataclass
class ReadResult:
    """Records, rejections and the count of input rows (``rows_in = records + rejections``)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows_in: int = 0
    files: list[str] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RawRow:
    file: str
    line: int
    value: Any = None
    error: RecordError | None = None
    raw: str = ""


def read_records(source: str | list[str], input_format: str = "auto", *, split: str = "train",
                 max_chars: int = MAX_MESSAGE_CHARS, streaming: bool = False,
                 sink: Callable[[dict[str, Any]], None] | None = None) -> ReadResult:
    """Read one source or several (files, folders, globs, hub names) into one ``ReadResult``.

    Rows are read one at a time (jsonl line by line; parquet, csv, saved and hub datasets through
    ``datasets``' memory-mapped arrow; ``streaming`` hub datasets without downloading them
    first). With a ``sink``, each record goes to it instead of ``result.records``, so a caller
    can write records to disk and hold none in memory (the reader keeps only ids).
    """
    if input_format != "auto" and input_format not in FORMATS:
        raise UserError(f"unknown input_format {input_format!r}; choose auto or one of {FORMATS}")
    sources = [source] if isinstance(source, str) else list(source)
    result, seen_ids = ReadResult(), {}
    keep = sink or result.records.append
    for src in sources:
        for row in iter_raw_rows(src, split=split, streaming=streaming):
            result.rows_in += 1
            _convert_row(row, input_format, max_chars, result, seen_ids, keep)
        result.files.append(src)
    if result.rows_in == 0:
        raise UserError(f"input {', '.join(sources)} has no rows")
    return result


def _convert_row(row: RawRow, input_format: str, max_chars: int, result: ReadResult,
                 seen_ids: dict[str, str], keep: Callable[[dict[str, Any]], None]) -> None:
    where = f"{row.file}:{row.line}"
    try:
        if row.error:
            raise row.error
        if not isinstance(row.value, dict):
            raise RecordError("(row)", f"expected a JSON object, got {type(row.value).__name__}")
        fmt = input_format if input_format != "auto" else detect_format(row.value)
        try:
            record = CONVERTERS[fmt](row.value, _default_source(row.file))
        except KeyError as e:  # a forced format whose key the row lacks
            raise RecordError(str(e.args[0]), f"missing (format {fmt})") from None
        record["messages"] = validate_messages(record["messages"], max_chars)
        if record["id"] is None:
            # content-hash id: equal ids mean equal content, which exact dedup counts later
            record["id"] = compute_record_id(record["messages"])
        elif record["id"] in seen_ids:
            raise RecordError("id", f"duplicate id {record['id']!r} (first at {seen_ids[record['id']]})")
        if fmt == "qa" and record["group"] is None:
            record["group"] = Path(row.file).name.split(".")[0]
    except RecordError as e:
        result.rejections.append(Rejection(row.file, row.line, e.field, e.reason,
                                           row.raw or _short_json(row.value)))
        return
    seen_ids.setdefault(record["id"], where)
    record["origin"] = where
    result.formats[fmt] = result.formats.get(fmt, 0) + 1
    keep(record)


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


# --- raw rows ---------------------------------------------------------------------------------

def iter_raw_rows(source: str, *, split: str = "train", streaming: bool = False
                  ) -> Iterator[RawRow]:
    """Rows of a file, a folder of files, a glob, a saved dataset, or a hub dataset."""
    path = Path(source).expanduser()
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset").is_dir():
            yield from _iter_saved_dataset(path)
            return
        files = sorted(p for p in path.rglob("*") if p.suffix in LOCAL_SUFFIXES)
        if not files:
            raise UserError(f"no data files ({', '.join(LOCAL_SUFFIXES)}) under {source}")
    elif any(ch in source for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(os.path.expanduser(source)))
        if not files:
            raise UserError(f"no files match {source}")
    elif path.is_file() or path.suffix in LOCAL_SUFFIXES or source.startswith((".", "/", "~")):
        if not path.is_file():
            raise UserError(f"input file not found: {source}")
        files = [path]
    else:
        yield from _iter_hub_dataset(source, split, streaming)
        return
    for f in files:
        yield from _iter_file(f)


def _iter_file(path: Path) -> Iterator[RawRow]:
    kind = LOCAL_SUFFIXES.get(path.suffix)
    if kind is None:
        raise UserError(f"unsupported file type {path.suffix!r}: {path} "
                        f"(expected one of {', '.join(LOCAL_SUFFIXES)})")
    if kind == "json":
        with open(path, "rb") as f:
            head = f.read(1 << 12).lstrip()
        if head.startswith(b"["):
            yield from _iter_json_list(path)
        else:
            yield from _iter_jsonl(path)
        return
    yield from _iter_tabular(path, kind)


def _iter_jsonl(path: Path) -> Iterator[RawRow]:
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield RawRow(str(path), lineno, error=RecordError(
                    "(line)", f"invalid UTF-8 at byte {e.start}"), raw=repr(raw[:200]))
                continue
            try:
                yield RawRow(str(path), lineno, json.loads(text), raw=text[:500])
            except json.JSONDecodeError as e:
                yield RawRow(str(path), lineno, error=RecordError(
                    "(line)", f"malformed JSON: {e.msg} at column {e.colno}"), raw=text[:500])


def _iter_json_list(path: Path) -> Iterator[RawRow]:
    try:
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno}: malformed JSON: {e.msg}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: invalid UTF-8 at byte {e.start}") from None
    for i, row in enumerate(rows):
        yield RawRow(str(path), i + 1, row)  # "line" of a JSON list = 1-based element index


def _iter_tabular(path: Path, kind: str) -> Iterator[RawRow]:
    import datasets

    kwargs = {"delimiter": "\t"} if path.suffix == ".tsv" else {}
    ds = datasets.load_dataset(kind, data_files=str(path), split="train", **kwargs)
    offset = 2 if kind == "csv" else 1  # csv: line 1 is the header
    for i, row in enumerate(ds):
        yield RawRow(str(path), i + offset, _decode_json_cells(row))


def _decode_json_cells(row: dict[str, Any]) -> dict[str, Any]:
    """CSV cells holding JSON lists (``messages``, ``answers``) are parsed back."""
    out = {}
    for k, v in row.items():
        if isinstance(v, str) and v[:1] in "[{":
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                pass
        out[k] = v
    return out


def _iter_saved_dataset(path: Path) -> Iterator[RawRow]:
    import datasets

    root = path / "dataset" if (path / "dataset").is_dir() else path
    ds = datasets.load_from_disk(str(root))
    if isinstance(ds, datasets.DatasetDict):
        ds = ds["train"] if "train" in ds else next(iter(ds.values()))
    for i, row in enumerate(ds):
        yield RawRow(str(path), i + 1, row)


def _iter_hub_dataset(name: str, split: str, streaming: bool = False) -> Iterator[RawRow]:
    """A hub dataset, downloaded into ``datasets``' arrow cache (memory-mapped), or with
    ``streaming`` read row by row from the hub without a download (for sets larger than disk)."""
    import datasets

    repo, _, config = name.partition(":")
    try:
        ds = datasets.load_dataset(repo, config or None, split=split, streaming=streaming)
    except Exception as e:  # datasets raises many types for "not found / offline"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserError(f"cannot load {name!r}: not a local file, and the hub said: {first}") from None
    for i, row in enumerate(ds):
        yield RawRow(f"hf://{name}[{split}]", i + 1, row)


# --- converters: one function per format ------------------------------------------------------

def _convert_messages(row: dict[str, Any], source: str) -> dict[str, Any]:
    messages = row["messages"]
    if isinstance(messages, list):
        messages = [_flatten_content(m) for m in messages]
    return _record(messages, row, source)


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
    return {"id": None if rid is None else str(rid), "messages": messages, "source": src,
            "question": None, "answers": None, "group": None, "split": split}


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


def _default_source(file: str) -> str:
    name = Path(file).name if not file.startswith("hf://") else file[5:]
    return re.sub(r"\.(jsonl|json|parquet|csv|tsv)$", "", name)


def _short_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)[:500]
    except (TypeError, ValueError):
        return repr(value)[:500]
