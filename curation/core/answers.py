"""Short-answer matching shared by probing and evaluation.

Answer normalisation follows the SQuAD / NQ-open convention that lm-evaluation-harness and the
closed-book QA literature use, so scores are comparable with published numbers, and a fact the
probe calls "known" is judged by the same rule the evaluation scores it with.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace.

    The order is SQuAD's (``lower`` → ``remove_punc`` → ``remove_articles`` → ``white_space_fix``):
    punctuation goes first so "the-end" becomes "theend", not "end".
    """
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def extract_short_answer(completion: str) -> str:
    """The answer part of a completion: its first non-empty line, stripped."""
    lines = completion.strip().splitlines()
    return lines[0].strip() if lines else ""


def compute_exact_match(prediction: str, aliases: Iterable[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold alias, else 0.0.

    An empty prediction never matches, even an alias that normalises to nothing ("The").
    """
    pred = normalize_answer(prediction)
    return float(bool(pred) and any(pred == normalize_answer(alias) for alias in aliases))
