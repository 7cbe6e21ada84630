"""Every reader format and every bad-input case ends as a record or a rejection with
file, line, field and reason."""

import json

import pytest

from curation.core.config import UserError
from curation.core.formats import detect_format
from curation.core.readers import read_records

CHAT = [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]


def write_jsonl(path, rows):
    with open(path, "wb") as f:
        for row in rows:
            f.write(row if isinstance(row, bytes) else (json.dumps(row) + "\n").encode())
    return path


@pytest.mark.parametrize("row, fmt, last", [
    ({"messages": CHAT}, "messages", "Hello."),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                   {"role": "assistant", "content": "Yo"}]}, "messages", "Yo"),
    ({"conversations": [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hey."}]},
     "sharegpt", "Hey."),
    ({"instruction": "Add", "input": "2+2", "output": "4"}, "alpaca", "4"),
    ({"instruction": "Next", "input": "", "output": "B",
      "history": [["First", "A"]]}, "alpaca", "B"),
    ({"instruction": "Seed", "instances": [{"input": "", "output": "S"}]}, "alpaca", "S"),
    ({"prompt": "Say hi", "completion": "hi"}, "prompt_completion", "hi"),
    ({"prompt": [{"role": "user", "content": "Say hi"}],
      "completion": [{"role": "assistant", "content": "hi"}]}, "prompt_completion", "hi"),
    ({"question": "Capital of France?", "answers": ["Paris", "paris"]}, "qa", "Paris"),
    ({"question": "2+2?", "answer": "4"}, "qa", "4"),
])
def test_each_format_reads(tmp_path, row, fmt, last):
    res = read_records(str(write_jsonl(tmp_path / "d.jsonl", [row])))
    assert res.formats == {fmt: 1} and not res.rejections
    rec = res.records[0]
    assert rec["messages"][-1] == {"role": "assistant", "content": last}
    assert rec["id"].startswith("r-") and rec["origin"].endswith("d.jsonl:1")


def test_alpaca_history_becomes_turns(tmp_path):
    row = {"instruction": "Next", "input": "ctx", "output": "B", "history": [["First", "A"]]}
    rec = read_records(str(write_jsonl(tmp_path / "d.jsonl", [row]))).records[0]
    assert [m["role"] for m in rec["messages"]] == ["user", "assistant", "user", "assistant"]
    assert rec["messages"][2]["content"] == "Next\n\nctx"


def test_qa_keeps_aliases_and_group_from_file_name(tmp_path):
    path = write_jsonl(tmp_path / "P19.train.jsonl", [{"question": "Where was X born?",
                                                        "answers": ["Rome", "Roma"]}])
    rec = read_records(str(path)).records[0]
    assert rec["answers"] == ["Rome", "Roma"] and rec["group"] == "P19"
    assert rec["question"] == "Where was X born?"


def test_oasst_takes_best_ranked_path(tmp_path):
    tree = {"message_id": "m0", "role": "prompter", "text": "Q1", "replies": [
        {"message_id": "a1", "role": "assistant", "text": "worse", "rank": 1, "replies": []},
        {"message_id": "a0", "role": "assistant", "text": "best", "rank": 0, "replies": [
            {"message_id": "p1", "role": "prompter", "text": "follow-up", "replies": []}]},
    ]}
    rec = read_records(str(write_jsonl(tmp_path / "t.jsonl", [tree]))).records[0]
    assert [m["content"] for m in rec["messages"]] == ["Q1", "best"]  # unanswered tail dropped
    assert rec["id"] == "m0"


def test_json_list_csv_parquet(tmp_path):
    rows = [{"instruction": f"Task {i}", "input": "", "output": f"Out {i}"} for i in range(3)]
    (tmp_path / "a.json").write_text(json.dumps(rows))
    import datasets

    datasets.Dataset.from_list(rows).to_csv(str(tmp_path / "a.csv"), index=False)
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "a.parquet"))
    for name in ("a.json", "a.csv", "a.parquet"):
        res = read_records(str(tmp_path / name))
        assert len(res.records) == 3 and res.formats == {"alpaca": 3}, name
    assert read_records(str(tmp_path / "a.csv")).records[0]["origin"].endswith("a.csv:2")


def test_format_can_be_forced_and_unknown_format_refused(tmp_path):
    path = str(write_jsonl(tmp_path / "d.jsonl", [{"question": "Q?", "answer": "A"}]))
    assert read_records(path, "qa").formats == {"qa": 1}
    res = read_records(path, "messages")
    assert res.rejections and res.rejections[0].field == "messages"
    with pytest.raises(UserError, match="input_format"):
        read_records(path, "yaml")


BAD_ROWS = [
    (b'{"messages": [\n', "(line)", "malformed JSON"),
    ({"text": "no known keys"}, "(row)", "cannot detect the format"),
    ({"messages": "hello"}, "messages", "expected a list"),
    ({"messages": []}, "messages", "empty conversation"),
    ({"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]},
     "messages[0].content", "missing"),
    ({"messages": [{"role": "user", "content": 3}, {"role": "assistant", "content": "x"}]},
     "messages[0].content", "expected a string"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", "unknown role"),
    ({"messages": [{"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]},
     "messages[0].role", "bad role order"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]},
     "messages[1].role", "bad role order"),
    ({"messages": [{"role": "user", "content": "x"}]}, "messages", "must end with an assistant"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "  "}]},
     "messages[1].content", "empty"),
    (b'{"messages": "\xff\xfe"}\n', "(line)", "invalid UTF-8"),
    ([1, 2, 3], "(row)", "expected a JSON object"),
    ({"messages": [{"role": "user", "content": "x" * 1_048_576},
                   {"role": "assistant", "content": "y"}]}, "messages[0].content", "too long"),
    ({"question": "Q?", "answers": []}, "answers", "non-empty"),
    ({"question": 5, "answer": "A"}, "question", "expected a string"),
    ({"conversations": [{"from": "alien", "value": "x"}]}, "conversations[0].from", "unknown"),
]


@pytest.mark.parametrize("row, field, reason", BAD_ROWS)
def test_bad_row_is_rejected_with_file_line_field(tmp_path, row, field, reason):
    good = {"id": "g1", "messages": CHAT}
    path = write_jsonl(tmp_path / "bad.jsonl", [good, row, {"id": "g2", "messages": CHAT}])
    res = read_records(str(path))
    assert res.rows_in == 3 and len(res.records) == 2 and len(res.rejections) == 1
    rej = res.rejections[0]
    assert (rej.file, rej.line, rej.field) == (str(path), 2, field)
    assert reason in rej.reason


def test_duplicate_source_id_rejected(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"id": "x", "messages": CHAT},
        {"id": "x", "messages": [{"role": "user", "content": "Other"},
                                 {"role": "assistant", "content": "Reply"}]}])
    res = read_records(str(path))
    assert len(res.records) == 1 and res.rejections[0].field == "id"
    assert "duplicate id 'x'" in res.rejections[0].reason and "d.jsonl:1" in res.rejections[0].reason


def test_missing_file_empty_input_and_unreachable_hub_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_records(str(tmp_path / "nope.jsonl"))
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(UserError, match="no rows"):
        read_records(str(tmp_path / "empty.jsonl"))
    with pytest.raises(UserError, match="cannot load 'no-such-org/no-such-dataset'"):
        read_records("no-such-org/no-such-dataset")
    (tmp_path / "broken.json").write_text('[{"a": 1},\n{"b": ]')
    with pytest.raises(UserError, match="broken.json:2"):
        read_records(str(tmp_path / "broken.json"))


def test_detect_format_names_keys():
    with pytest.raises(ValueError, match="cannot detect"):
        detect_format({"foo": 1})


REAL = [("lima/lima_train.json", 1029, "alpaca"), ("alpaca/alpaca_5000.json", 5000, "alpaca"),
        ("oasst/en_100_message.jsonl", 100, "oasst"), ("gsm8k/train.jsonl", 7473, "qa"),
        ("entity_questions/train", 47763, "qa"), ("alpaca/seed_tasks.jsonl", 175, "alpaca")]


@pytest.mark.parametrize("rel, rows, fmt", REAL)
def test_real_public_data_loads(shared_data, rel, rows, fmt):
    res = read_records(str(shared_data / rel))
    assert res.rows_in == rows
    assert len(res.records) + len(res.rejections) == rows
    assert len(res.records) >= 0.99 * rows and set(res.formats) == {fmt}
