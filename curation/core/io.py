"""Atomic, deterministic file output and run provenance."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = ("lessmore", "torch", "transformers", "trl", "peft", "datasets",
                    "sentence-transformers", "hydra-core", "accelerate")


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    Works for files and directories alike, so a reader never sees a half-written output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def dumps_json(obj: Any) -> str:
    """Stable JSON: sorted keys, fixed indentation, UTF-8 kept as is."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_jsonable) + "\n"


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, dumps_json(obj))


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """One JSON object per line; NaN (a failed score) is written as null, since strict JSON
    readers refuse NaN (the ``datasets`` copy keeps the NaN)."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(_nan_to_none(row), ensure_ascii=False, sort_keys=True,
                               default=_jsonable, allow_nan=False) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "value"):  # enums
        return obj.value
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def compute_file_fingerprint(path: str | Path) -> str:
    """sha256 of a file, or of every file under a directory (names and bytes, sorted)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def collect_versions() -> dict[str, str]:
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def default_cache_dir() -> Path:
    """Where converted and tiny models are kept: ``$LESSMORE_CACHE`` or ``~/.cache/lessmore``."""
    root = os.environ.get("LESSMORE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "lessmore")
    return Path(root)


# whole key parts only: `hf_token` and `api_key` are secrets, `max_new_tokens` is not
_SECRET_KEY = re.compile(r"(^|_)(token|api_?key|secret|password|authorization)$", re.IGNORECASE)


def redact_secrets(obj: Any) -> Any:
    """A copy of a config tree with every secret-looking value replaced by ``"***"``."""
    if isinstance(obj, dict):
        return {k: ("***" if v and _SECRET_KEY.search(str(k)) else redact_secrets(v))
                for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact_secrets(v) for v in obj]
    return obj
