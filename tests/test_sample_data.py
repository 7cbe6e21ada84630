"""The project's own sample data: what the issue asks of it, and regenerable byte for byte."""

import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from curation.core.readers import read_records
from tests import PROJECT_ROOT

DATA = PROJECT_ROOT / "data"


def test_facts_cover_enough_relations_splits_and_aliases():
    rows = [json.loads(line) for line in (DATA / "qa/facts.jsonl").open(encoding="utf-8")]
    groups = Counter(r["group"] for r in rows)
    assert len(rows) >= 400 and len(groups) >= 12 and min(groups.values()) >= 24
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["split"] for r in rows} == {"exemplar", "pool", "heldout"}
    for group in groups:
        splits = Counter(r["split"] for r in rows if r["group"] == group)
        assert splits["exemplar"] >= 4 and splits["pool"] and splits["heldout"], group
    assert sum(len(r["answers"]) > 1 for r in rows) >= 100  # aliases are common
    assert all(r["answers"] and all(a.strip() for a in r["answers"]) for r in rows)


def test_chats_mix_good_rows_duplicates_and_bad_rows():
    res = read_records(str(DATA / "chats/chats.jsonl"))
    assert res.rows_in >= 200 and len(res.rejections) >= 12
    reasons = " ".join(r.reason for r in res.rejections)
    for kind in ("malformed JSON", "invalid UTF-8", "duplicate id", "bad role order", "empty"):
        assert kind in reasons, kind
    contents = Counter(json.dumps(r["messages"]).lower() for r in res.records)
    assert sum(n - 1 for n in contents.values()) >= 5  # planted exact duplicates


@pytest.mark.parametrize("script, output", [("qa/make_facts.py", "qa/facts.jsonl"),
                                            ("chats/make_chats.py", "chats/chats.jsonl")])
def test_generators_reproduce_the_committed_files(tmp_path, script, output):
    copy = tmp_path / script
    copy.parent.mkdir(parents=True)
    shutil.copy(DATA / script, copy)
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
    assert (tmp_path / output).read_bytes() == (DATA / output).read_bytes()
