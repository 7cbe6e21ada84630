"""The report: pairing tuned with base, deltas, escaping of untrusted text (results, sample
rows, model and group names, data cards), atomic outputs."""

import pytest

from curation.core.config import UserError, compose_config
from curation.core.io import write_json, write_jsonl
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.report.markdown import render_card_html, render_card_markdown
from evaluation.report.run import run
from evaluation.results import GroupScore, Metric, ModelInfo, Results

XSS = "<script>alert(1)</script>"
SETTINGS = {"closed_book_qa": {"chat_template": False, "k_shots": 4, "stop": ["\n"]}}


def write_results(out_dir, info, by_group, prediction="Paris"):
    n = sum(n for _, n in by_group.values())
    value = sum(v * n for v, n in by_group.values()) / n
    metric = Metric(value, n, True, {g: GroupScore(v, k) for g, (v, k) in by_group.items()})
    results = Results(model=info, suite="closed_book",
                      metrics={"closed_book_qa/exact_match": metric}, settings=SETTINGS,
                      data_fingerprint={"closed_book_qa": "sha256:abc"}, config={}, versions={})
    write_json(out_dir / "results.json", results.to_dict())
    write_jsonl(out_dir / "samples" / "closed_book_qa.jsonl", [
        {"id": "q1", "group": "capital", "prompt": "Q: Capital of France?\nA:",
         "generation": f" {prediction}", "prediction": prediction, "references": ["Paris"],
         "score": 1.0}])


@pytest.fixture
def eval_dir(tmp_path):
    base = ModelInfo("smollm2", "embedded:smollm2", "base")
    tuned = ModelInfo("run-1", "/runs/run-1", "tuned", {"name": "smollm2", "path": "embedded:smollm2"})
    write_results(tmp_path / "eval" / "base", base, {"capital": (0.5, 10), "author": (0.25, 8)})
    write_results(tmp_path / "eval" / "tuned", tuned, {"capital": (0.75, 10), "author": (0.125, 8)},
                  prediction=XSS)
    return tmp_path / "eval"


def report(tmp_path, *dirs, title="Eval <b>report</b>"):
    cfg = compose_config("report", [f"results=[{','.join(map(str, dirs))}]",
                                    f"out={tmp_path / 'report'}", f"title='{title}'"])
    return run(cfg)


def test_report_pairs_tuned_with_base_and_shows_deltas(tmp_path, eval_dir):
    paths = report(tmp_path, eval_dir)
    md = open(paths["markdown"], encoding="utf-8").read()
    # overall: base (5 + 2) / 18, tuned (7.5 + 1) / 18
    assert "| closed_book_qa/exact_match | 0.389 | 0.472 | +0.083 | 18 |" in md
    assert "| capital | 0.500 | 0.750 | +0.250 | 10 |" in md
    assert "| author | 0.250 | 0.125 | -0.125 | 8 |" in md
    assert "## run-1 vs smollm2" in md and "Warning" not in md
    html = open(paths["html"], encoding="utf-8").read()
    assert '<td class="num better">+0.250</td>' in html and '<td class="num worse">-0.125</td>' in html
    # the capability panel's forest plot and the per-group bar chart
    assert html.count("data:image/png;base64,") == 2
    # one sample row cannot give the 18-item metrics: no interval is claimed from it
    assert "point only: samples do not reproduce results.json" in md
    assert "the closed-book data carries no knowledge categories" in md


def test_untrusted_text_is_escaped(tmp_path, eval_dir):
    paths = report(tmp_path, eval_dir)
    html = open(paths["html"], encoding="utf-8").read()
    md = open(paths["markdown"], encoding="utf-8").read()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower() and "<script" not in md.lower()
    assert "Eval &lt;b&gt;report&lt;/b&gt;" in html and "<b>" not in html


def test_group_and_model_names_are_escaped(tmp_path):
    evil = '<img src=x onerror="alert(1)">'
    base = ModelInfo(evil, "b", "base")
    tuned = ModelInfo("t|" + evil, "/runs/t", "tuned", {"name": evil, "path": "b"})
    write_results(tmp_path / "e" / "base", base, {evil: (0.5, 2)}, prediction=evil)
    write_results(tmp_path / "e" / "tuned", tuned, {evil: (1.0, 2)}, prediction=evil)
    paths = report(tmp_path, tmp_path / "e")
    html = open(paths["html"], encoding="utf-8").read()
    md = open(paths["markdown"], encoding="utf-8").read()
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<img src=x" not in md and "t\\|&lt;img" in md  # a pipe cannot split a table row


def test_data_card_markdown_is_rendered_from_escaped_text():
    card = ("---\nname: <script>x</script>\n---\n# Title <script>a()</script>\n\n"
            "| h<i>1</i> | h2 |\n|---|---|\n| <b onclick=x>c</b> | `<code>` |\n\n"
            "- **bold <u>u</u>** item\n\n![alt\"x](plots/a.png)\n![b](plots/b.png)\n")
    out = render_card_html(card, {"plots/a.png": b"PNG"})
    assert "<script" not in out and "<b onclick" not in out and "<i>" not in out
    assert "<pre>---\nname: &lt;script&gt;x&lt;/script&gt;\n---</pre>" in out
    assert "<h4>Title &lt;script&gt;a()&lt;/script&gt;</h4>" in out
    assert "<th>h&lt;i&gt;1&lt;/i&gt;</th>" in out and "<td><code>&lt;code&gt;</code></td>" in out
    assert "<li><b>bold &lt;u&gt;u&lt;/u&gt;</b> item</li>" in out
    assert '<img alt="alt&quot;x" src="data:image/png;base64,UE5H">' in out
    assert "[image plots/b.png not embedded]" in out
    quoted = render_card_markdown(card)
    assert "> # Title &lt;script&gt;a()&lt;/script&gt;" in quoted and "> (image: plots/a.png)" in quoted


def test_settings_mismatch_is_flagged_and_unpaired_results_stand_alone(tmp_path, eval_dir):
    import json

    doc = json.loads((eval_dir / "base" / "results.json").read_text())
    doc["settings"]["closed_book_qa"]["chat_template"] = True
    write_json(eval_dir / "base" / "results.json", doc)
    write_results(tmp_path / "other" / "model", ModelInfo("tiny", "tiny", "model"),
                  {"capital": (1.0, 2)})
    md = open(report(tmp_path, eval_dir, tmp_path / "other")["markdown"], encoding="utf-8").read()
    assert "**Warning:** closed_book_qa: base and tuned were evaluated with different settings" in md
    assert "## tiny (model)" in md and "| closed_book_qa/exact_match | 1.000 | 2 |" in md


def test_no_results_is_a_user_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no results.json"):
        report(tmp_path, tmp_path / "empty")
    with pytest.raises(UserError, match="not found"):
        report(tmp_path, tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text("{}")
    with pytest.raises(UserError, match="not a lessmore results file"):
        report(tmp_path, tmp_path / "bad")


def test_one_run_evaluated_twice_is_two_runs_in_the_panels(tmp_path, eval_dir):
    """README's example: the same run evaluated plain and with the chat template."""
    base = ModelInfo("smollm2", "embedded:smollm2", "base")
    tuned = ModelInfo("run-1", "/runs/run-1", "tuned", {"name": "smollm2", "path": "embedded:smollm2"})
    write_results(tmp_path / "chat" / "base", base, {"capital": (0.25, 10)})
    write_results(tmp_path / "chat" / "tuned", tuned, {"capital": (0.5, 10)})
    md = open(report(tmp_path, eval_dir, tmp_path / "chat")["markdown"], encoding="utf-8").read()
    assert "| closed_book_qa/exact_match | run-1 @ chat | 0.250 | 0.500 | +0.250 |" in md
    assert "| closed_book_qa/exact_match | run-1 @ eval | 0.389 | 0.472 | +0.083 |" in md
    assert "## run-1 @ chat vs smollm2" in md and "## run-1 @ eval vs smollm2" in md
