"""Hydra plumbing shared by every stage: where ``conf/`` is, typed schemas, one-line errors,
and the resolved config written beside every run's outputs.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .contract import CONFIG
from .errors import UserError
from .io import redact_secrets, write_text

log = logging.getLogger(__name__)

__all__ = ["CONF_DIR", "UserError", "compose_config", "instantiate_target", "register_schema",
           "save_resolved_config", "stage_main", "to_container"]


def find_conf_dir() -> Path:
    """The shipped Hydra configs: ``$LESSMORE_CONF``; else the checkout's top-level ``conf/``
    (a source tree or an editable install); else the copy a wheel installs beside the packages
    as ``lessmore/conf`` (with the sample data as ``lessmore/data``, see ``pyproject.toml``)."""
    if os.environ.get("LESSMORE_CONF"):
        return Path(os.environ["LESSMORE_CONF"])
    root = Path(__file__).resolve().parents[2]  # the checkout, or site-packages
    for candidate in (root / "conf", root / "lessmore" / "conf"):
        if (candidate / "curate.yaml").is_file():
            return candidate
    return root / "conf"  # missing: Hydra says so, naming the folder


CONF_DIR = find_conf_dir()


def _register_resolvers() -> None:
    from omegaconf import OmegaConf

    # ${project_root:} lets configs name the project's own sample data (``data/`` beside
    # ``conf/``: the checkout's, or a wheel's ``lessmore/data``) wherever it is run from.
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(CONF_DIR.parent))


def register_schema(name: str, node: type) -> None:
    """Register a dataclass as the typed schema a ``conf/<stage>.yaml`` builds on."""
    from hydra.core.config_store import ConfigStore

    _register_resolvers()
    ConfigStore.instance().store(name=name, node=node)


def stage_main(config_name: str) -> Callable[[Callable[[Any], Any]], Callable[[], None]]:
    """Decorate ``run(cfg)`` into a Hydra entry point that turns user errors into one line.

    Hydra's own output directory and logging setup are kept out of the way: the stage writes
    its resolved config into its own ``out`` directory.
    """
    import hydra

    def wrap(run: Callable[[Any], Any]) -> Callable[[], None]:
        @hydra.main(config_path=str(CONF_DIR), config_name=config_name, version_base="1.3")
        def _main(cfg):
            _silence_library_noise()
            try:
                run(cfg)
            except (UserError, FileNotFoundError) as e:
                print(f"lessmore: error: {e}", file=sys.stderr)
                sys.exit(2)
            # The stage is done and the process about to exit: spare it the interpreter's final
            # collection over the million objects torch and transformers made (~1 s). Not in a
            # sweep (-m), where the next job runs in this process.
            from hydra.core.hydra_config import HydraConfig
            from hydra.types import RunMode

            if HydraConfig.get().mode != RunMode.MULTIRUN:
                gc.freeze()

        return functools.wraps(run)(lambda: _main())

    return wrap


def _silence_library_noise() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("httpx", "urllib3", "filelock", "datasets", "transformers.modeling_utils"):
        logging.getLogger(name).setLevel(logging.WARNING)


def to_container(cfg: Any) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def instantiate_target(entry: Any, base: type, kind: str) -> Any:
    """Build the class an entry's ``_target_`` names (a ``base``) with the entry's other keys as
    its arguments; the entry is a plain mapping or an OmegaConf one.

    The arguments are checked against the class's signature before the call, so an unknown or
    missing one, like an unimportable target, is a one-line :class:`UserError` that names the
    ``kind`` of entry and the class (by its ``name`` attribute where it has one) and lists its
    parameters.
    """
    import inspect

    from omegaconf import DictConfig, OmegaConf

    params = OmegaConf.to_container(entry, resolve=True) if isinstance(entry, DictConfig) \
        else dict(entry)
    target = params.pop("_target_", None)
    if not target:
        raise UserError(f"{kind} {params}: needs a _target_ naming its class")
    cls = _import_class(str(target), kind)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise UserError(f"{kind} {target!r}: _target_ must name a {base.__name__} class")
    label = cls.name if isinstance(getattr(cls, "name", None), str) else target
    try:
        inspect.signature(cls).bind(**params)
    except TypeError as err:
        known = ", ".join(inspect.signature(cls).parameters) or "none"
        raise UserError(f"{kind} {label!r}: {err} (parameters: {known})") from None
    return cls(**params)


def _import_class(target: str, kind: str) -> Any:
    """``module.Class`` imported; a one-line UserError where it cannot be."""
    import importlib

    module, _, attr = target.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), attr) if module else None
    except ImportError as e:
        raise UserError(f"{kind} {target!r}: cannot import {module!r} ({e})") from None
    except AttributeError:
        raise UserError(f"{kind} {target!r}: module {module!r} has no {attr!r}") from None
    if found is None:
        raise UserError(f"{kind} {target!r}: _target_ must be a dotted path, module.Class")
    return found


def save_resolved_config(cfg: Any, out_dir: str | Path) -> Path:
    """Write the resolved (and secret-free) config into the run's output directory."""
    from omegaconf import OmegaConf

    path = Path(out_dir) / CONFIG
    write_text(path, OmegaConf.to_yaml(OmegaConf.create(redact_secrets(to_container(cfg)))))
    return path


def compose_config(config_name: str, overrides: list[str] | None = None) -> Any:
    """Compose a stage config outside a Hydra app (tests, the pipeline, notebooks)."""
    from hydra import compose, initialize_config_dir

    _register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=overrides or [])
