"""The lima study end to end on the tiny model: a pool of Alpaca rows, DEITA's rule (IFD score)
and a random draw at the same budget from it, the whole pool as the third arm, each judged on
held-out AlpacaEval instructions against text-davinci-003's answers."""

import json

from tests.lessmore.test_study import make_imitation_data, run_module

TOPICS = ["rivers", "volcanoes", "chess openings", "bread baking", "tax forms", "jazz piano",
          "solar panels", "ant colonies", "medieval castles", "knitting", "tides", "sonnets",
          "spreadsheets", "cactus care", "glaciers", "tennis serves", "vaccines", "origami",
          "train timetables", "coral reefs", "podcast editing", "sourdough", "comets", "budgets",
          "lighthouses", "sign language", "bicycle repair", "bonsai", "desert foxes", "opera"]
ASKS = ["Explain {} to a child.", "Write a short poem about {}.", "Give three tips on {}.",
        "What is the history of {}?", "List common mistakes with {}."]


def write_alpaca_pool(path):
    """Varied Alpaca-format rows (the 30 near-identical rows of make_imitation_data would leave
    DEITA's diversity rule a single row to keep)."""
    rows = [{"instruction": ASKS[i % len(ASKS)].format(topic), "input": "" if i % 3 else
             f"Audience: readers aged {20 + i}.",
             "output": f"Here is an answer about {topic}: it matters because people "
                       f"use it daily, and number {i} shows how {topic} changes over time."}
            for i, topic in enumerate(TOPICS)]
    path.write_text(json.dumps(rows))


def test_tiny_lima_study_runs_end_to_end(tmp_path, cache_dir):
    data = make_imitation_data(tmp_path / "data")[:2]  # study.data.alpaca, study.data.alpaca_eval
    write_alpaca_pool(tmp_path / "data" / "alpaca.json")
    out = tmp_path / "lima"
    proc = run_module("lessmore.cli", "study", "lima", f"out={out}", "model=tiny", *data,
                      "study.pool_rows=24", "study.budget=8", "study.prompts=8",
                      "study.max_new_tokens=16", "study.common.train=['trainer=smoke']",
                      "threads=1", "bootstrap_samples=100")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "study.json").read_text())
    assert [a["name"] for a in doc["arms"]] == ["curated", "random", "pool"]
    assert all(a["measured"] for a in doc["arms"])
    assert "style/unigram_f1" in doc["arms"][0]["metrics"]
    got = {c["id"]: c for c in doc["claims"]}
    assert set(got) == {"pool_learns", "curated_as_good_as_random", "curated_beats_random",
                        "curated_near_pool"}
    for c in got.values():
        assert c["verdict"] in ("reproduced", "contradicted", "inconclusive")
        assert c["value"] is not None, c  # measured, with an interval
        assert c["low"] is not None and c["n"] > 0, c
    # one pool: the pool arm trains on it, the small arms choose `budget` rows from it
    assert json.loads((out / "prepare/pool/manifest.json").read_text())["counts"]["kept"] == 24
    ids = {json.loads(line)["id"] for line in (out / "prepare/pool/train.jsonl").open()}
    assert len(ids) == 24
    trained = json.loads((out / "arms/pool/run/manifest.json").read_text())["data"]
    assert trained["rows_read"] == 24 and not (out / "arms/pool/curated").exists()
    chosen = {arm: [json.loads(line)["id"] for line in
                    (out / f"arms/{arm}/curated/train.jsonl").open()]
              for arm in ("curated", "random")}
    assert len(chosen["random"]) == 8 and 0 < len(chosen["curated"]) <= 8
    assert set(chosen["curated"]) | set(chosen["random"]) <= ids
    curated_cfg = (out / "arms/curated/curated/config.yaml").read_text()
    assert "score_first" in curated_cfg and "budget: 8" in curated_cfg
    assert (out / "report/summary.md").read_text().startswith("# Study `lima`")
