"""A Hydra multirun (``python -m training -m``) trains every combination into its own run
directory under ``out``, named by its overrides, each with a manifest of its own settings."""

import json
import os
import subprocess
import sys

import yaml

import training.config  # noqa: F401  (registers the train schema)
from curation.core.config import compose_config
from tests import PROJECT_ROOT

# kv_sep "-", item_sep "__", sorted by key; data, out and model.path are left out of the name
NAMES = {f"lora.r-{r}__method-{m}__model-tiny__trainer.max_steps-1__trainer-smoke": (m, r)
         for m in ("lora", "full") for r in (4, 8)}


def test_sweep_trains_each_combination_into_its_own_directory(tmp_path, tiny_model_dir,
                                                              cache_dir):
    data = tmp_path / "chats.jsonl"
    data.write_text("".join(json.dumps({"messages": [
        {"role": "user", "content": f"Name river {i}."},
        {"role": "assistant", "content": f"River {i} it is."}]}) + "\n" for i in range(8)))
    out = tmp_path / "sweep"
    env = {**os.environ, "LESSMORE_CACHE": str(cache_dir), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "training", "-m", "method=lora,full", "lora.r=4,8",
         f"data={data}", f"out={out}", "model=tiny", f"model.path={tiny_model_dir}",
         "trainer=smoke", "trainer.max_steps=1", "show_progress=false"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = {p.name for p in out.iterdir() if p.is_dir()}
    assert runs == set(NAMES)
    assert (out / "multirun.yaml").is_file()  # Hydra's record of the whole sweep
    for name, (method, rank) in NAMES.items():
        run = out / name
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["method"] == method and manifest["metrics"]["steps"] == 1
        config = yaml.safe_load((run / "config.yaml").read_text())
        assert config["out"] == str(run) and config["lora"]["r"] == rank
        if method == "lora":
            assert manifest["hyperparameters"]["lora.r"] == rank
            assert json.loads((run / "adapter_config.json").read_text())["r"] == rank
        else:
            assert (run / "model.safetensors").is_file()
            assert not (run / "adapter_config.json").exists()


def test_run_directory_names_pass_as_hydra_overrides():
    # a sweep's run directory is what `lessmore evaluate model.path=...` is given next
    for name in NAMES:
        path = f"/runs/sweep/{name}"
        assert compose_config("train", ["data=d", f"out={path}"]).out == path
