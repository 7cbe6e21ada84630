"""Training on several processes and sweeps (DESIGN §4).

``launcher=accelerate`` re-executes the stage under ``accelerate launch --config_file
conf/accelerate/<accelerate_config>.yaml -m training`` with the user's overrides. The run
directory is fixed once, here, and handed to every rank as a literal: each rank composes its
own config, so an interpolated ``out`` (``${now:}``) could differ between them. A Hydra multirun
job trains into its own directory, ``hydra.sweep.dir/hydra.sweep.subdir`` (``conf/train.yaml``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from curation.core.config import CONF_DIR, UserError

from .runtime import CONFIG_ENV, is_launched

log = logging.getLogger(__name__)

ACCELERATE_DIR = CONF_DIR / "accelerate"
LAUNCHERS = ("none", "accelerate")
# keys the launcher consumes; the ranks get a literal `out` and train directly
LAUNCH_KEYS = ("launcher", "accelerate_config", "num_processes", "out")


def launch_or_run(cfg: Any) -> dict[str, Any] | None:
    """The stage's entry point: a sweep job takes its own directory, then trains here (one
    process, or already a launched rank) or re-executes itself under ``accelerate launch``."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from .run import run

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        cfg.out = hydra_cfg.runtime.output_dir  # OUT/<override_dirname>, made by Hydra
    if cfg.launcher not in LAUNCHERS:
        raise UserError(f"unknown launcher {cfg.launcher!r}; choose one of {', '.join(LAUNCHERS)}")
    if cfg.launcher == "none" or is_launched():
        return run(cfg)
    launch(cfg, [*build_hydra_flags(hydra_cfg), *hydra_cfg.overrides.task])
    return None


def build_hydra_flags(hydra_cfg: Any) -> list[str]:
    """``--config-dir`` / ``--config-name`` of a run composed from the user's own primary
    config (``--config-name my_experiment``): the ranks must compose the same one."""
    flags = [f"--config-dir={source.path}" for source in hydra_cfg.runtime.config_sources
             if source.provider == "command-line"]
    if hydra_cfg.job.config_name != "train":
        flags.append(f"--config-name={hydra_cfg.job.config_name}")
    return flags


def launch(cfg: Any, overrides: list[str]) -> None:
    """Run ``accelerate launch`` and wait; a failed rank fails the stage."""
    import torch

    config_file = find_accelerate_config(cfg.accelerate_config)
    command = build_launch_command(cfg, overrides, config_file, torch.cuda.device_count(),
                                   len(os.sched_getaffinity(0)))
    threads = command[command.index("--num_cpu_threads_per_process") + 1]
    # DeepSpeed's launcher ignores --num_cpu_threads_per_process; the environment reaches it
    env = {**os.environ, "OMP_NUM_THREADS": threads, CONFIG_ENV: config_file.stem}
    log.info("launching: %s", " ".join(command))
    code = subprocess.run(command, env=env).returncode
    if code != 0:
        raise UserError(f"accelerate launch exited with code {code} (the ranks' errors are above)")


def build_launch_command(cfg: Any, overrides: list[str], config_file: Path, gpus: int,
                         cores: int) -> list[str]:
    """The ``accelerate launch`` argv: the config file, the process count, torch threads per
    process (cores / processes: ranks sharing cores run several times slower), and the
    stage with the user's overrides minus the launcher's own, plus the absolute ``out``."""
    processes = cfg.num_processes or count_processes(config_file, gpus)
    threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, cores // processes))
    out = Path(cfg.out).expanduser().resolve()
    kept = [o for o in overrides if o.lstrip("+~").split("=", 1)[0] not in LAUNCH_KEYS]
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_file),
            "--num_processes", str(processes), "--num_cpu_threads_per_process", threads,
            "-m", "training", *kept, f"out={quote_value(str(out))}"]


def find_accelerate_config(name: str) -> Path:
    """A config shipped in ``conf/accelerate/`` by name (``ddp``), or a path to one."""
    shipped = ACCELERATE_DIR / f"{name}.yaml"
    path = shipped if shipped.is_file() else Path(name).expanduser()
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in ACCELERATE_DIR.glob("*.yaml")))
        raise UserError(f"accelerate_config {name!r} is neither one of {known} nor a file")
    return path.resolve()


def count_processes(config_file: Path, gpus: int) -> int:
    """The config's ``num_processes``, or one per visible GPU where it says -1; refuses what
    cannot run here (DeepSpeed needs GPUs)."""
    import yaml

    config = yaml.safe_load(config_file.read_text())
    kind = config.get("distributed_type")
    if gpus == 0 and kind == "DEEPSPEED":
        raise UserError(f"{config_file.name}: DeepSpeed needs GPUs; on CPU use cpu_ddp")
    if gpus == 0 and kind == "FSDP":
        log.warning("FSDP on CPU: accelerate silently falls back to plain DDP")
    processes = int(config.get("num_processes", -1))
    if processes > 0:
        return processes
    if gpus == 0:
        raise UserError(f"{config_file.name} runs one process per GPU and none is visible; "
                        "set num_processes=N, or use accelerate_config=cpu_ddp")
    return gpus


def quote_value(value: str) -> str:
    """A Hydra override value taken literally (paths may hold spaces, commas or '=')."""
    return "'" + value.replace("'", "\\'") + "'"
