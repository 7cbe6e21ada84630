"""A killed evaluation resumes from its generation cache without recomputing what it finished,
and reads back exactly what it computed."""

import pytest

from curation.core.config import compose_config
from curation.core.engine import cached as caching
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.run import run


def _evaluate(tmp_path, tiny_model_dir, qa_file, *extra):
    cfg = compose_config("evaluate", [
        "model=tiny", f"model.path={tiny_model_dir}", f"out={tmp_path / 'eval'}",
        f"suite.benchmarks.closed_book_qa.data={qa_file}",
        "suite.benchmarks.closed_book_qa.k_shots=2",
        "suite.benchmarks.closed_book_qa.max_new_tokens=6", "show_progress=false", *extra])
    return run(cfg)


def test_a_killed_evaluation_resumes_without_recomputing(tmp_path, tiny_model_dir, qa_file,
                                                         counted, monkeypatch):
    monkeypatch.setattr(caching, "CHUNK_SIZE", 2)  # commits every 2 prompts
    counted["die_after"] = 2  # the third chunk of the six held-out items dies
    with pytest.raises(RuntimeError, match="killed mid-run"):
        _evaluate(tmp_path, tiny_model_dir, qa_file)
    assert counted["prompts"] == 4
    counted["die_after"] = None
    resumed = _evaluate(tmp_path, tiny_model_dir, qa_file)
    assert counted["prompts"] == 6  # only the last chunk was generated again

    fresh = _evaluate(tmp_path / "fresh", tiny_model_dir, qa_file, "cache_dir=null")
    assert resumed["model"]["metrics"] == fresh["model"]["metrics"]
    assert counted["prompts"] == 12  # no cache: all six generated
    again = _evaluate(tmp_path, tiny_model_dir, qa_file)
    assert counted["prompts"] == 12 and again == resumed  # all read back, same results
