"""Short-answer matching shared by probing and evaluation (SQuAD / NQ-open conventions)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def extract_short_answer(completion: str) -> str:
    """The answer part of a completion: its first line, stripped."""
    lines = completion.strip().splitlines()
    return lines[0].strip() if lines else ""


def compute_exact_match(prediction: str, aliases: Iterable[str]) -> float:
    """1.0 if the normalised prediction equals any normalised alias, else 0.0."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(a) for a in aliases))
