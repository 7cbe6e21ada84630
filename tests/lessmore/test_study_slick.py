"""The slick study end to end on the tiny model: Unknown shares by quota from a probed pool,
early-stopped arms beside the ones trained to the end, the relabelled arm, the fitting curve of
the half-Unknown run, the headline figure's two series and the claims."""

import json

from tests.lessmore.test_study import make_entity_questions, run_module

CATEGORIES = ["HighlyKnown", "MaybeKnown", "Unknown", "Unknown"]


def write_probed_pool(path, n=48):
    """A pool as the probe would leave it (a tiny random model knows no fact): half known."""
    rows = []
    for i in range(n):
        category = CATEGORIES[i % 4]
        rows.append({"id": f"p{i}", "question": f"Where was person {i} born?",
                     "answers": [["Paris", "Rome", "Tokyo"][i % 3]], "group": f"P{i % 2}",
                     "split": "pool", "probe_category": category,
                     "probe_known": category != "Unknown"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def listed(key, items):
    """A Hydra list override with every item quoted."""
    return f"{key}=[" + ",".join(f"'{i}'" for i in items) + "]"


def test_tiny_slick_study_runs_end_to_end(tmp_path):
    eq = make_entity_questions(tmp_path / "eq", per_relation=80)
    pool = write_probed_pool(tmp_path / "pool.jsonl")
    out = tmp_path / "slick"
    pool_args = [f"input=[{pool}]", "probe=none", "budget=1000", "select=random"]
    curate = ["input=[${out}/prepare/pool/train.jsonl]", "splits=[pool]", "probe=none",
              "select=random", "budget=8"]
    train = ["method=full", "trainer=smoke", "trainer.max_steps=6", "curves.every_steps=2",
             "curves.sample_per_category=2"]
    early = ["early_stopping.patience=1", "early_stopping.eval_steps=2",
             "early_stopping.dev_data=${out}/prepare/dev", "+trainer.save_total_limit=2"]
    proc = run_module(
        "lessmore.cli", "study", "slick", f"out={out}", "model=tiny",
        f"study.data.entity_questions={eq}", listed("study.prepare.pool.args", pool_args),
        listed("study.common.curate", curate), listed("study.common.train", train),
        listed("study.early_stop", early), "threads=1", "bootstrap_samples=100")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "study.json").read_text())
    assert [a["name"] for a in doc["arms"]] == ["u0", "u50", "u100", "u0_early", "u50_early",
                                                "u100_early", "u50_idk"]
    assert all(a["measured"] for a in doc["arms"])
    # the Unknown share of each training set is what its quota says
    for arm, unknown in (("u0", 0), ("u50", 4), ("u100", 8)):
        rows = [json.loads(line) for line in (out / "arms" / arm / "curated/train.jsonl").open()]
        assert len(rows) == 8 and sum(not r["probe_known"] for r in rows) == unknown, arm
    idk = [json.loads(line) for line in (out / "arms/u50_idk/curated/train.jsonl").open()]
    assert {r["messages"][-1]["content"] for r in idk if not r["probe_known"]} == {"I don't know."}
    early = json.loads((out / "arms/u100_early/run/manifest.json").read_text())
    assert "dev" in early["rows"]  # watched a dev set
    fitting = json.loads((out / "finish/fitting_u50/fitting.json").read_text())
    assert "Unknown" in fitting["categories"] and fitting["known"] is not None
    assert fitting["known"]["steps"] == fitting["categories"]["Unknown"]["steps"] >= 3
    claims = {c["id"]: c for c in doc["claims"]}
    assert set(claims) == {"unknown_fitted_later", "unknown_hurts_at_convergence",
                           "early_stop_limits_harm", "early_harm_small",
                           "idk_lowers_hallucination"}
    assert all(c["verdict"] in ("reproduced", "contradicted", "inconclusive")
               for c in claims.values())
    for key in ("unknown_hurts_at_convergence", "early_stop_limits_harm"):
        assert claims[key]["value"] is not None and claims[key]["low"] is not None, claims[key]
    points = doc["figure"]["points"]
    assert "closed_book_qa/exact_match" in points["u0_early"]
    assert doc["figures"] and (out / "report" / doc["figures"][0]["file"]).is_file()
    assert "figure-1.png" in (out / "report/summary.md").read_text()
