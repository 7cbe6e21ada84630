"""Checkpoints a run can resume from (DESIGN §4: resume continues with identical losses).

The Trainer writes a checkpoint folder file by file, so a run killed mid-save leaves a folder
that looks like a checkpoint but is not one. A checkpoint counts as complete only once it holds a
completion marker, written (atomically) by ``CheckpointMarkerCallback`` after the Trainer has
finished saving it; ``resume=true`` picks the newest checkpoint that has one.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from curation.core.io import write_json

log = logging.getLogger(__name__)

MARKER_NAME = "lessmore_complete.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every ``checkpoint-N`` folder, newest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir()
             if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    return sorted(found, reverse=True)


def is_complete(path: Path, step: int) -> bool:
    """Whether the marker exists and names this step (a marker copied along with a folder, or
    left from an earlier run, must not vouch for other files)."""
    try:
        return json.loads((path / MARKER_NAME).read_text())["step"] == step
    except (OSError, ValueError, KeyError, TypeError):
        return False


def find_resume_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint under ``folder``; newer incomplete ones are skipped with a
    warning (an interrupted save)."""
    for step, path in list_checkpoints(folder):
        if is_complete(path, step):
            return path
        log.warning("skipping %s: it has no completion marker (a save that was interrupted, or "
                    "one written before lessmore marked checkpoints)", path)
    return None


def select_resume_checkpoint(resume: bool, folder: Path) -> str | None:
    """What to pass as ``trainer.train(resume_from_checkpoint=…)``.

    ``resume=true`` with no complete checkpoint starts from scratch with a warning rather than
    failing, so the same command can launch a job and relaunch it after preemption. A fresh run
    (``resume=false``) withdraws the markers of checkpoints left in ``folder`` by an earlier
    run, so a later ``resume=true`` can never continue from a checkpoint of another run.
    """
    if not resume:
        withdraw_markers(folder)
        return None
    path = find_resume_checkpoint(folder)
    if path is None:
        log.warning("resume=true but %s holds no complete checkpoint; training from the start",
                    folder)
        return None
    log.info("resuming from %s", path)
    return str(path)


def withdraw_markers(folder: Path) -> None:
    stale = [p for step, p in list_checkpoints(folder) if (p / MARKER_NAME).exists()]
    if stale:
        log.warning("%d checkpoints from an earlier run in %s will not be resumed from "
                    "(resume=false starts afresh; they are overwritten as training reaches them)",
                    len(stale), folder)
    for path in stale:
        (path / MARKER_NAME).unlink(missing_ok=True)  # every rank may try


def write_marker(path: Path, step: int) -> None:
    write_json(path / MARKER_NAME, {"step": step})


def describe_resume(path: str | None) -> dict[str, Any]:
    """The manifest's record of where training started."""
    return {"resumed_from": Path(path).name if path else None}
