"""A study's verdict rules, table-driven: an interval above, below, straddling or touching the
threshold (and inside / outside a margin), points without an interval, and claims that name
what does not exist."""

import math

import pytest

from curation.core.config import UserError
from evaluation.study.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    REPRODUCED,
    Claim,
    Measurement,
    decide,
    decide_point,
    judge,
    parse_claims,
)

INTERVALS = [
    # (low, high, expect, threshold, margin, verdict)
    (0.1, 0.3, "above", 0.0, 0.0, REPRODUCED),
    (-0.3, -0.1, "above", 0.0, 0.0, CONTRADICTED),
    (-0.1, 0.3, "above", 0.0, 0.0, INCONCLUSIVE),
    (0.0, 0.3, "above", 0.0, 0.0, INCONCLUSIVE),  # touching the threshold is not above it
    (0.3, 0.1, "above", 0.0, 0.0, REPRODUCED),  # ends given in either order
    (0.6, 0.9, "above", 0.5, 0.0, REPRODUCED),
    (0.4, 0.9, "above", 0.5, 0.0, INCONCLUSIVE),
    (-0.3, -0.1, "below", 0.0, 0.0, REPRODUCED),
    (0.1, 0.3, "below", 0.0, 0.0, CONTRADICTED),
    (-0.1, 0.1, "below", 0.0, 0.0, INCONCLUSIVE),
    (-0.02, 0.03, "within", 0.0, 0.05, REPRODUCED),
    (-0.05, 0.05, "within", 0.0, 0.05, REPRODUCED),  # the margin's ends count as inside
    (-0.02, 0.08, "within", 0.0, 0.05, INCONCLUSIVE),
    (0.06, 0.2, "within", 0.0, 0.05, CONTRADICTED),
    (-0.2, -0.06, "within", 0.0, 0.05, CONTRADICTED),
    (-0.2, 0.2, "within", 0.0, 0.05, INCONCLUSIVE),  # wider than the margin on both sides
    (math.nan, 0.2, "above", 0.0, 0.0, INCONCLUSIVE),
    (None, None, "above", 0.0, 0.0, INCONCLUSIVE),
]


@pytest.mark.parametrize("low,high,expect,threshold,margin,verdict", INTERVALS)
def test_interval_verdicts(low, high, expect, threshold, margin, verdict):
    assert decide(low, high, expect=expect, threshold=threshold, margin=margin) == verdict


@pytest.mark.parametrize("value,expect,threshold,margin,verdict", [
    (3, "above", 0, 0, REPRODUCED), (0, "above", 0, 0, CONTRADICTED),
    (0, "below", 1, 0, REPRODUCED), (2, "below", 1, 0, CONTRADICTED),
    (0.04, "within", 0, 0.05, REPRODUCED), (0.06, "within", 0, 0.05, CONTRADICTED),
    (math.nan, "above", 0, 0, INCONCLUSIVE),
])
def test_point_verdicts(value, expect, threshold, margin, verdict):
    assert decide_point(value, expect=expect, threshold=threshold, margin=margin) == verdict


def claim(**kw):
    return Claim(**{"id": "c", "text": "t", "measure": "delta", "arm": "a", "metric": "m/x",
                    "expect": "above", **kw})


def test_judge_uses_the_interval_when_there_is_one_and_the_point_otherwise():
    assert judge(claim(), Measurement(0.2, -0.1, 0.5)).verdict == INCONCLUSIVE
    assert judge(claim(), Measurement(0.2)).verdict == REPRODUCED
    assert judge(claim(), Measurement(None)).verdict == INCONCLUSIVE


def test_rule_text_names_threshold_and_margin():
    assert "above 0.5" in claim(threshold=0.5).rule
    assert "0 ± 0.05" in claim(expect="within", margin=0.05).rule


@pytest.mark.parametrize("item,message", [
    ({"arm": "nope"}, "not one of this scale's arms"),
    ({"measure": "share"}, "measure must be one of"),
    ({"measure": "ratio"}, "needs `against`"),
    ({"measure": "agreement"}, "needs `against`"),
    ({"expect": "higher"}, "expect must be one of"),
    ({"measure": "difference"}, "needs `against`"),
    ({"against": "ghost", "measure": "difference"}, "not one of this scale's arms"),
    ({"colour": "red"}, "unknown field"),
])
def test_bad_claims_fail_before_anything_runs(item, message):
    raw = {"id": "c", "text": "t", "measure": "delta", "arm": "a", "metric": "m/x",
           "expect": "above", **item}
    with pytest.raises(UserError, match=message):
        parse_claims([raw], ["a", "b"])


def test_parse_claims_keeps_order_and_fields():
    raw = [{"id": "one", "text": "t", "measure": "difference", "arm": "a", "against": "b",
            "metric": "m/x", "expect": "within", "margin": 0.1, "paper": "88%"},
           {"id": "two", "text": "t", "measure": "value", "arm": "b", "metric": "f.json:k",
            "expect": "below", "threshold": 1}]
    got = parse_claims(raw, ["a", "b"])
    assert [c.id for c in got] == ["one", "two"]
    assert (got[0].against, got[0].margin, got[0].paper) == ("b", 0.1, "88%")


def test_point_rule_says_the_value_is_exact():
    assert claim(threshold=1, expect="below").point_rule == (
        "exact value: reproduced if below 1, else contradicted")
