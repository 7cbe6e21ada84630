"""`python -m evaluation` end to end on the tiny model: layout, results schema, roles."""

import json
import shutil

import pytest

from curation.core.config import compose_config
from curation.core.io import read_jsonl, write_json
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.results import load_results
from evaluation.run import evaluate_model, run


def evaluate(tmp_path, model_path, qa_file, *overrides):
    cfg = compose_config("evaluate", [
        "model=tiny", f"model.path={model_path}", f"out={tmp_path / 'eval'}",
        f"suite.benchmarks.closed_book_qa.data={qa_file}", "suite.benchmarks.closed_book_qa.k_shots=2",
        "suite.benchmarks.closed_book_qa.max_new_tokens=6", "show_progress=false", *overrides])
    return run(cfg), tmp_path / "eval"


def test_plain_model_is_evaluated_into_model_dir(tmp_path, qa_file, tiny_model_dir):
    results, out = evaluate(tmp_path, tiny_model_dir, qa_file, "limit=4")
    assert set(results) == {"model"} and (out / "config.yaml").is_file()
    doc = json.loads((out / "model" / "results.json").read_text())
    assert doc == results["model"]
    assert set(doc) == {"schema_version", "model", "suite", "data_fingerprint", "metrics",
                        "settings", "config", "versions"}
    assert doc["model"] == {"name": "tiny", "path": str(tiny_model_dir), "role": "model",
                            "base": None}
    metric = doc["metrics"]["closed_book_qa/exact_match"]
    assert metric["n"] == 4 and metric["higher_is_better"] is True
    assert sum(g["n"] for g in metric["by_group"].values()) == 4
    settings = doc["settings"]["closed_book_qa"]
    assert settings["chat_template"] is False and settings["k_shots"] == 2
    assert settings["limit"] == 4 and settings["stop"] == ["\n"]
    assert doc["data_fingerprint"]["closed_book_qa"].startswith("sha256:")
    assert "torch" in doc["versions"]
    samples = read_jsonl(out / "model" / "samples" / "closed_book_qa.jsonl")
    assert len(samples) == 4
    assert metric["value"] == pytest.approx(sum(s["score"] for s in samples) / 4)
    load_results(out / "model" / "results.json")  # round-trips through the typed schema


def test_training_run_is_evaluated_with_its_base(tmp_path, qa_file, tiny_model_dir):
    run_dir = tmp_path / "my-run"
    shutil.copytree(tiny_model_dir, run_dir)  # "tuned" weights identical to the base
    write_json(run_dir / "manifest.json", {"stage": "train", "base_model": {
        "name": "tiny-base", "path": str(tiny_model_dir), "dtype": "bfloat16", "device": "cuda"}})
    results, out = evaluate(tmp_path, run_dir, qa_file)
    assert set(results) == {"tuned", "base"}
    tuned, base = results["tuned"]["model"], results["base"]["model"]
    assert tuned == {"name": "my-run", "path": str(run_dir), "role": "tuned",
                     "base": {"name": "tiny-base", "path": str(tiny_model_dir)}}
    assert base == {"name": "tiny-base", "path": str(tiny_model_dir), "role": "base", "base": None}
    # same weights, same settings (the base is loaded with the evaluation's dtype and device)
    assert results["tuned"]["metrics"] == results["base"]["metrics"]
    assert ((out / "tuned" / "samples" / "closed_book_qa.jsonl").read_bytes()
            == (out / "base" / "samples" / "closed_book_qa.jsonl").read_bytes())

    only_tuned, out = evaluate(tmp_path / "again", run_dir, qa_file, "compare_base=false",
                               "limit=1")
    assert set(only_tuned) == {"tuned"} and not (out / "base").exists()


def test_results_are_deterministic(tmp_path, qa_file, scripted_engine):
    from evaluation.benchmarks.closed_book import ClosedBookQA
    from evaluation.results import ModelInfo

    bench = ClosedBookQA(data=str(qa_file), k_shots=2)
    for name in ("a", "b"):
        evaluate_model(scripted_engine({"Who wrote Emma?": "Jane Austen"}), [bench],
                       ModelInfo("stub", "stub", "model"), suite="s", config={},
                       out_dir=tmp_path / name)
    for rel in ("results.json", "samples/closed_book_qa.jsonl"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
