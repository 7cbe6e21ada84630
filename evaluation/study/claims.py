"""A study's claims: what each measures, and the rule that turns its interval into a verdict.

A claim expects its measurement to lie ``above`` or ``below`` a threshold, or ``within`` a
margin of it. The verdict is computed from the 95% interval, never written by hand:

- above: reproduced when the whole interval is above the threshold, contradicted when the whole
  interval is below it, inconclusive when it straddles (or touches) it;
- below: the mirror image;
- within: reproduced when the whole interval lies inside threshold ± margin, contradicted when
  the whole interval lies outside it (on one side), inconclusive otherwise.

A measurement without an interval (one deterministic count of one run, say) is judged on its
point: reproduced when the point satisfies the expectation, contradicted when it does not; the
claims table says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from curation.core.config import UserError

REPRODUCED, CONTRADICTED, INCONCLUSIVE = "reproduced", "contradicted", "inconclusive"
EXPECTS = ("above", "below", "within")
MEASURES = ("delta", "gap_closed", "difference", "ratio", "agreement", "value")
NEEDS_AGAINST = ("difference", "ratio", "agreement")

RULE_TEXT = {
    "above": "reproduced if the 95% interval lies above {t}, contradicted if below, else "
             "inconclusive",
    "below": "reproduced if the 95% interval lies below {t}, contradicted if above, else "
             "inconclusive",
    "within": "reproduced if the 95% interval lies inside {t} ± {m}, contradicted if wholly "
              "outside, else inconclusive",
}


@dataclass(frozen=True)
class Claim:
    """One sentence of a paper, made checkable.

    ``measure`` is how lessmore measures it: ``delta`` (an arm's tuned − base on ``metric``),
    ``gap_closed`` (for a style statistic: that delta as a share of the base-to-reference gap),
    ``difference`` (``arm`` − ``against`` on ``metric``, both tuned, paired over items),
    ``ratio`` (``arm``'s delta over ``against``'s, both against ``arm``'s base: the share of
    the other arm's gain this one reached), ``agreement`` (the share of items on which the two
    arms' tuned models gave the same output: ``metric`` is ``benchmark/samples field``) or
    ``value`` (a number read from a JSON file of an arm: ``metric`` is ``file:dotted.path``).
    """

    id: str
    text: str
    measure: str
    arm: str
    metric: str
    expect: str
    threshold: float = 0.0
    margin: float = 0.0
    against: str | None = None
    paper: str = ""  # the paper's number, as the paper states it

    @property
    def rule(self) -> str:
        return RULE_TEXT[self.expect].format(t=_num(self.threshold), m=_num(self.margin))

    @property
    def point_rule(self) -> str:
        """The rule for an exact value (no interval): it satisfies the expectation or not."""
        side = {"above": f"above {_num(self.threshold)}", "below": f"below {_num(self.threshold)}",
                "within": f"inside {_num(self.threshold)} ± {_num(self.margin)}"}[self.expect]
        return f"exact value: reproduced if {side}, else contradicted"


@dataclass
class Measurement:
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    note: str = ""
    verdict: str = field(default=INCONCLUSIVE)


def parse_claims(raw: list[dict[str, Any]], arms: list[str]) -> list[Claim]:
    """The study's ``claims`` list as :class:`Claim` objects; a claim naming an unknown arm,
    measure or expectation is an error before anything runs."""
    claims = []
    for k, item in enumerate(raw or []):
        where = f"study claim {k + 1} ({item.get('id', '?')})"
        unknown = set(item) - {f for f in Claim.__dataclass_fields__}
        if unknown:
            raise UserError(f"{where}: unknown field(s) {sorted(unknown)}")
        try:
            claim = Claim(**item)
        except TypeError as e:
            raise UserError(f"{where}: {e}") from None
        if claim.measure not in MEASURES:
            raise UserError(f"{where}: measure must be one of {MEASURES}, got {claim.measure!r}")
        if claim.expect not in EXPECTS:
            raise UserError(f"{where}: expect must be one of {EXPECTS}, got {claim.expect!r}")
        for arm in (claim.arm, claim.against):
            if arm is not None and arm not in arms:
                raise UserError(f"{where}: arm {arm!r} is not one of this scale's arms {arms}")
        if claim.measure in NEEDS_AGAINST and claim.against is None:
            raise UserError(f"{where}: measure={claim.measure} needs `against` (the other arm)")
        claims.append(claim)
    return claims


def decide(low: float | None, high: float | None, *, expect: str, threshold: float = 0.0,
           margin: float = 0.0) -> str:
    """The verdict of an interval [low, high] under ``expect`` (see the module doc)."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return INCONCLUSIVE
    if low > high:
        low, high = high, low
    if expect == "above":
        return REPRODUCED if low > threshold else CONTRADICTED if high < threshold else INCONCLUSIVE
    if expect == "below":
        return REPRODUCED if high < threshold else CONTRADICTED if low > threshold else INCONCLUSIVE
    if expect == "within":
        lo, hi = threshold - margin, threshold + margin
        if lo <= low and high <= hi:
            return REPRODUCED
        return CONTRADICTED if high < lo or low > hi else INCONCLUSIVE
    raise ValueError(f"expect must be one of {EXPECTS}, got {expect!r}")


def decide_point(value: float, *, expect: str, threshold: float = 0.0,
                 margin: float = 0.0) -> str:
    """The verdict of an exact value (no interval): it satisfies the expectation or not."""
    if not math.isfinite(value):
        return INCONCLUSIVE
    ok = {"above": value > threshold, "below": value < threshold,
          "within": abs(value - threshold) <= margin}.get(expect)
    if ok is None:
        raise ValueError(f"expect must be one of {EXPECTS}, got {expect!r}")
    return REPRODUCED if ok else CONTRADICTED


def judge(claim: Claim, m: Measurement) -> Measurement:
    """``m`` with its verdict: from the interval, or from the point where there is none."""
    if m.value is None:
        m.verdict = INCONCLUSIVE
    elif m.low is None or m.high is None:
        m.verdict = decide_point(m.value, expect=claim.expect, threshold=claim.threshold,
                                 margin=claim.margin)
    else:
        m.verdict = decide(m.low, m.high, expect=claim.expect, threshold=claim.threshold,
                           margin=claim.margin)
    return m


def _num(x: float) -> str:
    return f"{x:g}"
