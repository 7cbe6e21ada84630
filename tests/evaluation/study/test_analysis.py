"""Claim measurements from measured deltas: the share of the style gap closed and its interval,
one arm's gain as a share of another's, the agreement of two arms' outputs, and exact numbers
read from a study's files."""

import json

import pytest

from curation.core.config import UserError
from curation.core.io import write_json, write_jsonl
from evaluation.report.bootstrap import Interval
from evaluation.report.deltas import BootstrapSettings, Delta
from evaluation.results import Metric, ModelInfo, Results
from evaluation.study.analysis import agreement, gap_closed, load_arm, measure, ratio, read_value
from evaluation.study.claims import Claim


def delta(base, tuned, reference, low, high):
    return Delta("style/list_rate", "run", "imitation", (0, 0), base, tuned, True,
                 Interval(tuned - base, low, high, 60), reference=reference)


CLAIM = Claim("c", "t", "gap_closed", "a", "style/list_rate", "above")


def test_gap_closed_scales_the_delta_and_its_interval_by_the_gap():
    # Gudibande et al.: list use 13% -> 81% of a teacher's 83% is 97% of the gap closed
    m = gap_closed(delta(0.13, 0.81, 0.83, 0.60, 0.75), CLAIM)
    assert m.value == pytest.approx(0.68 / 0.70)
    assert (m.low, m.high) == (pytest.approx(0.60 / 0.70), pytest.approx(0.75 / 0.70))


def test_gap_closed_below_the_base_flips_the_interval():
    # reference under the base: a fall toward it is progress; the interval ends swap
    m = gap_closed(delta(0.50, 0.30, 0.10, -0.30, -0.10), CLAIM)
    assert m.value == pytest.approx(0.5)
    assert (m.low, m.high) == (pytest.approx(0.25), pytest.approx(0.75))


def test_no_gap_or_no_metric_is_not_measured():
    assert gap_closed(None, CLAIM).value is None
    assert gap_closed(delta(0.5, 0.6, 0.5, 0.0, 0.2), CLAIM).value is None  # base at reference


def test_read_value_follows_a_dotted_path(tmp_path):
    (tmp_path / "w.json").write_text(json.dumps({"runs": {"run": {"intruders": 7}},
                                                 "list": [3, {"k": 2.5}]}))
    assert read_value(tmp_path, "w.json:runs.run.intruders").value == 7
    assert read_value(tmp_path, "w.json:list.1.k").value == 2.5
    assert read_value(tmp_path, "missing.json:x").value is None
    with pytest.raises(UserError, match="no 'runs.ctrl"):
        read_value(tmp_path, "w.json:runs.ctrl.intruders")
    with pytest.raises(UserError, match="is not a number"):
        read_value(tmp_path, "w.json:runs.run")


def write_eval(folder, role, scores, outputs=None, base=None):
    """A results.json with closed-book exact match = mean(scores) and its samples rows."""
    info = ModelInfo(folder.parent.parent.name if role != "base" else "smollm2",
                     str(folder), role, base)
    metric = Metric(sum(scores) / len(scores), len(scores), True, {})
    write_json(folder / "results.json", Results(
        model=info, suite="closed_book", metrics={"closed_book_qa/exact_match": metric},
        settings={}, data_fingerprint={}, config={}, versions={}).to_dict())
    outputs = outputs or [f"answer {k}" for k in range(len(scores))]
    write_jsonl(folder / "samples" / "closed_book_qa.jsonl", [
        {"id": f"q{k}", "generation": o, "score": float(s)}
        for k, (s, o) in enumerate(zip(scores, outputs, strict=True))])


def make_arm(root, name, tuned, base=None, outputs=None):
    results = root / "arms" / name / "results"
    if base is None:  # an arm that evaluated one model: no base
        write_eval(results / "model", "model", tuned, outputs)
    else:
        write_eval(results / "base", "base", base)
        write_eval(results / "tuned", "tuned", tuned, outputs,
                   base={"name": "smollm2", "path": str(results / "base")})
    return load_arm(name, root / "arms" / name, BootstrapSettings(samples=400))


BASE = [0] * 20 + [1] * 4          # 4 of 24
SMALL = [0] * 16 + [1] * 8         # +4 items
LARGE = [0] * 12 + [1] * 12        # +8 items


def test_ratio_is_one_arms_gain_over_the_others_with_an_interval(tmp_path):
    small = make_arm(tmp_path, "n60", SMALL, BASE)
    large = make_arm(tmp_path, "n960", LARGE, BASE)
    claim = Claim("most", "t", "ratio", "n60", "closed_book_qa/exact_match", "above", 0.4,
                  against="n960")
    m = measure(claim, {"n60": small, "n960": large}, BootstrapSettings(samples=400))
    assert m.value == pytest.approx(0.5)
    assert m.low < 0.5 < m.high and m.n == 24
    # the other arm evaluated one model and no base (a directly tuned large model)
    alone = make_arm(tmp_path, "large_tuned", LARGE)
    assert alone.tuned is not None and alone.base is None
    m = ratio(small, alone, "closed_book_qa/exact_match", BootstrapSettings(samples=400))
    assert m.value == pytest.approx(0.5) and m.low is not None
    # no gain to share
    flat = make_arm(tmp_path, "flat", BASE, BASE)
    assert ratio(small, flat, "closed_book_qa/exact_match",
                 BootstrapSettings()).value is None


def test_agreement_counts_identical_outputs(tmp_path):
    outputs = [f"a{k}" for k in range(24)]
    a = make_arm(tmp_path, "proxy", SMALL, BASE, outputs)
    same = make_arm(tmp_path, "tuned", SMALL, BASE, outputs)
    claim = Claim("same", "t", "agreement", "proxy", "closed_book_qa/generation", "above",
                  0.98, against="tuned")
    m = measure(claim, {"proxy": a, "tuned": same}, BootstrapSettings(samples=200))
    assert (m.value, m.low, m.high, m.n, m.verdict) == (1.0, 1.0, 1.0, 24, "reproduced")
    differ = make_arm(tmp_path, "other", SMALL, BASE, outputs[:18] + ["x"] * 6)
    m = agreement(a, differ, "closed_book_qa/generation", BootstrapSettings(samples=200))
    assert m.value == pytest.approx(0.75) and m.low < 0.75 < m.high
    assert agreement(a, differ, "closed_book_qa/nope", BootstrapSettings()).value is None
