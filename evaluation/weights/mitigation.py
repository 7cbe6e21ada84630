"""peft's ``reduce_intruder_dimension`` beside lessmore's own intruder count: a cross-check of
the detection (same top_k and epsilon, same definition) and, optionally, peft's mitigation
written as a new adapter.

peft reports its per-layer findings only through ``logging_sink`` messages
(``"<layer>: Intruders: <n>"`` or ``"<layer>: No intruders"``); they are parsed here, and a
message of any other shape fails loudly rather than reading as zero.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from curation.core.io import atomic_path

log = logging.getLogger(__name__)

MITIGATED_ADAPTER = "intruder_reduced"  # peft's default name for the new adapter
PEFT_PREFIX = "base_model.model."
_FOUND = re.compile(r"^(?P<name>\S+): Intruders: (?P<n>\d+)$")
_NONE = re.compile(r"^(?P<name>\S+): No intruders$")
_DONE = re.compile(r"^Enabling new adapter ")


def run_peft_reduction(model: Any, top_k: int, epsilon: float, mitigation_lambda: float
                       ) -> dict[str, int]:
    """Run peft's function on ``model`` (adds and activates the reduced adapter); returns its
    intruder count per matrix name (names as in :mod:`evaluation.weights.pairs`)."""
    from peft.tuners.lora.intruders import reduce_intruder_dimension

    counts: dict[str, int] = {}

    def sink(message: str) -> None:
        found, none = _FOUND.match(message), _NONE.match(message)
        if found or none:
            match = found or none
            counts[match["name"].removeprefix(PEFT_PREFIX)] = int(found["n"]) if found else 0
        elif not _DONE.match(message):
            raise RuntimeError(f"unexpected message from peft's reduce_intruder_dimension: "
                               f"{message!r} (peft changed its log format?)")

    reduce_intruder_dimension(model, new_adapter_name=MITIGATED_ADAPTER, top_k=top_k,
                              threshold_epsilon=epsilon, mitigation_lambda=mitigation_lambda,
                              logging_sink=sink)
    return counts


def check_against_peft(model: Any, matrices: list[Any], top_k: int, epsilon: float,
                       mitigation_lambda: float) -> dict[str, Any]:
    """peft's counts against ours (``MatrixReport`` rows): totals, whether every matrix agrees,
    and each disagreement with our |cos| closest to epsilon (a near-tie there is rounding)."""
    theirs = run_peft_reduction(model, top_k, epsilon, mitigation_lambda)
    ours = {m.name: m for m in matrices}
    mismatches = []
    for name in sorted(set(ours) | set(theirs)):
        mine = ours[name].intruders if name in ours else None
        if mine != theirs.get(name):
            margin = (min(abs(c - epsilon) for c in ours[name].max_cos) if name in ours else None)
            mismatches.append({"name": name, "ours": mine, "peft": theirs.get(name),
                               "closest_margin": margin})
    if mismatches:
        log.warning("peft disagrees on %d matrices: %s", len(mismatches), mismatches[:3])
    return {"intruders": sum(theirs.values()), "matrices": len(theirs),
            "agrees": not mismatches, "mismatches": mismatches}


def save_mitigated(model: Any, tokenizer: Any, out: Path) -> Path:
    """Write the reduced adapter (made by :func:`run_peft_reduction`) as a plain adapter folder,
    with the tokenizer, so ``model.path=OUT/mitigated`` evaluates it."""
    with tempfile.TemporaryDirectory() as scratch, atomic_path(out) as tmp:
        model.save_pretrained(scratch, selected_adapters=[MITIGATED_ADAPTER])
        saved = Path(scratch) / MITIGATED_ADAPTER  # peft puts a non-default adapter in a subfolder
        shutil.copytree(saved if saved.is_dir() else scratch, tmp)
        tokenizer.save_pretrained(tmp)
    log.info("mitigated adapter (peft reduce_intruder_dimension) -> %s", out)
    return out
