"""``dry_run=true``: the first rows as they will be trained (trained text in [[...]]), the token
counts and every pre-flight check's verdict, on stdout and in OUT/dry_run.txt; nothing is trained
and nothing else is written; a failing check fails the dry run, showing why."""

import json
import os
import re
import subprocess
import sys

import pytest

from curation.core.chat import CHATML_TRAINING_TEMPLATE
from curation.core.config import UserError, compose_config
from curation.core.models import ModelConfig
from tests import PROJECT_ROOT
from training.preview import COLOR_MARKS, build_dry_run_report
from training.run import run
from training.trainer import load_model_for_training

CHATS = [[{"role": "user", "content": f"What is the capital of country {i}?"},
          {"role": "assistant", "content": f"The capital is city {i}."}] for i in range(3)]
LONG = [{"role": "user", "content": "Name the rivers."},
        {"role": "assistant", "content": "The river " * 40}]  # over max_length=64 below
# the training template with <|im_end|> closed outside the generation block: never trained
EOS_OUTSIDE = CHATML_TRAINING_TEMPLATE.replace(
    "{%- generation -%}{{- message['content'] + '<|im_end|>' -}}{%- endgeneration -%}",
    "{%- generation -%}{{- message['content'] -}}{%- endgeneration -%}{{- '<|im_end|>' -}}")


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps({"messages": m}) + "\n" for m in [*CHATS, LONG]))
    return path


def _overrides(tiny_model_dir, data, out, *extra):
    return [f"data={data}", f"out={out}", f"model.path={tiny_model_dir}", "model.name=tiny",
            "model.device=cpu", "trainer=smoke", "show_progress=false", "max_length=64",
            "dry_run=true", *extra]


def test_dry_run_shows_rows_counts_and_checks_and_trains_nothing(tiny_model_dir, data,
                                                                  tmp_path, capsys):
    out = tmp_path / "out"
    result = run(compose_config("train", _overrides(tiny_model_dir, data, out, "dry_run_rows=2")))
    written = (out / "dry_run.txt").read_text()
    assert capsys.readouterr().out == written + "\n"  # not a terminal: marked as in the file
    assert sorted(p.name for p in out.iterdir()) == ["dry_run.txt"]  # no weights, config, manifest
    assert re.findall(r"--- row (\d+): \d+ tokens, \d+ trained ---", written) == ["0", "1"]
    assert "<|im_start|>assistant\n[[The capital is city 1.<|im_end|>]]" in written
    assert "3 rows to train with lora; over_length=drop at max_length=64: 0 truncated, 1 dropped"\
        in written
    assert re.search(r"\d+ of \d+ tokens per epoch carry loss", written)
    assert written.count("\nok    ") == 6 and "FAIL" not in written
    assert result["rows"] == {"trained": 3, "truncated": 0, "dropped": 1}
    assert set(result["checks"]) >= {"end of turn trained", "pad is not eos"}


def test_dry_run_counts_the_dev_set(tiny_model_dir, data, tmp_path):
    out = tmp_path / "out"
    result = run(compose_config("train", _overrides(tiny_model_dir, data, out,
                                                    f"early_stopping.dev_data={data}")))
    assert result["rows"]["dev"] == {"evaluated": 3, "truncated": 0, "dropped": 1}
    assert "dev set: 3 rows to evaluate, 0 truncated, 1 dropped" in (out / "dry_run.txt").read_text()


def test_dry_run_fails_on_a_failing_check_and_shows_why(tiny_model_dir, data, tmp_path):
    template = tmp_path / "eos_outside.jinja"  # a chat_template choice, as a user would give it
    template.write_text(EOS_OUTSIDE)
    out = tmp_path / "out"
    with pytest.raises(UserError, match=r"1 pre-flight check\(s\) failed \(end of turn trained\)"):
        run(compose_config("train", _overrides(tiny_model_dir, data, out,
                                               f"chat_template={template}")))
    written = (out / "dry_run.txt").read_text()
    assert "[[The capital is city 0.]]<|im_end|>" in written  # the rows show the untrained EOS
    assert "FAIL  end of turn trained: training row 0 does not train the <|im_end|>" in written
    assert not (out / "manifest.json").exists()


def test_dry_run_colours_trained_text_on_a_terminal(tiny_model_dir):
    _, tokenizer = load_model_for_training(ModelConfig(path=str(tiny_model_dir), device="cpu"),
                                           "full", str(tiny_model_dir))
    out = tokenizer.apply_chat_template(CHATS[0], tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    ids = out["input_ids"]
    labels = [t if m else -100 for t, m in zip(ids, out["assistant_masks"], strict=True)]
    report = build_dry_run_report([(ids, labels)], tokenizer, summary=[], results=[], color=True)
    start, end = COLOR_MARKS
    assert f"{start}The capital is city 0.<|im_end|>{end}" in report and "[[" not in report


def test_cli_dry_run(data, tmp_path, cache_dir):
    env = {**os.environ, "LESSMORE_CACHE": str(cache_dir), "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": "1"}
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "training", f"data={data}", f"out={out}", "model=tiny",
           "trainer=smoke", "show_progress=false", "max_length=64", "dry_run=true",
           "dry_run_rows=1"]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[[The capital is city 0.<|im_end|>]]" in proc.stdout and "--- row 1" not in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["dry_run.txt"]
