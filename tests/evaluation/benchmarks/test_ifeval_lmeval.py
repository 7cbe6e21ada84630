"""lessmore's IFEval checkers against lm-evaluation-harness's own IFEval scoring, verdict by verdict
(strict and loose, every instruction of every response).

- The committed fixture ``fixtures/ifeval_lmeval.json``: lm-eval's verdicts, computed by the real
  lm-eval (``benchmarks/bench_ifeval.py --write-fixture``, provenance inside) on the synthetic
  response corpus for the first prompts of every instruction type of the real IFEval set, and on
  SmolLM2-135M-Instruct's own responses to them (stored in the fixture). The synthetic responses
  are rebuilt here by the same deterministic builder and checked against the fixture's hashes,
  so a changed builder fails loudly instead of comparing different texts.
- Live: the same comparison on all 541 real prompts, with lm-eval run in its own venv
  (``benchmarks/setup_lmeval.sh``); skipped when the prompts (``../shared/data/ifeval``) or that
  venv are absent.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from evaluation.benchmarks.ifeval_checks import CHECKS
from tests import PROJECT_ROOT, load_script

FIXTURE = Path(__file__).parent / "fixtures" / "ifeval_lmeval.json"


def load_bench():
    return load_script(PROJECT_ROOT / "benchmarks" / "bench_ifeval.py")


bench = load_bench()


def test_the_corpus_exercises_every_type_and_is_deterministic():
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    items = fixture["items"]
    assert {i for it in items for i in it["instruction_id_list"]} == set(CHECKS)
    assert bench.corpus(items) == bench.corpus(items)


def test_checkers_give_lm_evals_verdicts_on_the_fixture():
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    items, expected = fixture["items"], fixture["responses"]
    generated = [{k: e[k] for k in ("key", "variant", "response")} for e in expected
                 if "response" in e]  # a model's generations, stored as they were
    responses = bench.corpus(items) + generated
    rebuilt = [(r["key"], r["variant"], bench.response_hash(r["response"])) for r in responses]
    assert rebuilt == [(e["key"], e["variant"], e["sha256_16"]) for e in expected], (
        "the response corpus changed: rewrite the fixture with "
        + fixture["provenance"]["written_by"])
    report = bench.compare(items, responses, bench.ours(items, responses), expected)
    assert report["disagreements"] == []
    assert set(report["agreement"].values()) == {1.0}
    # lm-eval's verdicts pass and fail every instruction type, strict and loose
    assert set(report["coverage"]) == set(CHECKS)
    assert report["types_without_pass_and_fail"] == []


def lmeval_python() -> str | None:
    python = Path(os.environ.get("LMEVAL", bench.LMEVAL))
    python = python.with_name("python") if python.name.startswith("lm") else python
    if not python.exists():
        return None
    probe = subprocess.run([str(python), "-c", "import lm_eval, langdetect, nltk, immutabledict"],
                           capture_output=True)
    return str(python) if probe.returncode == 0 else None


def test_checkers_give_lm_evals_verdicts_on_the_real_prompts():
    if not bench.DATA.is_file():
        pytest.skip(f"no IFEval prompts at {bench.DATA}")
    python = lmeval_python()
    if python is None:
        pytest.skip("no lm-eval venv with IFEval's libraries (benchmarks/setup_lmeval.sh)")
    items = bench.read_items(bench.DATA)
    assert len(items) == 541
    responses = bench.corpus(items)
    reference = bench.lmeval(items, responses, python)
    report = bench.compare(items, responses, bench.ours(items, responses),
                           reference["verdicts"])
    assert report["disagreements"] == []
    assert report["types_without_pass_and_fail"] == []
    # the two instructions whose letter lm-eval replaces by a random one ('#' and '!')
    assert sum(report["not_compared"].values()) == len(
        [r for r in responses if r["key"] in (1122, 1129)])


def test_the_unit_cases_expect_what_lm_eval_says():
    python = lmeval_python()
    if python is None:
        pytest.skip("no lm-eval venv with IFEval's libraries (benchmarks/setup_lmeval.sh)")
    from tests.evaluation.benchmarks.test_ifeval import CASES

    # lm-eval knows IFEval's 30 languages only (and raises on others, which lessmore checks too)
    cases = [c for c in CASES if c[1].get("language", "en") in bench.LMEVAL_LANGUAGES]
    assert len(cases) == len(CASES) - 1
    items = [{"key": k, "prompt": "p", "instruction_id_list": [c[0]], "kwargs": [c[1]]}
             for k, c in enumerate(cases)]
    responses = [{"key": k, "variant": "case", "response": c[2]} for k, c in enumerate(cases)]
    verdicts = bench.lmeval(items, responses, python)["verdicts"]
    assert [(v["strict"][0], v["loose"][0]) for v in verdicts] == [(c[3], c[4]) for c in cases]
