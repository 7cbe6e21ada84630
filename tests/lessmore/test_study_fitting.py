"""When a run fitted each knowledge category, from its train-accuracy curves (Gekhman et al.
2024, Fig. 1)."""


import pytest

from curation.core.config import UserError
from lessmore.study.fitting import analyse_curves
from tests.lessmore.test_study import run_module


def curve(category, accuracies, n=8, every=10):
    return [{"step": k * every, "category": category, "accuracy": a, "n": n}
            for k, a in enumerate(accuracies)]


def test_unknown_fitted_later_than_the_pooled_known_categories():
    rows = (curve("HighlyKnown", [0.9, 1.0, 1.0, 1.0]) + curve("MaybeKnown", [0.2, 0.4, 0.8, 1.0])
            + curve("Unknown", [0.0, 0.1, 0.3, 0.6]))
    doc = analyse_curves(rows, 0.5)
    assert doc["categories"]["HighlyKnown"]["fit_step"] == 0
    assert doc["categories"]["MaybeKnown"]["fit_step"] == 20
    assert doc["categories"]["Unknown"]["fit_step"] == 30
    # pooled known, weighted by rows: (0.9 + 0.2) / 2 = 0.55 at step 0
    assert doc["known"]["fit_step"] == 0 and doc["known"]["first"] == pytest.approx(0.55)
    assert doc["unknown_later_by_steps"] == 30 and doc["unknown_censored"] is False


def test_a_category_that_never_fits_is_counted_at_the_last_step_and_flagged():
    rows = curve("MaybeKnown", [0.2, 0.6, 0.9]) + curve("Unknown", [0.0, 0.1, 0.2])
    doc = analyse_curves(rows, 0.5)
    assert doc["categories"]["Unknown"]["fit_step"] is None
    assert doc["unknown_later_by_steps"] == 20 - 10 and doc["unknown_censored"] is True
    # no known curve, or known never fitted: nothing to compare
    assert analyse_curves(curve("Unknown", [0.0, 0.7]), 0.5)["unknown_later_by_steps"] is None
    with pytest.raises(UserError, match="no points"):
        analyse_curves([], 0.5)


def test_fitting_job_names_a_run_without_curves(tmp_path):
    proc = run_module("lessmore.study.fitting", f"run={tmp_path}", f"out={tmp_path / 'f'}")
    assert proc.returncode == 2 and "curves.jsonl not found" in proc.stderr
