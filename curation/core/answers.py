"""Short-answer matching shared by probing and evaluation.

Answer normalisation follows the SQuAD / NQ-open convention that lm-evaluation-harness and the
closed-book QA literature use, so scores are comparable with published numbers, and a fact the
probe calls "known" is judged by the same rule the evaluation scores it with.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


# --- lm-evaluation-harness's extraction and exact match (generate_until tasks: GSM8K) ------

@dataclass
class Extraction:
    """One lm-eval filter chain ending in ``take_first``: with a ``regex``, its ``findall``
    match number ``group_select`` (a tuple gives its first non-empty group), stripped, or
    ``fallback`` when nothing matches; without one, the whole response stripped."""

    name: str
    regex: str | None = None
    group_select: int = 0
    fallback: str = "[invalid]"


def gsm8k_filters() -> list[Extraction]:
    return [Extraction("strict", r"#### (\-?[0-9\.\,]+)"),
            Extraction("flexible", r"(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select=-1)]


GSM8K_IGNORE = [",", "\\$", "(?s).*#### ", "\\.$"]
def extract_answer(response: str, extraction: Extraction) -> str:
    """The answer one filter takes from a response (lm-eval's ``regex`` / ``remove_whitespace``)."""
    if extraction.regex is None:
        return response.strip()
    matches = re.findall(extraction.regex, response)
    if not matches:
        return extraction.fallback
    match = matches[extraction.group_select]
    if isinstance(match, tuple):
        match = next((m for m in match if m), extraction.fallback)
    return match.strip()


def normalize_for_match(text: str, regexes_to_ignore: Iterable[str] = (), *,
                        ignore_case: bool = False, ignore_punctuation: bool = False) -> str:
    """lm-eval's ``exact_match`` normalisation: each regex removed in order, then lower-case,
    then ASCII punctuation dropped."""
    for pattern in regexes_to_ignore:
        text = re.sub(pattern, "", text)
    if ignore_case:
        text = text.lower()
    return text.translate(_PUNCTUATION) if ignore_punctuation else text


def compute_lmeval_exact_match(prediction: str, references: Iterable[str], **normalisation: Any
                               ) -> float:
    """1.0 if the normalised prediction equals any normalised reference."""
    pred = normalize_for_match(prediction, **normalisation)
    return float(any(pred == normalize_for_match(ref, **normalisation) for ref in references))


@dataclass(frozen=True)
class FinalAnswer:
    """How to check a worked solution by its final answer: the extraction filter applied to a
    model's solution and the normalisation applied to both sides, exactly as the reasoning
    benchmark scores it (lm-eval's ``gsm8k``: strict ``#### n``, commas, ``$``, the worked part
    of the gold solution and a final period ignored, case-insensitive)."""

    name: str
    extraction: Extraction
    regexes_to_ignore: tuple[str, ...]
    ignore_case: bool = True

    def extract(self, solution: str) -> str:
        """The final answer a generated solution gives (the filter's fallback if none)."""
        return extract_answer(solution, self.extraction)

    def matches(self, answer: str, gold: Iterable[str]) -> bool:
        """Whether an extracted answer matches any gold solution's final answer."""
        return bool(compute_lmeval_exact_match(answer, list(gold),
                                               regexes_to_ignore=self.regexes_to_ignore,
                                               ignore_case=self.ignore_case))

    def is_correct(self, solution: str, gold: Iterable[str]) -> bool:
        """Whether a generated solution's final answer matches any gold solution's."""
        return self.matches(self.extract(solution), gold)


FINAL_ANSWERS = {
    "gsm8k": FinalAnswer("gsm8k", gsm8k_filters()[0], tuple(GSM8K_IGNORE)),
    "gsm8k_flexible": FinalAnswer("gsm8k_flexible", gsm8k_filters()[1], tuple(GSM8K_IGNORE)),
}
