"""Model loading: folders, adapters, embedded and GGUF specs, hub ids, dtype/device choice."""

import json
from pathlib import Path

import pytest
import torch

from curation.core.models import (
    ModelConfig,
    ModelLoadError,
    is_adapter_dir,
    load_model,
    resolve_model_path,
    select_device,
    select_dtype,
)


def test_local_folder_loads_in_eval_mode_on_cpu(tiny_model_dir):
    model, tok = load_model(ModelConfig(path=str(tiny_model_dir), device="cpu"))
    assert not model.training and next(model.parameters()).dtype == torch.float32
    assert tok.eos_token == "<|im_end|>" and tok.pad_token_id != tok.eos_token_id
    assert resolve_model_path(str(tiny_model_dir)) == str(tiny_model_dir.resolve())


def test_tiny_spec_builds_once_into_the_cache(cache_dir):
    first = resolve_model_path("tiny", cache_dir)
    assert first == resolve_model_path("tiny", cache_dir)
    assert (cache_dir / "models" / "tiny").is_dir()
    config = json.loads((Path(first) / "config.json").read_text())
    assert config["num_hidden_layers"] == 2 and config["model_type"] == "llama"


def test_lora_adapter_folder_loads_base_plus_adapter_merged(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                 init_lora_weights=False))
    peft_model.peft_config["default"].base_model_name_or_path = str(tiny_model_dir)
    peft_model.save_pretrained(tmp_path / "adapter")
    assert is_adapter_dir(tmp_path / "adapter")
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path / "adapter")
    merged, _ = load_model(ModelConfig(path=str(tmp_path / "adapter"), device="cpu"))
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        expected = peft_model.eval()(ids).logits
        got = merged(ids).logits
        plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir)(ids).logits
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, plain, atol=1e-3)  # the adapter really changed the model


@pytest.mark.parametrize("spec, message", [
    ("/no/such/folder", "model folder not found"),
    ("./missing.gguf", "GGUF file not found"),
    ("embedded:nothing", "unknown embedded model"),
])
def test_bad_local_specs_fail_with_one_line(spec, message):
    with pytest.raises(ModelLoadError, match=message):
        resolve_model_path(spec)


def test_unreachable_hub_id_is_a_clear_error():
    with pytest.raises(ModelLoadError, match="cannot load (model|tokenizer).*no-org/no-model") as e:
        load_model(ModelConfig(path="no-org/no-model"))
    assert "\n" not in str(e.value)


def test_file_that_is_not_gguf_is_refused(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(ModelLoadError, match="not a .gguf"):
        resolve_model_path(str(tmp_path / "weights.bin"))


def test_dtype_and_device_choice():
    assert select_device("auto") in ("cpu", "cuda", "mps")
    assert select_device("cpu") == "cpu"
    assert select_dtype("auto", "cpu") == torch.float32
    assert select_dtype("bfloat16", "cpu") == torch.bfloat16
    assert select_dtype("auto", "mps") == torch.float16
