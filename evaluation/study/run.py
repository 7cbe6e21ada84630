"""``python -m evaluation.study out=STUDY_DIR``: a study's analysis, from its arms' results only.

Reads ``STUDY_DIR/study_spec.json`` (written by ``lessmore study``: the study resolved at its
scale, the command, the arms' wall times) and every arm's results, and writes:

- ``study.json``: every arm's panel metrics (base, tuned, delta, 95% interval), each claim with
  its measurement, rule and verdict, the figure's points, versions and wall times;
- ``report/report.md`` and ``report/report.html``: the headline figure and the claims table
  first, then the ordinary report over every arm (:mod:`evaluation.report.run`);
- ``report/figure.png``: the headline figure alone, and ``report/summary.md``: the claims
  table, the command, machine, date and wall time beside it (what ``docs/studies/NAME.md``
  holds for a study's committed run).

It can be rerun alone on a finished (or partly finished) study: arms without results are listed
as not measured, and their claims are inconclusive.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from curation.core.config import UserError, save_resolved_config
from curation.core.io import atomic_path, collect_versions, write_json, write_text

from ..report.comparison import collect_results, pair_results
from ..report.deltas import BootstrapSettings
from ..report.render import Cell, Figure, Note, Section, Table, render_html, render_markdown
from ..report.run import build_sections
from .analysis import ArmResults, load_arm, measure, read_value
from .claims import REPRODUCED, parse_claims
from .config import StudyReportConfig
from .figures import figure_series, plot_study

log = logging.getLogger(__name__)
SPEC = "study_spec.json"


def run(cfg: StudyReportConfig) -> dict[str, Any]:
    out = Path(cfg.out)
    spec_path = out / SPEC
    if not spec_path.is_file():
        raise UserError(f"{spec_path} not found: run `lessmore study NAME out={out}` first")
    spec = json.loads(spec_path.read_text())
    names = [a["name"] for a in spec["arms"]]
    claims = parse_claims(spec.get("claims") or [], names)
    if cfg.check_only:
        return {"claims": len(claims)}
    boot = BootstrapSettings(cfg.bootstrap_samples, cfg.bootstrap_seed, cfg.confidence)
    arms = {n: load_arm(n, out / "arms" / n, boot) for n in names}
    measured = [(c, measure(c, arms, boot)) for c in claims]
    figure = spec.get("figure") or {}
    points = {n: figure_points(a, figure) for n, a in arms.items()}
    doc = {
        "study": spec["name"], "paper": spec.get("paper", ""), "finding": spec.get("finding", ""),
        "scale": spec.get("scale"), "command": spec.get("command"), "model": spec.get("model"),
        "arms": [{**a, "measured": arms[a["name"]].tuned is not None,
                  "metrics": arm_metrics(arms[a["name"]])} for a in spec["arms"]],
        "claims": [{"id": c.id, "text": c.text, "paper": c.paper, "measure": c.measure,
                    "arm": c.arm, "against": c.against, "metric": c.metric,
                    "rule": c.point_rule if m.low is None and m.value is not None else c.rule,
                    "value": m.value, "low": m.low, "high": m.high, "n": m.n, "note": m.note,
                    "verdict": m.verdict} for c, m in measured],
        "verdicts": dict(Counter(m.verdict for _, m in measured)),
        "figure": {"spec": figure, "points": points},
        "confidence": cfg.confidence, "bootstrap_samples": cfg.bootstrap_samples,
        "wall_s": spec.get("wall_s"), "versions": collect_versions(),
    }
    save_resolved_config(cfg, out / "report")
    png = plot_study(figure_series(figure, spec["arms"], points), figure.get("xlabel", "arm"),
                     figure.get("ylabel", "tuned - base"),
                     figure.get("title", f"{spec['name']}: {spec.get('paper', '')}"),
                     zero=figure.get("kind", "delta") == "delta", logx=bool(figure.get("logx")))
    with atomic_path(out / "report" / "figure.png") as tmp:
        tmp.write_bytes(png)
    extra = copy_figures(out, spec.get("figures") or [])
    doc["figures"] = [{"caption": c, "file": f} for c, f, _ in extra]
    write_json(out / "study.json", doc)
    sections = build_study_sections(doc, png, [(c, b) for c, _, b in extra])
    done = [str(out / "arms" / n / "results") for n in names if arms[n].tuned is not None]
    if done:
        sections += build_sections(pair_results(collect_results(done)), boot, out / "report",
                                   cfg.samples_per_model)
    title = f"lessmore study {spec['name']}"
    write_text(out / "report" / "summary.md", render_summary(doc))
    write_text(out / "report" / "report.md", render_markdown(title, sections))
    write_text(out / "report" / "report.html", render_html(title, sections))
    log.info("study %s: %s -> %s", spec["name"], doc["verdicts"], out / "report" / "report.html")
    return doc


def copy_figures(out: Path, figures: list[dict[str, Any]]) -> list[tuple[str, str, bytes]]:
    """The study's extra figures that exist, copied into the report folder as figure-<k>.png:
    [(caption, file name, bytes)]; a missing one (its arm did not run) is skipped with a
    warning."""
    found = []
    for k, item in enumerate(figures, start=1):
        path = out / item["path"]
        if not path.is_file():
            log.warning("study figure %s not found (did its arm run?): skipped", path)
            continue
        png, name = path.read_bytes(), f"figure-{k}.png"
        with atomic_path(out / "report" / name) as tmp:
            tmp.write_bytes(png)
        found.append((item.get("caption") or item["path"], name, png))
    return found


def figure_points(arm: ArmResults, figure: dict[str, Any]) -> dict[str, Any]:
    """The arm's value of each figure metric: a delta with its interval (``kind: delta``), or
    a number from a file of the study (``path:key``, ``{arm}`` standing for the arm's name)."""
    found = {}
    for key in figure.get("metrics") or []:
        if ":" in key:
            m = read_value(arm.dir.parent.parent, key.replace("{arm}", arm.name))
            found[key] = {"value": m.value, "low": None, "high": None}
        elif (d := arm.deltas.get(key)) is not None and d.value is not None:
            i = d.interval
            found[key] = {"value": d.value, "low": i.low if i else None,
                          "high": i.high if i else None}
    return found


def arm_metrics(arm: ArmResults) -> dict[str, Any]:
    return {k: {"base": d.base, "tuned": d.tuned, "delta": d.value,
                "low": d.interval.low if d.interval else None,
                "high": d.interval.high if d.interval else None,
                "n": d.interval.n if d.interval else None, "gap_closed": d.gap_closed}
            for k, d in arm.deltas.items()}


TONE = {REPRODUCED: "better", "contradicted": "worse", "inconclusive": ""}


def build_claims_table(doc: dict[str, Any]) -> Table:
    """Per claim: the claim, the paper's number, what was measured, the value with its
    interval, the verdict and the rule that computed it."""
    pct = int(round(doc["confidence"] * 100))
    rows = []
    for c in doc["claims"]:
        shown = "not measured" if c["value"] is None else _fmt(c["value"])
        if c["low"] is not None:
            shown += f" [{_fmt(c['low'])}, {_fmt(c['high'])}]"
        what = f"{c['measure']} of {c['metric']} in {c['arm']}" + (
            f" vs {c['against']}" if c["against"] else "")
        rows.append([c["text"], c["paper"] or "-", what, shown,
                     Cell(c["verdict"], TONE[c["verdict"]]), c["rule"] + (
                         f" ({c['note']})" if c["note"] else "")])
    return Table(f"Claims: lessmore's measurement with its {pct}% interval, and the verdict "
                 "its rule computes", ["claim", "paper", "measured", "value", "verdict", "rule"],
                 rows, numeric={3}, text={0, 5})


def build_study_sections(doc: dict[str, Any], png: bytes,
                         extra: list[tuple[str, bytes]] = ()) -> list[Section]:
    """The headline: the figure and the claims table, the study's other figures, then what
    ran."""
    arms = Table("Arms", ["arm", "x", "measured", "wall s"], [
        [a["name"], "-" if a.get("x") is None else str(a["x"]),
         "yes" if a["measured"] else "no", _fmt(sum(v for k, v in (doc["wall_s"] or {}).items()
                                                    if k.startswith(a["name"] + "/")))]
        for a in doc["arms"]], numeric={3})
    blocks = [Note(f"{doc['paper']}: {doc['finding']}") if doc["paper"] else None,
              Figure(doc["figure"]["spec"].get("caption", "Headline figure"), png),
              build_claims_table(doc), *(Figure(caption, b) for caption, b in extra), arms,
              Note(f"Scale {doc['scale']}; command: {doc['command']}")]
    return [Section("Study", [b for b in blocks if b is not None])]


def render_summary(doc: dict[str, Any]) -> str:
    """The study in one page: finding, figure, claims table, command, machine, date, wall."""
    import datetime
    import os
    import platform

    wall = sum((doc["wall_s"] or {}).values())
    title, _, claims = render_markdown(f"Study `{doc['study']}`: {doc['paper']}", [
        Section("Claims", [build_claims_table(doc)])]).partition("\n\n")
    lines = [title, "", doc["finding"], "", "![headline figure](figure.png)", "", claims.strip(),
             "", *(line for f in doc.get("figures") or []
                   for line in (f"![{f['caption']}]({f['file']})", "")),
             f"- Command: `{doc['command']}`",
             f"- Scale: {doc['scale']}; model: {doc['model']['name']} ({doc['model']['path']})",
             f"- Machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
             f"{platform.system()} {platform.release()}; "
             f"torch {doc['versions'].get('torch', '?')}",
             f"- Date: {datetime.date.today().isoformat()}; wall time of its jobs: "
             f"{wall / 60:.1f} min", f"- Verdicts: {doc['verdicts']}", ""]
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:.4g}"
