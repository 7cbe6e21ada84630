"""Pre-flight checks and over_length on the tiny model: each crafted mistake (a template that
trains nothing, everything, the prompt, or no <|im_end|>; a cut reply; an EOS or pad that
disagrees) fails with a UserError that names the row and shows what is trained; sound data passes.
"""

import importlib.util
import json

import pytest
import torch
from datasets import Dataset

from curation.core.chat import CHATML_TRAINING_TEMPLATE, END_OF_TURN, compute_token_lengths
from curation.core.config import UserError, compose_config
from curation.core.models import ModelConfig
from training.checks import collect_check_results, run_preflight_checks
from training.config import check_config, resolve_learning_rate
from training.data import apply_over_length, fit_whole_turns
from training.mask_checks import build_template_rows, check_end_of_turn_trained
from training.preview import find_turns, render_trained_spans, split_sequences
from training.trainer import (
    build_peft_config,
    build_sft_config,
    build_trainer,
    load_model_for_training,
)

GENERATION = "{%- generation -%}{{- message['content'] + '<|im_end|>' -}}{%- endgeneration -%}"
NO_MARKERS = CHATML_TRAINING_TEMPLATE.replace(GENERATION,
                                              "{{- message['content'] + '<|im_end|>' -}}")
EOS_OUTSIDE = CHATML_TRAINING_TEMPLATE.replace(GENERATION, (
    "{%- generation -%}{{- message['content'] -}}{%- endgeneration -%}{{- '<|im_end|>' -}}"))
TRAINS_EVERYTHING = "{%- generation -%}" + NO_MARKERS + "{%- endgeneration -%}"
TRAINS_USER = CHATML_TRAINING_TEMPLATE.replace(  # the user's words inside a generation block too
    "'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}",
    "'<|im_start|>' + message['role'] + '\\n' -}}{%- generation -%}{{- message['content'] -}}"
    "{%- endgeneration -%}{{- '<|im_end|>\\n' -}}")
CHATS = [[{"role": "user", "content": f"What is the capital of country {i}?"},
          {"role": "assistant", "content": f"The capital is city {i}."}] for i in range(3)]
TWO_TURNS = [*CHATS[0], {"role": "user", "content": "And its river?"},
             {"role": "assistant", "content": "The river of the city is long."}]


def _trainer(tiny_model_dir, tmp_path, *, template=CHATML_TRAINING_TEMPLATE, chats=CHATS,
             pad=None, max_length=256):
    """An SFTTrainer built as the stage builds it (full fine-tuning: no adapter to wrap)."""
    cfg = compose_config("train", [f"data={tmp_path}", f"out={tmp_path / 'out'}",
                                   f"max_length={max_length}", "method=full", "trainer=smoke",
                                   "show_progress=false", "model.device=cpu"])
    model_cfg = ModelConfig(path=str(tiny_model_dir), device="cpu", dtype="float32")
    model, tokenizer = load_model_for_training(model_cfg, "full", str(tiny_model_dir))
    tokenizer.chat_template = template
    if pad is not None:
        tokenizer.pad_token = pad
    dataset = Dataset.from_dict({"messages": chats})
    return build_trainer(model, tokenizer, dataset, build_sft_config(cfg), None), tokenizer


def _preflight(trainer, tokenizer):
    run_preflight_checks(trainer.train_dataset, tokenizer, trainer.model, trainer.args)


def test_the_training_template_passes_every_check(tiny_model_dir, tmp_path):
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path, chats=[*CHATS, TWO_TURNS])
    results = collect_check_results(trainer.train_dataset, tokenizer, trainer.model, trainer.args)
    assert len(results) == 6 and all(error is None for _, error in results), results
    ids, labels = trainer.train_dataset[3]["input_ids"], trainer.train_dataset[3]["labels"]
    shown = render_trained_spans(ids, labels, tokenizer)
    assert "[[The capital is city 0.<|im_end|>]]" in shown  # both replies, each with its EOS
    assert "[[The river of the city is long.<|im_end|>]]" in shown
    assert shown.count("[[") == 2 and shown.startswith("<|im_start|>user\n")
    assert [t.assistant for t in find_turns(ids, tokenizer)] == [False, True, False, True]


def test_a_template_without_generation_markers_trains_nothing(tiny_model_dir, tmp_path):
    # TRL refuses it before preparing a row, naming none; the stage shows row 0 as trained
    with pytest.raises(UserError, match="training row 0 trains on no token") as e:
        _trainer(tiny_model_dir, tmp_path, template=NO_MARKERS)
    assert "<|im_start|>assistant\nThe capital is city 0.<|im_end|>" in str(e.value)
    assert "[[" not in str(e.value).split("\n", 2)[2]  # the row is shown with nothing marked


def test_a_row_without_trained_tokens_is_named(tiny_model_dir, tmp_path):
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path)
    rows = trainer.train_dataset.to_dict()
    rows["labels"][1] = [-100] * len(rows["labels"][1])
    with pytest.raises(UserError, match="training row 1 trains on no token") as e:
        run_preflight_checks(Dataset.from_dict(rows), tokenizer, trainer.model)
    assert "What is the capital of country 1?" in str(e.value)


def test_a_mask_over_the_whole_conversation_fails(tiny_model_dir, tmp_path):
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path, template=TRAINS_EVERYTHING)
    with pytest.raises(UserError, match="training row 0 trains on every token") as e:
        _preflight(trainer, tokenizer)
    assert "[[<|im_start|>user\nWhat is the capital of country 0?" in str(e.value)


def test_a_mask_that_trains_the_user_turn_fails(tiny_model_dir, tmp_path):
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path, template=TRAINS_USER)
    with pytest.raises(UserError, match="outside the assistant's replies") as e:
        _preflight(trainer, tokenizer)
    assert "user\n[[What is the capital of country 0?]]<|im_end|>" in str(e.value)


def test_an_untrained_end_of_turn_fails(tiny_model_dir, tmp_path):
    # TRL only warns about this template; the model would never learn to stop
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path, template=EOS_OUTSIDE)
    with pytest.raises(UserError, match=f"does not train the {END_OF_TURN}") as e:
        _preflight(trainer, tokenizer)
    assert "[[The capital is city 0.]]<|im_end|>" in str(e.value)


def test_a_long_row_is_shown_from_just_before_the_offending_turn(tiny_model_dir):
    tokenizer = _tokenizer(tiny_model_dir)
    tokenizer.chat_template = EOS_OUTSIDE
    chat = [{"role": "user", "content": "the capital " * 400},
            {"role": "assistant", "content": "Paris."}]
    rows = list(build_template_rows([chat], tokenizer))  # masked as TRL masks them
    assert render_trained_spans(*rows[0], tokenizer).endswith("[[Paris.]]<|im_end|>\n")
    with pytest.raises(UserError, match=f"does not train the {END_OF_TURN}") as e:
        check_end_of_turn_trained(rows, tokenizer)
    assert ", from token " in str(e.value) and "[[Paris.]]<|im_end|>" in str(e.value)
    assert len(str(e.value)) < 2500  # a long row is clipped, the offending turn kept


def test_a_reply_cut_by_truncation_fails(tiny_model_dir, tmp_path):
    # what TRL's own max_length does to a row that over_length did not handle first: the reply
    # loses its <|im_end|> (the row ends "<|im_end|>\n", so 2 tokens short cuts the EOS)
    length = compute_token_lengths(_tokenizer(tiny_model_dir), CHATS[0])[0]
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path, chats=CHATS[:1], max_length=length - 2)
    assert tokenizer.decode(trainer.train_dataset[0]["input_ids"]).endswith("city 0.")
    with pytest.raises(UserError, match=f"training row 0 has an assistant turn .* cut before its "
                                        f"{END_OF_TURN}"):
        _preflight(trainer, tokenizer)


@pytest.mark.parametrize("where, value, error", [
    ("generation", [0], "generation_config.eos_token_id is \\[0\\]"),
    ("generation", None, "generation_config.eos_token_id is None"),
    ("generation", "eos+endoftext", None),  # an extra stop token is no disagreement
    ("config", 0, "model's config.eos_token_id is \\[0\\]"),
    ("tokenizer", "<|endoftext|>", "the tokenizer's EOS is '<\\|endoftext\\|>'"),
])
def test_eos_must_agree(tiny_model_dir, tmp_path, where, value, error):
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path)
    eos = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    value = [eos, 0] if value == "eos+endoftext" else value
    if where == "generation":
        trainer.model.generation_config.eos_token_id = value
    elif where == "config":
        trainer.model.config.eos_token_id = value
    else:
        tokenizer.eos_token = value
    if error is None:
        _preflight(trainer, tokenizer)
    else:
        with pytest.raises(UserError, match=error):
            _preflight(trainer, tokenizer)


def test_pad_equal_to_eos_fails(tiny_model_dir, tmp_path):
    trainer, tokenizer = _trainer(tiny_model_dir, tmp_path, pad=END_OF_TURN)
    assert tokenizer.pad_token_id == tokenizer.eos_token_id  # TRL kept it and mirrored it
    with pytest.raises(UserError, match="tokenizer's pad token is '<\\|im_end\\|>'"):
        _preflight(trainer, tokenizer)
    tokenizer.pad_token = "<|pad|>"
    trainer.model.generation_config.pad_token_id = 0
    trainer.model.generation_config.eos_token_id = [tokenizer.eos_token_id, 0]
    with pytest.raises(UserError, match="generation_config.pad_token_id is '<\\|endoftext\\|>'"):
        _preflight(trainer, tokenizer)


def test_packed_rows_are_checked_per_conversation():
    packed = Dataset.from_dict({"input_ids": [[1, 2, 3, 4, 5]], "labels": [[-100, 2, -100, 4, 5]],
                                "seq_lengths": [[2, 3]]})
    assert split_sequences(packed) == [([1, 2], [-100, 2]), ([3, 4, 5], [-100, 4, 5])]
    wrapped = Dataset.from_dict({"input_ids": [[1, 2], [3]], "labels": [[-100, 2], [3]]})
    assert split_sequences(wrapped, wrapped=True) == [([1, 2, 3], [-100, 2, 3])]
    assert split_sequences(wrapped) == [([1, 2], [-100, 2]), ([3], [3])]


def _tokenizer(tiny_model_dir):
    return load_model_for_training(ModelConfig(path=str(tiny_model_dir), device="cpu"), "full",
                                   str(tiny_model_dir))[1]


def test_over_length_drop_truncate_and_error(tiny_model_dir):
    tokenizer = _tokenizer(tiny_model_dir)
    chats = [CHATS[0], TWO_TURNS, CHATS[1]]
    lengths = [compute_token_lengths(tokenizer, m)[0] for m in chats]
    long = lengths[1]
    dataset = Dataset.from_dict({"messages": chats})
    kept, counts = apply_over_length(dataset, tokenizer, long - 1, "drop")
    assert counts == {"truncated": 0, "dropped": 1} and kept["messages"] == [CHATS[0], CHATS[1]]
    kept, counts = apply_over_length(dataset, tokenizer, long - 1, "truncate")
    # the two-turn row keeps its first exchange whole: the last reply still ends in <|im_end|>
    assert counts == {"truncated": 1, "dropped": 0}
    assert kept["messages"] == [CHATS[0], CHATS[0], CHATS[1]]
    with pytest.raises(UserError, match=f"row 1, {long} tokens > max_length={long - 1}"):
        apply_over_length(dataset, tokenizer, long - 1, "error")
    assert apply_over_length(dataset, tokenizer, long, "error") == (dataset, {"truncated": 0,
                                                                             "dropped": 0})
    with pytest.raises(UserError, match="no training row is left"):
        apply_over_length(dataset, tokenizer, min(lengths) - 1, "truncate")


def test_truncation_keeps_whole_turns_ending_on_a_reply(tiny_model_dir):
    tokenizer = _tokenizer(tiny_model_dir)
    first = compute_token_lengths(tokenizer, TWO_TURNS[:2])[0]
    # a budget that would fit the second question but not its reply: cut back to the first reply
    with_question = compute_token_lengths(tokenizer, TWO_TURNS[:3])[0]
    assert fit_whole_turns(TWO_TURNS, tokenizer, with_question) == TWO_TURNS[:2]
    assert fit_whole_turns(TWO_TURNS, tokenizer, first) == TWO_TURNS[:2]
    assert fit_whole_turns(TWO_TURNS, tokenizer, first - 1) is None


def test_over_length_and_qlora_config():
    cfg = compose_config("train", ["data=d", "out=o"])
    assert cfg.over_length == "drop" and cfg.dry_run is False
    with pytest.raises(UserError, match="unknown over_length 'cut'"):
        check_config(compose_config("train", ["data=d", "out=o", "over_length=cut"]))
    qlora = compose_config("train", ["data=d", "out=o", "method=qlora", "model.device=cpu"])
    check_config(qlora)
    assert resolve_learning_rate("qlora", None) == resolve_learning_rate("lora", None)


def test_qlora_is_refused_where_it_cannot_run(monkeypatch):
    cfg = compose_config("train", ["data=d", "out=o", "method=qlora", "model.device=cpu"])
    with pytest.raises(UserError, match="qlora needs a CUDA GPU .* use method=lora"):
        build_peft_config(cfg)
    monkeypatch.setattr("training.trainer.select_device", lambda _: "cuda")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match="needs bitsandbytes, which is not installed"):
        build_peft_config(cfg)


@pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("bitsandbytes")
                    is None, reason="QLoRA needs a CUDA GPU and bitsandbytes")
def test_qlora_trains_adapters_on_a_4bit_base(tiny_model_dir, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    import training.trainer
    from training.run import run

    loaded = []
    real_load = training.trainer.load_4bit_model
    monkeypatch.setattr(training.trainer, "load_4bit_model",
                        lambda *a: loaded.append(real_load(*a)) or loaded[-1])
    data = tmp_path / "chats.jsonl"
    data.write_text("".join(json.dumps({"messages": m}) + "\n" for m in CHATS * 4))
    manifest = run(compose_config("train", [
        f"data={data}", f"out={tmp_path / 'out'}", f"model.path={tiny_model_dir}",
        "model.name=tiny", "method=qlora", "trainer=smoke", "show_progress=false"]))
    assert loaded and loaded[0][0].is_loaded_in_4bit
    assert loaded[0][0].config.quantization_config.bnb_4bit_quant_type == "nf4"
    assert manifest["method"] == "qlora" and manifest["metrics"]["steps"] == 4
    assert manifest["hyperparameters"]["learning_rate"] == 2e-4
    adapter = load_file(tmp_path / "out" / "adapter_model.safetensors")
    assert all(v.abs().sum() > 0 for k, v in adapter.items() if "lora_B" in k)
