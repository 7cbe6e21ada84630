"""The study's headline figure: one line per metric, or per metric and group of arms; named x
values make a categorical axis; equal inputs give equal bytes."""

from evaluation.study.figures import figure_series, plot_study

ARMS = [{"name": "u0", "x": 0}, {"name": "u50", "x": 50}, {"name": "u0_early", "x": 0},
        {"name": "u50_early", "x": 50}, {"name": "base", "x": None}]
POINTS = {a["name"]: {"m/x": {"value": float(k), "low": k - 0.5, "high": k + 0.5}}
          for k, a in enumerate(ARMS)}


def test_series_groups_arms_into_lines():
    figure = {"metrics": ["m/x"], "series": {"early stop": ["u0_early", "u50_early"],
                                             "convergence": ["u0", "u50"]}}
    got = figure_series(figure, ARMS, POINTS)
    assert got == {"early stop": [(0.0, 2.0, 1.5, 2.5), (50.0, 3.0, 2.5, 3.5)],
                   "convergence": [(0.0, 0.0, -0.5, 0.5), (50.0, 1.0, 0.5, 1.5)]}
    # without groups: one line per metric over every arm with an x
    assert [p[0] for p in figure_series({"metrics": ["m/x"]}, ARMS, POINTS)["m/x"]] == [
        0.0, 50.0, 0.0, 50.0]
    two = figure_series({**figure, "metrics": ["m/x", "m/y"], "labels": {"m/x": "acc"}},
                        ARMS, POINTS)
    assert set(two) == {"acc, early stop", "acc, convergence"}  # m/y measured nowhere


def test_named_x_values_draw_a_categorical_axis():
    arms = [{"name": "tuned", "x": "tuned"}, {"name": "proxy", "x": "proxy-tuned"}]
    points = {"tuned": {"m/x": {"value": 0.1, "low": 0.0, "high": 0.2}},
              "proxy": {"m/x": {"value": 0.1, "low": None, "high": None}}}
    series = figure_series({"metrics": ["m/x"]}, arms, points)
    assert series == {"m/x": [("tuned", 0.1, 0.0, 0.2), ("proxy-tuned", 0.1, None, None)]}
    png = plot_study(series, "arm", "delta", "title", logx=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png == plot_study(series, "arm", "delta", "title", logx=True)
