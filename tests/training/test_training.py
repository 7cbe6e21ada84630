"""The training stage on the tiny model: LoRA moves only its adapters, full fine-tuning moves the
weights, the loss falls on assistant content and <|im_end|> only, and the CLI runs end to end."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file

from curation.core.chat import CHATML_TRAINING_TEMPLATE, compute_token_lengths
from curation.core.config import UserError, compose_config
from curation.core.io import compute_file_fingerprint
from curation.core.models import ModelConfig, load_model, load_tokenizer
from tests import PROJECT_ROOT
from training.config import check_config
from training.data import apply_over_length_to_sets, count_rows, count_trained_tokens
from training.run import run

SYSTEM = {"role": "system", "content": "You answer in a few words."}


def _chat_rows() -> list[dict]:
    """16 conversations: single-turn, with a system turn, and two-turn ones (two trained spans)."""
    rows = []
    for i in range(16):
        q, a = f"What is the capital of country {i}?", f"The capital is city {i * 7 % 13}."
        messages = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        if i % 4 == 1:
            messages = [SYSTEM, *messages]
        if i % 4 == 2:
            messages += [{"role": "user", "content": "And its river?"},
                         {"role": "assistant", "content": f"River {i} runs through it."}]
        rows.append({"messages": messages})
    return rows


@pytest.fixture(scope="module")
def data_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("train-data") / "chats.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _chat_rows()))
    return path


def _overrides(tiny_model_dir, data_path, out, *extra):
    return [f"data={data_path}", f"out={out}", f"model.path={tiny_model_dir}",
            "model.name=tiny", "model.dtype=float32", "model.device=cpu", "trainer=smoke",
            "show_progress=false", *extra]


def _train(tiny_model_dir, data_path, out, *extra):
    return run(compose_config("train", _overrides(tiny_model_dir, data_path, out, *extra)))


@pytest.fixture(scope="module")
def lora_run(tiny_model_dir, data_path, tmp_path_factory):
    before = compute_file_fingerprint(tiny_model_dir)
    out = tmp_path_factory.mktemp("lora") / "run"
    manifest = _train(tiny_model_dir, data_path, out)
    return out, manifest, before


@pytest.fixture(scope="module")
def full_run(tiny_model_dir, data_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "run"
    return out, _train(tiny_model_dir, data_path, out, "method=full")


def test_lora_trains_adapters_and_leaves_the_base_alone(lora_run, tiny_model_dir):
    out, _, base_before = lora_run
    adapter = load_file(out / "adapter_model.safetensors")
    lora_b = {k: v for k, v in adapter.items() if "lora_B" in k}
    assert lora_b and all("lora_" in k for k in adapter)  # adapter weights only, no base copy
    # LoRA starts B at zero so the adapter is a no-op at init; every B must have moved
    assert all(v.abs().sum() > 0 for v in lora_b.values())
    assert compute_file_fingerprint(tiny_model_dir) == base_before
    base = load_file(tiny_model_dir / "model.safetensors")
    tuned, _ = load_model(ModelConfig(path=str(out), device="cpu"), merge_adapter=False)
    tuned_base = {k.replace("base_model.model.", "").replace(".base_layer", ""): v
                  for k, v in tuned.state_dict().items() if "lora_" not in k}
    assert all(torch.equal(base[k], tuned_base[k]) for k in base)


def test_lora_run_directory(lora_run, tiny_model_dir):
    out, manifest, _ = lora_run
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json",
                 "tokenizer_config.json", "manifest.json", "README.md", "config.yaml"):
        assert (out / name).is_file(), name
    assert json.loads((out / "manifest.json").read_text()) == json.loads(json.dumps(manifest))
    assert manifest["stage"] == "train" and manifest["method"] == "lora"
    assert manifest["base_model_path"] == str(tiny_model_dir)
    assert manifest["data"]["fingerprint"].startswith("sha256:")
    assert manifest["rows"] == {"trained": 16, "truncated": 0, "dropped": 0}
    assert 0 < manifest["tokens"]["trained"] < manifest["tokens"]["total"]
    assert manifest["hyperparameters"]["learning_rate"] == 2e-4
    assert manifest["metrics"]["steps"] == 4 and manifest["metrics"]["final_loss"] > 0
    adapter_cfg = json.loads((out / "adapter_config.json").read_text())
    assert adapter_cfg["base_model_name_or_path"] == str(tiny_model_dir)
    card = (out / "README.md").read_text()
    assert "tags: [lessmore, trl, sft, lora]" in card and "- **Method**: LoRA adapter" in card
    assert manifest["launch"]["world_size"] == 1
    assert ("- **Launch**: 1 process, no launcher (NO); global batch 4 (per device 4 x "
            "accumulation 1 x processes 1)") in card
    # the run directory loads as base + adapter, with the training template and a distinct pad
    model, tokenizer = load_model(ModelConfig(path=str(out), device="cpu"))
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id and tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.chat_template == CHATML_TRAINING_TEMPLATE


def test_full_run_changes_the_weights(full_run, tiny_model_dir):
    out, manifest = full_run
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
    base = load_file(tiny_model_dir / "model.safetensors")
    tuned = load_file(out / "model.safetensors")
    assert base.keys() == tuned.keys()
    assert not all(torch.equal(base[k], tuned[k]) for k in base)
    assert manifest["method"] == "full" and manifest["hyperparameters"]["learning_rate"] == 2e-5
    assert not any(k.startswith("lora.") for k in manifest["hyperparameters"])
    card = (out / "README.md").read_text()
    assert "library_name: transformers" in card and "- **Method**: full fine-tuning" in card
    model, _ = load_model(ModelConfig(path=str(out), device="cpu"))
    assert model.config.pad_token_id != model.config.eos_token_id


def test_loss_falls_on_assistant_content_and_eos_only(lora_run, data_path):
    out, manifest, _ = lora_run
    tokenizer = load_tokenizer(ModelConfig(path=str(out)))
    rows = [json.loads(line)["messages"] for line in data_path.read_text().splitlines()]
    lengths = [compute_token_lengths(tokenizer, m) for m in rows]
    # counted apart from the template: each assistant turn's content tokens, plus <|im_end|>
    by_content = sum(len(tokenizer(t["content"], add_special_tokens=False)["input_ids"]) + 1
                     for m in rows for t in m if t["role"] == "assistant")
    assert manifest["tokens"]["trained"] == sum(a for _, a in lengths) == by_content
    assert manifest["tokens"]["total"] == sum(n for n, _ in lengths)


def test_token_and_row_counts(tiny_model_dir):
    """What the manifest reports: rows over max_length dropped (or cut) by over_length, rows TRL
    dropped, and the tokens that carry loss; a packed set counts conversations, not packed rows."""
    from datasets import Dataset

    tokenizer = load_tokenizer(ModelConfig(path=str(tiny_model_dir)))
    tokenizer.chat_template = CHATML_TRAINING_TEMPLATE
    dataset = Dataset.from_dict({"messages": [r["messages"] for r in _chat_rows()]})
    lengths = sorted(compute_token_lengths(tokenizer, m)[0] for m in dataset["messages"])
    train, _, cuts = apply_over_length_to_sets(dataset, None, tokenizer, lengths[0], "drop")
    assert cuts == {"train": {"truncated": 0, "dropped": sum(n > lengths[0] for n in lengths),
                              "handed": lengths.count(lengths[0])}}
    assert len(train) == lengths.count(lengths[0])
    prepared = Dataset.from_dict({"labels": [[-100, 5, 6], [-100, -100, 7, 8]]})
    assert count_trained_tokens(prepared) == {"trained": 4, "total": 7}
    cuts = {"train": {"truncated": 1, "dropped": 2, "handed": 3},
            "dev": {"truncated": 0, "dropped": 0, "handed": 2}}
    for packing, trained in ((False, 2), (True, 3)):  # TRL dropped one row; packing drops none
        args = SimpleNamespace(packing=packing, eval_packing=None)
        trainer = SimpleNamespace(args=args, train_dataset=prepared, eval_dataset=prepared)
        assert count_rows(trainer, cuts) == {
            "trained": trained, "truncated": 1, "dropped": 5 - trained,
            "dev": {"evaluated": 2, "truncated": 0, "dropped": 0}}


def test_packed_run_counts_conversations(tiny_model_dir, data_path, tmp_path):
    manifest = _train(tiny_model_dir, data_path, tmp_path / "packed", "trainer.packing=true")
    assert manifest["rows"] == {"trained": 16, "truncated": 0, "dropped": 0}


def test_dev_rows_go_through_over_length(tiny_model_dir, data_path, tmp_path):
    """The early-stopping dev set is held to max_length as the training rows are (TRL would cut
    it silently), and counted in the manifest and the card."""
    tokenizer = load_tokenizer(ModelConfig(path=str(tiny_model_dir)))
    longest = max(compute_token_lengths(tokenizer, r["messages"])[0] for r in _chat_rows())
    reply = {"role": "assistant", "content": "The river runs " * longest}
    two_turns = [*_chat_rows()[0]["messages"], {"role": "user", "content": "And its river?"},
                 reply]
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps({"messages": m}) + "\n"
                           for m in (_chat_rows()[3]["messages"], two_turns)))
    extra = (f"early_stopping.dev_data={dev}", f"max_length={longest}", "trainer.max_steps=2")
    m = _train(tiny_model_dir, data_path, tmp_path / "drop", *extra)
    assert m["rows"] == {"trained": 16, "truncated": 0, "dropped": 0,
                         "dev": {"evaluated": 1, "truncated": 0, "dropped": 1}}
    assert (f"- **Dev rows**: 1 evaluated, 0 truncated to {longest} tokens, 1 dropped"
            in (tmp_path / "drop" / "README.md").read_text())
    m = _train(tiny_model_dir, data_path, tmp_path / "cut", *extra, "over_length=truncate")
    assert m["rows"]["dev"] == {"evaluated": 2, "truncated": 1, "dropped": 0}
    with pytest.raises(UserError, match="1 of 2 dev rows are longer than max_length"):
        _train(tiny_model_dir, data_path, tmp_path / "error", *extra, "over_length=error")


def test_training_is_deterministic(lora_run, tiny_model_dir, data_path, tmp_path):
    out, manifest, _ = lora_run
    again = _train(tiny_model_dir, data_path, tmp_path / "again")
    first, second = (load_file(d / "adapter_model.safetensors") for d in (out, tmp_path / "again"))
    assert all(torch.equal(first[k], second[k]) for k in first)
    config_bytes = [(d / "adapter_config.json").read_bytes() for d in (out, tmp_path / "again")]
    assert config_bytes[0] == config_bytes[1]
    for m in (manifest, again):
        m["metrics"].pop("runtime_s")
    assert manifest == again


@pytest.mark.parametrize("method", ["lora", "full"])
def test_config_composes(method):
    cfg = compose_config("train", ["data=d", "out=o", f"method={method}", "model=tiny"])
    check_config(cfg)
    assert cfg.trainer.learning_rate is None and cfg.lora.target_modules == "all-linear"
    assert cfg.trainer.save_strategy == "no" and cfg.model.path == "tiny"


def test_config_rejects_typos_and_owned_keys():
    with pytest.raises(Exception, match="bogus"):
        compose_config("train", ["data=d", "out=o", "bogus=1"])
    with pytest.raises(Exception, match="trainer.bogus"):
        compose_config("train", ["data=d", "out=o", "trainer.bogus=1"])
    with pytest.raises(UserError, match="unknown method"):
        check_config(compose_config("train", ["data=d", "out=o", "method=dora"]))
    with pytest.raises(UserError, match="trainer.seed"):
        check_config(compose_config("train", ["data=d", "out=o", "+trainer.seed=1"]))


def test_bad_trainer_arguments_fail_with_one_line(tiny_model_dir, data_path, tmp_path):
    with pytest.raises(UserError, match="trainer arguments"):
        _train(tiny_model_dir, data_path, tmp_path / "bad", "+trainer.no_such_arg=1")


def test_data_without_a_valid_conversation_fails(tiny_model_dir, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "no answer"}]}) + "\n")
    with pytest.raises(UserError, match="no valid conversation"):
        _train(tiny_model_dir, data, tmp_path / "out")


def test_cli_runs_end_to_end(data_path, tmp_path, cache_dir):
    env = {**os.environ, "LESSMORE_CACHE": str(cache_dir), "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": "1"}
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "training", f"data={data_path}", f"out={out}", "model=tiny",
           "trainer=smoke", "trainer.max_steps=2", "show_progress=false"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "config.yaml").is_file() and (out / "adapter_model.safetensors").is_file()
    assert json.loads((out / "manifest.json").read_text())["metrics"]["steps"] == 2
    bad = subprocess.run([*cmd, "method=qlora", "model.device=cpu"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "method=qlora needs a CUDA GPU" in bad.stderr
