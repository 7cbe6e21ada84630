"""Resume: a run that crashed continues from its newest complete checkpoint with the same losses,
curve and final weights as a run that was never interrupted; a checkpoint whose save was cut off
(no completion marker) is never resumed from."""

import json
import logging

import pytest
import torch
from datasets import Dataset
from safetensors.torch import load_file
from transformers import TrainerCallback

import training.run
from curation.core.config import compose_config
from training.resume import (
    MARKER_NAME,
    find_resume_checkpoint,
    select_resume_checkpoint,
    write_marker,
)

CATEGORIES = ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"]
STEPS = 6
# every step logged and checkpointed every 2 steps; the curve measured every 3 steps
RUN = ("trainer=smoke", f"trainer.max_steps={STEPS}", "trainer.save_strategy=steps",
       "+trainer.save_steps=2", "curves.every_steps=3", "curves.sample_per_category=2")
COMPARED = ("loss", "grad_norm", "learning_rate", "mean_token_accuracy")


class Killed(Exception):
    """Stands for the process dying: nothing after the raise runs."""


class Crash(TrainerCallback):
    """Kills the run at a given step: after the step (``on_step_end``), or in the middle of its
    checkpoint save (``on_save`` runs after the files are written, before the marker)."""

    def __init__(self, step, event):
        self.step, self.event = step, event

    def on_step_end(self, args, state, control, **kwargs):
        if self.event == "step" and state.global_step == self.step:
            raise Killed(f"after step {self.step}")

    def on_save(self, args, state, control, **kwargs):
        if self.event == "save" and state.global_step == self.step:
            raise Killed(f"while saving step {self.step}")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rows = [{"question": f"What is the capital of country {i}?", "answers": [f"City{i}"],
             "probe_category": CATEGORIES[i % 4],
             "messages": [{"role": "user", "content": f"What is the capital of country {i}?"},
                          {"role": "assistant", "content": f"City{i}"}]} for i in range(12)]
    path = tmp_path_factory.mktemp("resume-data") / "set"
    Dataset.from_list(rows).save_to_disk(str(path / "dataset"))
    return path


def _train(tiny_model_dir, data, out, *extra):
    return training.run.run(compose_config("train", [
        f"data={data}", f"out={out}", f"model.path={tiny_model_dir}", "model.dtype=float32",
        "model.device=cpu", "show_progress=false", *RUN, *extra]))


def _crash(monkeypatch, step, event):
    """The stage's callbacks with a Crash in front (so a crash in on_save precedes the marker)."""
    build = training.run.build_callbacks
    monkeypatch.setattr(training.run, "build_callbacks",
                        lambda *a: [Crash(step, event), *build(*a)])


def _history(out):
    state = json.loads((out / f"checkpoints/checkpoint-{STEPS}/trainer_state.json").read_text())
    return [{k: v for k, v in e.items() if k in COMPARED or k.startswith("train_accuracy/")
             or k == "step"} for e in state["log_history"] if "train_runtime" not in e]


@pytest.fixture(scope="module")
def uninterrupted(tiny_model_dir, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    _train(tiny_model_dir, data, out)
    return out


def _assert_same_run(out, reference):
    assert _history(out) == _history(reference)
    assert any("train_accuracy/Unknown" in e for e in _history(out))  # the curve survived
    resumed, ref = (load_file(d / "adapter_model.safetensors") for d in (out, reference))
    assert all(torch.allclose(resumed[k], ref[k], rtol=0, atol=1e-7) for k in ref)
    assert (out / "curves.jsonl").read_bytes() == (reference / "curves.jsonl").read_bytes()


def test_resume_after_a_crash_matches_the_uninterrupted_run(tiny_model_dir, data, tmp_path,
                                                            uninterrupted, monkeypatch):
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        _crash(m, 3, "step")
        with pytest.raises(Killed):
            _train(tiny_model_dir, data, out)
    assert not (out / "manifest.json").exists()
    assert find_resume_checkpoint(out / "checkpoints").name == "checkpoint-2"
    manifest = _train(tiny_model_dir, data, out, "resume=true")
    assert manifest["outputs"]["resumed_from"] == "checkpoint-2"
    assert "Resumed" in (out / "README.md").read_text()
    _assert_same_run(out, uninterrupted)


def test_a_checkpoint_cut_off_mid_save_is_skipped(tiny_model_dir, data, tmp_path, uninterrupted,
                                                  monkeypatch, caplog):
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        _crash(m, 4, "save")
        with pytest.raises(Killed):
            _train(tiny_model_dir, data, out)
    cut = out / "checkpoints/checkpoint-4"
    assert cut.is_dir() and not (cut / MARKER_NAME).exists()
    weights = cut / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # and half its weights on disk
    with caplog.at_level(logging.WARNING, logger="training.resume"):
        manifest = _train(tiny_model_dir, data, out, "resume=true")
    assert "skipping" in caplog.text and "checkpoint-4" in caplog.text
    assert manifest["outputs"]["resumed_from"] == "checkpoint-2"
    _assert_same_run(out, uninterrupted)


def test_resume_without_a_checkpoint_starts_afresh(tiny_model_dir, data, tmp_path,
                                                   uninterrupted, caplog):
    with caplog.at_level(logging.WARNING, logger="training.resume"):
        manifest = _train(tiny_model_dir, data, tmp_path / "run", "resume=true")
    assert "no complete checkpoint" in caplog.text
    assert manifest["outputs"]["resumed_from"] is None
    _assert_same_run(tmp_path / "run", uninterrupted)


def test_markers_name_their_step_and_a_fresh_run_withdraws_them(tmp_path):
    folder = tmp_path / "checkpoints"
    for step in (2, 4, 10):
        (folder / f"checkpoint-{step}").mkdir(parents=True)
    write_marker(folder / "checkpoint-2", 2)
    write_marker(folder / "checkpoint-4", 4)
    write_marker(folder / "checkpoint-10", 8)  # a marker that does not name its folder's step
    (folder / "checkpoint-x").mkdir()
    assert find_resume_checkpoint(folder) == folder / "checkpoint-4"
    assert select_resume_checkpoint(True, folder) == str(folder / "checkpoint-4")
    assert select_resume_checkpoint(False, folder) is None
    assert find_resume_checkpoint(folder) is None  # an earlier run's checkpoints are not resumed
    assert find_resume_checkpoint(tmp_path / "absent") is None
