"""``python -m evaluation.weights run=RUN out=DIR``: where a fine-tune changed the weights
(DESIGN §5, Weights). See ``conf/weights.yaml``.

Layout of ``out``::

    config.yaml                 the resolved config
    weights.json                per run (and control): every adapted matrix, counts per layer,
                                module and epsilon, effective rank of ΔW; no timestamps
    plots/intruders.png         intruders per layer x module
    plots/epsilon_sweep.png     intruders against epsilon
    mitigated/                  with mitigate=true: peft's intruder-reduced adapter
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from curation.core.config import UserError, save_resolved_config, to_container
from curation.core.contract import INTRUDER_PLOT, SWEEP_PLOT, WEIGHTS
from curation.core.io import collect_versions, write_json

from .config import WeightsConfig
from .mitigation import check_against_peft, save_mitigated
from .pairs import WeightPairs, load_weight_pairs
from .plots import plot_epsilon_sweep, plot_intruder_map
from .spectra import Spectrum, compute_spectrum, count_intruders

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFINITIONS = {
    "intruder": "a tuned top-k left singular vector whose largest |cos| with every left singular "
                "vector of W0 (thin SVD) is below epsilon",
    "effective_rank": "Roy & Vetterli (2007): exp(H(p)), p_i = s_i / sum_j s_j over the singular "
                      "values of dW = W - W0, H in nats",
    "matrices": "LoRA: every targeted module, W = W0 + dW merged in float32; full fine-tune: every "
                "linear layer whose weights changed; a control: only the matrices the run "
                "adapted (so a LoRA all-linear run and its full-FT control compare the same "
                "set: lm_head and tied embeddings, which LoRA never touches, are left out and "
                "listed in left_out)",
}


@dataclass
class MatrixReport:
    """One adapted matrix."""

    name: str
    layer: int | None
    module: str
    shape: list[int]
    intruders: int  # at the run's epsilon
    max_cos: list[float]  # per tuned top-k vector, by singular value
    top_singular_values: list[float]
    delta_effective_rank: float
    delta_relative_norm: float  # ||dW||_F / ||W0||_F


@dataclass
class RunReport:
    """One run against its base: per-matrix rows and their sums."""

    path: str
    base: str
    method: str  # lora | full
    intruders: int
    matrices_with_intruders: int
    by_module: dict[str, int]
    by_layer: dict[str, int]
    sweep: dict[str, int]  # epsilon -> intruders over all matrices
    effective_rank_by_module: dict[str, float]  # mean over layers
    matrices: list[MatrixReport]
    peft: dict[str, Any] | None = None  # peft's counts against ours (peft_check=true)
    left_out: list[str] = field(default_factory=list)  # changed, outside the compared set


def run(cfg: WeightsConfig) -> dict[str, Any]:
    """Analyse ``cfg.run`` (and ``cfg.control``); write weights.json and plots; return the doc."""
    out = Path(cfg.out)
    runs = {"run": analyse_run(cfg.run, cfg, out)}
    if cfg.control:  # compared on the run's own matrices, not on every layer it changed
        runs["control"] = analyse_run(cfg.control, cfg, out,
                                      only=frozenset(m.name for m in runs["run"].matrices))
        missing = {m.name for m in runs["run"].matrices} - {
            m.name for m in runs["control"].matrices}
        if missing:
            log.warning("control %s left %d of the run's matrices unchanged (e.g. %s): they "
                        "are not compared", cfg.control, len(missing), min(missing))
    if "control" in runs and runs["control"].method != "full":
        log.warning("control %s is a %s run; the control is meant to be a full fine-tune",
                    cfg.control, runs["control"].method)
    save_resolved_config(cfg, out)
    doc = {"schema_version": SCHEMA_VERSION, "definitions": DEFINITIONS,
           "settings": {"top_k": cfg.top_k, "epsilon": cfg.epsilon, "sweep": list(cfg.sweep)},
           "runs": {role: asdict(report) for role, report in runs.items()},
           "config": to_container(cfg), "versions": collect_versions()}
    write_json(out / WEIGHTS, doc)
    plot_intruder_map(runs, out / INTRUDER_PLOT)
    plot_epsilon_sweep(runs, sorted({*cfg.sweep, cfg.epsilon}), out / SWEEP_PLOT)
    for role, report in runs.items():
        log.info("%s: %d intruders at epsilon=%g in %d/%d matrices", role, report.intruders,
                 cfg.epsilon, report.matrices_with_intruders, len(report.matrices))
    return doc


def analyse_run(path: str, cfg: WeightsConfig, out: Path,
                only: frozenset[str] | None = None) -> RunReport:
    """Load a run's matrix pairs (a full fine-tune's restricted to ``only``), compare their
    spectra, and (LoRA) cross-check with peft."""
    pairs = load_weight_pairs(path, cfg.base, only)
    if pairs.left_out:
        log.info("%s: %d changed matrices outside the compared set left out (%s)", path,
                 len(pairs.left_out), ", ".join(pairs.left_out[:3]))
    matrices = analyse_pairs(pairs, cfg.top_k, cfg.epsilon, cfg.threads)
    report = summarise(pairs, matrices, cfg.sweep)
    report.left_out = list(pairs.left_out)
    if pairs.method == "lora" and (cfg.peft_check or cfg.mitigate):
        with limit_threads(cfg.threads):  # peft's SVDs run in torch (MKL)
            report.peft = check_against_peft(pairs.model, matrices, cfg.top_k, cfg.epsilon,
                                             cfg.mitigation_lambda)
        if cfg.mitigate:
            save_mitigated(pairs.model, pairs.tokenizer, out / "mitigated")
    elif cfg.peft_check or cfg.mitigate:
        log.warning("%s is a full fine-tune: peft_check and mitigate apply to LoRA only", path)
    return report


def analyse_pairs(pairs: WeightPairs, top_k: int, epsilon: float, threads: int = 1
                  ) -> list[MatrixReport]:
    """One MatrixReport per pair, in model order (BLAS limited to ``threads``)."""
    reports = []
    with limit_threads(threads):
        for i in range(len(pairs.names)):
            factors = pairs.delta_factors[i]
            spectrum = compute_spectrum(pairs.base_weights[i].numpy(),
                                        pairs.tuned_weights[i].numpy(), top_k,
                                        factors and (factors[0].numpy(), factors[1].numpy()))
            reports.append(build_matrix_report(pairs, i, spectrum, epsilon))
    return reports


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """BLAS (scipy's OpenBLAS) and torch limited to ``threads`` for the block, then restored."""
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)


def build_matrix_report(pairs: WeightPairs, i: int, spectrum: Spectrum, epsilon: float
                        ) -> MatrixReport:
    # rounded before counting, so a reader recounting from max_cos gets the same numbers
    max_cos = [round(c, 6) for c in spectrum.max_cos]
    name = pairs.names[i]
    return MatrixReport(name=name, layer=pairs.layers[i], module=name.rsplit(".", 1)[-1],
                        shape=list(pairs.base_weights[i].shape),
                        intruders=count_intruders(max_cos, epsilon), max_cos=max_cos,
                        top_singular_values=[round(v, 6) for v in spectrum.top_singular_values],
                        delta_effective_rank=round(spectrum.delta_effective_rank, 4),
                        delta_relative_norm=round(spectrum.delta_relative_norm, 6))


def summarise(pairs: WeightPairs, matrices: list[MatrixReport], sweep: list[float]) -> RunReport:
    """Sums per module, per layer and per epsilon of the sweep."""
    if not matrices:
        raise UserError(f"{pairs.path}: no adapted matrix differs from the base {pairs.base}")
    by_module: dict[str, int] = {}
    by_layer: dict[str, int] = {}
    ranks: dict[str, list[float]] = {}
    for m in matrices:
        by_module[m.module] = by_module.get(m.module, 0) + m.intruders
        if m.layer is not None:
            by_layer[str(m.layer)] = by_layer.get(str(m.layer), 0) + m.intruders
        ranks.setdefault(m.module, []).append(m.delta_effective_rank)
    return RunReport(
        path=pairs.path, base=pairs.base, method=pairs.method,
        intruders=sum(m.intruders for m in matrices),
        matrices_with_intruders=sum(m.intruders > 0 for m in matrices),
        by_module=by_module, by_layer=by_layer,
        sweep={f"{e:g}": sum(count_intruders(m.max_cos, e) for m in matrices) for e in sweep},
        effective_rank_by_module={k: round(sum(v) / len(v), 4) for k, v in ranks.items()},
        matrices=matrices)
