"""``python -m training``: fine-tune the base model on a curated set with TRL (DESIGN §4).

``run(cfg)`` is the table of contents of the stage; each step lives in its own module.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from curation.core.config import save_resolved_config, to_container
from curation.core.distributed import is_main_process
from curation.core.models import ModelConfig, resolve_model_path

from .artifacts import (
    build_hyperparameters,
    build_manifest,
    compute_train_metrics,
    save_weights,
    write_manifest,
    write_run_outputs,
)
from .callbacks import build_callbacks
from .card import write_model_card
from .checks import run_dry_run, run_preflight_checks
from .config import check_config
from .data import (
    apply_over_length_to_sets,
    count_rows,
    count_trained_tokens,
    load_train_dataset,
)
from .resume import select_resume_checkpoint
from .runtime import describe_launch
from .trainer import (
    build_peft_config,
    build_sft_config,
    build_trainer,
    load_model_for_training,
    split_dev_dataset,
)

log = logging.getLogger(__name__)


def run(cfg: Any) -> dict[str, Any]:
    """Train, save the weights and tokenizer into ``cfg.out``, and return the manifest."""
    check_config(cfg)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if is_main_process() and not cfg.dry_run:  # one process writes; a dry run only dry_run.txt
        save_resolved_config(cfg, out)
    _quiet_progress(cfg.show_progress)

    args, peft_config = build_sft_config(cfg), build_peft_config(cfg)  # bad arguments fail here
    dataset, data_info = load_train_dataset(cfg.data)
    dataset, dev_dataset = split_dev_dataset(cfg, dataset)  # early_stopping.dev_*
    model_cfg = ModelConfig(**to_container(cfg.model))
    base_path = resolve_model_path(model_cfg.path)
    model, tokenizer = load_model_for_training(model_cfg, cfg.method, base_path, cfg.chat_template)

    dataset, dev_dataset, cuts = apply_over_length_to_sets(dataset, dev_dataset, tokenizer,
                                                           cfg.max_length, cfg.over_length)
    trainer = build_trainer(model, tokenizer, dataset, args, peft_config, eval_dataset=dev_dataset,
                            callbacks=build_callbacks(cfg, args, dataset))
    tokens, rows = count_trained_tokens(trainer.train_dataset), count_rows(trainer, cuts)
    log.info("training %s on %d rows: %d of %d tokens per epoch carry loss (%d rows truncated, "
             "%d dropped)", cfg.method, rows["trained"], tokens["trained"], tokens["total"],
             rows["truncated"], rows["dropped"])
    if cfg.dry_run:
        return run_dry_run(trainer, tokenizer, cfg, rows, tokens)
    run_preflight_checks(trainer.train_dataset, tokenizer, trainer.model, trainer.args)

    resumed_from = select_resume_checkpoint(cfg.resume, Path(args.output_dir))
    train_output = trainer.train(resume_from_checkpoint=resumed_from)
    save_weights(trainer, tokenizer, out, base_path)
    outputs = write_run_outputs(cfg, trainer, tokenizer, out, resumed_from)  # curves, plots, merged

    manifest = build_manifest(
        cfg, base_model=to_container(cfg.model), base_path=base_path, data=data_info, rows=rows,
        tokens=tokens, hyperparameters=build_hyperparameters(cfg, trainer.args),
        metrics=compute_train_metrics(train_output, trainer.state.log_history), outputs=outputs)
    manifest["launch"] = describe_launch(trainer.args)  # processes, global batch
    if not trainer.is_world_process_zero():
        return manifest  # the other ranks trained and gathered; the main process writes
    write_manifest(out, manifest)
    write_model_card(out, manifest)
    log.info("wrote %s (final loss %s)", out, manifest["metrics"]["final_loss"])
    return manifest


def _quiet_progress(show: bool) -> None:
    if not show:
        import datasets

        datasets.disable_progress_bars()
