"""The proxy study end to end on the tiny model: the proxy arm waits for the tuned arm, decodes
the small base (as the "large" model) with alpha 1, and reproduces the tuned run's answers."""

import json

from tests.lessmore.test_study import make_entity_questions, run_module


def test_tiny_proxy_study_reproduces_the_tuned_answers(tmp_path):
    eq = make_entity_questions(tmp_path / "eq", per_relation=60)
    out = tmp_path / "proxy"
    proc = run_module("lessmore.cli", "study", "proxy", f"out={out}", "model=tiny",
                      f"study.data.entity_questions={eq}", "study.common.train=['trainer=smoke']",
                      "threads=1", "bootstrap_samples=100")
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr + proc.stdout
    assert log.index("launching 1 arm(s): tuned") < log.index("launching 1 arm(s): proxy")
    doc = json.loads((out / "study.json").read_text())
    assert [a["name"] for a in doc["arms"]] == ["tuned", "proxy"]
    claims = {c["id"]: c for c in doc["claims"]}
    identity = claims["identity"]
    assert identity["value"] is not None and identity["n"] > 0, identity
    assert identity["verdict"] == "reproduced", identity  # alpha 1, large = small base
    assert claims["same_score"]["verdict"] == "reproduced", claims["same_score"]
    proxied = json.loads((out / "arms/proxy/results/tuned/results.json").read_text())
    assert proxied["model"]["role"] == "tuned"
    assert (out / "report/figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the proxy arm ran no training and no curation
    assert sorted(p.name for p in (out / "arms/proxy/done").glob("*.json")) == ["evaluate.json"]
