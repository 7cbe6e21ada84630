"""An on-disk cache of per-item model results, so a killed curation run resumes (DESIGN §3.1).

One SQLite file (stdlib ``sqlite3``, WAL) holds one JSON value per (kind, item key, config hash,
model fingerprint). The item key hashes everything about the item that reaches the model (its
prompts and gold aliases), so a changed exemplar pool is a miss, never a stale hit. Writes are
one transaction per chunk of items: a run killed with SIGKILL loses at most the chunk it was
working on, and a restart reads back exactly the values the first run computed.

Every value is stored with its checksum and read back through a validator: a torn, edited or
wrongly shaped row is counted as ``corrupt``, treated as a miss and overwritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .distributed import is_main_process, split_compute

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    kind TEXT NOT NULL,      -- which measurement: 'slick', 'memorization', ...
    item TEXT NOT NULL,      -- content key of the item (what the model is shown, and the gold)
    config TEXT NOT NULL,    -- hash of the settings that change the result
    model TEXT NOT NULL,     -- model fingerprint
    value TEXT NOT NULL,     -- the result, JSON
    checksum TEXT NOT NULL,  -- sha256 of value: a row that does not match is ignored
    PRIMARY KEY (kind, item, config, model)
) WITHOUT ROWID
"""
_MAX_VARS = 500  # keys per SELECT, under SQLite's bound-variable limit


def compute_key(obj: Any) -> str:
    """A stable hash of a JSON-able object (sorted keys, UTF-8)."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def compute_model_fingerprint(path: str, revision: str | None = None, folder: str | Path | None = None,
                              model: Any = None) -> str:
    """A cheap fingerprint of the model that produced a result.

    ``path`` is the model spec as configured (``embedded:smollm2``, a hub id, a folder);
    ``folder`` the resolved local folder, if any, whose ``*.json`` files (config, tokenizer,
    adapter config) are hashed and whose weight files are fingerprinted by size. ``model``, if
    given, adds its dtype and device type: bf16 on a GPU and fp32 on a CPU decode differently.
    """
    parts = [f"path={path}", f"revision={revision}"]
    folder = Path(folder) if folder is not None else None
    if folder is not None and folder.is_dir():
        for f in sorted(folder.iterdir()):
            if f.suffix == ".json":
                parts.append(f"{f.name}:{hashlib.sha256(f.read_bytes()).hexdigest()}")
            elif f.suffix in (".safetensors", ".bin", ".gguf", ".pt"):
                parts.append(f"{f.name}:{f.stat().st_size}")
    if model is not None:
        param = next(model.parameters())
        parts.append(f"dtype={param.dtype} device={param.device.type}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


class ResultCache:
    """Per-item results of one model, keyed by content and config; see the module docstring.

    ``hits``/``misses``/``corrupt``/``written`` count lookups since opening, for logs only (they
    differ between a fresh and a resumed run, so keep them out of byte-identical outputs).
    """

    def __init__(self, path: str | Path, model: str):
        self.path, self.model = Path(path), model
        self.hits = self.misses = self.corrupt = self.written = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            return _open(self.path)
        except sqlite3.DatabaseError as e:  # not a database (truncated, overwritten): start over
            aside = self.path.with_name(self.path.name + ".corrupt")
            log.warning("cache %s is unreadable (%s); moved to %s", self.path, e, aside)
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    src.replace(str(aside) + suffix)
            return _open(self.path)

    def get_many(self, kind: str, config: str, keys: Sequence[str],
                 validate: Callable[[Any], bool] | None = None) -> dict[str, Any]:
        """The stored values of ``keys`` that exist and pass their checksum and ``validate``."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Any] = {}
        for start in range(0, len(wanted), _MAX_VARS):
            part = wanted[start:start + _MAX_VARS]
            marks = ",".join("?" * len(part))
            rows = self.conn.execute(
                f"SELECT item, value, checksum FROM results WHERE kind=? AND config=? AND model=?"
                f" AND item IN ({marks})", (kind, config, self.model, *part)).fetchall()
            for item, text, checksum in rows:
                value = _decode(text, checksum)
                if value is _BAD or (validate is not None and not _safe(validate, value)):
                    self.corrupt += 1
                    continue
                found[item] = value
        self.hits += sum(k in found for k in keys)
        self.misses += sum(k not in found for k in keys)
        return found

    def put_many(self, kind: str, config: str, values: dict[str, Any]) -> None:
        """Store ``values`` (item key -> JSON-able value) in one transaction."""
        rows = []
        for item, value in values.items():
            text = json.dumps(value, sort_keys=True, ensure_ascii=False)
            rows.append((kind, item, config, self.model, text, _checksum(text)))
        with self.conn:  # commits, or rolls back on error
            self.conn.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                                  rows)
        self.written += len(rows)

    @property
    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "corrupt": self.corrupt,
                "written": self.written}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def map_cached(keys: Sequence[str], compute: Callable[[list[int]], list[Any]], *,
               cache: ResultCache | None, kind: str, config: str, chunk_size: int,
               validate: Callable[[Any], bool] | None = None) -> list[Any]:
    """Values for ``keys``: read from ``cache`` where stored, else ``compute(indices)``.

    Items are processed in consecutive chunks of ``chunk_size`` (cut over all keys, not over
    the misses, so a resumed run computes the same chunks as the first one) and each chunk's
    new values are committed at once. Computed values go through the same JSON round trip as
    cached ones, so a resumed run returns identical values.
    """
    out: list[Any] = [None] * len(keys)
    for start in range(0, len(keys), max(1, chunk_size)):
        idx = list(range(start, min(start + max(1, chunk_size), len(keys))))
        found = cache.get_many(kind, config, [keys[i] for i in idx], validate) if cache else {}
        todo = [i for i in idx if keys[i] not in found]
        # several launched processes share the misses; each gets every result back
        computed = json.loads(json.dumps(split_compute(todo, compute))) if todo else []
        if len(computed) != len(todo):
            raise RuntimeError(f"{kind}: computed {len(computed)} values for {len(todo)} items")
        new = {keys[i]: v for i, v in zip(todo, computed, strict=True)}
        if cache is not None and new and is_main_process():
            cache.put_many(kind, config, new)
        for i in idx:
            out[i] = found[keys[i]] if keys[i] in found else new[keys[i]]
    return out


_BAD = object()


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60)
    # WAL: readers never block the writer, and a killed writer leaves only whole transactions.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes, not power loss
    conn.execute(_SCHEMA)
    conn.commit()
    return conn


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _decode(text: Any, checksum: Any) -> Any:
    if not isinstance(text, str) or checksum != _checksum(text):
        return _BAD
    try:
        return json.loads(text)
    except ValueError:
        return _BAD


def _safe(validate: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(validate(value))
    except (TypeError, KeyError, ValueError, AttributeError):
        return False
