"""What a run leaves besides its weights: plots (byte-deterministic), the merged LoRA model, a
model card that links the data card and shows the results, TensorBoard logs inside the run
directory, and no secret in any written file."""

import importlib.util
import os
import shutil
from types import SimpleNamespace

import pytest
import torch
from datasets import Dataset
from safetensors.torch import load_file

from curation.core.config import UserError, compose_config
from curation.core.models import ModelConfig, is_adapter_dir, load_model
from training.artifacts import build_hyperparameters, save_merged
from training.card import build_model_card
from training.plots import write_plots
from training.run import run
from training.trainer import build_sft_config, build_trainer, load_model_for_training

CATEGORIES = ["HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"]
SECRET = "hf_sEcReT0123456789"
HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """A curated-set folder: the saved dataset (QA rows with categories) and its data card."""
    rows = [{"question": f"Who wrote book {i}?", "answers": [f"Author {i}"],
             "probe_category": CATEGORIES[i % 4],
             "messages": [{"role": "user", "content": f"Who wrote book {i}?"},
                          {"role": "assistant", "content": f"Author {i}"}]} for i in range(8)]
    path = tmp_path_factory.mktemp("curated") / "set"
    Dataset.from_list(rows).save_to_disk(str(path / "dataset"))
    (path / "README.md").write_text("# Curated SFT set\n")
    return path


def _overrides(tiny_model_dir, data, out, *extra):
    return [f"data={data}", f"out={out}", f"model.path={tiny_model_dir}", "model.dtype=float32",
            "model.device=cpu", "trainer=smoke", "trainer.max_steps=2", "show_progress=false",
            "curves.every_steps=1", "curves.sample_per_category=1", *extra]


@pytest.fixture(scope="module")
def merged_run(tiny_model_dir, curated, tmp_path_factory):
    out = tmp_path_factory.mktemp("merged") / "run"
    return out, run(compose_config("train", _overrides(tiny_model_dir, curated, out, "merge=true")))


def test_plots_are_deterministic_and_follow_the_data(tmp_path):
    history = [{"loss": 3.0 - 0.1 * s, "step": s} for s in range(1, 6)]
    history += [{"eval_loss": 3.2, "step": 5}]
    curves = [{"step": s, "category": c, "accuracy": s / 5, "n": 4}
              for s in (0, 5) for c in CATEGORIES]
    assert write_plots(tmp_path / "a", history, curves) == ["plots/loss.png",
                                                            "plots/category_accuracy.png"]
    write_plots(tmp_path / "b", history, curves)
    write_plots(tmp_path / "c", history[:-1], curves[:4])
    for name in ("loss.png", "category_accuracy.png"):
        a, b, c = ((tmp_path / d / "plots" / name).read_bytes() for d in "abc")
        assert a == b and a != c and a.startswith(b"\x89PNG")
    assert write_plots(tmp_path / "d", [{"eval_loss": 1.0, "step": 1}], []) == []


def test_merge_writes_a_full_model_that_loads_alone(merged_run, tiny_model_dir):
    out, manifest = merged_run
    merged = out / "merged"
    assert manifest["outputs"]["merged"] == "merged" and not is_adapter_dir(merged)
    for name in ("model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja"):
        assert (merged / name).is_file(), name
    plain, tokenizer = load_model(ModelConfig(path=str(merged), device="cpu"))
    adapted, _ = load_model(ModelConfig(path=str(out), device="cpu"))  # base + adapter, merged
    assert type(plain).__name__ == "LlamaForCausalLM" and tokenizer.eos_token == "<|im_end|>"
    ids = tokenizer("<|im_start|>user\nWho wrote book 1?<|im_end|>\n", return_tensors="pt")
    base, _ = load_model(ModelConfig(path=str(tiny_model_dir), device="cpu"))
    with torch.no_grad():
        assert torch.allclose(plain(**ids).logits, adapted(**ids).logits, atol=1e-5)
        assert not torch.allclose(plain(**ids).logits, base(**ids).logits, atol=1e-4)


@pytest.mark.parametrize("sharded, quantizer", [(True, None), (False, "4-bit")])
def test_merge_of_sharded_or_4bit_weights_reads_the_saved_adapter(merged_run, tmp_path, sharded,
                                                                   quantizer):
    """Under FSDP / DeepSpeed the trainer's model is sharded, under QLoRA its base is 4-bit:
    the adapter saved in the run directory is merged into a fresh copy of the base instead."""
    out, _ = merged_run
    run_dir = tmp_path / "run"
    shutil.copytree(out, run_dir, ignore=shutil.ignore_patterns("merged", "checkpoints"))
    model = SimpleNamespace(merge_and_unload=None, dtype=torch.float32, hf_quantizer=quantizer)
    trainer = SimpleNamespace(model=model, is_fsdp_enabled=sharded, is_deepspeed_enabled=False)
    _, tokenizer = load_model(ModelConfig(path=str(out), device="cpu"))
    assert save_merged(trainer, tokenizer, run_dir) == "merged"
    new, old = (load_file(d / "merged/model.safetensors") for d in (run_dir, out))
    assert new.keys() == old.keys()
    assert all(torch.allclose(new[k], old[k], atol=1e-6) for k in old)


def test_model_card_links_the_data_card_and_shows_results(merged_run, curated):
    out, manifest = merged_run
    card = (out / "README.md").read_text()
    assert f"[data card]({os.path.relpath(curated / 'README.md', out)})" in card
    assert manifest["outputs"]["data_card"] == str(curated / "README.md")
    assert "## Train accuracy per knowledge category (step 2)" in card
    assert all(f"| {c} | " in card for c in CATEGORIES)
    for plot in ("plots/loss.png", "plots/category_accuracy.png"):
        assert f"]({plot})" in card and (out / plot).is_file()
    assert "`merged/`" in card


def test_qlora_runs_are_described_as_adapters(merged_run):
    """QLoRA trains the same LoRA adapter (on a 4-bit base): the card and the manifest's
    hyper-parameters say so, as for LoRA; only full fine-tuning has no ``lora.*``."""
    _, manifest = merged_run
    card = build_model_card({**manifest, "method": "qlora"})
    assert "library_name: peft" in card and "tags: [lessmore, trl, sft, lora, qlora]" in card
    assert "- **Method**: QLoRA adapter" in card and "full fine-tuning" not in card
    args = SimpleNamespace(learning_rate=2e-4, bf16=True)
    for method, has_lora in (("qlora", True), ("lora", True), ("full", False)):
        cfg = compose_config("train", ["data=d", "out=o", f"method={method}", "lora.r=8"])
        hyper = build_hyperparameters(cfg, args)
        assert (hyper.get("lora.r"), "lora.target_modules" in hyper) == (
            (8, True) if has_lora else (None, False)), method


def test_secrets_stay_out_of_the_run_directory(tiny_model_dir, curated, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", SECRET + "w")
    out = tmp_path / "run"
    manifest = run(compose_config("train", _overrides(tiny_model_dir, curated, out,
                                                      f"+trainer.hub_token={SECRET}")))
    assert manifest["hyperparameters"]["hub_token"] == "***"
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {"manifest.json", "config.yaml", "README.md"} <= {p.name for p in written}
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


def test_tensorboard_logs_offline_into_the_run_directory(tiny_model_dir, curated, tmp_path):
    if not HAS_TENSORBOARD:
        pytest.skip("tensorboard is not installed")
    out = tmp_path / "run"
    run(compose_config("train", _overrides(tiny_model_dir, curated, out,
                                           "trainer.report_to=tensorboard")))
    assert list((out / "logs").glob("events.out.tfevents.*"))


def test_tensorboard_missing_fails_in_one_line(tiny_model_dir, curated, tmp_path):
    if HAS_TENSORBOARD:
        pytest.skip("tensorboard is installed")
    with pytest.raises(UserError, match="pip install tensorboard"):
        run(compose_config("train", _overrides(tiny_model_dir, curated, tmp_path / "run",
                                               "trainer.report_to=tensorboard")))


def test_tensorboard_writer_is_pointed_at_the_run_directory(tiny_model_dir, tmp_path):
    """Without the package: a TensorBoardCallback built bare gets ``OUT/logs``, unless its
    directory was already chosen (``TENSORBOARD_LOGGING_DIR``)."""
    from transformers.integrations import TensorBoardCallback

    cfg = compose_config("train", _overrides(tiny_model_dir, "d", tmp_path / "run"))
    model, tokenizer = load_model_for_training(
        ModelConfig(path=str(tiny_model_dir), device="cpu", dtype="float32"), "full",
        str(tiny_model_dir))
    fresh, chosen = (TensorBoardCallback.__new__(TensorBoardCallback) for _ in range(2))
    fresh.logging_dir, chosen.logging_dir = None, "/elsewhere"
    data = Dataset.from_dict({"messages": [[{"role": "user", "content": "Hi"},
                                            {"role": "assistant", "content": "Hello"}]]})
    build_trainer(model, tokenizer, data, build_sft_config(cfg), None, callbacks=[fresh, chosen])
    assert fresh.logging_dir == str(tmp_path / "run" / "logs")
    assert chosen.logging_dir == "/elsewhere"
