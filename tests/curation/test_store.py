"""Input rows stream into a memory-mapped arrow file: same records as the in-memory reader,
none of them held in memory, hub datasets streamed when asked."""

import json
import sys
import types

import pytest

from curation.core.config import UserError
from curation.core.readers import read_records
from curation.store import RecordStore


def _write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture
def mixed(tmp_path):
    return _write(tmp_path / "mixed.jsonl", [
        {"instruction": "Name a colour.", "output": "Blue."},
        {"question": "Capital of France?", "answers": ["Paris"], "group": "capitals"},
        "{not json",
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]},
        {"instruction": "", "output": "x"},
    ])


def test_store_matches_the_in_memory_reader(mixed, tmp_path):
    store = RecordStore(tmp_path / "cache")
    read, ds = store.read(str(mixed), max_chars=10_000)
    expected = read_records(str(mixed))
    assert read.records == []  # every record went to the arrow file, none kept in memory
    assert (read.rows_in, len(read.rejections)) == (5, 2) and len(ds) == 3
    assert ds.cache_files and ds.cache_files[0]["filename"].startswith(str(store.root))
    for row, record in zip(ds, expected.records, strict=True):
        assert row == {**dict.fromkeys(row), **record}  # absent QA fields are null
    assert ds.column_names == ["id", "messages", "source", "question", "answers", "group",
                               "split", "origin"]
    store.close()
    assert not store.root.exists()


def test_store_fingerprint_depends_on_content_only(mixed, tmp_path):
    a = RecordStore(tmp_path / "a").read(str(mixed), max_chars=10_000)[1]
    b = RecordStore(tmp_path / "b").read(str(mixed), max_chars=10_000)[1]
    assert a._fingerprint == b._fingerprint
    other = _write(tmp_path / "other.jsonl", [{"instruction": "Other?", "output": "Yes."}])
    assert RecordStore(tmp_path / "c").read(str(other), max_chars=10_000)[1]._fingerprint \
        != a._fingerprint


def test_hub_datasets_stream_when_asked(monkeypatch):
    seen = {}

    def load_dataset(repo, config, split, streaming):
        seen.update(repo=repo, config=config, split=split, streaming=streaming)
        return iter([{"instruction": "Say hi.", "output": "Hi."}])

    monkeypatch.setitem(sys.modules, "datasets",
                        types.SimpleNamespace(load_dataset=load_dataset))
    res = read_records("org/set:cfg", split="validation", streaming=True)
    assert seen == {"repo": "org/set", "config": "cfg", "split": "validation", "streaming": True}
    assert res.records[0]["origin"] == "hf://org/set:cfg[validation]:1"


def test_a_sink_receives_records_and_counts_still_add_up(mixed):
    got = []
    res = read_records(str(mixed), sink=got.append)
    assert len(got) == 3 and res.records == [] and res.rows_in == len(got) + len(res.rejections)
    with pytest.raises(UserError, match="unknown input_format"):
        read_records(str(mixed), "yaml", sink=got.append)


def test_a_curated_qa_set_read_again_keeps_its_probe_columns_and_stays_qa(tmp_path):
    msgs = [{"role": "user", "content": "Capital of Peru?"},
            {"role": "assistant", "content": "I don't know."}]
    path = _write(tmp_path / "curated.jsonl", [
        {"id": "a", "messages": msgs, "question": "Capital of Peru?", "answers": ["Lima"],
         "group": "capitals", "split": "pool", "probe_category": "Unknown",
         "probe_known": False, "len_tokens": 9, "sel_rank": 0},
        {"id": "b", "messages": [{"role": "user", "content": "Hi"},
                                 {"role": "assistant", "content": "Hello!"}]},
        {"id": "c", "question": "Capital of Chile?", "answers": ["Santiago"],
         "probe_category": "HighlyKnown", "probe_known": True, "probe_mem_level": 3},
    ])
    read, ds = RecordStore(tmp_path / "s").read(str(path), max_chars=10_000)
    rows = list(ds)
    # the probes' columns come along (null where a row had none); other stages' do not
    assert [r["probe_category"] for r in rows] == ["Unknown", None, "HighlyKnown"]
    assert [r["probe_known"] for r in rows] == [False, None, True]
    assert [r["probe_mem_level"] for r in rows] == [None, None, 3]
    assert "len_tokens" not in ds.column_names and "sel_rank" not in ds.column_names
    # a messages row with question and answers is still a QA row, its messages as they are
    assert (rows[0]["question"], rows[0]["answers"], rows[0]["group"]) == (
        "Capital of Peru?", ["Lima"], "capitals")
    assert rows[0]["messages"][-1]["content"] == "I don't know."
    assert rows[1]["question"] is None
    again = RecordStore(tmp_path / "t").read(str(path), max_chars=10_000)[1]
    assert again._fingerprint == ds._fingerprint  # same bytes in, same fingerprint
