"""Claim measurements from measured deltas: the share of the style gap closed and its interval,
and exact numbers read from a study's files."""

import json

import pytest

from curation.core.config import UserError
from evaluation.report.bootstrap import Interval
from evaluation.report.deltas import Delta
from evaluation.study.analysis import gap_closed, read_value
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
