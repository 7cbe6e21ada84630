"""Everything the stage hands to TRL: the model and tokenizer made ready for training, the
``SFTConfig`` (the ``trainer`` group plus the knobs the stage owns), the ``LoraConfig`` or
``None``, and the ``SFTTrainer`` built from them."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from curation.core.chat import CHATML_TRAINING_TEMPLATE, END_OF_TURN
from curation.core.config import UserError, to_container
from curation.core.models import ModelConfig, is_adapter_dir, load_model, select_device

from .config import resolve_learning_rate

log = logging.getLogger(__name__)

# A distinct padding token, tried in this order before one is added.
PAD_CANDIDATES = ("<|endoftext|>", "<|pad|>", "<pad>")
ADDED_PAD_TOKEN = "<|pad|>"


def load_model_for_training(model_cfg: ModelConfig, method: str, base_path: str
                            ) -> tuple[Any, Any]:
    """(model, tokenizer) with lessmore's training template and a pad token distinct from EOS.

    ``dtype: auto`` trains full fine-tuning in float32 (the optimizer's updates vanish in bf16
    weights) and LoRA on the device's inference dtype (frozen base; adapters stay float32).
    """
    if method == "lora" and is_adapter_dir(base_path):
        raise UserError(f"model {model_cfg.path!r} is a LoRA adapter; a new adapter must sit on a "
                        "plain model: merge it first, or use method=full")
    if model_cfg.dtype == "auto" and method == "full":
        model_cfg = dataclasses.replace(model_cfg, dtype="float32")
    model, tokenizer = load_model(model_cfg, merge_adapter=True)
    tokenizer.chat_template = CHATML_TRAINING_TEMPLATE
    if END_OF_TURN not in tokenizer.get_vocab():
        raise UserError(f"the tokenizer of {model_cfg.path!r} has no {END_OF_TURN} token; "
                        "lessmore trains the ChatML format and needs its special tokens")
    tokenizer.eos_token = END_OF_TURN
    set_distinct_pad_token(model, tokenizer)
    return model, tokenizer


def set_distinct_pad_token(model: Any, tokenizer: Any) -> None:
    """Give the tokenizer a pad token other than EOS, so no collator or generation loop can
    mistake padding for the end of a turn (SmolLM2 pads with ``<|im_end|>``)."""
    vocab = tokenizer.get_vocab()
    if tokenizer.pad_token is not None and tokenizer.pad_token_id != tokenizer.eos_token_id:
        return
    for token in PAD_CANDIDATES:
        if token in vocab and vocab[token] != tokenizer.eos_token_id:
            tokenizer.pad_token = token
            return
    log.warning("the tokenizer has no pad token besides EOS; adding %s and resizing the "
                "embeddings", ADDED_PAD_TOKEN)
    tokenizer.add_special_tokens({"pad_token": ADDED_PAD_TOKEN})
    model.resize_token_embeddings(len(tokenizer))


def build_sft_config(cfg: Any) -> Any:
    """``trl.SFTConfig`` from the ``trainer`` group plus the arguments the stage owns."""
    import torch
    from trl import SFTConfig

    device = select_device(cfg.model.device)
    args = to_container(cfg.trainer)
    args["learning_rate"] = resolve_learning_rate(cfg.method, args.get("learning_rate"))
    if args.get("bf16") is None:
        args["bf16"] = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    try:
        return SFTConfig(**args, output_dir=str(Path(cfg.out) / "checkpoints"),
                         assistant_only_loss=True, max_length=cfg.max_length, seed=cfg.seed,
                         eos_token=END_OF_TURN, use_cpu=device == "cpu",
                         disable_tqdm=not cfg.show_progress)
    except (TypeError, ValueError) as e:
        raise UserError(f"bad trainer arguments: {e}") from e


def build_peft_config(cfg: Any) -> Any:
    """``peft.LoraConfig`` for method=lora (plain containers: PEFT serialises it), else None."""
    if cfg.method != "lora":
        return None
    from peft import LoraConfig

    try:
        return LoraConfig(**to_container(cfg.lora))
    except (TypeError, ValueError) as e:
        raise UserError(f"bad lora arguments: {e}") from e


def build_trainer(model: Any, tokenizer: Any, dataset: Any, args: Any, peft_config: Any) -> Any:
    """The ``SFTTrainer`` (it tokenizes, masks and truncates ``dataset`` on construction): loss on
    assistant turns (content and ``<|im_end|>``) only; ``peft_config`` None trains every weight."""
    from trl import SFTTrainer

    return SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                      peft_config=peft_config)
