"""The result cache: round trips, what separates entries, chunked commits, and rows that must
not be trusted (bad checksum, wrong shape, an unreadable file)."""

import sqlite3

import pytest
from datasets import Dataset

from curation.core.cache import ResultCache, compute_key, compute_model_fingerprint, map_cached
from curation.memorization import MemorizationConfig, MemorizationStep
from curation.probes import ProbeConfig, SlickProbe
from curation.steps import apply_step


def test_round_trip_and_what_separates_entries(tmp_path):
    path = tmp_path / "c.sqlite"
    with ResultCache(path, model="m1") as cache:
        cache.put_many("slick", "cfg", {"a": {"x": [1, "é"]}, "b": 2})
        assert cache.get_many("slick", "cfg", ["a", "b", "c"]) == {"a": {"x": [1, "é"]}, "b": 2}
        assert cache.get_many("slick", "other", ["a"]) == {}
        assert cache.get_many("memorization", "cfg", ["a"]) == {}
        assert cache.stats == {"hits": 2, "misses": 3, "corrupt": 0, "written": 2}
    with ResultCache(path, model="m2") as other:
        assert other.get_many("slick", "cfg", ["a"]) == {}
    with ResultCache(path, model="m1") as again:  # persisted
        assert again.get_many("slick", "cfg", ["a"]) == {"a": {"x": [1, "é"]}}
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_map_cached_commits_per_chunk_and_skips_finished_items(tmp_path):
    keys = [f"k{i}" for i in range(10)]
    calls = []

    def compute(todo):
        calls.append(todo)
        return [{"v": i * i} for i in todo]

    with ResultCache(tmp_path / "c.sqlite", model="m") as cache:
        first = map_cached(keys, compute, cache=cache, kind="k", config="c", chunk_size=4)
        assert calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
        assert first == [{"v": i * i} for i in range(10)]
        calls.clear()
        assert map_cached(keys, compute, cache=cache, kind="k", config="c", chunk_size=4) == first
        assert calls == [] and cache.hits == 10
        # a new item in a chunk: only it is computed
        assert map_cached([*keys, "new"], compute, cache=cache, kind="k", config="c",
                          chunk_size=4)[-1] == {"v": 100}
        assert calls == [[10]]
    assert map_cached(keys, compute, cache=None, kind="k", config="c", chunk_size=3) == first


def test_a_corrupted_row_is_ignored_and_replaced(tmp_path):
    path = tmp_path / "c.sqlite"
    with ResultCache(path, model="m") as cache:
        cache.put_many("k", "c", {"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}})
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE results SET value = '{\"n\": 99}' WHERE item = 'a'")  # checksum breaks
        db.execute("UPDATE results SET value = '{\"n\": 9', checksum = 'x' WHERE item = 'b'")
    db.close()
    with ResultCache(path, model="m") as cache:
        valid = lambda v: v["n"] < 3  # noqa: E731  ("c" is well-formed but fails validation)
        assert cache.get_many("k", "c", ["a", "b", "c"], valid) == {}
        assert cache.corrupt == 3 and cache.misses == 3
        out = map_cached(["a", "b", "c"], lambda todo: [{"n": 0}] * len(todo), cache=cache,
                         kind="k", config="c", chunk_size=8, validate=valid)
        assert out == [{"n": 0}] * 3
        assert cache.get_many("k", "c", ["a", "b", "c"], valid) == dict.fromkeys("abc", {"n": 0})


def test_an_unreadable_cache_file_is_moved_aside(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with ResultCache(path, model="m") as cache:
        assert cache.get_many("k", "c", ["a"]) == {}
        cache.put_many("k", "c", {"a": 1})
    assert (tmp_path / "c.sqlite.corrupt").exists()


def test_model_fingerprint_follows_the_files(tmp_path):
    (tmp_path / "config.json").write_text('{"layers": 2}')
    (tmp_path / "model.safetensors").write_bytes(b"0" * 10)
    base = compute_model_fingerprint("m", None, tmp_path)
    assert base == compute_model_fingerprint("m", None, tmp_path)
    assert base != compute_model_fingerprint("m", "v2", tmp_path)
    assert base != compute_model_fingerprint("other", None, tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"0" * 11)
    changed = compute_model_fingerprint("m", None, tmp_path)
    assert changed != base
    (tmp_path / "config.json").write_text('{"layers": 3}')
    assert compute_model_fingerprint("m", None, tmp_path) != changed
    assert compute_key({"a": 1, "b": [2]}) == compute_key({"b": [2], "a": 1})


class EchoEngine:
    """Greedy answers the gold answer for even-numbered questions; samples never do."""

    def __init__(self):
        self.prompts = 0

    def generate(self, prompts, settings, desc=""):
        self.prompts += len(prompts)
        out = []
        for p in prompts:
            n = int(p.rsplit("fact ", 1)[1].split("?")[0]) if "fact " in p else 1
            right = not settings.do_sample and n % 2 == 0
            out.append([f" Ans {n}" if right else " no"] * settings.num_return_sequences)
        return out


def rows(n):
    return [{"id": f"q{i:02d}", "question": f"What is fact {i}?", "answers": [f"Ans {i}"],
             "group": "g"} for i in range(n)]


def test_probe_and_memorization_reuse_the_cache(tmp_path):
    ds = Dataset.from_list(rows(12))
    cfg = ProbeConfig(n_prompts=2, k_shots=2, n_samples=2, chunk_size=5)
    with ResultCache(tmp_path / "c.sqlite", model="m") as cache:
        first_engine = EchoEngine()
        probed = apply_step(SlickProbe(first_engine, cfg, 0, cache), ds).dataset.to_list()
        again_engine = EchoEngine()
        again = apply_step(SlickProbe(again_engine, cfg, 0, cache), ds).dataset.to_list()
        assert again == probed and again_engine.prompts == 0 < first_engine.prompts
        assert cache.hits == 12 and cache.misses == 12
        apply_step(SlickProbe(EchoEngine(), cfg, 1, cache), ds)  # another seed: other prompts and samples
        assert cache.misses == 24

        mem = MemorizationConfig(n_samples=2, questions={"g": ["What is [X]?"]})
        first = apply_step(MemorizationStep(EchoEngine(), mem, 0, cache), ds).dataset.to_list()
        engine = EchoEngine()
        assert apply_step(MemorizationStep(engine, mem, 0, cache), ds).dataset.to_list() == first
        assert engine.prompts == 0
    assert [r["probe_category"] for r in probed][:2] == ["HighlyKnown", "Unknown"]
    assert [r["probe_mem_level"] for r in first] == [0] * 12


@pytest.mark.parametrize("shortcut", [True, False])
def test_probe_ignores_a_cached_record_of_the_wrong_shape(tmp_path, shortcut):
    ds = Dataset.from_list(rows(4))
    cfg = ProbeConfig(n_prompts=2, k_shots=2, n_samples=2, shortcut=shortcut)
    with ResultCache(tmp_path / "c.sqlite", model="m") as cache:
        probe = SlickProbe(EchoEngine(), cfg, 0, cache)
        first = apply_step(probe, ds).dataset.to_list()
        (key,) = [k for (k,) in cache.conn.execute("SELECT item FROM results LIMIT 1")]
        bad = {"greedy": ["x"], "greedy_hits": 5, "sample_hits": 0, "n_samples": 0,
               "complete": False}
        cache.put_many("slick", probe.config_key(), {key: bad})
        assert apply_step(probe, ds).dataset.to_list() == first
        assert cache.corrupt == 1
