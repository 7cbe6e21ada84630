"""Quality filters: table-driven cases per filter, the config builder (``_target_`` entries),
and the planted low-quality rows of data/chats (caught, with no good row lost)."""


import pytest
from datasets import Dataset
from omegaconf import OmegaConf

from curation.core.config import UserError
from curation.core.readers import read_records
from curation.filters import (
    DEFAULT_FILTERS,
    EchoResponseFilter,
    EmptyResponseFilter,
    LengthBoundsFilter,
    RefusalFilter,
    TrivialResponseFilter,
    build_filters,
)
from curation.statistical_filters import GarbageFilter, RepeatedNgramFilter
from curation.steps import Filter, apply_step
from tests import PROJECT_ROOT, load_script

DATA = PROJECT_ROOT / "data"


def chat(*turns, answers=None):
    """A row from alternating user/assistant texts (a leading ("system", text) is allowed)."""
    messages = []
    for turn in turns:
        if isinstance(turn, tuple):
            messages.append({"role": turn[0], "content": turn[1]})
        else:
            role = "user" if not messages or messages[-1]["role"] != "user" else "assistant"
            messages.append({"role": role, "content": turn})
    return {"id": "r", "messages": messages, "answers": answers}


GOOD = ("Stir 1 tablespoon of lemon juice into 1 cup of milk and let it sit for 5 minutes. "
        "Plain yogurt thinned with a little milk also works well in baking.")
CODE = ("Use slicing with a step of -1:\n\n```python\ntext = \"hello\"\nreversed_text = "
        "text[::-1]\nprint(reversed_text)  # olleh\n```\n\n```js\nif (a) {\n  f();\n}\n"
        "if (b) {\n  g();\n}\n```")

# (filter, row, None when the row passes or a text the drop reason must contain)
CASES = [
    (EmptyResponseFilter(), chat("Hi?", GOOD), None),
    (EmptyResponseFilter(), chat("Hi?", "  \n\t"), "messages[1]: empty response"),
    (EmptyResponseFilter(), chat("Capital of France?", " ", answers=["Paris"]), "empty"),
    (TrivialResponseFilter(), chat("Explain TCP.", "Sure."), "bare acknowledgement 'Sure.'"),
    (TrivialResponseFilter(), chat("Help?", "OK"), "bare acknowledgement 'OK'"),
    (TrivialResponseFilter(), chat("Plan a party?", "Sure, I can help!"), "acknowledgement"),
    (TrivialResponseFilter(), chat("Explain TCP.", "They differ."),
     "trivial response of 2 words < 4: 'They differ.'"),
    (TrivialResponseFilter(), chat("Hi", GOOD, "More?", "Yes."), "messages[3]: bare ack"),
    (TrivialResponseFilter(), chat("What is 7 times 8?", "7 × 8 = 56."), None),
    (TrivialResponseFilter(), chat("Capital of France?", "Paris", answers=["Paris"]), None),
    (TrivialResponseFilter(min_words=1), chat("Explain TCP.", "Different."), None),
    (RefusalFilter(), chat("Boil pasta?", "As an AI language model, I cannot cook."),
     "refusal boilerplate 'As an AI language model'"),
    (RefusalFilter(), chat("Sort a list?", "I'm sorry, but I can't do that."),
     "refusal boilerplate \"I'm sorry, but I can't\""),
    (RefusalFilter(), chat("Noun?", "I am unable to help with grammar."), "'I am unable to'"),
    (RefusalFilter(), chat("Poem?", "I cannot help with poems."), "'I cannot help'"),
    (RefusalFilter(), chat("Capital?", "As an AI, I cannot say.", answers=["Paris"]), "As an AI"),
    (RefusalFilter(), chat("Write an apology.", "I'm sorry I missed your party; I was ill."),
     None),
    (RefusalFilter(), chat("Baking soda?", "You can't swap them one-to-one. " + GOOD), None),
    (RefusalFilter(patterns=[r"\bnope\b"]), chat("Q?", "Nope, not today."), "'Nope'"),
    (EchoResponseFilter(), chat("How do I start a garden?", "How do I start a garden?"),
     "echoes the user turn, 0 new words"),
    (EchoResponseFilter(), chat("What is a blockchain?", "You asked: what is a blockchain?"),
     "echoes the user turn, 2 new words"),
    (EchoResponseFilter(), chat("Can I freeze bread?", "Yes, you can freeze bread."), None),
    (EchoResponseFilter(), chat("Why is exercise important?",
                                "Why is exercise important? It strengthens your heart, "
                                "muscles and bones, and it improves mood and sleep."), None),
    (RepeatedNgramFilter(), chat("Recycle?", "Recycling is good. " * 6),
     "2-gram 'recycling is' repeated 6x"),
    (RepeatedNgramFilter(), chat("Breakfast?", "Eggs. " * 12), "'eggs eggs' repeated 11x"),
    (RepeatedNgramFilter(top_ngram_max={}), chat("Interview?", "Be confident! " * 7),
     "duplicated 5-grams cover"),
    (RepeatedNgramFilter(top_ngram_max={}, dup_ngram_max={}),
     chat("Poem?", "Roses are red and bright\nThe sky is blue tonight\n"
                   "Roses are red and bright\nRoses are red and bright"),
     "2 of 4 lines repeat (e.g. 'Roses are red and bright' 3x) > 30%"),
    (RepeatedNgramFilter(), chat("Mean vs median?",
                                 "The mean is the sum of the values divided by how many there "
                                 "are; the median is the middle value once sorted. For 1, 2, "
                                 "3, 4, and 100, the mean is 22 but the median is 3, so the "
                                 "median is less affected by extreme values."), None),
    (RepeatedNgramFilter(), chat("Reverse a string?", CODE), None),
    (GarbageFilter(), chat("Reverse a string?", CODE), None),
    (GarbageFilter(), chat("Multiply?", "7 × 8 = 56."), None),
    (GarbageFilter(), chat("Pi?", "π ≈ 3.14159, and the area of a circle is π r²: " + GOOD),
     None),
    (GarbageFilter(), chat("Café?", "A cafÃ© is a small restaurant serving coffee."),
     "1 mojibake marks, e.g. 'Ã©'"),
    (GarbageFilter(), chat("Hi?", "Hello \ufffd\ufffd friend"), "2 mojibake marks"),
    (GarbageFilter(), chat("Data?", "#$%^&*()_+ 1234567890 {}[]|\\:;<>?,./ 0987654321 !@#$%"),
     "only 0% letters < 25%"),
    (GarbageFilter(), chat("Hello?", "Привет, как дела? Это ответ на русском языке."),
     "100% of letters not latin script > 50%"),
    (GarbageFilter(), chat("Thank you in Japanese?", "It is ありがとうございます (arigatou "
                                                     "gozaimasu), or just ありがとう."), None),
    (GarbageFilter(expected_script=None), chat("Hello?", "Привет, как дела? Это ответ."), None),
    (GarbageFilter(), chat("Key?", "Here: " + "QmFzZTY0IGVuY29kZWQgZGF0YQ" * 5),
     "a 130-character word"),
    (GarbageFilter(), chat("Link?", "See https://example.com/" + "a/" * 60 + " for details."),
     None),
    (LengthBoundsFilter(), chat("Hi?", GOOD), None),
    (LengthBoundsFilter(max_chars=50), chat("Hi?", GOOD), "characters > max_chars 50"),
    (LengthBoundsFilter(min_chars=200), chat("Hi?", GOOD), "characters < min_chars 200"),
    (LengthBoundsFilter(min_chars=200), chat("Capital?", "Paris", answers=["Paris"]), None),
    (LengthBoundsFilter(max_turns=1), chat("Hi", GOOD, "More?", GOOD),
     "2 assistant turns > max_turns 1"),
]


@pytest.mark.parametrize("filt, row, expected", CASES,
                         ids=[f"{c[0].name}-{i}" for i, c in enumerate(CASES)])
def test_filter_cases(filt, row, expected):
    reason = filt.decide(row)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason, reason


def test_qa_rows_skip_the_length_and_trivial_checks():
    qa = chat("What is the chemical symbol for gold?", "Au", answers=["Au"])
    dropped = [f.name for f in build_filters(DEFAULT_FILTERS) if f.decide(qa)]
    assert dropped == []
    assert [f.name for f in build_filters(DEFAULT_FILTERS) if f.decide({**qa, "answers": None})
            ] == ["trivial_response"]


def test_filter_step_drops_rows_with_step_name_and_reason():
    rows = [{**chat("Explain TCP.", GOOD), "id": "a", "origin": "f:1"},
            {**chat("Explain TCP.", "ok"), "id": "b", "origin": "f:2"}]
    result = apply_step(TrivialResponseFilter(), Dataset.from_list(rows))
    assert result.dataset["id"] == ["a"]
    assert result.filtered == [{"id": "b", "origin": "f:2", "step": "trivial_response",
                                "reason": "messages[1]: bare acknowledgement 'ok'"}]


DEFAULT_CLASSES = [EmptyResponseFilter, LengthBoundsFilter, TrivialResponseFilter, RefusalFilter,
                   EchoResponseFilter, RepeatedNgramFilter, GarbageFilter]


def test_build_filters_from_plain_and_omegaconf_dicts():
    assert [type(f) for f in build_filters(None)] == DEFAULT_CLASSES
    assert [f.name for f in build_filters(None)] == [
        "empty_response", "length_bounds", "trivial_response", "refusal", "echo", "repetition",
        "garbage"]
    cfg = OmegaConf.create([
        {"_target_": "curation.filters.TrivialResponseFilter", "min_words": 2},
        {"_target_": "curation.statistical_filters.RepeatedNgramFilter",
         "top_ngram_max": {2: 0.3}},
        {"_target_": "curation.filters.RefusalFilter", "patterns": ["foo"]}])
    trivial, rep, refusal = build_filters(cfg)
    assert trivial.min_words == 2 and rep.top_ngram_max == {2: 0.3}
    assert refusal.decide(chat("Q?", "Foo!")) and not refusal.decide(chat("Q?", "As an AI"))
    assert repr(trivial) == "TrivialResponseFilter(min_words=2)"
    with pytest.raises(UserError, match="filter 'trivail': filters are named by _target_"):
        build_filters([{"name": "trivail"}])
    with pytest.raises(UserError, match=r"filter 'refusal': .*_target_: curation\.filters\."
                                        r"RefusalFilter\}"):
        build_filters([{"name": "refusal"}])
    with pytest.raises(UserError, match="filter 'garbage': .*min_alpha.*parameters: min_alpha"):
        build_filters([{"_target_": "curation.statistical_filters.GarbageFilter",
                        "min_alpha": 0.5}])
    with pytest.raises(UserError, match="filter 'curation.filters.Trivail': module "
                                        "'curation.filters' has no 'Trivail'$"):
        build_filters([{"_target_": "curation.filters.Trivail"}])
    with pytest.raises(UserError, match="filter 'no_such_package.Filter': cannot import "
                                        "'no_such_package'"):
        build_filters([{"_target_": "no_such_package.Filter"}])
    with pytest.raises(UserError, match="filter 'curation.steps.Step': _target_ must name a "
                                        "Filter class"):
        build_filters([{"_target_": "curation.steps.Step"}])


def test_the_default_config_names_the_default_filters():
    from curation.core.config import CONF_DIR

    steps = OmegaConf.load(CONF_DIR / "filters" / "default.yaml").steps
    assert [type(f) for f in build_filters(steps)] == DEFAULT_CLASSES


class ShortRowFilter(Filter):
    """A filter of a user's own, named by ``_target_`` like the shipped ones."""

    name = "short_row"

    def __init__(self, max_turns: int = 1):
        self.max_turns = max_turns

    def decide(self, row):
        return "too many turns" if len(row["messages"]) > 2 * self.max_turns else None


def test_a_filter_class_of_ones_own_plugs_in_by_target():
    (own,) = build_filters([{"_target_": f"{__name__}.ShortRowFilter", "max_turns": 1}])
    rows = [{**chat("Hi", GOOD), "id": "a"}, {**chat("Hi", GOOD, "More?", GOOD), "id": "b"}]
    kept, dropped = apply_step(own, Dataset.from_list(rows))
    assert kept["id"] == ["a"] and dropped[0]["step"] == "short_row"
    with pytest.raises(UserError, match=r"filter 'short_row': .*'limit'.*parameters: max_turns"):
        build_filters([{"_target_": f"{__name__}.ShortRowFilter", "limit": 2}])


def load_planted():
    """Valid rows of data/chats and the ids of its low-quality rows (copies of them included)."""
    make_chats = load_script(DATA / "chats/make_chats.py")
    _, info = make_chats.build()
    low = set(info["low"]) | {copy for orig, copy, *_ in info["pairs"] if orig in info["low"]}
    return read_records(str(DATA / "chats/chats.jsonl")).records, low


def test_default_filters_catch_planted_low_quality_chats_and_keep_good_ones():
    rows, low = load_planted()
    dropped: dict[str, str] = {}
    for filt in build_filters(DEFAULT_FILTERS):
        for row in rows:
            reason = None if row["id"] in dropped else filt.decide(row)
            if reason:
                dropped[row["id"]] = f"{filt.name}: {reason}"
    planted = {r["id"] for r in rows} & low
    caught = planted & set(dropped)
    false_positives = {i: dropped[i] for i in set(dropped) - low}
    # 47 of 63: every trivial, refusal, repeated and echoed row; off-topic and wrong answers
    # need a model (IFD), not a heuristic
    assert len(planted) == 63 and len(caught) / len(planted) >= 0.70, sorted(planted - caught)
    assert not false_positives, false_positives
    kinds = {reason.split(":")[0] for reason in dropped.values()}
    assert kinds == {"trivial_response", "refusal", "echo", "repetition"}
