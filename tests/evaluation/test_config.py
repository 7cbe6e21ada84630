"""conf/evaluate.yaml, conf/report.yaml and every conf/suite/*.yaml compose and validate."""

import ast
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from curation.core.config import CONF_DIR, compose_config
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.benchmarks.base import build_benchmarks
from evaluation.benchmarks.fewshot import is_local
from evaluation.report import config as _report_schema  # noqa: F401
from tests import PROJECT_ROOT

EVALUATION_DIR = PROJECT_ROOT / "evaluation"


def test_evaluate_config_composes_with_defaults():
    cfg = compose_config("evaluate", ["out=/tmp/x", "model=tiny", "limit=3"])
    assert cfg.model.name == "tiny" and cfg.compare_base is True and cfg.limit == 3
    assert cfg.suite.name == "closed_book"
    bench = cfg.suite.benchmarks.closed_book_qa
    assert bench.data.endswith("data/qa/facts.jsonl") and bench.k_shots == 4
    assert bench.stop == ["\n"] and bench.chat_template is False


def test_report_config_composes():
    cfg = compose_config("report", ["results=[a,b]", "out=/tmp/r"])
    assert list(cfg.results) == ["a", "b"] and cfg.title


@pytest.mark.parametrize(("name", "override"), [
    ("evaluate", "bogus=1"), ("evaluate", "compare_base=maybe"), ("evaluate", "model.bogus=1"),
    ("report", "bogus=1")])
def test_unknown_keys_and_wrong_types_fail(name, override):
    with pytest.raises(ConfigCompositionException):
        compose_config(name, ["out=/tmp/x", override])


@pytest.mark.parametrize("suite", sorted(p.stem for p in (CONF_DIR / "suite").glob("*.yaml")))
def test_every_suite_builds(suite):
    cfg = compose_config("evaluate", ["out=/tmp/x", f"suite={suite}"])
    benchmarks = build_benchmarks(cfg.suite.benchmarks)
    assert benchmarks
    for benchmark in benchmarks:
        data = getattr(benchmark, "data", "")
        if not is_local(data):
            continue  # a hub dataset; tests are offline (local files in its format are tested)
        if "shared/peer" in data and not Path(data).exists():
            pytest.skip("../shared/peer is absent")
        benchmark.load_data()  # the project's own sample data fits the suite's definition


def test_evaluation_never_imports_training():
    for path in EVALUATION_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "training" or n.startswith("training.") for n in names), path
