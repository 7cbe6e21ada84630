import pytest

from curation.core.io import atomic_path, dumps_json, redact_secrets, write_json


def test_redact_secrets_by_whole_key_part():
    cfg = {"hf_token": "hf_abc", "judge": {"api_key": "sk-1", "max_new_tokens": 16},
           "password": "p", "tokens": {"total": 3}, "list": [{"secret": "s"}], "empty_token": None}
    out = redact_secrets(cfg)
    assert out["hf_token"] == "***" and out["judge"]["api_key"] == "***"
    assert out["password"] == "***" and out["list"][0]["secret"] == "***"
    assert out["judge"]["max_new_tokens"] == 16 and out["tokens"] == {"total": 3}
    assert out["empty_token"] is None
    assert "sk-1" not in dumps_json(out) and "hf_abc" not in dumps_json(out)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
