"""What watches training: train accuracy per knowledge category (the fitting curves of Gekhman
et al.: Unknown facts are fitted much later than known ones), completion markers on checkpoints,
and early stopping on the dev split."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from transformers import EarlyStoppingCallback, TrainerCallback

from curation.core.answers import compute_exact_match, extract_short_answer
from curation.core.chat import build_chat_qa_messages, render_chat
from curation.core.engine import DecodeSettings, GenerationEngine
from curation.core.readers import iter_raw_rows
from curation.core.records import KnowledgeCategory

from .resume import write_marker

log = logging.getLogger(__name__)

CATEGORY_COLUMN = "probe_category"
CATEGORIES = [c.value for c in KnowledgeCategory]
CURVE_KEY = "train_accuracy/"  # log_history keys: train_accuracy/<category>


def load_category_sample(source: str, train_messages: Iterable[list[dict[str, str]]],
                         per_category: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """A fixed, seeded sample of training QA rows per knowledge category: ``{category: [{question,
    aliases}]}``, empty when the data carries no categories.

    Only rows whose question is a user turn of the training split count (a dev row is not
    fitted). The aliases are what the row trains on: the gold answers, or the row's own answer
    where curation relabelled it (``unknown: relabel_idk`` trains "I don't know").
    """
    trained = {t["content"] for m in train_messages for t in m if t["role"] == "user"}
    rows: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
    for raw in iter_raw_rows(source):
        row = raw.value if isinstance(raw.value, dict) else {}
        item = _qa_item(row)
        if item and row.get(CATEGORY_COLUMN) in rows and item["question"] in trained:
            rows[row[CATEGORY_COLUMN]].append(item)
    rng = np.random.default_rng(seed)
    return {c: [items[i] for i in sorted(rng.permutation(len(items))[:per_category])]
            for c, items in rows.items() if items}


def _qa_item(row: dict[str, Any]) -> dict[str, Any] | None:
    question, answers = row.get("question"), row.get("answers")
    if not isinstance(question, str) or not isinstance(answers, list) or not answers:
        return None
    messages = row.get("messages") if isinstance(row.get("messages"), list) else []
    target = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else None
    relabelled = isinstance(target, str) and not compute_exact_match(target, answers)
    return {"question": question, "aliases": [target] if relabelled else list(answers)}


def compute_category_accuracy(model: Any, tokenizer: Any, sample: dict[str, list[dict[str, Any]]],
                              *, max_new_tokens: int = 16, batch_size: int = 16
                              ) -> dict[str, float]:
    """Greedy exact match per category, with the evaluation's chat QA prompt (zero-shot) and
    its stops. The engine switches to eval mode (dropout off) under inference mode and restores
    train mode after."""
    items = [(c, item) for c in CATEGORIES for item in sample.get(c, [])]
    prompts = [render_chat(tokenizer, build_chat_qa_messages(item["question"], []),
                           add_generation_prompt=True) for _, item in items]
    engine = GenerationEngine(model, tokenizer, batch_size=batch_size, show_progress=False)
    outputs = engine.generate(prompts, DecodeSettings(max_new_tokens=max_new_tokens, stop=["\n"]),
                              desc="category accuracy")
    hits: dict[str, list[float]] = {}
    for (category, item), (text, *_) in zip(items, outputs, strict=True):
        hits.setdefault(category, []).append(
            compute_exact_match(extract_short_answer(text), item["aliases"]))
    return {c: float(np.mean(v)) for c, v in hits.items()}


class CategoryAccuracyCallback(TrainerCallback):
    """Measures train accuracy per category before training and every ``every_steps`` steps,
    on the main process only, into ``state.log_history`` (saved with every checkpoint, so a
    resumed run keeps the curve measured before the interruption)."""

    def __init__(self, sample: dict[str, list[dict[str, Any]]], every_steps: int, *,
                 max_new_tokens: int = 16, batch_size: int = 16) -> None:
        self.sample, self.every_steps = sample, every_steps
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size

    @property
    def sizes(self) -> dict[str, int]:
        return {c: len(items) for c, items in self.sample.items()}

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.global_step == 0:  # a resumed run has its earlier points in log_history
            self._measure(state, model, processing_class)

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.global_step % self.every_steps == 0 or state.global_step == state.max_steps:
            self._measure(state, model, processing_class)

    def _measure(self, state: Any, model: Any, tokenizer: Any) -> None:
        if not state.is_world_process_zero:
            return
        accuracy = compute_category_accuracy(model, tokenizer, self.sample,
                                             max_new_tokens=self.max_new_tokens,
                                             batch_size=self.batch_size)
        log.info("step %d train accuracy per category: %s", state.global_step,
                 ", ".join(f"{c} {a:.2f}" for c, a in accuracy.items()))
        state.log_history.append({**{CURVE_KEY + c: a for c, a in accuracy.items()},
                                  "step": state.global_step})


def read_curves(log_history: list[dict[str, Any]], sizes: dict[str, int]
                ) -> list[dict[str, Any]]:
    """``curves.jsonl`` rows (step, category, accuracy, n) from the log history, in category
    order (a resumed history comes back from JSON with its keys sorted)."""
    return [{"step": entry["step"], "category": c, "accuracy": entry[CURVE_KEY + c],
             "n": sizes.get(c, 0)}
            for entry in log_history for c in CATEGORIES if CURVE_KEY + c in entry]


class CheckpointMarkerCallback(TrainerCallback):
    """Marks a checkpoint complete once the Trainer has saved all of it (``on_save`` runs after
    the weights, optimizer, RNG and trainer state are written)."""

    def on_save(self, args, state, control, **kwargs):
        if args.world_size > 1:  # sharded saves (FSDP, DeepSpeed): every rank has written
            from accelerate import PartialState

            PartialState().wait_for_everyone()
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if args.should_save and path.is_dir():
            write_marker(path, state.global_step)


def build_callbacks(cfg: Any, args: Any, train_dataset: Any) -> list[Any]:
    """The stage's callbacks: checkpoint markers always; category curves when the data has
    knowledge categories; early stopping when ``early_stopping.patience`` is set."""
    callbacks: list[Any] = [CheckpointMarkerCallback()]
    if cfg.early_stopping.patience is not None:
        callbacks.append(EarlyStoppingCallback(cfg.early_stopping.patience,
                                               cfg.early_stopping.threshold))
    curves = cfg.curves
    if curves.every_steps <= 0:
        return callbacks
    if args.fsdp or args.deepspeed:  # generation on one rank would wait on the others' shards
        log.warning("category curves are off under FSDP / DeepSpeed (sharded weights)")
        return callbacks
    sample = load_category_sample(cfg.data, train_dataset["messages"],
                                  curves.sample_per_category, cfg.seed)
    if not sample:
        log.info("the data has no %s with question and answers: no category curves",
                 CATEGORY_COLUMN)
        return callbacks
    callbacks.append(CategoryAccuracyCallback(sample, curves.every_steps,
                                              max_new_tokens=curves.max_new_tokens,
                                              batch_size=curves.batch_size))
    return callbacks
