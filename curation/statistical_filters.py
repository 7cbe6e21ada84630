"""Quality filters on text statistics: Gopher-style repetition, and text that is not language.

Both judge assistant turns like every :class:`~curation.filters.ResponseFilter` and skip
short-answer QA rows (a QA answer is short by design); ``conf/filters/default.yaml`` names them
by ``_target_`` like any other filter.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping

from .filters import ResponseFilter, quote_excerpt, split_words

_LETTERS = re.compile(r"[^\W\d_]+")


class RepeatedNgramFilter(ResponseFilter):
    """Repetition, as in Gopher (Rae et al., 2021, appendix A): the most frequent word n-gram's
    share of the characters (n = 2, 3, 4), the share of characters in duplicated n-grams
    (n = 5 … 10), and the share of duplicated lines.

    Gopher's thresholds are for documents; a short answer repeats a 2-gram by accident, so the
    top-n-gram check only counts an n-gram seen at least ``min_repeats`` times.
    """

    name = "repetition"

    def __init__(self, top_ngram_max: Mapping[int, float] | None = None,
                 dup_ngram_max: Mapping[int, float] | None = None, min_repeats: int = 4,
                 dup_line_max: float = 0.3):
        # {n: max share}; {} turns a check off
        self.top_ngram_max = dict({2: 0.20, 3: 0.18, 4: 0.16} if top_ngram_max is None
                                  else top_ngram_max)
        self.dup_ngram_max = dict({5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
                                  if dup_ngram_max is None else dup_ngram_max)
        self.min_repeats = min_repeats
        self.dup_line_max = dup_line_max

    def judge(self, text, row, index):
        words = split_words(text)
        chars = sum(map(len, words))
        for n, limit in sorted(self.top_ngram_max.items()):
            share, gram, count = _top_ngram_share(words, int(n), chars)
            if count >= self.min_repeats and share > limit:
                return (f"{n}-gram {' '.join(gram)!r} repeated {count}x, {share:.0%} of "
                        f"characters > {limit:.0%}")
        for n, limit in sorted(self.dup_ngram_max.items()):
            share = _dup_ngram_share(words, int(n), chars)
            if share > limit:
                return f"duplicated {n}-grams cover {share:.0%} of characters > {limit:.0%}"
        return self._judge_lines(text)

    def _judge_lines(self, text: str) -> str | None:
        # lines without a letter (``}``, ``---``, blank) repeat in any code block or list
        lines = [s.strip() for s in text.splitlines() if _LETTERS.search(s)]
        if len(lines) < 3:
            return None
        dup = len(lines) - len(set(lines))
        if dup / len(lines) > self.dup_line_max:
            top, count = Counter(lines).most_common(1)[0]
            return (f"{dup} of {len(lines)} lines repeat (e.g. {quote_excerpt(top, 40)} {count}x) "
                    f"> {self.dup_line_max:.0%}")
        return None


def _ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def _top_ngram_share(words: list[str], n: int, chars: int) -> tuple[float, tuple, int]:
    """(share of characters the most frequent n-gram covers, the n-gram, its count)."""
    grams = Counter(_ngrams(words, n))
    if not grams or not chars:
        return 0.0, (), 0
    gram, count = grams.most_common(1)[0]
    return min(1.0, count * sum(map(len, gram)) / chars), gram, count


def _dup_ngram_share(words: list[str], n: int, chars: int) -> float:
    """Share of characters in words covered by an n-gram that occurred earlier (Gopher)."""
    seen: set[tuple[str, ...]] = set()
    covered = [False] * len(words)
    for i, gram in enumerate(_ngrams(words, n)):
        if gram in seen:
            covered[i:i + n] = [True] * n
        seen.add(gram)
    return sum(len(w) for w, c in zip(words, covered, strict=True) if c) / chars if chars else 0.0


# UTF-8 read as Latin-1/cp1252: "Ã©", "â€™", "Â°"; and U+FFFD, the decoder's replacement char.
_MOJIBAKE = re.compile(
    "Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]"
    "|â€|Â[\u00a0-\u00bf]|\ufffd")
_URL = re.compile(r"^(?:[a-z]+://|www\.)", re.IGNORECASE)


class GarbageFilter(ResponseFilter):
    """Text that is not language: few letters, the wrong script, huge "words", mojibake.

    Conservative by default: answers like ``7 × 8 = 56.`` and code blocks pass. The letter share
    is only judged on turns of at least ``min_chars_for_shares`` non-space characters.
    ``expected_script="latin"`` drops turns where more than ``max_foreign_share`` of the letters
    are from another script; ``None`` turns the check off.
    """

    name = "garbage"

    def __init__(self, min_alpha_share: float = 0.25, expected_script: str | None = "latin",
                 max_foreign_share: float = 0.5, max_word_chars: int = 80,
                 max_mojibake: int = 0, min_chars_for_shares: int = 30):
        self.min_alpha_share = min_alpha_share
        self.expected_script = expected_script
        self.max_foreign_share = max_foreign_share
        self.max_word_chars = max_word_chars
        self.max_mojibake = max_mojibake
        self.min_chars_for_shares = min_chars_for_shares

    def judge(self, text, row, index):
        marks = _MOJIBAKE.findall(text)
        if len(marks) > self.max_mojibake:
            return f"{len(marks)} mojibake marks, e.g. {marks[0]!r}"
        long = [w for w in text.split() if len(w) > self.max_word_chars and not _URL.match(w)]
        if long:
            return f"a {len(long[0])}-character word {quote_excerpt(long[0], 30)}"
        visible = [c for c in text if not c.isspace()]
        if len(visible) < self.min_chars_for_shares:
            return None
        letters = [c for c in visible if c.isalpha()]
        share = len(letters) / len(visible)
        if share < self.min_alpha_share:
            return f"only {share:.0%} letters < {self.min_alpha_share:.0%}"
        if self.expected_script and letters:
            foreign = sum(not _in_script(c, self.expected_script) for c in letters) / len(letters)
            if foreign > self.max_foreign_share:
                return (f"{foreign:.0%} of letters not {self.expected_script} script > "
                        f"{self.max_foreign_share:.0%}")
        return None


def _in_script(char: str, script: str) -> bool:
    # the Unicode name starts with the script ("LATIN SMALL LETTER E WITH ACUTE", "GREEK …")
    return unicodedata.name(char, "").startswith(script.upper())
