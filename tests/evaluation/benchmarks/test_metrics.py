"""Answer normalisation and exact match, NQ-open / SQuAD conventions."""

import pytest

from evaluation.benchmarks.metrics import compute_exact_match, normalize_answer


@pytest.mark.parametrize(("text", "expected"), [
    ("Paris", "paris"),                                  # case
    ("PARIS!", "paris"),                                 # punctuation
    ("The Eiffel Tower", "eiffel tower"),                # leading article
    ("a cat and an owl", "cat and owl"),                 # a / an anywhere
    ("theory of the atom", "theory of atom"),            # "the" only as a word
    ("  New \t York\n City ", "new york city"),          # whitespace collapsed
    ("St. Louis, Missouri", "st louis missouri"),
    ("the-end", "theend"),                               # punctuation goes before articles
    ("Anna's", "annas"),
    ("", ""),
    ("The", ""),
])
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(("prediction", "aliases", "expected"), [
    ("Paris", ["Paris"], 1.0),
    ("paris.", ["Paris"], 1.0),                          # case and punctuation
    ("The Beatles", ["Beatles"], 1.0),                   # article dropped on one side
    ("Beatles", ["the beatles"], 1.0),
    ("  William   Shakespeare ", ["William Shakespeare"], 1.0),
    ("Shakespeare", ["William Shakespeare", "Shakespeare"], 1.0),  # any alias counts
    ("Bacon", ["William Shakespeare", "Shakespeare"], 0.0),
    ("Paris, France", ["Paris"], 0.0),                   # exact, not containment
    ("", ["Paris"], 0.0),                                # empty prediction
    ("", ["The"], 0.0),                                  # ... even against an empty-normalising alias
    ("Paris", [], 0.0),                                  # no aliases
])
def test_compute_exact_match(prediction, aliases, expected):
    assert compute_exact_match(prediction, aliases) == expected
