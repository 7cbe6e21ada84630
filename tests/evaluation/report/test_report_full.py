"""The report over two runs and their base, from synthetic results directories whose metrics
are computed from their samples by the benchmarks' own metric code (so the samples reproduce
the results files, as a real evaluation's do): panels with paired intervals, factuality per
knowledge category, training curves, the data card, intruder dimensions, sample links,
determinism."""

import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from curation.core.config import compose_config
from curation.core.io import write_json, write_jsonl
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.benchmarks.base import Benchmark
from evaluation.benchmarks.closed_book import ClosedBookQA
from evaluation.benchmarks.ifeval import build_metrics as ifeval_metrics
from evaluation.benchmarks.panels import CAPABILITY, IMITATION, MetricSpec
from evaluation.benchmarks.perplexity import build_pooled_metric
from evaluation.benchmarks.style import StyleStats
from evaluation.benchmarks.win_rate import build_metrics as judge_metrics
from evaluation.report.comparison import collect_results, group_runs, pair_results
from evaluation.report.deltas import BootstrapSettings, build_deltas
from evaluation.report.provenance import build_card_blocks
from evaluation.report.render import Figure
from evaluation.report.run import run
from evaluation.report.verdicts import judge_panel
from evaluation.results import ModelInfo, Results, build_metric

XSS = "<script>document.title='PWNED'</script>"
CATEGORIES = ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"]
BASE = ModelInfo("smollm2", "embedded:smollm2", "base")
POINT_ONLY = {"style/length_correlation"}


def capability(rng, skill):
    """Sample rows of the capability benchmarks; ``skill`` raises the chance of a right answer."""
    closed = []
    for i in range(24):
        abstained = rng.random() < 0.25 - 0.1 * skill
        right = not abstained and rng.random() < 0.4 + 0.3 * skill
        closed.append({"id": f"q{i}", "group": ["capital", "author"][i % 2],
                       "category": CATEGORIES[i % 4], "prompt": f"Q: question {i}?\nA:",
                       "prediction": "I don't know." if abstained else (
                           "Paris" if right else XSS), "references": ["Paris"],
                       "score": float(right), "abstained": abstained})
    gsm = [{"id": i, "group": None, "prompt": f"Question: {i}+1?", "prediction": str(i),
            "references": [str(i + 1)], "scores": {"strict": s, "flexible": max(s, f)},
            "score": s} for i in range(20)
           for s, f in [(float(rng.random() < 0.3 + skill * 0.2), float(rng.random() < 0.5))]]
    arc = [{"id": i, "group": None, "prompt": f"Question: q{i}", "prediction": "a",
            "references": ["a"], "scores": {m: float(rng.random() < 0.5 + skill * 0.1)
                                            for m in ("acc", "acc_norm", "acc_bytes")}}
           for i in range(20)]
    tqa = [{"id": i, "group": None, "prompt": f"Q: t{i}", "prediction": "x", "references": ["y"],
            "scores": {"mc1": float(rng.random() < 0.3), "mc2": rng.random()}} for i in range(16)]
    ppl = [{"id": f"wiki:{i}", "group": ["wiki", "news"][i % 2], "text": f"Paragraph {i}.",
            "tokens": 20 + i, "bytes": 90 + 3 * i, "loglikelihood": -(40 + i) * (1 + 0.2 * skill)}
           for i in range(10)]
    for rows in (arc, tqa):
        for r in rows:
            r["score"] = r["scores"]["acc" if "acc" in r["scores"] else "mc1"]
    for r in ppl:
        r["score"] = math.exp(-r["loglikelihood"] / r["tokens"])
    cbqa = ClosedBookQA(data="facts.jsonl")
    metrics = {**cbqa.build_metrics(closed, "group", ""),
               **cbqa.build_metrics(closed, "category", ",category"),
               **{f"gsm8k/exact_match,{f}": build_metric(
                   [{"group": None, "score": r["scores"][f]} for r in gsm]) for f in
                  ("strict", "flexible")},
               **{f"arc_easy/{m}": build_metric([{"score": r["scores"][m]} for r in arc])
                  for m in ("acc", "acc_norm", "acc_bytes")},
               **{f"truthfulqa/{m}": build_metric([{"score": r["scores"][m]} for r in tqa])
                  for m in ("mc1", "mc2")},
               "perplexity/perplexity": build_pooled_metric(ppl, "perplexity"),
               "perplexity/bits_per_byte": build_pooled_metric(ppl, "bits_per_byte")}
    samples = {"closed_book_qa": closed, "gsm8k": gsm, "arc_easy": arc, "truthfulqa": tqa,
               "perplexity": ppl}
    return metrics, samples


def imitation(rng, skill):
    """Sample rows of the imitation benchmarks."""
    ifeval = []
    for i in range(15):
        checks = [{"id": f"type{k}", "kwargs": {}, "strict": rng.random() < 0.5 + 0.2 * skill,
                   "loose": rng.random() < 0.7} for k in range(1 + i % 3)]
        ifeval.append({"id": f"k{i}", "group": "x", "prompt": f"Write {i}", "prediction": "ok",
                       "references": [], "instructions": checks,
                       "score": float(all(c["strict"] for c in checks)),
                       "score_loose": float(all(c["loose"] for c in checks))})
    style = [{"id": f"s{i}", "group": ["howto", "facts"][i % 2], "prompt": f"Explain {i}",
              "prediction": "- a list" if rng.random() < skill else "prose",
              "references": ["- ref"], "score": rng.random(),
              "style": _style(rng, skill), "reference_style": _style(random.Random(i), 1.0)}
             for i in range(12)]
    judge = [{"id": f"s{i}", "group": "all", "prompt": f"Explain {i}", "prediction": "answer",
              "references": ["other"], "length_diff": rng.randint(-20, 40),
              "score": None if i == 5 else rng.choice([0.0, 0.5, 1.0, 1.0 if skill else 0.0]),
              "verdicts": {"candidate_first": {"choice": None, "error": "timeout" if i == 5
                                               else None},
                           "candidate_second": {"choice": "A", "error": None}}}
             for i in range(12)]
    metrics = {**ifeval_metrics("ifeval", ifeval),
               **StyleStats(data="reference.jsonl").build_metrics(style),
               **judge_metrics("judge", judge)}
    return metrics, {"ifeval": ifeval, "style": style, "judge": judge}


def _style(rng, skill):
    return {"list": float(rng.random() < skill), "heading": float(rng.random() < 0.3),
            "words": float(rng.randint(20, 60) + 80 * skill), "refusal": float(rng.random() < 0.1),
            "hedge": float(rng.random() < 0.4)}


CLASSES = {"closed_book_qa": "evaluation.benchmarks.closed_book.ClosedBookQA",
           "gsm8k": "evaluation.benchmarks.reasoning.FewShotGeneration",
           "arc_easy": "evaluation.benchmarks.choice.MultipleChoice",
           "truthfulqa": "evaluation.benchmarks.truthfulqa.TruthfulQA",
           "perplexity": "evaluation.benchmarks.perplexity.Perplexity",
           "ifeval": "evaluation.benchmarks.ifeval.IFEval",
           "style": "evaluation.benchmarks.style.StyleStats",
           "judge": "evaluation.benchmarks.win_rate.PairwiseJudge"}
# as results written before evaluation/ was reorganised name them: paths that no longer import
OLD_CLASSES = {"closed_book_qa": "evaluation.benchmarks.ClosedBookQA",
               "gsm8k": "evaluation.reasoning.FewShotGeneration",
               "arc_easy": "evaluation.choice.MultipleChoice",
               "truthfulqa": "evaluation.truthfulqa.TruthfulQA",
               "perplexity": "evaluation.perplexity.Perplexity", "ifeval": "evaluation.ifeval.IFEval",
               "style": "evaluation.style.StyleStats", "judge": "evaluation.judge.PairwiseJudge"}


def write_entry(folder, info, suite, metrics, samples, targets=True, classes=CLASSES):
    """results.json through the typed schema, and one samples file per benchmark. With
    ``targets``, the config names each benchmark's class (``classes``: benchmark name ->
    ``_target_``) as ``python -m evaluation`` records."""
    config = {"suite": {"name": suite, "benchmarks": {
        name: {"_target_": classes[name], "name": name} for name in samples}}} if targets else {}
    results = Results(model=info, suite=suite, metrics=metrics,
                      settings={name: {"chat_template": False} for name in samples},
                      data_fingerprint={name: "sha256:0" for name in samples}, config=config,
                      versions={})
    write_json(folder / "results.json", results.to_dict())
    for name, rows in samples.items():
        write_jsonl(folder / "samples" / f"{name}.jsonl", rows)


def write_run_dir(root):
    """A training run (manifest, curves, loss plot) and the curated set it names."""
    curated, run_dir = root / "curated", root / "runs" / "run-a"
    (curated / "plots").mkdir(parents=True)
    (curated / "README.md").write_text(
        "---\npretty_name: lessmore curated SFT set\n---\n\n# Curated SFT set\n\n"
        f"Built from `{XSS}` with **seed 0**.\n\n| rows in | kept |\n|---:|---:|\n| 120 | 40 |\n\n"
        "- selection: `slick`\n\n![categories](plots/categories.png)\n\n"
        "![evil](../secret.png)\n", encoding="utf-8")
    _png(root / "secret.png", (0, 0, 0))  # outside the curated set: never embedded
    write_json(curated / "manifest.json", {"stage": "curate", "categories_probed": {
        "HighlyKnown": 50, "Unknown": 40, "MaybeKnown": 30}, "categories_kept": {
        "HighlyKnown": 20, "Unknown": 5, "MaybeKnown": 15}})
    write_json(run_dir / "manifest.json", {"stage": "train", "data": {"path": str(curated)},
                                           "outputs": {"data_card": str(curated / "README.md")}})
    write_jsonl(run_dir / "curves.jsonl", [
        {"step": s, "category": c, "accuracy": a, "n": 8}
        for s in (0, 25, 50) for c, a in zip(CATEGORIES, (0.9, 0.6, 0.3, s / 100), strict=True)])
    _png(run_dir / "plots" / "loss.png", (200, 40, 40))
    return run_dir


def _png(path, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), colour).save(path)


def write_eval_dirs(root, classes=CLASSES):
    """run-a (a training run here) with a capability and an imitation evaluation, run-b (not
    a run directory here) with a capability one; base evaluated beside each."""
    run_a = write_run_dir(root)
    tuned = {"run-a": ModelInfo("run-a", str(run_a), "tuned", {"name": "smollm2",
                                                              "path": "embedded:smollm2"}),
             "run-b": ModelInfo("run-b", str(root / "elsewhere" / "run-b"), "tuned",
                                {"name": "smollm2", "path": "embedded:smollm2"})}
    for name, suite, build, skill in [("run-a", "capability", capability, 1.0),
                                      ("run-a", "imitation", imitation, 1.0),
                                      ("run-b", "capability", capability, 0.5)]:
        folder = root / "eval" / f"{name}-{suite}"
        # the same base model on the same suite: the same results beside every run
        write_entry(folder / "base", BASE, suite, *build(random.Random(suite), 0.0),
                    classes=classes)
        write_entry(folder / "tuned", tuned[name], suite,
                    *build(random.Random(f"{name}{suite}t"), skill), targets=name == "run-a",
                    classes=classes)
    write_weights(root / "eval" / "weights", run_a)
    # another run's analysis beside run-a's results must not be shown as run-a's
    write_weights(root / "eval" / "run-a-capability" / "weights-other", root / "runs" / "x")
    return root / "eval"


def write_weights(folder, run_dir):
    """weights.json as python -m evaluation.weights writes it (schema_version 1), and a plot."""
    def counts(method, intruders):
        return {"path": str(run_dir), "base": "embedded:smollm2", "method": method,
                "intruders": intruders, "matrices_with_intruders": 2,
                "by_module": {"q_proj": intruders - 1, "v_proj": 1}, "by_layer": {"0": intruders},
                "sweep": {"0.3": 1, "0.5": intruders, "0.7": intruders + 5},
                "effective_rank_by_module": {"q_proj": 3.25, "v_proj": 1.5},
                "matrices": [{"name": "layers.0.q_proj"}, {"name": "layers.0.v_proj"}]}
    write_json(folder / "weights.json", {
        "schema_version": 1, "settings": {"top_k": 10, "epsilon": 0.5, "sweep": [0.3, 0.7]},
        "runs": {"run": counts("lora", 7), "control": {**counts("full", 1), "path": "/x"}}})
    _png(folder / "plots" / "intruders.png", (40, 40, 200))


@pytest.fixture(scope="module")
def eval_root(tmp_path_factory):
    return write_eval_dirs(tmp_path_factory.mktemp("report-full"))


def report(eval_root, out, *extra):
    cfg = compose_config("report", [f"results=[{eval_root}]", f"out={out}",
                                    "bootstrap_samples=400", *extra])
    paths = run(cfg)
    return (Path(paths["markdown"]).read_text(encoding="utf-8"),
            Path(paths["html"]).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(eval_root):
    out = eval_root.parent / "report"
    return out, *report(eval_root, out)


def test_every_declared_metric_is_reproduced_from_its_samples(eval_root):
    """Each declared per-item reader (evaluation/benchmarks/panels.py) gives back its
    benchmark's own value, so the interval is that of the reported delta; only the declared
    point-only metrics lack one."""
    runs = group_runs(pair_results(collect_results([str(eval_root)])))
    deltas = {(d.run, d.key): d for r in runs for d in build_deltas(r, BootstrapSettings(200))}
    assert {k for _, k in deltas} >= {"closed_book_qa/hallucination_rate", "ifeval/instruction_loose",
                                      "perplexity/perplexity", "judge/win_rate", "style/list_rate"}
    for (run_label, key), d in deltas.items():
        if key in POINT_ONLY:
            assert d.interval is None and d.note == "point only: no per-item form"
            continue
        assert d.interval is not None, (run_label, key, d.note)
        assert d.interval.delta == pytest.approx(d.value, abs=1e-9), key
        assert d.interval.low - 1e-9 <= d.value <= d.interval.high + 1e-9, key
    assert deltas["run-a", "style/list_rate"].reference is not None
    assert {d.panel for (_, k), d in deltas.items() if k.startswith(("style", "judge", "ifeval"))} \
        == {"imitation"}


def test_panels_side_by_side_with_forest_plots(built):
    _, md, html = built
    section = html.split("<h2>Imitation vs capability</h2>")[1].split("<h2>")[0]
    assert section.count('<div class="cols">') == 1 and section.count("<figure>") == 2
    assert "Imitation: style" in section and "Capability: knowledge" in section
    # run-a's closed-book exact match: one row with base, tuned, delta, interval and n
    row = next(line for line in md.splitlines()
               if line.startswith("| closed_book_qa/exact_match | run-a |"))
    base, tuned, delta, ci, n = [c.strip() for c in row.split("|")[3:8]]
    assert float(delta) == pytest.approx(float(tuned) - float(base), abs=1.5e-3)
    low, high = map(float, re.fullmatch(r"\[(\S+), (\S+)\]", ci).groups())
    assert low <= float(delta) <= high and n == "24"
    assert re.search(r"\| style/length_correlation \| run-a \|.*\| point only: no per-item form \| — \|",
                     md)
    # the length-adjusted win rate is refitted per resample: it has an interval
    assert re.search(r"^\| judge/length_adjusted_win_rate \| run-a \|.* \| \[\S+, \S+\] \| 12 \|$",
                     md, re.M)


def test_report_opens_with_verdicts_computed_from_the_intervals(eval_root, built):
    """One row per run and panel present, each the rule's sentence on the deltas the panels
    show (same bootstrap settings), and the run whose weights were analysed gets their count."""
    _, md, _ = built
    assert md.index("## Verdict") < md.index("## Imitation vs capability")
    verdict = md.split("\n## Verdict\n")[1].split("\n## ")[0]
    runs = group_runs(pair_results(collect_results([str(eval_root)])))
    deltas = [d for r in runs for d in build_deltas(r, BootstrapSettings(400))]
    expected = {("run-a", "Imitation"), ("run-a", "Capability"), ("run-b", "Capability")}
    for run_label, panel in expected:
        sentence = judge_panel([d for d in deltas if d.run == run_label
                                and d.panel == panel.lower()])
        assert f"| {run_label} | {panel} | {sentence} |" in verdict
    rows = re.findall(r"^\| (run-\w) \| (\w+) \|", verdict, re.M)
    assert set(rows) == expected | {("run-a", "Weights")} and len(rows) == 4
    assert "| run-a | Weights | 7 intruder dimensions (top-10 singular vectors, ε = 0.5) in 2 " \
           "of 2 adapted matrices (lora); control (full): 1" in verdict
    # perplexity rose for both runs (worse although positive), by more than its interval
    assert re.search(r"\| run-b \| Capability \| \d+ of 12 metrics changed significantly "
                     r"\(.*worse: [^)]*perplexity/perplexity \+", verdict)
    assert "style moved toward the reference on " in verdict


def test_judged_win_rates_have_level_intervals_and_name_their_estimator(built):
    _, md, _ = built
    table = md.split("Judged win rates against each model's baseline")[1].split("\n#")[0]
    rows = re.findall(r"^\| (judge/\w+) \| (run-a: [^|]+) \| (\S+) \| \[(\S+), (\S+)\] \| "
                      r"(\d+) \| ([^|]+) \|$", table, re.M)
    assert [(r[0], r[1].strip()) for r in rows] == [
        ("judge/win_rate", "run-a: smollm2 (base)"),
        ("judge/length_adjusted_win_rate", "run-a: smollm2 (base)"),
        ("judge/win_rate", "run-a: run-a (tuned)"),
        ("judge/length_adjusted_win_rate", "run-a: run-a (tuned)")]
    for key, _, value, low, high, n, estimator in rows:
        assert float(low) <= float(value) <= float(high) and n == "11"  # one pair failed
        assert estimator.startswith("raw" if key.endswith("/win_rate") else "length-adjusted")


def test_style_statistics_show_the_gap_closed_and_are_coloured_by_distance(built):
    """Beside the raw base, tuned and reference values: the share of the gap closed, and the
    colour says nearer to (green) or farther from (red) the reference, whatever the sign."""
    _, md, html = built
    panel = panels_section(md)
    for stat in ("list_rate", "heading_rate", "mean_words", "refusal_rate", "hedge_rate"):
        row = next(line for line in panel.splitlines()
                   if line.startswith(f"| style/{stat} | run-a |"))
        base, tuned, ref, gap, delta = [c.strip() for c in row.split("|")[3:8]]
        b, t, r = float(base), float(tuned), float(ref)
        if abs(r - b) < 1e-9:
            assert gap.startswith("base already at the reference")
        else:  # from the 3-decimal values shown: within their rounding
            assert abs(float(gap.rstrip("%")) - 100 * (t - b) / (r - b)) <= 3, (stat, gap)
        cells = re.search(rf"<tr><td>style/{stat}</td><td>run-a</td>(.*?)</tr>", html).group(1)
        tone = "better" if abs(t - r) < abs(b - r) else "worse"
        assert re.search(rf'<td class="num {tone}( strong)?">{re.escape(delta)}</td>', cells), stat
    # heading use fell toward a reference that uses fewer headings: better, not worse
    heading = next(line for line in panel.splitlines()
                   if line.startswith("| style/heading_rate | run-a |"))
    assert heading.split("|")[7].strip().startswith("-")


def test_delta_colour_respects_direction(built):
    _, _, html = built
    # perplexity rose for both runs (loglikelihoods scaled down): worse although positive
    rows = re.findall(r"<tr><td>perplexity/perplexity ↓</td><td>(run-\w)</td>(.*?)</tr>", html)
    assert len(rows) == 2
    for _, cells in rows:
        assert re.search(r'<td class="num worse( strong)?">\+\d', cells), cells


def test_factuality_per_knowledge_category(built):
    _, md, html = built
    part = md.split("## Factuality per knowledge category")[1].split("\n## ")[0]
    assert "### closed_book_qa/exact_match per knowledge category" in part
    assert "| category | base | run-a | delta | 95% CI | n | run-b | delta | 95% CI | n |" in part
    order = [line.split("|")[1].strip() for line in part.splitlines()
             if line.startswith("| ") and line.split("|")[1].strip() in CATEGORIES]
    assert order[:4] == CATEGORIES  # SliCK order, not alphabetical
    facts = html.split("Factuality per knowledge category")[1].split("<h2>")[0]
    assert facts.count("<figure>") == 3  # exact match, abstention, hallucination


def test_run_artifacts_training_card_weights(built):
    _, md, html = built
    run_a = html.split("run-a vs smollm2</h2>")[1].split("<h2>")[0]
    assert "Training loss" in run_a and "Train accuracy per knowledge category" in run_a
    assert "<td>Unknown</td><td class=\"num\">50</td><td class=\"num\">0.500</td>" in run_a
    weights = run_a.split("<h3>Intruder dimensions</h3>")[1].split("<h3>")[0]
    assert "/eval/weights/weights.json" in weights and "weights-other" not in weights
    assert "<td>run</td><td>lora</td><td class=\"num\">7</td><td class=\"num\">2 / 2</td>" \
        "<td class=\"num\">1</td><td class=\"num\">7</td><td class=\"num\">12</td>" in weights
    assert "<td>q_proj</td><td class=\"num\">6</td><td class=\"num\">3.25</td>" \
        "<td class=\"num\">0</td><td class=\"num\">3.25</td>" in weights
    assert "(plots/intruders.png)" in weights
    card = run_a.split('<div class="card">')[1].split("</div>")[0]
    assert "&lt;script&gt;" in card and "<b>seed 0</b>" in card and "<th>rows in</th>" in card
    assert "[image ../secret.png not embedded]" in card  # nothing from outside the set
    assert "Knowledge categories of the curated set" in run_a  # drawn: the card's PNG is absent
    run_b = html.split("run-b vs smollm2</h2>")[1].split("<h2>")[0]
    assert "is not a training run directory here" in run_b and "Intruder" not in run_b
    assert "> # Curated SFT set" in md and "&lt;script&gt;" in md


def test_sample_links_resolve_and_rows_show_inline(built):
    out, md, html = built
    hrefs = re.findall(r'<a href="([^"]+)">', html)
    assert len(hrefs) == 2 * (5 + 3 + 5)  # base + tuned, every benchmark of every comparison
    for href in hrefs:
        assert not href.startswith(("/", "http")) and (out / href).resolve().is_file(), href
    assert "### Samples: closed_book_qa" in md
    assert "| id | group | prompt (end) | references | base prediction | base score | " \
           "tuned prediction | tuned score |" in md


def test_report_is_deterministic(eval_root, built):
    out, md, html = built
    md2, html2 = report(eval_root, out)
    assert md2 == md and html2 == html
    md3, _ = report(eval_root, out, "bootstrap_seed=1")
    assert md3 != md  # the seed is what fixes the intervals


def test_no_html_from_data_and_no_external_resource(built):
    _, md, html = built
    assert "<script" not in html.lower() and "<script" not in md.lower()
    assert 'http-equiv="Content-Security-Policy"' in html and "default-src 'none'" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert all(src.startswith("data:image/png;base64,")
               for src in re.findall(r'src="([^"]*)"', html))


def test_metric_outside_panels_is_listed(tmp_path):
    """A metric no panel declares is listed with its point delta, not dropped."""
    root = write_eval_dirs(tmp_path)
    doc = json.loads((root / "run-b-capability" / "tuned" / "results.json").read_text())
    doc["metrics"]["custom/score"] = {"value": 0.75, "n": 4, "higher_is_better": True,
                                      "by_group": {}}
    write_json(root / "run-b-capability" / "tuned" / "results.json", doc)
    md, _ = report(root, tmp_path / "r")
    assert "| custom/score | run-b | — | 0.750 | — |" in md


def test_card_plot_of_the_curated_set_is_its_histogram(tmp_path):
    curated = write_run_dir(tmp_path).parent.parent / "curated"
    _png(curated / "plots" / "categories.png", (10, 200, 10))
    blocks = build_card_blocks(curated)
    png = (curated / "plots" / "categories.png").read_bytes()
    assert isinstance(blocks[0], Figure) and blocks[0].png == png
    assert blocks[-1].images == {"plots/categories.png": png}  # ../secret.png refused


def panels_section(md):
    return md.split("## Imitation vs capability")[1].split("\n## ")[0]


def test_panels_list_metrics_in_declaration_order(built):
    """Across classes as the shipped benchmarks are ordered, within one as it declares them."""
    _, md, _ = built
    keys = re.findall(r"^\| ([\w,]+/[\w,]+)[ ↓]* \| run-a \|", panels_section(md), re.M)
    assert keys == [
        *(f"style/{m}" for m in ("list_rate", "heading_rate", "mean_words", "refusal_rate",
                                 "hedge_rate", "unigram_f1", "length_correlation")),
        *(f"judge/{m}" for m in ("win_rate", "length_adjusted_win_rate", "position_consistency",
                                 "failure_rate")),
        *(f"ifeval/{m}" for m in ("prompt_strict", "prompt_loose", "instruction_strict",
                                  "instruction_loose")),
        *(f"closed_book_qa/{m}" for m in ("exact_match", "hallucination_rate",
                                          "abstention_rate")),
        "gsm8k/exact_match,flexible", "gsm8k/exact_match,strict",
        "arc_easy/acc", "arc_easy/acc_norm", "arc_easy/acc_bytes", "truthfulqa/mc1",
        "truthfulqa/mc2", "perplexity/perplexity", "perplexity/bits_per_byte"]


def test_results_with_old_target_paths_keep_their_panels(tmp_path, built):
    """Results written before evaluation/ was reorganised name classes by paths that no longer
    import: the shipped class of the same name gives the same panels, intervals included."""
    md, _ = report(write_eval_dirs(tmp_path, classes=OLD_CLASSES), tmp_path / "r")
    assert panels_section(md) == panels_section(built[1])
    assert "Other metrics" not in md and "| judge/win_rate | run-a |" in md


@dataclass
class WordCount(Benchmark):
    """A user's own benchmark, named by ``_target_`` in its suite: it declares its panels."""

    metrics: ClassVar[dict[str, MetricSpec]] = {"words": MetricSpec(IMITATION, arg="words"),
                                                "accuracy": MetricSpec(CAPABILITY)}

    name: str = "toy"
    limit: int | None = None

    def load_data(self):
        return []

    def evaluate(self, engine, data=None):
        raise AssertionError("the report reads results files; it never evaluates a benchmark")


def test_own_benchmark_class_reports_in_its_declared_panels(tmp_path):
    target = f"{WordCount.__module__}.{WordCount.__qualname__}"
    tuned = ModelInfo("run-t", str(tmp_path / "run-t"), "tuned",
                      {"name": "smollm2", "path": "embedded:smollm2"})
    for info, skill in [(BASE, 1), (tuned, 2)]:
        rows = [{"id": f"t{i}", "group": None, "prompt": f"P{i}", "prediction": "x",
                 "references": [], "score": float(i % 3 < skill), "words": 10.0 + i * skill}
                for i in range(12)]
        metrics = {"toy/accuracy": build_metric(rows), "toy/extra": build_metric(rows),
                   "toy/words": build_metric([{"score": r["words"]} for r in rows])}
        write_entry(tmp_path / "eval" / info.role, info, "toy", metrics, {"toy": rows},
                    classes={"toy": target})
    md, _ = report(tmp_path / "eval", tmp_path / "r")
    imitation = md.split("#### imitation metrics")[1].split("#### ")[0]
    capability = md.split("#### capability metrics")[1].split("#### ")[0]
    assert re.search(r"^\| toy/words \| run-t \| .* \| \[\S+, \S+\] \| 12 \|$", imitation, re.M)
    assert re.search(r"^\| toy/accuracy \| run-t \| .* \| \[\S+, \S+\] \| 12 \|$", capability,
                     re.M)
    other = md.split("Other metrics")[1].split("\n## ")[0]
    assert "| toy/extra | run-t |" in other and "toy/words" not in other
