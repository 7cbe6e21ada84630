"""Read SFT data from a hub name or local files (jsonl, json, parquet, csv/tsv, folders, globs,
saved datasets) into records, one row at a time; each row's format is converted by
:mod:`.formats`. Every input row becomes a record or a :class:`Rejection` naming file, line and
field; nothing is dropped silently.
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

from .contract import DATASET
from .errors import UserError
from .formats import CONVERTERS, FORMATS, detect_format
from .records import MAX_MESSAGE_CHARS, RecordError, Rejection, compute_record_id, validate_messages

LOCAL_SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv",
                  ".tsv": "csv"}


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


# --- raw rows ---------------------------------------------------------------------------------

def iter_raw_rows(source: str, *, split: str = "train", streaming: bool = False
                  ) -> Iterator[RawRow]:
    """Rows of a file, a folder of files, a glob, a saved dataset, or a hub dataset."""
    path = Path(source).expanduser()
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / DATASET).is_dir():
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

    root = path / DATASET if (path / DATASET).is_dir() else path
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


def _default_source(file: str) -> str:
    name = Path(file).name if not file.startswith("hf://") else file[5:]
    return re.sub(r"\.(jsonl|json|parquet|csv|tsv)$", "", name)


def _short_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)[:500]
    except (TypeError, ValueError):
        return repr(value)[:500]
