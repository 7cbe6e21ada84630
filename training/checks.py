"""Pre-flight checks: what TRL will train, judged after ``SFTTrainer`` has tokenised and masked
the data and before the first step (DESIGN §4: the mistakes users of axolotl and TRL lose days to).

Each check is a small function that raises ``UserError``. The loss-mask checks on every row are
in ``mask_checks.py`` (they show the offending row with its trained tokens in ``[[...]]``), the
EOS and padding checks on the tokenizer and model in ``eos_checks.py``; this module runs them all,
before training or as ``dry_run=true``. No switch turns them off: a run that fails one would
waste its compute.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from curation.core.config import UserError

from .eos_checks import check_eos_agrees, check_pad_is_not_eos
from .mask_checks import (
    check_end_of_turn_trained,
    check_only_assistant_turns_trained,
    check_rows_do_not_train_everything,
    check_rows_train_something,
)
from .preview import show_dry_run, split_sequences

log = logging.getLogger(__name__)

ROW_CHECKS = (check_rows_train_something, check_rows_do_not_train_everything,
              check_only_assistant_turns_trained, check_end_of_turn_trained)
MODEL_CHECKS = (check_eos_agrees, check_pad_is_not_eos)


def collect_check_results(prepared: Any, tokenizer: Any, model: Any, args: Any = None
                          ) -> list[tuple[str, str | None]]:
    """Every check's name and its error message (None when it passed), on a TRL-prepared
    dataset; ``args`` (the ``SFTConfig``) tells whether it was packed ``wrapped``."""
    rows = split_sequences(prepared, wrapped=_is_wrapped(args))
    calls = [(check, (rows, tokenizer)) for check in ROW_CHECKS]
    calls += [(check, (tokenizer, model)) for check in MODEL_CHECKS]
    results = []
    for check, check_args in calls:
        try:
            check(*check_args)
            results.append((_name(check), None))
        except UserError as e:
            results.append((_name(check), str(e)))
    return results


def run_preflight_checks(prepared: Any, tokenizer: Any, model: Any, args: Any = None) -> None:
    """Run every check; raise the first failure as a ``UserError``."""
    results = collect_check_results(prepared, tokenizer, model, args)
    failed = [error for _, error in results if error is not None]
    if failed:
        raise UserError(failed[0])
    log.info("pre-flight checks passed: %s", ", ".join(name for name, _ in results))


def run_dry_run(trainer: Any, tokenizer: Any, cfg: Any, rows: dict[str, Any],
                tokens: dict[str, int]) -> dict[str, Any]:
    """``dry_run=true``: print the first ``cfg.dry_run_rows`` rows as they will be trained, the
    token counts and every check's verdict; write them to ``OUT/dry_run.txt``; fail if a check
    failed. Nothing is trained."""
    prepared, args = trainer.train_dataset, trainer.args
    _remove_if_empty(Path(args.output_dir))  # the Trainer makes it on construction; nothing to keep
    results = collect_check_results(prepared, tokenizer, trainer.model, args)
    share = tokens["trained"] / tokens["total"] if tokens["total"] else 0.0
    summary = [f"{rows['trained']} rows to train with {cfg.method}; over_length={cfg.over_length} "
               f"at max_length={cfg.max_length}: {rows['truncated']} truncated, "
               f"{rows['dropped']} dropped",
               f"{tokens['trained']:,} of {tokens['total']:,} tokens per epoch carry loss "
               f"({share:.1%})"]
    if "dev" in rows:
        dev = rows["dev"]
        summary.append(f"dev set: {dev['evaluated']} rows to evaluate, {dev['truncated']} "
                       f"truncated, {dev['dropped']} dropped")
    shown = split_sequences(prepared, wrapped=_is_wrapped(args))[:cfg.dry_run_rows]
    path = show_dry_run(shown, tokenizer, Path(cfg.out), summary=summary, results=results)
    failed = [name for name, error in results if error is not None]
    if failed:
        raise UserError(f"dry run: {len(failed)} pre-flight check(s) failed ({', '.join(failed)}); "
                        f"the rows and the reasons are in {path}")
    return {"dry_run": str(path), "rows": rows, "tokens": tokens,
            "checks": {name: "ok" for name, _ in results}}


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _is_wrapped(args: Any) -> bool:
    return bool(args is not None and args.packing and args.packing_strategy == "wrapped")


def _name(check: Any) -> str:
    return check.__name__.removeprefix("check_").replace("_", " ")
