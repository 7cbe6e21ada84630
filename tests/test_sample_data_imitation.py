"""data/imitation/train.jsonl, the teacher-style SFT set: regenerable byte for byte, valid for
lessmore's reader and kept whole by the default quality filters, held out from every evaluation
prompt, and in the style of the reference responses it is meant to teach."""

import json
import re
import shutil
import statistics
import subprocess
import sys
import unicodedata
from collections import Counter

import pytest
import yaml

from curation.core.readers import read_records
from curation.filters import build_filters
from evaluation.benchmarks.style import HEDGES, REFUSALS, compute_style
from tests import PROJECT_ROOT, load_script

DATA = PROJECT_ROOT / "data"
TRAIN = DATA / "imitation" / "train.jsonl"
REFERENCE = DATA / "imitation" / "reference.jsonl"
RATE_TOLERANCE = 0.15    # list, heading, refusal and hedge rates: train vs reference
WORDS_TOLERANCE = 0.20   # mean words: relative to the reference's
NEAR_DUPLICATE = 0.5     # Jaccard of content words at or above which two prompts are near-equal
# function words left out of the content-word comparison (prompt templates share them)
STOPWORDS = frozenset(
    "a an and are as at be between can could difference do does for from how i i'm if in is it "
    "me my of on or s should so some that the their this to was what when where which who why "
    "will with would you your".split())


def load_make_train():
    return load_script(TRAIN.parent / "make_train.py")


def train_rows():
    return [json.loads(line) for line in TRAIN.open(encoding="utf-8")]


def reference_rows():
    return [json.loads(line) for line in REFERENCE.open(encoding="utf-8")]


def response(row):
    return row["messages"][1]["content"]


def normalise(text):
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def content_words(text):
    return set(normalise(text).split()) - STOPWORDS


def is_near_duplicate(a, b):
    if normalise(a) == normalise(b):
        return True
    wa, wb = content_words(a), content_words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= NEAR_DUPLICATE


def evaluation_prompts():
    """Every prompt an evaluation or the SFT pool holds: reference, chats (all user turns, the
    planted broken lines skipped) and IFEval-format prompts."""
    prompts = [r["prompt"] for r in reference_rows()]
    lines = (DATA / "chats" / "chats.jsonl").read_bytes().decode("utf-8", "replace")
    for line in lines.splitlines():
        try:
            prompts += [m["content"] for m in json.loads(line)["messages"] if m["role"] == "user"]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    prompts += [json.loads(line)["prompt"]
                for line in (DATA / "ifeval" / "input_data.jsonl").open(encoding="utf-8")]
    assert len(prompts) > 300  # all three files were actually read
    return [p for p in prompts if isinstance(p, str)]


def mean_style(texts):
    styles = [compute_style(t, REFUSALS, HEDGES) for t in texts]
    return {key: statistics.fmean(s[key] for s in styles) for key in styles[0]}


def test_generator_reproduces_the_committed_file(tmp_path):
    assert load_make_train().render() == TRAIN.read_text(encoding="utf-8")
    copy = tmp_path / "make_train.py"
    shutil.copy(TRAIN.parent / "make_train.py", copy)
    for _ in range(2):  # byte-identical on every run
        subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
        assert (tmp_path / "train.jsonl").read_bytes() == TRAIN.read_bytes()


def test_rows_are_valid_messages_rows_with_unique_ids():
    rows = train_rows()
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids) == len(rows) >= 90
    assert ids == [f"teach-{i:03d}" for i in range(1, len(rows) + 1)]
    for row in rows:
        assert set(row) == {"id", "messages", "source"} and row["source"] == "sample-teacher"
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        assert all(m["content"].strip() == m["content"] and m["content"] for m in row["messages"])
    res = read_records(str(TRAIN))
    assert not res.rejections and res.rows_in == len(res.records) == len(rows)
    assert res.formats == {"messages": len(rows)}


def test_default_quality_filters_keep_every_row():
    steps = yaml.safe_load((PROJECT_ROOT / "conf" / "filters" / "default.yaml").read_text())["steps"]
    filters = build_filters(steps)
    dropped = {(r["id"], type(f).__name__): reason for r in read_records(str(TRAIN)).records
               for f in filters if (reason := f.decide(r)) is not None}
    assert not dropped


def test_groups_have_the_reference_mix():
    groups = Counter(load_make_train().groups().values())
    reference = Counter(r["group"] for r in reference_rows())
    assert set(groups) == set(reference)
    total, ref_total = sum(groups.values()), sum(reference.values())
    for group, n in reference.items():
        assert groups[group] / total == pytest.approx(n / ref_total, abs=0.02), group


def test_near_duplicate_check_catches_a_reworded_prompt():
    # the detector itself: a one-word rewording is near-equal, an unrelated prompt is not
    assert is_near_duplicate("Why do onions make people cry?", "why do onions make you cry")
    assert is_near_duplicate("How do I boil pasta ?", "How do I boil pasta?")
    assert not is_near_duplicate("How do I remove a splinter?", "How do I remove a stripped screw?")


def test_prompts_are_held_out_from_every_evaluation_prompt():
    prompts = [r["messages"][0]["content"] for r in train_rows()]
    others = evaluation_prompts()
    normalised = {normalise(p) for p in others}
    assert not [p for p in prompts if normalise(p) in normalised]
    clashes = [(p, o) for p in prompts for o in others if is_near_duplicate(p, o)]
    assert not clashes
    within = [(a, b) for i, a in enumerate(prompts) for b in prompts[i + 1:]
              if is_near_duplicate(a, b)]
    assert not within


def test_style_is_close_to_the_reference_responses():
    rows = train_rows()
    train = mean_style([response(r) for r in rows])
    reference = mean_style([r["response"] for r in reference_rows()])
    for key in ("list", "heading", "refusal", "hedge"):
        assert train[key] == pytest.approx(reference[key], abs=RATE_TOLERANCE), key
    assert train["words"] == pytest.approx(reference["words"], rel=WORDS_TOLERANCE)
    words = [compute_style(response(r), REFUSALS, HEDGES)["words"] for r in rows]
    assert max(words) <= 120  # short enough to train on a CPU quickly


def test_only_the_refuse_group_refuses():
    groups = load_make_train().groups()
    for row in train_rows():
        refuses = compute_style(response(row), REFUSALS, HEDGES)["refusal"] == 1
        assert refuses == (groups[row["id"]] == "refuse"), row["id"]
