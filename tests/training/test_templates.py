"""The training chat template is a config choice: lessmore's ChatML (default), the model's own,
or a Jinja file; every choice is checked for generation markers before any model work, and
lengths are measured under the template that trains."""

import json
import types

import pytest

from curation.core.chat import CHATML_TRAINING_TEMPLATE, compute_token_lengths
from curation.core.config import UserError, compose_config
from curation.core.models import ModelConfig, load_tokenizer
from training.run import run
from training.templates import resolve_chat_template

# ChatML with a default system turn: the same conversations render longer than under chatml
WITH_SYSTEM = ("{%- if messages[0]['role'] != 'system' -%}"
               "{{- '<|im_start|>system\\nYou are a careful, helpful assistant who answers.<|im_end|>\\n' -}}"
               "{%- endif -%}" + CHATML_TRAINING_TEMPLATE)
SMOLLM2_LIKE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}")


def test_choices_resolve_and_templates_without_markers_are_refused(tmp_path):
    tok = types.SimpleNamespace(chat_template=CHATML_TRAINING_TEMPLATE)
    assert resolve_chat_template("chatml", tok) == CHATML_TRAINING_TEMPLATE
    assert resolve_chat_template("model", tok) == CHATML_TRAINING_TEMPLATE
    with pytest.raises(UserError, match="no chat template"):
        resolve_chat_template("model", types.SimpleNamespace(chat_template=None))
    with pytest.raises(UserError, match="generation"):
        resolve_chat_template("model", types.SimpleNamespace(chat_template=SMOLLM2_LIKE))
    path = tmp_path / "sys.jinja"
    path.write_text(WITH_SYSTEM)
    assert resolve_chat_template(str(path), tok) == WITH_SYSTEM
    with pytest.raises(UserError, match="not a named template"):
        resolve_chat_template(str(tmp_path / "missing.jinja"), tok)
    with pytest.raises(UserError, match="not a named template"):
        resolve_chat_template("llama3", tok)


def test_a_jinja_template_trains_is_saved_and_measures_lengths(tiny_model_dir, tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"Say {i}."},
                          {"role": "assistant", "content": f"It is {i}."}]} for i in range(8)]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tok = load_tokenizer(ModelConfig(path=str(tiny_model_dir)))
    plain = compute_token_lengths(tok, rows[0]["messages"])[0]
    longer = compute_token_lengths(tok, rows[0]["messages"], WITH_SYSTEM)[0]
    assert longer > plain
    template = tmp_path / "sys.jinja"
    template.write_text(WITH_SYSTEM)

    def train(out, *extra):
        return run(compose_config("train", [
            f"data={data}", f"out={out}", f"model.path={tiny_model_dir}", "model.name=tiny",
            "model.dtype=float32", "model.device=cpu", "trainer=smoke", "trainer.max_steps=1",
            "show_progress=false", f"max_length={plain}", *extra]))

    assert train(tmp_path / "chatml")["rows"]["dropped"] == 0  # every row fits under chatml
    with pytest.raises(UserError, match="no row fits|nothing|left"):
        train(tmp_path / "custom", f"chat_template={template}")  # each is too long under it
    manifest = train(tmp_path / "custom2", f"chat_template={template}", f"max_length={longer}")
    assert manifest["rows"]["dropped"] == 0
    saved = load_tokenizer(ModelConfig(path=str(tmp_path / "custom2")))
    assert saved.chat_template == WITH_SYSTEM  # the run keeps the template it trained with
