"""``lessmore study``: every study config composes and resolves at every scale; the facts
preparation job splits by fact; a tiny study runs end to end with its arms as separate joblib
jobs, writes study.json and its report, and a rerun skips what finished and resumes what did
not."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf, open_dict

from curation.core.config import CONF_DIR, UserError, compose_config
from lessmore.study import spec as study_spec  # noqa: F401  (registers the schema)
from lessmore.study.facts import assign_split, parse_splits
from lessmore.study.spec import arm_waves, resolve_study
from tests import PROJECT_ROOT

STUDIES = sorted(p.stem for p in (CONF_DIR / "study").glob("*.yaml"))


def compose_study(name: str, scale: str, tmp_path: Path):
    raw = OmegaConf.load(CONF_DIR / "study" / f"{name}.yaml")
    data = [f"study.data.{k}={tmp_path / k}" for k in (raw.get("data") or {})]
    return compose_config("study", [f"study={name}", f"out={tmp_path / 'out'}",
                                    f"scale={scale}", *data])


def test_there_are_studies():
    assert "intruders" in STUDIES


@pytest.mark.parametrize("name", STUDIES)
def test_every_study_composes_and_resolves_at_every_scale(name, tmp_path):
    raw = OmegaConf.load(CONF_DIR / "study" / f"{name}.yaml")
    assert raw.get("paper") and raw.get("finding") and raw.get("claims"), name
    for scale in raw.scales:
        spec = resolve_study(compose_study(name, scale, tmp_path))
        assert spec.arms and spec.claims
        names = {a.name for a in spec.arms}
        for c in spec.claims:  # every claim names arms of this scale (checked fully by
            assert c["arm"] in names  # evaluation.study.claims.parse_claims at run time)
            assert c.get("against") in names | {None}
        text = json.dumps([a.__dict__ for a in spec.arms] + [j.__dict__ for j in spec.prepare])
        assert "${" not in text  # every interpolation resolved


def test_unknown_scale_and_arm_fields_are_errors(tmp_path):
    cfg = compose_study("intruders", "cpu", tmp_path)
    cfg.scale = "huge"
    with pytest.raises(UserError, match="scale='huge' is not one of"):
        resolve_study(cfg)
    cfg = compose_study("intruders", "cpu", tmp_path)
    with open_dict(cfg):
        cfg.study.arms.r1.colour = "red"
    with pytest.raises(UserError, match="unknown field"):
        resolve_study(cfg)


def test_an_arm_set_to_null_at_a_scale_is_not_run(tmp_path):
    cfg = compose_study("intruders", "cpu", tmp_path)
    with open_dict(cfg):
        cfg.study.scales.cpu = {"arms": {"r8": None}}
    assert [a.name for a in resolve_study(cfg).arms] == ["r1", "r64", "full"]


def test_arms_run_in_waves_after_the_arms_they_read(tmp_path):
    cfg = compose_study("proxy", "cpu", tmp_path)
    spec = resolve_study(cfg)
    assert [[a.name for a in w] for w in arm_waves(spec.arms)] == [["tuned"], ["proxy"]]
    proxy = next(a for a in spec.arms if a.name == "proxy")
    assert proxy.stages == ["evaluate"] and proxy.model == cfg.model.path
    with open_dict(cfg):
        cfg.study.arms.tuned.after = ["proxy"]
    with pytest.raises(UserError, match="wait on each other"):
        resolve_study(cfg)
    with open_dict(cfg):
        cfg.study.arms.tuned.after = ["ghost"]
    with pytest.raises(UserError, match=r"runs after \['ghost'\]"):
        resolve_study(cfg)
    with open_dict(cfg):
        cfg.study.arms.tuned.after = []
        cfg.study.arms.proxy.train = ["method=full"]
    with pytest.raises(UserError, match="evaluates `model` as it is"):
        resolve_study(cfg)


def test_a_job_set_to_null_at_a_scale_is_not_run(tmp_path):
    spec = resolve_study(compose_study("proxy", "paper", tmp_path))
    assert spec.prepare == [] and [a.name for a in spec.arms] == ["proxy", "large_tuned"]
    assert all(a.model and not a.after for a in spec.arms)


def test_splits_are_by_fact_and_seeded():
    splits = parse_splits(["pool:0.6", "test:0.4"])
    assert splits == {"pool": 0.6, "test": 0.4}
    questions = [f"Where was person {i} born?" for i in range(2000)]
    got = [assign_split(q, splits, 0) for q in questions]
    assert got == [assign_split(q, splits, 0) for q in questions]  # same fact, same split
    assert 0.55 < got.count("pool") / len(got) < 0.65
    assert got != [assign_split(q, splits, 1) for q in questions]  # the seed matters
    partial = [assign_split(q, {"pool": 0.5}, 0) for q in questions]
    assert None in partial and "pool" in partial  # past the shares' sum: not read
    with pytest.raises(UserError, match="NAME:SHARE"):
        parse_splits(["pool=0.5"])


def make_entity_questions(root: Path, per_relation: int = 40) -> Path:
    templates = {"P17": ("Which country is {} located in?", ["France", "Italy", "Japan"]),
                 "P19": ("Where was {} born?", ["Paris", "Rome", "Tokyo"])}
    (root / "train").mkdir(parents=True)
    for rel, (template, objects) in templates.items():
        rows = [{"question": template.format(f"Entity {rel} {i}"), "answers": [objects[i % 3]]}
                for i in range(per_relation)]
        (root / "train" / f"{rel}.train.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows))
    return root


def run_module(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=timeout, env=dict(os.environ))


def test_facts_job_accounts_for_every_row(tmp_path):
    eq = make_entity_questions(tmp_path / "eq")
    (eq / "train" / "P19.train.jsonl").open("a").write(
        json.dumps({"question": "Where was Entity P19 0 born?", "answers": ["Paris"]}) + "\n")
    proc = run_module("lessmore.study.facts", f"input={eq}", f"out={tmp_path / 'f'}",
                      "per_group=30", "splits=[pool:0.5,test:0.3]")
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((tmp_path / "f/manifest.json").read_text())
    assert m["rows_read"] == 81 and m["facts"] + sum(m["skipped"].values()) == 81
    assert m["skipped"]["past_per_group"] == 10 + 11  # 40 and 41 rows, 30 read of each
    rows = [json.loads(line) for line in (tmp_path / "f/facts.jsonl").open()]
    assert {r["group"] for r in rows} == {"P17", "P19"}
    assert {r["split"] for r in rows} <= {"pool", "test"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q?", "answers": ["a"]}\n{"question": "q2?"}\n')
    proc = run_module("lessmore.study.facts", f"input={bad}", f"out={tmp_path / 'g'}")
    assert proc.returncode == 2 and f"{bad}:2: field 'answers'" in proc.stderr


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory, cache_dir):
    root = tmp_path_factory.mktemp("study")
    eq = make_entity_questions(root / "eq")
    out = root / "intruders"
    args = ["lessmore.cli", "study", "intruders", f"out={out}", "model=tiny",
            f"study.data.entity_questions={eq}", "study.common.train=['trainer=smoke']",
            "threads=1", "bootstrap_samples=200"]
    joblib = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
    first = run_module(*args, *joblib)
    return out, args, first


def test_tiny_study_runs_end_to_end(tiny_study):
    out, _, proc = tiny_study
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"study report written to {(out / 'report' / 'report.html').resolve()}" in proc.stdout
    doc = json.loads((out / "study.json").read_text())
    assert [a["name"] for a in doc["arms"]] == ["r1", "r8", "r64", "full"]
    assert all(a["measured"] for a in doc["arms"])
    assert [c["id"] for c in doc["claims"]] == ["low_rank_intruders", "full_about_none",
                                                "higher_rank_fewer", "equal_target",
                                                "intruders_forget"]
    for c in doc["claims"]:
        assert c["verdict"] in ("reproduced", "contradicted", "inconclusive")
        assert c["value"] is not None, c  # everything the claims need was measured
    forget = doc["claims"][-1]
    assert forget["low"] <= forget["value"] <= forget["high"] and forget["n"] > 0
    assert sum(doc["verdicts"].values()) == 5
    assert "perplexity/perplexity" in doc["arms"][0]["metrics"]
    md = (out / "report/report.md").read_text()
    assert md.index("Claims") < md.index("Verdict per run")  # the claims table comes first
    assert "lessmore study intruders out=" in md
    assert (out / "report/figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report/report.html").read_text()
    assert "data:image/png;base64," in html


def test_arms_ran_as_separate_joblib_jobs_with_pinned_threads(tiny_study):
    out, _, proc = tiny_study
    assert proc.returncode == 0, proc.stderr[-3000:]
    markers = [json.loads(p.read_text()) for p in (out / "arms").glob("*/done/train.json")]
    assert len(markers) == 4
    assert len({m["job_pid"] for m in markers}) >= 2  # two worker processes shared the arms
    assert os.getpid() not in {m["job_pid"] for m in markers}
    assert {m["threads"] for m in markers} == {1}


def test_a_rerun_skips_finished_arms_and_resumes_the_unfinished_one(tiny_study):
    out, args, first = tiny_study
    assert first.returncode == 0, first.stderr[-3000:]
    again = run_module(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "launching" not in again.stderr + again.stdout  # nothing left to run
    # r8's evaluation killed mid-way: its marker gone, a started flag left behind
    done = out / "arms/r8/done"
    (done / "evaluate.json").unlink()
    (done / "evaluate.started").touch()
    before = {p: p.stat().st_mtime_ns for p in (out / "arms").glob("*/done/*.json")}
    resumed = run_module(*args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stderr + resumed.stdout
    assert "launching 1 arm(s): r8" in log
    assert "[r8/evaluate]" in log and "[r8/train] -m" not in log
    assert {p: p.stat().st_mtime_ns for p in before} == before  # finished stages untouched
    assert (done / "evaluate.json").is_file() and not (done / "evaluate.started").exists()


def test_references_job_reads_alpaca_eval_rows_and_names_bad_ones(tmp_path):
    rows = [{"instruction": f"Say {i}.", "output": f"{i}!", "generator": "text_davinci_003",
             "dataset": "helpful_base"} for i in range(5)]
    rows[1]["input"] = "quietly"
    src = tmp_path / "ae.json"
    src.write_text(json.dumps(rows))
    proc = run_module("lessmore.study.references", f"input={src}", f"out={tmp_path / 'r'}",
                      "limit=3")
    assert proc.returncode == 0, proc.stderr[-2000:]
    refs = [json.loads(line) for line in (tmp_path / "r/reference.jsonl").open()]
    assert [r["id"] for r in refs] == ["0", "1", "2"]
    assert refs[1]["prompt"] == "Say 1.\n\nquietly" and refs[1]["response"] == "1!"
    assert refs[0]["group"] == "helpful_base"
    m = json.loads((tmp_path / "r/manifest.json").read_text())
    assert (m["rows_read"], m["kept"], m["past_limit"]) == (5, 3, 2)
    many = [{"instruction": f"Say {i}.", "output": f"{i}!", "dataset": ["a", "b"][i >= 10]}
            for i in range(20)]  # sorted by group, as AlpacaEval's file is
    (tmp_path / "many.json").write_text(json.dumps(many))
    drawn = []
    for name in ("s1", "s2"):
        proc = run_module("lessmore.study.references", f"input={tmp_path / 'many.json'}",
                          f"out={tmp_path / name}", "limit=6", "sample=seeded")
        assert proc.returncode == 0, proc.stderr[-2000:]
        drawn.append([json.loads(line)["id"] for line in (tmp_path / name / "reference.jsonl").open()])
    assert drawn[0] == drawn[1] and drawn[0] != ["0", "1", "2", "3", "4", "5"]  # seeded, not first
    assert drawn[0] == sorted(drawn[0], key=int)  # kept in file order
    groups = json.loads((tmp_path / "s1/manifest.json").read_text())["groups"]
    assert sum(groups.values()) == 6 and set(groups) == {"a", "b"}
    rows[2]["output"] = ""
    src.write_text(json.dumps(rows))
    proc = run_module("lessmore.study.references", f"input={src}", f"out={tmp_path / 's'}")
    assert proc.returncode == 2 and f"{src} row 3: field 'output'" in proc.stderr


def make_imitation_data(root: Path) -> list[str]:
    """Tiny stand-ins for Alpaca, AlpacaEval, NQ-open and ARC in their original formats."""
    root.mkdir(parents=True)
    alpaca = [{"instruction": f"List two facts about topic {i}.", "input": "",
               "output": f"- Topic {i} is old.\n- Topic {i} is large."} for i in range(30)]
    (root / "alpaca.json").write_text(json.dumps(alpaca))
    evals = [{"instruction": f"Describe place {i}.", "output": f"- Place {i} is near.\n- Calm.",
              "generator": "text_davinci_003", "dataset": "helpful_base"} for i in range(12)]
    (root / "alpaca_eval.json").write_text(json.dumps(evals))
    nq = [{"question": f"who founded city {i}", "answer": [f"Founder {i}"]} for i in range(1000)]
    (root / "nq.jsonl").write_text("".join(json.dumps(r) + "\n" for r in nq))
    arc = [{"id": f"q{i}", "question": {"stem": f"Which is bigger, {i} or {i + 1}?", "choices": [
        {"text": str(i), "label": "A"}, {"text": str(i + 1), "label": "B"}]}, "answerKey": "B"}
        for i in range(10)]
    (root / "arc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in arc))
    return [f"study.data.alpaca={root / 'alpaca.json'}",
            f"study.data.alpaca_eval={root / 'alpaca_eval.json'}",
            f"study.data.nq_open={root / 'nq.jsonl'}", f"study.data.arc_easy={root / 'arc.jsonl'}"]


def test_tiny_imitation_study_runs_end_to_end(tmp_path, cache_dir):
    data = make_imitation_data(tmp_path / "data")
    out = tmp_path / "imitation"
    items = ["suite=study_imitation",
             "suite.benchmarks.style.data=${out}/prepare/references/reference.jsonl",
             "suite.benchmarks.closed_book_qa.data=${out}/prepare/facts/facts.jsonl",
             "suite.benchmarks.arc_easy.data=${study.data.arc_easy}",
             "suite.benchmarks.style.max_new_tokens=16", "suite.benchmarks.ifeval.limit=4",
             "suite.benchmarks.ifeval.max_new_tokens=16"]
    evaluate = "study.common.evaluate=[" + ",".join(f"'{i}'" for i in items) + "]"
    proc = run_module("lessmore.cli", "study", "imitation", f"out={out}", "model=tiny", *data,
                      "study.common.train=['trainer=smoke']", evaluate, "threads=1",
                      "bootstrap_samples=100")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "study.json").read_text())
    assert [a["name"] for a in doc["arms"]] == ["n250", "n1000"]  # n4000: paper scale only
    got = {c["id"]: c for c in doc["claims"]}
    assert set(got) == {"style_gap_closed", "list_gap_closed", "overlap_rises_with_n",
                        "factuality_flat", "reasoning_flat"}
    assert all(c["verdict"] in ("reproduced", "contradicted", "inconclusive")
               for c in got.values())
    for key in ("overlap_rises_with_n", "factuality_flat", "reasoning_flat"):
        assert got[key]["value"] is not None, got[key]  # measured, with an interval
        assert got[key]["low"] is not None, got[key]
    metrics = doc["arms"][1]["metrics"]
    assert {"style/unigram_f1", "closed_book_qa/exact_match", "arc_easy/acc_norm",
            "ifeval/prompt_strict"} <= set(metrics)
    assert (out / "report/summary.md").read_text().startswith("# Study `imitation`")
