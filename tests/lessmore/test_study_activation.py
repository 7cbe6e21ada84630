"""The activation study end to end on the tiny model: the pool's memorisation levels are probed
once (every arm's curation reads them back from the shared result cache), each arm trains on
the facts of its level group, and every claim is measured from the held-out facts."""

import json

from tests.lessmore.test_study import make_entity_questions, run_module


def test_tiny_activation_study_runs_end_to_end(tmp_path, cache_dir):
    eq = make_entity_questions(tmp_path / "eq")
    out = tmp_path / "activation"
    # 40 smoke steps at a high rate: the tiny model learns the fake facts' answers, so every
    # arm moves exact match and the ratio has a gain to share
    train = "study.common.train=['trainer=smoke','trainer.max_steps=40','trainer.learning_rate=3e-3']"
    proc = run_module("lessmore.cli", "study", "activation", f"out={out}", "model=tiny",
                      f"study.data.entity_questions={eq}", train, "threads=1",
                      "bootstrap_samples=100")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "study.json").read_text())
    assert [a["name"] for a in doc["arms"]] == ["l0_60", "l0_240", "l1to4_60"]  # cpu: 3 arms
    assert all(a["measured"] for a in doc["arms"])
    claims = {c["id"]: c for c in doc["claims"]}
    assert list(claims) == ["sixty_activate", "sixty_most_gain", "known_facts_train_better"]
    for c in claims.values():
        assert c["verdict"] in ("reproduced", "contradicted", "inconclusive"), c
        assert c["value"] is not None and c["low"] is not None, c  # measured, with an interval
    assert claims["sixty_most_gain"]["against"] == "l0_240"  # the largest budget at cpu
    assert sum(doc["verdicts"].values()) == 3
    # the pool was probed once: every pool fact has a level, and the arms' curations hit the
    # shared cache for every fact instead of sampling again
    pool = [json.loads(line) for line in (out / "prepare/pool/train.jsonl").open()]
    assert pool and all(r["probe_mem_level"] in range(5) for r in pool)
    log = proc.stderr + proc.stdout
    assert f"'hits': 0, 'misses': {len(pool)}" in log
    assert log.count(f"'hits': {len(pool)}, 'misses': 0") >= 3
    for arm, levels in (("l0_60", {0}), ("l0_240", {0}), ("l1to4_60", {1, 2, 3, 4})):
        rows = [json.loads(line) for line in (out / f"arms/{arm}/curated/train.jsonl").open()]
        assert {r["probe_mem_level"] for r in rows} <= levels, arm
    summary = (out / "report/summary.md").read_text()
    assert summary.startswith("# Study `activation`")
    assert (out / "report/figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
