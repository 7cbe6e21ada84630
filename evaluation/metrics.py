"""Pure scoring functions: no model, no I/O.

Answer normalisation follows the SQuAD / NQ-open convention that lm-evaluation-harness and the
closed-book QA literature use, so scores are comparable with published numbers.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace.

    The order is SQuAD's (``lower`` → ``remove_punc`` → ``remove_articles`` → ``white_space_fix``):
    punctuation goes first so "the-end" becomes "theend", not "end".
    """
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def compute_exact_match(prediction: str, aliases: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold alias, else 0.0.

    An empty prediction never matches, even an alias that normalises to nothing ("The").
    """
    pred = normalize_answer(prediction)
    return float(bool(pred) and any(pred == normalize_answer(alias) for alias in aliases))
