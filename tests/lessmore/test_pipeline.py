"""The whole pipeline end to end on the tiny model, and the `lessmore` command's behaviour."""

import json
import os
import subprocess
import sys

import pytest

from tests import PROJECT_ROOT


def lessmore(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "lessmore.cli", *args], capture_output=True,
                          text=True, cwd=PROJECT_ROOT, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, cache_dir):
    out = tmp_path_factory.mktemp("pipeline") / "demo"
    proc = lessmore("pipeline", f"out={out}", "model=tiny", "budget=40",
                    "train=['trainer=smoke']", env={"LESSMORE_CACHE": str(cache_dir)})
    return proc, out


def test_tiny_pipeline_runs_end_to_end(pipeline_run):
    proc, out = pipeline_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"report written to {out.resolve() / 'report' / 'report.html'}" in proc.stdout
    for rel in ("config.yaml", "curated/manifest.json", "curated/dataset", "run/manifest.json",
                "results/config.yaml", "report/report.md", "report/report.html"):
        assert (out / rel).exists(), rel


def test_pipeline_stages_connect(pipeline_run):
    _, out = pipeline_run
    curated = json.loads((out / "curated/manifest.json").read_text())
    c = curated["counts"]
    assert c["rows_in"] == c["kept"] + c["filtered"] + c["rejected"] and c["kept"] == 40
    assert c["rejected"] >= 13  # the planted bad rows of data/chats/chats.jsonl
    run = json.loads((out / "run/manifest.json").read_text())
    assert run["tokens"]["trained"] > 0
    results = sorted(p.parent.name for p in (out / "results").rglob("results.json"))
    assert results == ["base", "tuned"]
    html = (out / "report/report.html").read_text()
    assert "base" in html and "tuned" in html
    # the demo suite fills both panels; the weights stage's analysis reaches the report
    tuned = json.loads((out / "results/tuned/results.json").read_text())
    assert {k.split("/")[0] for k in tuned["metrics"]} >= {"closed_book_qa", "perplexity",
                                                           "style", "ifeval"}
    assert (out / "results/weights/weights.json").is_file()
    assert "Intruder dimensions per run" in html
    # the held-out facts were probed first, so factuality splits by knowledge category
    heldout = json.loads((out / "heldout/manifest.json").read_text())["counts"]
    facts = [json.loads(line) for line in (PROJECT_ROOT / "data/qa/facts.jsonl").open()]
    evaluated = sum(f["split"] in ("heldout", "exemplar") for f in facts)
    assert (heldout["kept"], heldout["rejected"]) == (evaluated, 0)  # every one of them kept
    assert heldout["filtered"] == len(facts) - evaluated  # the pool: not theirs to probe
    assert "closed_book_qa/exact_match,category" in tuned["metrics"]
    assert "Factuality per knowledge category" in html
    assert "carries no knowledge categories" not in html


def _commands(*overrides):
    from curation.core.config import compose_config
    from lessmore.pipeline import build_commands

    return dict(build_commands(compose_config("pipeline", ["out=/tmp/x", *overrides])))


def test_pipeline_probes_held_out_facts_only_for_suites_with_closed_book_qa():
    commands = _commands()
    assert list(commands) == ["curate", "probe-heldout", "train", "evaluate", "weights", "report"]
    probe = commands["probe-heldout"]
    assert "splits=[heldout,exemplar]" in probe and "select=random" in probe
    assert any(a.endswith("/data/qa/facts.jsonl]") for a in probe if a.startswith("input="))
    assert "suite.benchmarks.closed_book_qa.data=/tmp/x/heldout/train.jsonl" in commands["evaluate"]
    imitation = _commands("suite=imitation", "probe=slick")
    assert "probe-heldout" not in imitation  # no closed-book QA in that suite
    assert "suite=imitation" in imitation["evaluate"] and "probe=slick" in imitation["curate"]
    assert "probe-heldout" not in _commands("probe_heldout=false")
    # every stage gets the same model settings, packed_linear included
    assert all("model.packed_linear=false" in argv
               for name, argv in _commands("model.packed_linear=false").items()
               if name not in ("weights", "report"))


def test_every_model_field_reaches_every_model_stage():
    from dataclasses import fields

    from curation.core.models import ModelConfig

    commands = _commands("model.revision=v1", "model.trust_remote_code=true",
                         "model.path=/my models/m")
    for name in ("curate", "probe-heldout", "train", "evaluate"):
        given = {a.split("=", 1)[0] for a in commands[name] if a.startswith("model.")}
        assert given == {f"model.{f.name}" for f in fields(ModelConfig) if f.name != "name"}, name
    assert "model.trust_remote_code=true" in commands["train"]
    assert "model.path='/my models/m'" in commands["curate"]  # quoted: Hydra reads it whole
    assert "model.revision=v1" in commands["train"]
    # the evaluation loads the run, which names its own base (and so no revision of its own)
    assert "model.path=/tmp/x/run" in commands["evaluate"]
    assert "model.revision=null" in commands["evaluate"]


def test_the_suite_declares_the_facts_the_pipeline_probes():
    commands = _commands("evaluate=['suite.facts.splits=[heldout]']")
    assert "splits=[heldout]" in commands["probe-heldout"]
    moved = _commands("evaluate=['suite.facts.key=benchmarks.closed_book_qa.data',"
                      "'suite.facts.data=/other/facts.jsonl']")
    assert "input=[/other/facts.jsonl]" in moved["probe-heldout"]
    assert "probe-heldout" not in _commands("evaluate=['suite.facts=null']")


def test_preset_fields_on_the_pipeline_command_line_are_refused_not_dropped():
    from curation.core.config import UserError

    with pytest.raises(UserError, match=r"evaluate=\['suite.FIELD=VALUE'\]"):
        _commands("suite.benchmarks.style.limit=3")
    with pytest.raises(UserError, match=r"curate=\['probe.FIELD=VALUE'\]"):
        _commands("probe.k_shots=2")
    # the same settings given to their stage are passed through untouched
    argv = _commands("evaluate=['suite.benchmarks.style.limit=3']")["evaluate"]
    assert "suite.benchmarks.style.limit=3" in argv


def test_probe_heldout_probes_the_data_the_evaluation_reads_with_the_training_probe():
    commands = _commands("curate=['probe.n_samples=4','budget=7']",
                         "evaluate=['suite.benchmarks.closed_book_qa.data=/my/qa.jsonl']")
    probe = commands["probe-heldout"]
    assert "input=[/my/qa.jsonl]" in probe and "probe.n_samples=4" in probe
    assert "budget=7" not in probe  # every held-out fact is kept, whatever the training budget
    # the probed copy of the user's file is what the evaluation reads (the last override wins)
    assert commands["evaluate"][-1] == "suite.benchmarks.closed_book_qa.data=/tmp/x/heldout/train.jsonl"


def test_missing_input_is_one_line_without_traceback(tmp_path):
    proc = lessmore("curate", f"input={tmp_path / 'nope.jsonl'}", f"out={tmp_path / 'o'}",
                    "model=tiny")
    assert proc.returncode == 2
    assert "input file not found" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_key_fails_at_startup(tmp_path):
    proc = lessmore("curate", "input=x", f"out={tmp_path}", "budgit=3")
    assert proc.returncode != 0 and "budgit" in proc.stderr


def test_unknown_command_and_help():
    assert lessmore("frobnicate").returncode == 2
    proc = lessmore("--help")
    assert proc.returncode == 0 and "pipeline" in proc.stdout


def test_unloadable_model_is_one_line_without_traceback(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text('{"question": "Capital of France?", "answers": ["Paris"]}\n')
    proc = lessmore("curate", f"input={data}", f"out={tmp_path / 'o'}", "model.path=/no/such/dir")
    assert proc.returncode == 2
    assert "model folder not found: /no/such/dir" in proc.stderr and "Traceback" not in proc.stderr


def test_the_demo_trains_on_a_mix_that_can_show_imitation():
    """The demo's curate picks teacher-style chats beside facts (select=demo_mix): a training
    set of facts alone cannot move the style panel toward the reference."""
    from curation import config as _schema  # noqa: F401  (registers the schema)
    from curation.core.config import compose_config

    commands = _commands()
    curate = commands["curate"]
    assert "select=demo_mix" in curate and "budget=80" in curate
    assert any(a.startswith("input=") and "/data/imitation/train.jsonl" in a for a in curate)
    select = compose_config("curate", ["input=x", "out=o", "select=demo_mix"]).select
    quotas = select.quotas["source"]
    assert sum(quotas.values()) == 80 and quotas["sample-teacher"] == 56
    teacher = (PROJECT_ROOT / "data/imitation/train.jsonl").read_text().splitlines()
    assert len(teacher) >= quotas["sample-teacher"]
    assert "select=known_first" in _commands("select=known_first")["curate"]


def test_the_demo_trains_two_epochs_unless_told_otherwise():
    assert "trainer.num_train_epochs=2" in _commands()["train"]
    assert "trainer.num_train_epochs=2" not in _commands("train=['trainer=smoke']")["train"]
