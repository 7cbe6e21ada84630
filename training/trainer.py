"""Everything the stage hands to TRL: the model and tokenizer made ready for training, the
``SFTConfig`` (the ``trainer`` group plus the knobs the stage owns), the ``LoraConfig`` or
``None``, and the ``SFTTrainer`` built from them."""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np

from curation.core.chat import END_OF_TURN
from curation.core.config import UserError, to_container
from curation.core.contract import CHECKPOINTS
from curation.core.models import (
    ModelConfig,
    is_adapter_dir,
    load_model,
    load_tokenizer,
    select_device,
)

from .config import resolve_learning_rate
from .data import load_train_dataset
from .mask_checks import explain_mask_refusal
from .templates import resolve_chat_template

log = logging.getLogger(__name__)

# A distinct padding token, tried in this order before one is added.
PAD_CANDIDATES = ("<|endoftext|>", "<|pad|>", "<pad>")
ADDED_PAD_TOKEN = "<|pad|>"


def load_model_for_training(model_cfg: ModelConfig, method: str, base_path: str,
                            chat_template: str = "chatml") -> tuple[Any, Any]:
    """(model, tokenizer) with the training template (``chat_template``: chatml, model, or a
    .jinja path; see ``training/templates.py``) and a pad token distinct from EOS.

    ``dtype: auto`` trains full fine-tuning in float32 (the optimizer's updates vanish in bf16
    weights) and LoRA on the device's inference dtype (frozen base; adapters stay float32).
    """
    if method != "full" and is_adapter_dir(base_path):
        raise UserError(f"model {model_cfg.path!r} is a LoRA adapter; a new adapter must sit on a "
                        "plain model: merge it first, or use method=full")
    if model_cfg.dtype == "auto" and method == "full":
        model_cfg = dataclasses.replace(model_cfg, dtype="float32")
    if method == "qlora":
        model, tokenizer = load_4bit_model(model_cfg, base_path)
    else:
        model, tokenizer = load_model(model_cfg, merge_adapter=True)
    tokenizer.chat_template = resolve_chat_template(chat_template, tokenizer)
    if END_OF_TURN not in tokenizer.get_vocab():
        raise UserError(f"the tokenizer of {model_cfg.path!r} has no {END_OF_TURN} token; "
                        "lessmore trains the ChatML format and needs its special tokens")
    tokenizer.eos_token = END_OF_TURN
    set_distinct_pad_token(model, tokenizer)
    return model, tokenizer


def load_4bit_model(model_cfg: ModelConfig, base_path: str) -> tuple[Any, Any]:
    """QLoRA's base (method=qlora): weights quantised to 4-bit NF4 on this process's GPU, the
    quantisation constants quantised too, computing in bfloat16; made ready for k-bit training
    (base frozen, the few unquantised weights in float32)."""
    import torch
    from accelerate import PartialState
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                      bnb_4bit_compute_dtype=torch.bfloat16,
                                      bnb_4bit_use_double_quant=True)
    # one whole copy per process (DDP): a quantised model cannot be moved after loading
    model = AutoModelForCausalLM.from_pretrained(
        base_path, quantization_config=quantization, dtype=torch.bfloat16, use_safetensors=True,
        device_map={"": PartialState().local_process_index},
        trust_remote_code=model_cfg.trust_remote_code)
    # gradient checkpointing is the trainer group's choice (SFTConfig), not switched on here
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model, load_tokenizer(model_cfg)


def check_qlora_supported(device: str) -> None:
    """QLoRA runs on bitsandbytes' CUDA kernels: refuse any other device, or a missing
    bitsandbytes, at start-up rather than after loading the data and the model."""
    if not device.startswith("cuda"):
        raise UserError(f"method=qlora needs a CUDA GPU (bitsandbytes 4-bit kernels), and this run "
                        f"is on {device}: use method=lora (the same adapters on an unquantised base)")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise UserError("method=qlora needs bitsandbytes, which is not installed: "
                        "pip install bitsandbytes, or use method=lora")


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
    args.update(build_eval_args(cfg.early_stopping, args))
    try:
        sft_config = SFTConfig(**args, output_dir=str(Path(cfg.out) / CHECKPOINTS),
                               assistant_only_loss=True, max_length=cfg.max_length,
                               seed=cfg.seed, eos_token=END_OF_TURN, use_cpu=device == "cpu",
                               disable_tqdm=not cfg.show_progress)
    except (TypeError, ValueError) as e:
        raise UserError(f"bad trainer arguments: {e}") from e
    check_report_to(sft_config.report_to)
    return sft_config


def build_eval_args(es: Any, trainer_args: dict[str, Any]) -> dict[str, Any]:
    """SFTConfig arguments for the dev set (``es`` is the ``early_stopping`` group): evaluate
    every ``es.eval_steps`` steps unless the trainer group says otherwise; with early stopping
    also checkpoint at those steps and end on the best one (what ``EarlyStoppingCallback``
    needs). A trainer argument that contradicts early stopping fails here, naming it."""
    has_dev = bool(es.dev_data or es.dev_fraction)
    if es.patience is not None and (es.patience < 1 or not has_dev):
        raise UserError("early_stopping.patience needs a positive count and a dev set: "
                        "early_stopping.dev_data=PATH or early_stopping.dev_fraction=0.1")
    if es.dev_data and es.dev_fraction:
        raise UserError("set early_stopping.dev_data or early_stopping.dev_fraction, not both")
    if not 0 <= es.dev_fraction < 1 or es.eval_steps < 1:
        raise UserError("early_stopping.dev_fraction must be in [0, 1) and eval_steps positive")
    wanted = {"eval_strategy": "steps", "eval_steps": es.eval_steps} if has_dev else {}
    if es.patience is None:
        return {k: v for k, v in wanted.items() if k not in trainer_args}
    wanted.update(save_strategy="steps", save_steps=es.eval_steps, load_best_model_at_end=True,
                  metric_for_best_model=trainer_args.get("metric_for_best_model", "eval_loss"))
    for key, value in wanted.items():
        given = trainer_args.get(key)
        if given not in (None, value) and not (key.endswith("_strategy") and given == "no"):
            raise UserError(f"trainer.{key}={given!r} contradicts early stopping, which evaluates "
                            f"and checkpoints every early_stopping.eval_steps={es.eval_steps} "
                            "steps and keeps the best checkpoint; remove it")
    return wanted


def split_dev_dataset(cfg: Any, dataset: Any) -> tuple[Any, Any | None]:
    """(train, dev): the dev set read from ``early_stopping.dev_data``, or a seeded
    ``dev_fraction`` of the rows held out of training (kept in data order), or no dev set."""
    es = cfg.early_stopping
    if es.dev_data:
        return dataset, load_train_dataset(es.dev_data)[0]
    if not es.dev_fraction:
        return dataset, None
    n_dev = max(1, round(len(dataset) * es.dev_fraction))
    if n_dev >= len(dataset):
        raise UserError(f"early_stopping.dev_fraction={es.dev_fraction} leaves no training rows "
                        f"of {len(dataset)}")
    dev = set(np.random.default_rng(cfg.seed).permutation(len(dataset))[:n_dev].tolist())
    return (dataset.select([i for i in range(len(dataset)) if i not in dev]),
            dataset.select(sorted(dev)))


def check_report_to(report_to: list[str]) -> None:
    """An integration named in ``trainer.report_to`` whose package is missing fails here, in one
    line, instead of deep inside the Trainer."""
    from transformers.integrations import is_tensorboard_available, is_wandb_available

    for name, available in (("tensorboard", is_tensorboard_available),
                            ("wandb", is_wandb_available)):
        if name in report_to and not available():
            raise UserError(f"trainer.report_to={name} needs its package: pip install {name}")


def build_peft_config(cfg: Any) -> Any:
    """``peft.LoraConfig`` for method=lora or qlora (plain containers: PEFT serialises it), else
    None; qlora is refused here, at start-up, where it cannot run."""
    if cfg.method == "full":
        return None
    if cfg.method == "qlora":
        check_qlora_supported(select_device(cfg.model.device))
    from peft import LoraConfig

    try:
        return LoraConfig(**to_container(cfg.lora))
    except (TypeError, ValueError) as e:
        raise UserError(f"bad lora arguments: {e}") from e


def build_trainer(model: Any, tokenizer: Any, dataset: Any, args: Any, peft_config: Any, *,
                  eval_dataset: Any = None, callbacks: list[Any] | None = None) -> Any:
    """The ``SFTTrainer`` (it tokenizes, masks and truncates ``dataset`` on construction): loss on
    assistant turns (content and ``<|im_end|>``) only; ``peft_config`` None trains every weight.
    TensorBoard logs go to ``OUT/logs`` (unless ``TENSORBOARD_LOGGING_DIR`` says otherwise)."""
    from transformers.integrations import TensorBoardCallback
    from trl import SFTTrainer

    with explain_mask_refusal(dataset, tokenizer):
        trainer = SFTTrainer(model=model, args=args, train_dataset=dataset,
                             eval_dataset=eval_dataset, processing_class=tokenizer,
                             peft_config=peft_config, callbacks=callbacks)
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback) and callback.logging_dir is None:
            callback.logging_dir = str(Path(args.output_dir).parent / "logs")
    return trainer
