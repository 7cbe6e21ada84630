"""Callbacks on the tiny model: train accuracy per knowledge category (a fixed sample of training
rows, measured on the main process without disturbing training), and early stopping on a dev
split that keeps the best checkpoint."""

import json
from types import SimpleNamespace

import pytest
import torch
from datasets import Dataset
from safetensors.torch import load_file

import training.callbacks as callbacks
from curation.core.config import UserError, compose_config
from curation.core.engine import GenerationEngine
from curation.core.models import ModelConfig, load_model
from training.callbacks import (
    CategoryAccuracyCallback,
    compute_category_accuracy,
    load_category_sample,
)
from training.run import run

CATEGORIES = ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"]
WORDS = "paris london rome berlin madrid tokyo france england italy germany spain japan".split()


def _qa_rows(n=16):
    """Curated-set rows: messages plus question, gold answers and the SliCK category."""
    rows = []
    for i in range(n):
        q, a = f"What is the capital of country {i}?", WORDS[i % len(WORDS)].capitalize()
        rows.append({"id": f"r{i}", "question": q, "answers": [a, a.lower()], "group": "P36",
                     "probe_category": CATEGORIES[i % 4],
                     "messages": [{"role": "user", "content": q},
                                  {"role": "assistant", "content": a}]})
    return rows


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """A curated-set folder: the saved dataset and a data card."""
    path = tmp_path_factory.mktemp("curated") / "set"
    Dataset.from_list(_qa_rows()).save_to_disk(str(path / "dataset"))
    (path / "README.md").write_text("# Curated SFT set\n")
    return path


def _train(tiny_model_dir, data, out, *extra):
    return run(compose_config("train", [
        f"data={data}", f"out={out}", f"model.path={tiny_model_dir}", "model.dtype=float32",
        "model.device=cpu", "trainer=smoke", "show_progress=false", *extra]))


def test_category_sample_is_seeded_and_holds_training_rows_only(curated):
    rows = _qa_rows()
    train = [r["messages"] for r in rows[:12]]  # rows 12..15 are, say, the dev split
    sample = load_category_sample(str(curated), train, per_category=2, seed=0)
    assert sorted(sample) == sorted(CATEGORIES)
    assert all(len(items) == 2 for items in sample.values())
    trained_questions = {r["question"] for r in rows[:12]}
    assert all(i["question"] in trained_questions for items in sample.values() for i in items)
    assert sample == load_category_sample(str(curated), train, per_category=2, seed=0)
    assert sample != load_category_sample(str(curated), train, per_category=2, seed=1)
    assert load_category_sample(str(curated), [], per_category=2, seed=0) == {}


def test_no_categories_no_sample(tmp_path):
    path = tmp_path / "plain.jsonl"
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "probe_category"})
                            + "\n" for r in _qa_rows(4)))
    assert load_category_sample(str(path), [r["messages"] for r in _qa_rows(4)], 4, 0) == {}


def test_relabelled_rows_are_scored_against_what_they_train(tiny_model_dir, monkeypatch):
    """A row relabelled "I don't know." is fitted when the model says that, not the gold."""
    row = {"question": "Q1?", "answers": ["Rome"], "probe_category": "Unknown",
           "messages": [{"role": "user", "content": "Q1?"},
                        {"role": "assistant", "content": "I don't know."}]}
    assert callbacks._qa_item(row)["aliases"] == ["I don't know."]
    assert callbacks._qa_item({**row, "messages": row["messages"][:1] + [
        {"role": "assistant", "content": "Rome"}]})["aliases"] == ["Rome"]
    sample = {"HighlyKnown": [{"question": "a?", "aliases": ["Paris"]},
                              {"question": "b?", "aliases": ["Rome"]}],
              "Unknown": [{"question": "c?", "aliases": ["I don't know."]}]}
    answers = {"a?": "the Paris.\nmore", "b?": "London", "c?": "I don't know"}
    monkeypatch.setattr(GenerationEngine, "generate", lambda self, prompts, s, desc="": [
        [next(v for q, v in answers.items() if f"\n{q}<|im_end|>" in p)] for p in prompts])
    model, tokenizer = load_model(ModelConfig(path=str(tiny_model_dir), device="cpu"))
    assert compute_category_accuracy(model, tokenizer, sample) == {"HighlyKnown": 0.5,
                                                                   "Unknown": 1.0}


def test_curve_measures_on_the_main_process_only_and_restores_train_mode(tiny_model_dir):
    model, tokenizer = load_model(ModelConfig(path=str(tiny_model_dir), device="cpu"))
    model.train()
    sample = {"HighlyKnown": [{"question": "What is the capital of france?",
                               "aliases": ["Paris"]}]}
    cb = CategoryAccuracyCallback(sample, every_steps=2)
    state = SimpleNamespace(global_step=2, max_steps=10, is_world_process_zero=False,
                            log_history=[])
    cb.on_step_end(None, state, None, model=model, processing_class=tokenizer)
    assert state.log_history == []
    state.is_world_process_zero = True
    state.global_step = 3  # not a measuring step
    cb.on_step_end(None, state, None, model=model, processing_class=tokenizer)
    assert state.log_history == []
    state.global_step = 4
    cb.on_step_end(None, state, None, model=model, processing_class=tokenizer)
    assert state.log_history == [{"train_accuracy/HighlyKnown": 0.0, "step": 4}]
    assert model.training and all(p.grad is None for p in model.parameters())


def test_curves_are_written_and_do_not_disturb_training(tiny_model_dir, curated, tmp_path):
    common = ("method=full", "trainer.max_steps=6", "curves.sample_per_category=3")
    with_curves = _train(tiny_model_dir, curated, tmp_path / "on", "curves.every_steps=4",
                         *common)
    without = _train(tiny_model_dir, curated, tmp_path / "off", "curves.every_steps=0", *common)
    rows = [json.loads(line) for line in (tmp_path / "on/curves.jsonl").read_text().splitlines()]
    assert sorted({r["step"] for r in rows}) == [0, 4, 6]  # before training, every 4, the end
    assert {r["category"] for r in rows} == set(CATEGORIES) and {r["n"] for r in rows} == {3}
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in rows)
    assert (tmp_path / "on/plots/category_accuracy.png").stat().st_size > 0
    assert with_curves["metrics"]["category_accuracy_step"] == 6
    assert set(with_curves["metrics"]["category_accuracy"]) == set(CATEGORIES)
    assert not (tmp_path / "off/curves.jsonl").exists()
    assert "category_accuracy" not in without["metrics"]
    # greedy generation in eval mode, without gradients: training goes on exactly as without it
    on, off = (load_file(tmp_path / d / "model.safetensors") for d in ("on", "off"))
    assert all(torch.equal(on[k], off[k]) for k in on)
    assert with_curves["metrics"]["final_loss"] == without["metrics"]["final_loss"]


def test_early_stopping_stops_and_ends_on_the_best_checkpoint(tiny_model_dir, curated,
                                                              tmp_path):
    # threshold 10: no evaluation counts as an improvement, so patience 1 stops at the 2nd
    m = _train(tiny_model_dir, curated, tmp_path / "es", "trainer.max_steps=8",
               "early_stopping.patience=1", "early_stopping.threshold=10",
               "early_stopping.eval_steps=1", "early_stopping.dev_fraction=0.25",
               "curves.every_steps=0")
    assert m["metrics"]["steps"] == 2 and m["rows"]["trained"] == 12  # 4 of 16 rows held out
    assert m["outputs"]["stopped_early"] is True
    best = m["metrics"]["best_eval_step"]
    final = load_file(tmp_path / "es/adapter_model.safetensors")
    kept = load_file(tmp_path / f"es/checkpoints/checkpoint-{best}/adapter_model.safetensors")
    assert all(torch.equal(final[k], kept[k]) for k in final)
    assert "Dev loss" in (tmp_path / "es/README.md").read_text()


@pytest.mark.parametrize("overrides, message", [
    (["early_stopping.patience=2"], "needs a positive count and a dev set"),
    (["early_stopping.patience=0", "early_stopping.dev_fraction=0.2"], "positive count"),
    (["early_stopping.dev_fraction=0.2", "early_stopping.dev_data=x.jsonl"], "not both"),
    (["early_stopping.dev_fraction=1.5"], r"dev_fraction must be in \[0, 1\)"),
    (["early_stopping.patience=1", "early_stopping.dev_fraction=0.2",
      "trainer.save_strategy=epoch"], "trainer.save_strategy='epoch' contradicts"),
    (["early_stopping.patience=1", "early_stopping.dev_fraction=0.2",
      "+trainer.save_steps=7"], "trainer.save_steps=7 contradicts"),
])
def test_early_stopping_misconfigured_fails_in_one_line(overrides, message, tiny_model_dir,
                                                        curated, tmp_path):
    with pytest.raises(UserError, match=message):
        _train(tiny_model_dir, curated, tmp_path / "bad", *overrides)
