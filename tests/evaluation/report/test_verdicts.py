"""The report's verdicts and the style statistics' gap closed, on constructed comparisons:
no change, significant up, significant down, mixed; toward and away from the reference, and a
base already at the reference."""

import math

import pytest

from evaluation.benchmarks.panels import CAPABILITY, IMITATION
from evaluation.report.bootstrap import Interval
from evaluation.report.deltas import Delta
from evaluation.report.details import compare_cells
from evaluation.report.render import Cell, Table, render_html, render_markdown
from evaluation.report.sections import format_gap
from evaluation.report.verdicts import build_verdicts, judge_panel
from evaluation.results import Metric


def delta(key, base, tuned, low, high, *, panel=CAPABILITY, higher=True, reference=None,
          run="run-a"):
    interval = None if low is None else Interval(tuned - base, low, high, 50)
    note = "point only: no per-item form" if interval is None else ""
    return Delta(key, run, panel, (0, 0), base, tuned, higher, interval, note, reference)


def style(stat, base, tuned, reference, low, high):
    return delta(f"style/{stat}", base, tuned, low, high, panel=IMITATION, reference=reference)


# --- gap closed ---------------------------------------------------------------------------------

def test_gap_closed_is_the_share_of_the_base_to_reference_gap():
    """Gudibande et al.: list use 13% -> 81% against the teacher's 83% is 97% of the gap."""
    d = style("list_rate", 0.13, 0.81, 0.83, 0.6, 0.75)
    assert d.gap_closed == pytest.approx(0.68 / 0.70)
    assert format_gap(d) == "97%" and d.closer == 1 and d.tone == "better"


def test_style_is_judged_by_distance_to_the_reference_not_by_a_direction():
    """Fewer words is better when the reference is shorter (the recorded direction says more
    words is better, and today's tone followed it); more words past the reference is worse."""
    shorter = style("mean_words", 200.0, 120.0, 100.0, -90.0, -70.0)
    assert shorter.higher_is_better and shorter.tone == "better"
    assert shorter.gap_closed == pytest.approx(0.8)
    overshoot = style("mean_words", 50.0, 180.0, 100.0, 110.0, 150.0)
    assert overshoot.gap_closed == pytest.approx(2.6) and overshoot.tone == "worse"
    away = style("list_rate", 0.5, 0.3, 0.8, -0.3, -0.1)
    assert away.gap_closed == pytest.approx(-2 / 3) and away.tone == "worse"


def test_base_already_at_the_reference_has_no_gap_to_divide_by():
    stayed = style("hedge_rate", 0.4, 0.4, 0.4, -0.05, 0.05)
    assert stayed.at_reference and stayed.gap_closed is None
    assert format_gap(stayed) == "base already at the reference, tuned there too"
    moved = style("hedge_rate", 0.4, 0.6, 0.4, 0.1, 0.3)
    assert moved.gap_closed is None and moved.tone == "worse"
    assert format_gap(moved) == "base already at the reference, tuned moved away"
    assert "base already at the reference" in judge_panel([moved])


def test_metric_table_tones_a_style_statistic_by_distance():
    cells = compare_cells([Metric(200.0, 9), Metric(120.0, 9)], True, reference=100.0)
    assert cells[2] == Cell("-80.000", "better")
    assert compare_cells([Metric(200.0, 9), Metric(120.0, 9)], True)[2].tone == "worse"


# --- verdicts -----------------------------------------------------------------------------------

def test_no_change():
    deltas = [delta("a/x", 0.5, 0.52, -0.03, 0.07), delta("a/y", 0.3, 0.28, -0.06, 0.02),
              delta("a/z", 10.0, 10.5, -1.0, 2.0, higher=False)]
    assert judge_panel(deltas) == "no significant change (3 metrics, all intervals include 0)"


def test_significant_up():
    deltas = [delta("a/x", 0.5, 0.7, 0.1, 0.3), delta("a/y", 0.3, 0.31, -0.05, 0.07)]
    assert judge_panel(deltas) == ("1 of 2 metrics changed significantly (better: a/x +0.200); "
                                   "1 interval includes 0")


def test_significant_down_respects_direction():
    """A perplexity that rose significantly is worse although the delta is positive."""
    deltas = [delta("ppl/perplexity", 10.0, 12.0, 1.0, 3.0, higher=False),
              delta("a/x", 0.5, 0.4, -0.15, -0.05)]
    assert judge_panel(deltas) == ("2 of 2 metrics changed significantly (worse: "
                                   "ppl/perplexity +2.000, a/x -0.100); 0 intervals include 0")


def test_mixed_with_untested():
    deltas = [delta("a/x", 0.5, 0.7, 0.1, 0.3), delta("a/y", 0.5, 0.3, -0.3, -0.1),
              delta("a/z", 0.5, 0.55, -0.01, 0.1), delta("a/corr", 0.1, 0.5, None, None)]
    assert judge_panel(deltas) == (
        "2 of 3 metrics changed significantly (better: a/x +0.200; worse: a/y -0.200); "
        "1 interval includes 0; 1 untested (point only: a/corr)")


def test_an_interval_touching_zero_is_not_significant():
    assert judge_panel([delta("a/x", 0.5, 0.6, 0.0, 0.2)]) == (
        "no significant change (1 metric, its interval includes 0)")
    nan = delta("a/x", 0.5, 0.6, math.nan, math.nan)
    assert judge_panel([nan]) == "1 untested (point only: a/x)"


def test_imitation_verdict_counts_style_moved_toward_the_reference():
    deltas = [style("list_rate", 0.13, 0.81, 0.83, 0.6, 0.75),
              style("heading_rate", 0.10, 0.15, 0.40, -0.02, 0.12),
              style("mean_words", 50.0, 180.0, 100.0, 110.0, 150.0),
              delta("judge/win_rate", 0.4, 0.55, 0.05, 0.25, panel=IMITATION)]
    assert judge_panel(deltas) == (
        "style moved toward the reference on 2 of 3 statistics (list_rate 97% of the gap "
        "closed, significant; heading_rate 17% of the gap closed, not significant; mean_words "
        "260% of the gap closed, past the reference and farther from it than the base, "
        "significant); other metrics: 1 of 1 metric changed significantly (better: "
        "judge/win_rate +0.150); 0 intervals include 0")


def test_verdict_section_opens_with_one_row_per_run_and_panel_present():
    deltas = [delta("a/x", 0.5, 0.52, -0.03, 0.07),
              style("list_rate", 0.13, 0.81, 0.83, 0.6, 0.75),
              delta("a/x", 0.5, 0.7, 0.1, 0.3, run="<b>run-b</b>")]
    section = build_verdicts(["run-a", "<b>run-b</b>"], deltas, 0.9)
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert [row[:2] for row in table.rows] == [["run-a", "Imitation"], ["run-a", "Capability"],
                                               ["<b>run-b</b>", "Capability"]]
    assert table.rows[1][2] == "no significant change (1 metric, its interval includes 0)"
    assert "90% paired-bootstrap interval excludes 0" in section.blocks[0].text
    html = render_html("t", [section])
    assert "&lt;b&gt;run-b&lt;/b&gt;" in html and "<b>run-b" not in html
    assert "&lt;b&gt;run-b&lt;/b&gt;" in render_markdown("t", [section])
