"""The answer's shape: which QA rows SliCK-style exact match can probe, which are open-ended."""

import pytest

from curation.core.records import SHORT_ANSWER_MAX_WORDS, is_open_ended, is_short_answer


@pytest.mark.parametrize("answers, short", [
    (["Paris"], True),
    (["Barack Obama", "Obama"], True),
    ([" ".join(["w"] * SHORT_ANSWER_MAX_WORDS)], True),
    ([" ".join(["w"] * (SHORT_ANSWER_MAX_WORDS + 1))], False),  # a sentence, not an answer
    (["Natalia sold 48/2 = 24 clips in May.\n48+24 = 72\n#### 72"], False),  # GSM8K solution
    (["Paris", "the capital\nof France"], False),  # every alias must be short
    ([], False), (None, False),
])
def test_short_answers_are_one_line_of_few_words(answers, short):
    assert is_short_answer(answers) is short
    assert is_open_ended({"answers": answers}) is (not short)
