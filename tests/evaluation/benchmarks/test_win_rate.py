"""Pairwise judge: position swap, failure counting, retries, key hygiene and length control
against a local stub of an OpenAI-compatible endpoint; the local judge on the tiny model."""

import json
import logging
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from curation.core.config import UserError, compose_config
from curation.core.engine import GenerationEngine
from curation.core.io import read_jsonl, redact_secrets
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.benchmarks import win_rate
from evaluation.benchmarks.judges import Verdict, parse_verdict
from evaluation.benchmarks.responses import build_instruction_prompt
from evaluation.benchmarks.win_rate import (
    PairwiseJudge,
    combine_verdicts,
    compute_length_adjusted_win_rate,
    fit_length_adjusted,
)
from evaluation.report.bootstrap import ItemValues, compute_level_interval
from evaluation.results import ModelInfo
from evaluation.run import evaluate_model

SECRET = "sk-test-never-in-any-file-0123456789"


class StubJudge(BaseHTTPRequestHandler):
    """``/v1/chat/completions``: the server's ``script(instruction, a, b, n)`` (n = how often
    this exact prompt was asked before) returns a verdict string, an int HTTP status, or bytes
    sent as a malformed body."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        parts = re.search(r"\[Instruction\]\n(.*?)\n\n\[Response A\]\n(.*?)\n\n\[Response B\]\n"
                          r"(.*?)\n\nWhich response", prompt, re.S).groups()
        server = self.server
        with server.lock:
            server.requests.append({"path": self.path, "body": body, "parts": parts,
                                    "authorization": self.headers.get("Authorization")})
            n = server.seen.get(prompt, 0)
            server.seen[prompt] = n + 1
        self.reply(server.script(*parts, n))

    def reply(self, outcome):
        if isinstance(outcome, int):
            self.send_error(outcome)
            return
        data = outcome if isinstance(outcome, bytes) else json.dumps(
            {"choices": [{"message": {"role": "assistant", "content": outcome}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def judge_server(monkeypatch):
    """Start a stub judge with a script; yields (start(script) -> base_url, server)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    servers = []

    def start(script):
        server = ThreadingHTTPServer(("127.0.0.1", 0), StubJudge)
        server.script, server.requests, server.seen = script, [], {}
        server.lock = threading.Lock()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1", server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class AnswerEngine:
    """A stub evaluated model: the scripted answer to each raw prompt."""

    tokenizer = None

    def __init__(self, answers):
        self.answers = answers

    def generate(self, prompts, settings, desc=""):
        return [[self.answers[p]] for p in prompts]


def write_reference(path, references):
    rows = [{"id": f"r{i}", "prompt": f"p{i}", "response": text, "group": "g"}
            for i, text in enumerate(references)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def endpoint_judge(data, base_url, **kwargs):
    settings = {"judge_retries": 0, "judge_retry_wait_s": 0.0, **kwargs}
    return PairwiseJudge(data=data, chat_template=False, judge_backend="endpoint",
                         judge_base_url=base_url, judge_model="stub-judge", **settings)


def run_judge(tmp_path, judge_server, script, answers, references, **kwargs):
    base_url, server = judge_server(script)
    data = write_reference(tmp_path / "ref.jsonl", references)
    engine = AnswerEngine({f"p{i}": a for i, a in enumerate(answers)})
    return endpoint_judge(data, base_url, **kwargs).evaluate(engine), server


def values(result):
    return {k.split("/")[1]: (m.value, m.n) for k, m in result.metrics.items()}


def test_pure_position_bias_becomes_ties(tmp_path, judge_server):
    result, server = run_judge(tmp_path, judge_server, lambda i, a, b, n: "A",
                               ["good answer", "bad", "fine"], ["ref one", "ref two", "ref three"])
    got = values(result)
    assert got["win_rate"] == (0.5, 3) and got["position_consistency"] == (0.0, 3)
    assert got["failure_rate"] == (0.0, 3)
    assert len(server.requests) == 6 and {r["path"] for r in server.requests} == {
        "/v1/chat/completions"}
    # each pair was asked both ways round
    asked = {(r["parts"][1], r["parts"][2]) for r in server.requests}
    assert ("good answer", "ref one") in asked and ("ref one", "good answer") in asked


def test_consistent_verdicts_give_wins_and_losses(tmp_path, judge_server):
    def prefers_good(instruction, a, b, n):
        return "A" if "GOOD" in a else "Response B"

    result, _ = run_judge(tmp_path, judge_server, prefers_good,
                          ["GOOD one", "GOOD two", "meh"], ["ref", "ref", "GOOD ref"])
    got = values(result)
    assert got["win_rate"] == (pytest.approx(2 / 3), 3)
    assert got["position_consistency"] == (1.0, 3)
    assert [r["score"] for r in result.samples] == [1.0, 1.0, 0.0]
    verdicts = result.samples[2]["verdicts"]
    assert (verdicts["candidate_first"]["choice"], verdicts["candidate_second"]["choice"]) == (
        "B", "A")


def test_failures_are_counted_never_turned_into_verdicts(tmp_path, judge_server, caplog):
    def flaky(instruction, a, b, n):
        if instruction == "p0":
            return 500
        if instruction == "p1":
            return "Both are fine, really."
        if instruction == "p2" and a == "cand2":
            return b"{not json"
        return "A" if a.startswith("cand") else "B"

    with caplog.at_level(logging.WARNING, logger="evaluation.benchmarks.win_rate"):
        result, _ = run_judge(tmp_path, judge_server, flaky, [f"cand{i}" for i in range(4)],
                              [f"ref{i}" for i in range(4)])
    got = values(result)
    assert got["failure_rate"] == (0.75, 4)
    assert got["win_rate"] == (1.0, 1)  # only the one pair judged both ways counts
    assert result.metrics["judge/failure_rate"].higher_is_better is False
    assert [r["score"] for r in result.samples] == [None, None, None, 1.0]
    errors = [r["verdicts"]["candidate_first"]["error"] for r in result.samples]
    assert errors == ["HTTP 500", "unparseable verdict", "malformed reply", None]
    assert result.samples[1]["verdicts"]["candidate_first"]["raw"] == "Both are fine, really."
    assert "3 of 4 pairs failed" in caplog.text


def test_all_failures_report_no_win_rate(tmp_path, judge_server):
    result, _ = run_judge(tmp_path, judge_server, lambda i, a, b, n: 503, ["x"], ["y"])
    assert values(result) == {"failure_rate": (1.0, 1)}


@pytest.mark.parametrize(("retries", "failure_rate", "requests"), [(1, 0.0, 4), (0, 1.0, 2)])
def test_transient_errors_are_retried(tmp_path, judge_server, retries, failure_rate, requests):
    def once_unavailable(instruction, a, b, n):
        return 503 if n == 0 else "A"

    result, server = run_judge(tmp_path, judge_server, once_unavailable, ["x"], ["y"],
                               judge_retries=retries)
    assert values(result)["failure_rate"] == (failure_rate, 1)
    assert len(server.requests) == requests


def test_api_key_is_sent_but_never_written_or_logged(tmp_path, judge_server, monkeypatch,
                                                     caplog):
    monkeypatch.setenv("LESSMORE_TEST_JUDGE_KEY", SECRET)
    base_url, server = judge_server(lambda i, a, b, n: 500 if i == "p1" else "A")
    data = write_reference(tmp_path / "ref.jsonl", ["ref0", "ref1"])
    bench = endpoint_judge(data, base_url, judge_api_key_env="LESSMORE_TEST_JUDGE_KEY")
    config = redact_secrets({"suite": {"benchmarks": {"judge": bench.settings()}}})
    with caplog.at_level(logging.DEBUG):
        evaluate_model(AnswerEngine({"p0": "a0", "p1": "a1"}), [bench],
                       ModelInfo("stub", "stub", "model"), suite="judge", config=config,
                       out_dir=tmp_path / "out")
    assert {r["authorization"] for r in server.requests} == {f"Bearer {SECRET}"}
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(written) == 2  # results.json and samples/judge.jsonl
    assert all(SECRET not in p.read_text(encoding="utf-8") for p in written)
    assert "LESSMORE_TEST_JUDGE_KEY" in (tmp_path / "out" / "results.json").read_text()
    assert SECRET not in caplog.text and SECRET not in repr(bench)


def test_config_errors_fail_before_any_model(tmp_path, monkeypatch):
    monkeypatch.delenv("LESSMORE_TEST_JUDGE_KEY", raising=False)
    data = write_reference(tmp_path / "ref.jsonl", ["ref0"])
    with pytest.raises(UserError, match="LESSMORE_TEST_JUDGE_KEY"):
        endpoint_judge(data, "http://127.0.0.1:9/v1",
                       judge_api_key_env="LESSMORE_TEST_JUDGE_KEY").load_data()
    with pytest.raises(UserError, match="judge_base_url"):
        endpoint_judge(data, None).load_data()
    with pytest.raises(UserError, match="local or endpoint"):
        PairwiseJudge(data=data, judge_backend="oracle").load_data()
    with pytest.raises(UserError, match="response_b"):
        PairwiseJudge(data=data, template="{instruction} {response_a}").load_data()
    with pytest.raises(UserError, match="KeyError"):
        PairwiseJudge(data=data, template='{response_a} {response_b} {"json": 1}').load_data()


def test_length_controlled_win_rate_discounts_a_length_biased_judge(tmp_path, judge_server):
    # The judge prefers the longer answer and, within 15 words, just says "A" (a tie after the
    # swap). The candidate is longer in 3 of every 4 pairs, so its raw win rate is high, but at
    # zero length difference the judge has no preference.
    def longer(instruction, a, b, n):
        la, lb = len(a.split()), len(b.split())
        return "A" if abs(la - lb) < 15 or la > lb else "B"

    sizes = [(m, sign) for m in range(2, 82, 4) for sign in (1, 1, 1, -1)]
    answers = ["w " * (20 + m if sign > 0 else 20) for m, sign in sizes]
    references = ["w " * (20 if sign > 0 else 20 + m) for m, sign in sizes]
    result, _ = run_judge(tmp_path, judge_server, longer, answers, references, judge_workers=8)
    metrics = result.metrics
    win, lc = metrics["judge/win_rate"].value, metrics["judge/length_adjusted_win_rate"].value
    assert win == pytest.approx(0.7)
    assert abs(lc - 0.5) < 0.1 and lc < win - 0.1
    assert "judge/lc_win_rate" not in metrics  # AlpacaEval's estimator: its own instructions only
    assert result.settings["length_control_used"].startswith(
        "length_adjusted_win_rate: unpenalised logistic GLM")
    assert [r["length_diff"] for r in result.samples[:4]] == [2, 2, 2, -2]


def test_length_control_leaves_a_length_blind_preference_alone():
    # 90% wins, the losses mirrored at +m and -m: no length dependence, so the slope's
    # estimate is exactly 0 and the win rate at zero length difference is the raw 0.9
    diffs = [s * m for m in range(2, 82, 4) for s in (1, -1)]
    prefs = [0.0 if k // 2 in (3, 14) else 1.0 for k in range(len(diffs))]
    assert sum(prefs) / len(prefs) == 0.9
    assert compute_length_adjusted_win_rate(prefs, diffs) == pytest.approx(0.9, abs=1e-6)
    assert compute_length_adjusted_win_rate([1.0, 1.0], [5, -3]) == 1.0  # constant: the mean
    assert compute_length_adjusted_win_rate([0.5, 0.5], [0, 0]) == pytest.approx(0.5)
    assert compute_length_adjusted_win_rate([1.0, 0.0, 0.5], [4, 4, 4]) == 0.5  # constant length
    # a failed judgment (NaN) is no item: the same as leaving the pair out
    assert compute_length_adjusted_win_rate([1.0, np.nan, 0.0, 0.5, 1.0], [9, 3, -4, 1, 2]) == \
        pytest.approx(compute_length_adjusted_win_rate([1.0, 0.0, 0.5, 1.0], [9, -4, 1, 2]))


TRUE_SLOPE = 1.5  # with Δ ~ N(40, 60): raw win rate ≈ 0.63 while the win rate at Δ = 0 is 0.5


def simulate_pairs(rng, n, intercept=0.0):
    """Judged pairs with a known answer: P(win | Δ) = σ(intercept + 1.5·tanh(Δ / 60)), each
    pair judged in two orders (so ties of 1/2 occur); the win rate at zero length difference
    is σ(intercept) (0.5 by default), the raw one ≈ 0.63 because the candidate runs longer."""
    diffs = np.round(rng.normal(40, 60, n))
    p = 1 / (1 + np.exp(-(intercept + TRUE_SLOPE * np.tanh(diffs / 60))))
    prefs = ((rng.random(n) < p).astype(float) + (rng.random(n) < p)) / 2
    return prefs, diffs


def test_length_adjusted_win_rate_is_not_shrunk_towards_the_raw_one():
    """The L2-penalised fit this replaces gave 0.54-0.55 on average at 24 pairs (the raw rate
    0.63 leaking back in through a shrunk length slope); the unpenalised fit is centred on the
    true 0.5 at 24 pairs already."""
    rng = np.random.default_rng(12)
    sets = [simulate_pairs(rng, 24) for _ in range(400)]
    raw = np.mean([p.mean() for p, _ in sets])
    lc = fit_length_adjusted(np.stack([p for p, _ in sets]), np.stack([d for _, d in sets]))
    assert 0.6 < raw < 0.66
    assert abs(np.mean(lc) - 0.5) < 0.015 and abs(np.median(lc) - 0.5) < 0.02


def test_length_adjusted_win_rate_is_the_unpenalised_maximum_likelihood():
    """Checked against a general optimiser on the same likelihood (fractional outcomes)."""
    from scipy.optimize import minimize

    prefs, diffs = simulate_pairs(np.random.default_rng(3), 24)
    x = np.tanh(diffs / diffs.std(ddof=1))

    def nll(b):
        z = b[0] + b[1] * x
        return float(np.sum(np.logaddexp(0, z) - prefs * z))

    b = minimize(nll, np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x
    assert compute_length_adjusted_win_rate(prefs, diffs) == pytest.approx(
        1 / (1 + np.exp(-b[0])), abs=1e-6)


@pytest.mark.parametrize("intercept", [0.0, 0.8])
def test_length_adjusted_win_rate_and_its_interval_find_the_known_answer(intercept):
    """At AlpacaEval's size (805 pairs) the estimate is near σ(intercept) (0.05 is about 3
    standard errors there) and the report's percentile interval over pairs covers it, while
    the raw win rate is well off."""
    truth = 1 / (1 + np.exp(-intercept))
    prefs, diffs = simulate_pairs(np.random.default_rng(7), 805, intercept)
    estimate = compute_level_interval(ItemValues([str(i) for i in range(805)], prefs, diffs),
                                      transform="length_adjusted", samples=1000, seed=1)
    assert prefs.mean() - truth > 0.06
    assert abs(estimate.value - truth) < 0.05
    assert estimate.low < truth < estimate.high and estimate.high - estimate.low < 0.12
    assert estimate.value == compute_length_adjusted_win_rate(prefs, diffs)


def test_length_adjusted_interval_covers_the_truth_at_about_its_level():
    """Over 80 simulated sets of 150 pairs the 95% interval covers 0.5 in at least 85% of them
    (a shrunk or biased estimator falls far below)."""
    rng = np.random.default_rng(21)
    covered = 0
    for k in range(80):
        prefs, diffs = simulate_pairs(rng, 150)
        est = compute_level_interval(ItemValues([str(i) for i in range(150)], prefs, diffs),
                                     transform="length_adjusted", samples=400, seed=k)
        covered += est.low <= 0.5 <= est.high
    assert covered >= 68


def test_outcomes_separated_by_length_fall_back_on_a_finite_fit():
    """The candidate wins exactly when it is longer: the unpenalised estimate does not exist
    (the slope runs to infinity); Firth's fit is finite and, the data being symmetric, 1/2."""
    diffs = [1, 2, 3, 4, 5, -1, -2, -3, -4, -5]
    prefs = [1.0] * 5 + [0.0] * 5
    assert compute_length_adjusted_win_rate(prefs, diffs) == pytest.approx(0.5, abs=1e-6)
    lopsided = compute_length_adjusted_win_rate([1.0] * 8 + [0.0] * 2, [*range(1, 9), -1, -2])
    assert 0.0 < lopsided < 1.0


def test_baseline_answers_can_come_from_another_evaluations_samples(tmp_path, judge_server):
    base_url, server = judge_server(lambda i, a, b, n: "A")
    data = write_reference(tmp_path / "ref.jsonl", ["ref0", "ref1"])
    samples = tmp_path / "base_judge.jsonl"
    samples.write_text('{"id": "r0", "generation": "base0"}\n{"id": "r1", "generation": '
                       '"base1"}\n', encoding="utf-8")
    bench = endpoint_judge(data, base_url, baseline=str(samples))
    result = bench.evaluate(AnswerEngine({"p0": "a0", "p1": "a1"}))
    assert [r["references"] for r in result.samples] == [["base0"], ["base1"]]
    assert {r["parts"][2] for r in server.requests if r["parts"][1].startswith("a")} == {
        "base0", "base1"}
    assert "baseline sha256:" in result.data_fingerprint
    samples.write_text('{"id": "r0", "generation": "base0"}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"no answer for ids \['r1'\]"):
        bench.load_data()


@pytest.mark.parametrize(("first", "second", "preference"), [
    ("A", "B", 1.0), ("B", "A", 0.0), ("A", "A", 0.5), ("B", "B", 0.5), (None, "B", None),
    ("A", None, None)])
def test_combine_verdicts(first, second, preference):
    assert combine_verdicts(Verdict(first), Verdict(second)) == preference


@pytest.mark.parametrize(("text", "choice"), [
    ("A", "A"), (" B.\nBecause it is longer.", "B"), ("[[A]]", "A"), ("**B**", "B"),
    ("Response A", "A"), ("Answer: B", "B"), ("The better response is A.", "A"),
    ("A is better", None), ("a", None), ("C", None), ("", None), ("Neither", None)])
def test_parse_verdict(text, choice):
    verdict = parse_verdict(text)
    assert verdict.choice == choice
    assert (verdict.error is None) == (choice is not None)


def test_local_judge_scores_the_letters_by_log_likelihood(tmp_path, tiny_lm, tiny_model_dir):
    data = write_reference(tmp_path / "ref.jsonl", ["ref zero", "ref one"])
    bench = PairwiseJudge(data=data, chat_template=False, judge_model=str(tiny_model_dir))
    result = bench.evaluate(AnswerEngine({"p0": "answer zero", "p1": "answer one"}))
    first = result.samples[0]["verdicts"]["candidate_first"]
    engine = GenerationEngine(*tiny_lm, batch_size=2, show_progress=False)
    # the judge's prompt is one user turn under the training chat template, then "A" or "B"
    prompt = build_instruction_prompt(tiny_lm[1], bench.judge_prompt("p0", "answer zero",
                                                                     "ref zero"), True)
    (a, _), (b, _) = engine.loglikelihood([(prompt, "A"), (prompt, "B")])
    assert first["margin"] == pytest.approx(a - b, abs=1e-4)
    assert first["choice"] == ("A" if a > b else "B")
    assert values(result)["failure_rate"] == (0.0, 2)
    judge = bench.build_judge()
    bench.evaluate(AnswerEngine({"p0": "x", "p1": "y"}))
    assert bench.build_judge() is judge  # loaded once, the same judge for base and tuned


def test_imitation_suite_runs_through_evaluate_and_report(tmp_path, tiny_model_dir):
    from evaluation.report import run as report
    from evaluation.run import run

    out = tmp_path / "eval"
    short = [f"suite.benchmarks.{b}.max_new_tokens=4" for b in ("ifeval", "style", "judge")]
    cfg = compose_config("evaluate", [
        "model=tiny", f"model.path={tiny_model_dir}", f"out={out}", "suite=imitation",
        "limit=2", "show_progress=false", f"suite.benchmarks.judge.judge_model={tiny_model_dir}",
        *short])
    doc = run(cfg)["model"]
    assert doc["suite"] == "imitation"
    assert {k.split("/")[0] for k in doc["metrics"]} == {"ifeval", "style", "judge"}
    for name in ("ifeval", "style", "judge"):
        assert doc["settings"][name]["chat_template"] is True
        assert doc["settings"][name]["prompt_format"] == "instruction/chat_template"
    style, judged = (read_jsonl(out / "model" / "samples" / f"{n}.jsonl") for n in ("style", "judge"))
    assert [r["generation"] for r in style] == [r["generation"] for r in judged]
    cfg = compose_config("report", [f"results=[{out}]", f"out={tmp_path / 'report'}"])
    markdown = (tmp_path / "report" / "report.md")
    report.run(cfg)
    text = markdown.read_text()
    assert "judge/length_adjusted_win_rate" in text and "ifeval/prompt_loose" in text
    # a model alone: no delta to give a verdict on, but its win rates with their intervals
    assert "## Verdict" not in text and "Judged win rates against each model's baseline" in text


def test_report_shows_a_failed_judgment_as_no_score(tmp_path, judge_server):
    from evaluation.report import run as report

    base_url, _ = judge_server(lambda i, a, b, n: 500 if i == "p0" else "A")
    bench = endpoint_judge(write_reference(tmp_path / "ref.jsonl", ["r0", "r1"]), base_url)
    evaluate_model(AnswerEngine({"p0": "a0", "p1": "a1"}), [bench],
                   ModelInfo("stub", "stub", "model"), suite="judge", config={},
                   out_dir=tmp_path / "eval" / "model")
    report.run(compose_config("report", [f"results=[{tmp_path / 'eval'}]",
                                         f"out={tmp_path / 'report'}"]))
    rows = [line for line in (tmp_path / "report" / "report.md").read_text().splitlines()
            if line.startswith("| r0 ")]
    assert rows and rows[0].rstrip(" |").endswith("—")


def write_alpaca_set(path, instructions):
    path.write_text(json.dumps([{"instruction": i, "output": "", "generator": "g",
                                 "dataset": "d"} for i in instructions]), encoding="utf-8")
    return str(path)


def test_alpaca_eval_estimator_only_on_its_own_instructions(tmp_path, judge_server, monkeypatch):
    """Prompts that are all AlpacaEval instructions get AlpacaEval's estimator (stubbed here: it
    needs the hub) under its own name, with its interval; other prompts never do."""
    calls = []

    def fake(rows, *, samples, seed=0, confidence=0.95):
        calls.append([r["alpaca_eval_index"] for r in rows])
        return 0.41, 0.35, 0.47, "0.6.6"

    monkeypatch.setattr(win_rate, "compute_alpaca_eval_lc", fake)
    alpaca = write_alpaca_set(tmp_path / "ae.json", ["zero", "p1", "p0", "three"])
    result, _ = run_judge(tmp_path, judge_server, lambda i, a, b, n: "A", ["a0", "a1"],
                          ["r0", "r1"], alpaca_eval_set=alpaca)
    assert calls == [[2, 1]] and [r["alpaca_eval_index"] for r in result.samples] == [2, 1]
    got = values(result)
    assert got["lc_win_rate"] == (0.41, 2) and got["lc_win_rate_low"] == (0.35, 2)
    assert got["lc_win_rate_high"] == (0.47, 2) and "length_adjusted_win_rate" in got
    assert "lc_win_rate: alpaca-eval 0.6.6 get_length_controlled_winrate" in \
        result.settings["length_control_used"]

    other = write_alpaca_set(tmp_path / "other.json", ["p0", "something else"])
    result, _ = run_judge(tmp_path, judge_server, lambda i, a, b, n: "A", ["a0", "a1"],
                          ["r0", "r1"], alpaca_eval_set=other)
    assert "lc_win_rate" not in values(result) and len(calls) == 1
    result, _ = run_judge(tmp_path, judge_server, lambda i, a, b, n: "A", ["a0", "a1"],
                          ["r0", "r1"], alpaca_eval_set=alpaca, length_control="length_adjusted")
    assert "lc_win_rate" not in values(result) and len(calls) == 1


def test_alpaca_eval_estimator_unavailable_is_said_never_filled_in(tmp_path, judge_server,
                                                                   monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "alpaca_eval", None)  # not installed
    alpaca = write_alpaca_set(tmp_path / "ae.json", ["p0", "p1"])
    with caplog.at_level(logging.WARNING, logger="evaluation.benchmarks.win_rate"):
        result, _ = run_judge(tmp_path, judge_server, lambda i, a, b, n: "A", ["a0", "a1"],
                              ["r0", "r1"], alpaca_eval_set=alpaca)
    assert "lc_win_rate" not in values(result) and "length_adjusted_win_rate" in values(result)
    assert "lc_win_rate: not computed (ModuleNotFoundError" in \
        result.settings["length_control_used"]
    assert "length-adjusted win rate only" in caplog.text


def test_length_control_config_errors(tmp_path):
    data = write_reference(tmp_path / "ref.jsonl", ["ref0"])
    with pytest.raises(UserError, match="length_control"):
        PairwiseJudge(data=data, length_control="glm").load_data()
    with pytest.raises(UserError, match="alpaca_eval_set"):
        PairwiseJudge(data=data, alpaca_eval_set=str(tmp_path / "missing.json")).load_data()


def test_alpaca_eval_library_when_installed(tmp_path, monkeypatch):
    """The real alpaca-eval estimator (optional extra ``alpaca``) on hub data stood in for by a
    local file: the number is its own, between its interval's ends."""
    glm = pytest.importorskip("alpaca_eval.metrics.glm_winrate")
    rng = np.random.default_rng(0)
    n = 60
    gamed = tmp_path / "df_gamed.csv"
    import pandas as pd

    pd.DataFrame({"model": "gamed", "index": np.arange(n), "preference": rng.random(n),
                  "instruction_difficulty": rng.normal(0, 1, n),
                  "std_delta_len": rng.normal(0, 1, n), "not_gamed_baseline": False}).to_csv(
        gamed, index=False)
    monkeypatch.setattr(glm, "hf_hub_download", lambda **kwargs: str(gamed))
    prefs, diffs = simulate_pairs(rng, n)
    rows = [{"score": float(p), "generation": "w " * int(50 + d), "references": ["w " * 50],
             "alpaca_eval_index": k} for k, (p, d) in enumerate(zip(prefs, diffs, strict=True))]
    value, low, high, version = win_rate.compute_alpaca_eval_lc(rows, samples=5)
    assert 0 < low <= value <= high < 1 and version
