"""Weight analysis: intruder dimensions against constructed answers and against peft's own
``reduce_intruder_dimension``, effective rank of ΔW, the full-FT control, deterministic files."""

import json
import shutil

import numpy as np
import pytest
import torch

from curation.core.config import UserError, compose_config
from curation.core.io import write_json
from evaluation import config as _schema  # noqa: F401  (registers the schemas)
from evaluation.weights.mitigation import run_peft_reduction
from evaluation.weights.pairs import load_weight_pairs
from evaluation.weights.run import analyse_pairs, run
from evaluation.weights.spectra import (
    compute_effective_rank,
    compute_low_rank_singular_values,
    compute_singular_values,
    compute_spectrum,
    count_intruders,
)


def orthonormal(rng, n, k):
    return np.linalg.qr(rng.standard_normal((n, n)))[0][:, :k]


def spiked_pair(m, n, spike=20.0):
    """W₀ = U S Vᵀ (20 large σ, 28 small) and W = W₀ + spike·u vᵀ with u, v spread evenly over
    the 28 bottom singular vectors: W is block-diagonal in W₀'s bases, its top singular vector is
    ≈ u (|cos| ≈ 1/√28 ≈ 0.19 with every base vector) and its next nine are W₀'s own."""
    rng = np.random.default_rng(0)
    r = min(m, n)
    u_basis, v_basis = orthonormal(rng, m, r), orthonormal(rng, n, r)
    sigma = np.concatenate([np.linspace(10, 5, 20), np.linspace(0.5, 0.1, r - 20)])
    w0 = (u_basis * sigma) @ v_basis.T
    u = u_basis[:, 20:].sum(axis=1) / np.sqrt(r - 20)
    v = v_basis[:, 20:].sum(axis=1) / np.sqrt(r - 20)
    return w0.astype(np.float32), (w0 + spike * np.outer(u, v)).astype(np.float32)


@pytest.mark.parametrize("shape", [(48, 64), (64, 48), (48, 48)])
def test_a_spike_orthogonal_to_the_top_is_exactly_one_intruder(shape):
    w0, w = spiked_pair(*shape)
    s = compute_spectrum(w0, w, top_k=10)
    assert s.top_singular_values[0] > 19.9  # the spike entered the top-k, first
    assert s.max_cos[0] == pytest.approx(1 / np.sqrt(28), abs=0.02)
    assert min(s.max_cos[1:]) > 0.999  # the other nine are W₀'s own vectors
    for epsilon in (0.3, 0.4, 0.5, 0.6, 0.7):
        assert count_intruders(s.max_cos, epsilon) == 1
    assert count_intruders(spectrum_without_spike(shape).max_cos, 0.5) == 0


def spectrum_without_spike(shape):
    w0, _ = spiked_pair(*shape)
    return compute_spectrum(w0, w0 * 1.01, top_k=10)


def test_a_small_dense_update_has_no_intruders():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((64, 96)).astype(np.float32)
    w = w0 + 0.01 * rng.standard_normal(w0.shape).astype(np.float32)
    s = compute_spectrum(w0, w, top_k=10)
    assert count_intruders(s.max_cos, 0.7) == 0 and min(s.max_cos) > 0.9
    assert s.delta_effective_rank > 40  # a dense update: high effective rank


@pytest.mark.parametrize("rank", [1, 3, 8])
def test_effective_rank_of_a_rank_r_update_is_r(rank):
    rng = np.random.default_rng(rank)
    b, a = orthonormal(rng, 64, rank) * 2.0, orthonormal(rng, 96, rank).T  # r equal σ = 2
    assert compute_effective_rank(compute_singular_values(b @ a)) == pytest.approx(rank, abs=1e-4)
    assert compute_effective_rank(compute_low_rank_singular_values(b, a)) == pytest.approx(rank)
    # unequal singular values: strictly between 1 and r
    skewed = b * np.linspace(1, 0.1, rank)
    if rank > 1:
        assert 1 < compute_effective_rank(compute_low_rank_singular_values(skewed, a)) < rank
    w0 = rng.standard_normal((64, 96))
    dense = compute_spectrum(w0, w0 + b @ a)
    factored = compute_spectrum(w0, w0 + b @ a, delta_factors=(b, a))
    assert dense.delta_effective_rank == pytest.approx(factored.delta_effective_rank, abs=1e-3)
    assert compute_effective_rank(np.zeros(5)) == 0.0


# --- model-based: LoRA adapters and full fine-tunes of the tiny model ---------------------------

def make_lora(tiny_model_dir, out, b_std=0.5, seed=0):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=b_std)
    peft_model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


def make_full(tiny_model_dir, out, rel=0.01, skip="model.layers.1.mlp.down_proj", head=False):
    """The tiny model with every decoder linear layer but ``skip`` moved by rel x its RMS (and,
    with ``head``, the output layer too, as a real full fine-tune moves it)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    with torch.no_grad():
        for name, module in model.named_modules():
            moved = ".layers." in name or (head and name == "lm_head")
            if isinstance(module, torch.nn.Linear) and moved and name != skip:
                module.weight.add_(torch.randn_like(module.weight) * rel
                                   * module.weight.pow(2).mean().sqrt())
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny_lora(tiny_model_dir, tmp_path_factory):
    return make_lora(tiny_model_dir, tmp_path_factory.mktemp("lora") / "adapter")


@pytest.fixture(scope="module")
def tiny_full(tiny_model_dir, tmp_path_factory):
    return make_full(tiny_model_dir, tmp_path_factory.mktemp("full") / "model")


def test_detection_agrees_with_peft_matrix_by_matrix(tiny_lora):
    ours = analyse_pairs(load_weight_pairs(str(tiny_lora)), top_k=10, epsilon=0.5)
    peft_counts = run_peft_reduction(load_weight_pairs(str(tiny_lora)).model, 10, 0.5, 0.75)
    assert {m.name: m.intruders for m in ours} == peft_counts
    assert len(peft_counts) == 14 and sum(peft_counts.values()) > 0  # 2 layers x 7 modules


def test_lora_run_with_full_control_writes_typed_deterministic_outputs(tmp_path, tiny_lora,
                                                                       tiny_full, tiny_model_dir):
    cfg = compose_config("weights", [f"run={tiny_lora}", f"control={tiny_full}",
                                     f"base={tiny_model_dir}", f"out={tmp_path}",
                                     "peft_check=true"])
    doc = run(cfg)
    lora, full = doc["runs"]["run"], doc["runs"]["control"]
    assert json.loads((tmp_path / "weights.json").read_text()) == doc
    assert lora["method"] == "lora" and lora["intruders"] > 0
    assert lora["peft"]["agrees"] and lora["peft"]["intruders"] == lora["intruders"]
    assert sum(lora["by_module"].values()) == sum(lora["by_layer"].values()) == lora["intruders"]
    assert lora["sweep"]["0.5"] == lora["intruders"]
    assert list(lora["sweep"].values()) == sorted(lora["sweep"].values())  # more at larger ε
    assert all(3.0 < r <= 4.0 for r in lora["effective_rank_by_module"].values())  # rank 4
    # the full-FT control: every changed linear layer, no intruders, high effective rank
    assert full["method"] == "full" and full["intruders"] == 0 and full["sweep"]["0.7"] == 0
    names = [m["name"] for m in full["matrices"]]
    assert len(names) == 13 and "model.layers.1.mlp.down_proj" not in names  # unchanged: out
    assert min(full["effective_rank_by_module"].values()) > 10
    files = ["weights.json", "plots/intruders.png", "plots/epsilon_sweep.png"]
    first = {f: (tmp_path / f).read_bytes() for f in files}
    run(cfg)
    assert {f: (tmp_path / f).read_bytes() for f in files} == first


def test_the_control_is_compared_on_the_runs_own_matrices(tmp_path, tiny_model_dir):
    """A full fine-tune also moves lm_head (tied to the embeddings), which LoRA all-linear never
    touches: the control counts only the matrices the run adapted and lists the rest."""
    lora = make_lora(tiny_model_dir, tmp_path / "lora")
    full = make_full(tiny_model_dir, tmp_path / "full", head=True)
    doc = run(compose_config("weights", [f"run={lora}", f"control={full}",
                                         f"base={tiny_model_dir}", f"out={tmp_path / 'out'}"]))
    run_names = {m["name"] for m in doc["runs"]["run"]["matrices"]}
    control = doc["runs"]["control"]
    assert "lm_head" not in run_names and control["left_out"] == ["lm_head"]
    assert {m["name"] for m in control["matrices"]} == run_names - {"model.layers.1.mlp.down_proj"}
    assert "control" in doc["definitions"]["matrices"]
    # analysed on its own, the same full fine-tune counts every layer it changed
    alone = run(compose_config("weights", [f"run={full}", f"base={tiny_model_dir}",
                                           f"out={tmp_path / 'alone'}"]))["runs"]["run"]
    assert "lm_head" in {m["name"] for m in alone["matrices"]} and alone["left_out"] == []


def test_mitigated_adapter_is_written_and_loads(tmp_path, tiny_lora):
    from curation.core.models import ModelConfig, load_model

    cfg = compose_config("weights", [f"run={tiny_lora}", f"out={tmp_path}", "mitigate=true",
                                     "mitigation_lambda=0.0"])
    before = run(cfg)["runs"]["run"]["intruders"]
    load_model(ModelConfig(path=str(tmp_path / "mitigated"), dtype="float32", device="cpu"))
    after = run(compose_config("weights", [f"run={tmp_path / 'mitigated'}",
                                           f"out={tmp_path / 'again'}"]))
    assert after["runs"]["run"]["intruders"] < before  # peft removed intruder directions


def test_training_run_takes_its_base_from_the_manifest(tmp_path, tiny_full, tiny_model_dir):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_full, run_dir)
    write_json(run_dir / "manifest.json", {"stage": "train", "method": "full",
                                           "base_model": {"path": "tiny"},
                                           "base_model_path": str(tiny_model_dir)})
    pairs = load_weight_pairs(str(run_dir))
    assert pairs.method == "full" and pairs.base == str(tiny_model_dir) and len(pairs.names) == 13


def test_unusable_inputs_fail_with_one_line(tmp_path, tiny_full, tiny_lora, tiny_model_dir):
    with pytest.raises(UserError, match="name its base"):
        load_weight_pairs(str(tiny_full))
    with pytest.raises(UserError, match="LoRA adapter of"):
        load_weight_pairs(str(tiny_lora), base=str(tiny_full))
    with pytest.raises(UserError, match="no adapted matrix differs"):
        run(compose_config("weights", [f"run={tiny_model_dir}", f"base={tiny_model_dir}",
                                       f"out={tmp_path}"]))
