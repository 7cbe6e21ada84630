"""Training under ``accelerate launch``: two CPU processes (gloo) train one run directory, fixed
once by the launcher; the command the launcher builds; the shipped accelerate config files."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml
from accelerate.commands.config.config_args import load_config_from_file

import training.config  # noqa: F401  (registers the train schema)
from curation.core.config import UserError, compose_config
from curation.core.models import ModelConfig, load_model
from tests import PROJECT_ROOT
from training.launch import (
    ACCELERATE_DIR,
    build_launch_command,
    find_accelerate_config,
    quote_value,
)
from training.runtime import describe_launch

CONFIGS = {"ddp": "MULTI_GPU", "cpu_ddp": "MULTI_GPU", "zero2": "DEEPSPEED",
           "zero3": "DEEPSPEED", "fsdp": "FSDP"}


@pytest.fixture(scope="module")
def chats(tmp_path_factory):
    path = tmp_path_factory.mktemp("launch-data") / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"What is the capital of country {i}?"},
                          {"role": "assistant", "content": f"The capital is city {i}."}]}
            for i in range(16)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_two_cpu_processes_train_one_run(chats, tmp_path, tiny_model_dir, cache_dir):
    # a user's own experiment config, with ${now:} to the microsecond in its `out`: each rank
    # composes the config itself, so unless the launcher fixes `out` once, two runs appear
    (tmp_path / "exp.yaml").write_text(
        "# test experiment\ndefaults: [train, _self_]\n"
        f"out: {tmp_path}/runs/run-${{now:%H%M%S%f}}\n")
    env = {**os.environ, "LESSMORE_CACHE": str(cache_dir)}
    env.pop("OMP_NUM_THREADS", None)  # the launcher pins threads per process itself
    proc = subprocess.run(
        [sys.executable, "-m", "training", f"--config-dir={tmp_path}", "--config-name=exp",
         f"data={chats}", "model=tiny", f"model.path={tiny_model_dir}", "trainer=smoke",
         "show_progress=false", "launcher=accelerate", "accelerate_config=cpu_ddp"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    threads = max(1, len(os.sched_getaffinity(0)) // 2)  # cores / processes
    assert f"--num_cpu_threads_per_process {threads} " in proc.stdout + proc.stderr
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("run-"), runs
    assert len(list(tmp_path.rglob("manifest.json"))) == 1
    assert not list(runs[0].glob(".*"))  # no temporary folder left behind
    launch = json.loads((runs[0] / "manifest.json").read_text())["launch"]
    assert launch == {"launcher": "accelerate", "accelerate_config": "cpu_ddp",
                      "distributed_type": "MULTI_CPU", "world_size": 2,
                      "per_device_batch_size": 4, "gradient_accumulation_steps": 1,
                      "global_batch_size": 8}
    assert ("- **Launch**: 2 processes, launched by accelerate, accelerate config `cpu_ddp` "
            "(MULTI_CPU); global batch 8 (per device 4 x accumulation 1 x processes 2)"
            ) in (runs[0] / "README.md").read_text()
    model, _ = load_model(ModelConfig(path=str(runs[0]), device="cpu"))
    assert type(model).__name__ == "LlamaForCausalLM"


def _cfg(**kw):
    base = {"accelerate_config": "ddp", "num_processes": None, "out": "runs/x"}
    return SimpleNamespace(**{**base, **kw})


def test_launch_command_forwards_overrides_and_a_literal_out(monkeypatch, tmp_path):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.chdir(tmp_path)
    overrides = ["data=d", "launcher=accelerate", "accelerate_config=ddp", "num_processes=4",
                 "out=runs/${now:%H}", "+trainer.gradient_accumulation_steps=2", "method=full"]
    cmd = build_launch_command(_cfg(num_processes=4), overrides,
                               find_accelerate_config("ddp"), gpus=8, cores=16)
    assert cmd[cmd.index("--config_file") + 1] == str(ACCELERATE_DIR / "ddp.yaml")
    assert cmd[cmd.index("--num_processes") + 1] == "4"
    assert cmd[cmd.index("--num_cpu_threads_per_process") + 1] == "4"  # 16 cores / 4
    tail = cmd[cmd.index("-m", cmd.index("--config_file")) + 1:]
    assert tail == ["training", "data=d", "+trainer.gradient_accumulation_steps=2",
                    "method=full", f"out='{tmp_path / 'runs' / 'x'}'"]


def test_process_count_and_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)

    def count(name, gpus, cores=2):
        cmd = build_launch_command(_cfg(), [], find_accelerate_config(name), gpus, cores)
        flag = cmd.index("--num_processes")
        return cmd[flag + 1], cmd[cmd.index("--num_cpu_threads_per_process") + 1]

    assert count("ddp", gpus=4, cores=32) == ("4", "8")  # -1 in the file: one per GPU
    assert count("cpu_ddp", gpus=0) == ("2", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own setting wins
    assert count("cpu_ddp", gpus=0) == ("2", "3")
    with pytest.raises(UserError, match="none is visible"):
        count("ddp", gpus=0)
    with pytest.raises(UserError, match="DeepSpeed needs GPUs"):
        count("zero3", gpus=0)
    with pytest.raises(UserError, match="cpu_ddp"):
        find_accelerate_config("no_such_config")


def test_quoted_out_reaches_hydra_unchanged():
    odd = "/tmp/runs/a b,c=d'e"
    assert compose_config("train", ["data=d", f"out={quote_value(odd)}"]).out == odd


def test_describe_launch_computes_the_global_batch(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    args = SimpleNamespace(distributed_state=None, world_size=3, per_device_train_batch_size=4,
                           gradient_accumulation_steps=2)
    launch = describe_launch(args)
    assert launch["global_batch_size"] == 24 and launch["launcher"] == "none"
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")
    assert describe_launch(args)["launcher"] == "accelerate"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_accelerate_configs_load_and_say_how_to_run_them(name):
    path = ACCELERATE_DIR / f"{name}.yaml"
    config = load_config_from_file(str(path))  # accelerate refuses unknown keys
    assert config.distributed_type.value == CONFIGS[name]
    header = path.read_text().split("\n", 2)
    assert header[0].startswith(f"# lessmore train launcher=accelerate accelerate_config={name}")
    assert f"accelerate launch --config_file conf/accelerate/{name}.yaml" in header[1]


def test_sharded_configs_save_plain_weights():
    from transformers import LlamaForCausalLM  # SmolLM2's class, and the tiny model's

    zero3 = yaml.safe_load((ACCELERATE_DIR / "zero3.yaml").read_text())["deepspeed_config"]
    assert zero3["zero_stage"] == 3 and zero3["zero3_save_16bit_model"] is True
    fsdp = yaml.safe_load((ACCELERATE_DIR / "fsdp.yaml").read_text())["fsdp_config"]
    assert fsdp["fsdp_state_dict_type"] == "FULL_STATE_DICT"
    assert fsdp["fsdp_transformer_layer_cls_to_wrap"] in LlamaForCausalLM._no_split_modules
