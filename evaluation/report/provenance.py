"""What a compared run points to, read from files only: its training run directory (loss plot,
train accuracy per knowledge category) and the curated set it was trained on (the data card and its
category histogram), each where it can be found. Evaluation never imports training or curation
code for this: the artifacts' file names are their interface (DESIGN §1, :mod:`curation.core.contract`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from curation.core.contract import CARD, CATEGORY_PLOT, CURVES, LOSS_PLOT, read_manifest
from curation.core.io import read_jsonl
from curation.core.records import KnowledgeCategory

from .plots import plot_curves, plot_grouped_bars
from .render import Block, Card, Figure, Note, Table

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 4_000_000  # an artifact's PNG larger than this is linked, not embedded
CATEGORY_ORDER = [c.value for c in KnowledgeCategory]


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from disk, or None when absent or unreadable (logged)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.warning("unreadable %s (%s)", path, e)
        return None
    return data if isinstance(data, dict) else None


def read_png(path: Path, within: Path) -> bytes | None:
    """A PNG inside ``within`` (a card cannot pull in files from elsewhere), or None."""
    try:
        path, within = path.resolve(), within.resolve()
    except OSError:
        return None
    inside = path.is_relative_to(within) and path.suffix.lower() == ".png" and path.is_file()
    if not inside or path.stat().st_size > MAX_IMAGE_BYTES:
        return None
    return path.read_bytes()


def find_run_dir(model_path: str) -> Path | None:
    """The training run directory a tuned model was loaded from, if it is one."""
    path = Path(model_path).expanduser()
    return path if read_manifest(path, "train", strict=False) else None


def build_training_blocks(run_dir: Path) -> list[Block]:
    """The run's loss plot and its train accuracy per knowledge category (last value as a
    table; the run's own plot, or one drawn from ``curves.jsonl`` when the plot is missing)."""
    blocks: list[Block] = []
    loss = read_png(run_dir / LOSS_PLOT, run_dir)
    if loss:
        blocks.append(Figure("Training loss (the run's plots/loss.png)", loss))
    curves = read_jsonl(run_dir / CURVES) if (run_dir / CURVES).is_file() else []
    if not curves:
        return blocks or [Note(f"{run_dir}: no loss plot or {CURVES}")]
    last = {r["category"]: r for r in curves}  # rows are in step order
    blocks.append(Table("Train accuracy per knowledge category (last measurement)",
                        ["category", "step", "accuracy", "n"],
                        [[c, str(r["step"]), f"{r['accuracy']:.3f}", str(r.get("n", ""))]
                         for c, r in sorted(last.items(), key=lambda kv: _category_key(kv[0]))],
                        numeric={1, 2, 3}))
    png = read_png(run_dir / CATEGORY_PLOT, run_dir) or plot_curves(
        {c: [(r["step"], r["accuracy"]) for r in curves if r["category"] == c]
         for c in sorted(last, key=_category_key)}, "step", "train accuracy (exact match)",
        "Fitting per knowledge category")
    blocks.append(Figure("Train accuracy per knowledge category over training", png))
    return blocks


def find_curated_dir(run_dir: Path) -> Path | None:
    """The curated set the run was trained on: the folder of its data card, or of its data."""
    manifest = read_manifest(run_dir, "train", strict=False) or {}
    card = (manifest.get("outputs") or {}).get("data_card")
    data = Path(str((manifest.get("data") or {}).get("path", ""))).expanduser()
    for folder in ([Path(card).parent] if card else []) + [data, data.parent]:
        if str(folder) not in ("", ".") and (folder / CARD).is_file():
            return folder
    return None


def build_card_blocks(curated: Path) -> list[Block]:
    """The set's knowledge-category histogram (its own plot, or drawn from its manifest's
    counts), then its data card with the card's plots embedded."""
    text = (curated / CARD).read_text(encoding="utf-8", errors="replace")
    images = {}
    for line in text.splitlines():
        if line.strip().startswith("![") and "](" in line:
            path = line.strip().split("](", 1)[1].rstrip(")")
            png = read_png(curated / path, curated)
            images.update({path: png} if png else {})
    histogram = next((png for path, png in images.items() if "categor" in path), None)
    blocks: list[Block] = [Figure(f"Knowledge categories of the curated set {curated}", histogram)
                           ] if histogram else _draw_histogram(curated)
    return [*blocks, Note(f"Data card of {curated} ({CARD})"), Card(text, images)]


def _draw_histogram(curated: Path) -> list[Block]:
    manifest = read_manifest(curated, "curate", strict=False) or {}
    probed, kept = manifest.get("categories_probed") or {}, manifest.get("categories_kept") or {}
    if not (probed or kept):
        return [Note("the curated set records no knowledge categories (probing was off)")]
    labels = sorted(set(probed) | set(kept), key=_category_key)
    return [Figure(f"Knowledge categories of the curated set {curated} (from its manifest)",
                   plot_grouped_bars(labels, {"probed": [probed.get(c, 0) for c in labels],
                                              "kept": [kept.get(c, 0) for c in labels]},
                                     "rows"))]


def _category_key(category: str) -> tuple[int, str]:
    order = CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER)
    return order, category
