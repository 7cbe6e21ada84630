"""Quality filters for the assistant turns of open-ended rows (datatrove style).

Each filter is a small :class:`ResponseFilter`: the base class walks the assistant turns and
:meth:`ResponseFilter.judge` says why one turn is bad (``None`` when it is fine); the first bad
turn drops the row. Rows with ``answers`` (short-answer QA) are judged only by the filters that
make sense for them (empty and refusal): a QA answer is short by design, so the length, trivial,
echo, repetition and garbage checks skip them.

Defaults are conservative: on ``data/chats`` they catch the trivial, refusal, repeated and echoed
rows and no good row (``tests/curation/test_filters.py`` holds the numbers). Off-topic and wrong
answers need a model: see :mod:`curation.scores`.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .core.config import UserError
from .core.records import is_open_ended
from .steps import Filter

_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[^\W\d_]+")


def iter_assistant_turns(messages: Sequence[Mapping[str, str]]) -> Iterator[tuple[int, str]]:
    """(index in ``messages``, content) of every assistant turn."""
    for i, turn in enumerate(messages):
        if turn["role"] == "assistant":
            yield i, turn["content"]


def _quote(text: str, limit: int = 60) -> str:
    """The text trimmed to ``limit`` characters and repr-quoted, for a one-line reason."""
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


class ResponseFilter(Filter):
    """Drops a row when :meth:`judge` finds a bad assistant turn; the reason names the turn."""

    open_ended_only = True  # QA rows (with ``answers``) skip this filter

    def judge(self, text: str, row: Mapping[str, Any], index: int) -> str | None:
        raise TypeError(f"{type(self).__name__} must define judge")

    def decide(self, row):
        if self.open_ended_only and not is_open_ended(row):
            return None
        for i, text in iter_assistant_turns(row["messages"]):
            reason = self.judge(text, row, i)
            if reason is not None:
                return f"messages[{i}]: {reason}"
        return None

    def __repr__(self) -> str:
        params = inspect.signature(type(self)).parameters
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in params)
        return f"{type(self).__name__}({args})"


class EmptyResponseFilter(ResponseFilter):
    """An assistant turn that is empty or only whitespace (QA rows included)."""

    name = "empty_response"
    open_ended_only = False

    def judge(self, text, row, index):
        return "empty response" if not text.strip() else None


# A whole response that only acknowledges: "Sure.", "OK", "Yes!", "Sure, I can help!".
_ACK = re.compile(
    r"(sure|ok(ay)?|yes|yeah|yep|no|nope|certainly|of course|absolutely|alright|all right|"
    r"got it|done|noted|thanks?( you)?|good question|great question)"
    r"(,? ?(i can|i could|i will|i'll|i would be happy to|i'd be happy to|happy to|glad to) "
    r"help( you)?( with (that|this))?)?", re.IGNORECASE)


class TrivialResponseFilter(ResponseFilter):
    """A bare acknowledgement, or fewer than ``min_words`` whitespace-separated words.

    Words are counted by whitespace so that a terse but real answer such as ``7 × 8 = 56.``
    (five words) passes with the default.
    """

    name = "trivial_response"

    def __init__(self, min_words: int = 4):
        self.min_words = min_words

    def judge(self, text, row, index):
        bare = text.strip().strip(".!?…\"' ")
        if _ACK.fullmatch(bare):
            return f"bare acknowledgement {_quote(text)}"
        n = len(text.split())
        if n < self.min_words:
            return f"trivial response of {n} word{'s' * (n != 1)} < {self.min_words}: {_quote(text)}"
        return None


DEFAULT_REFUSAL_PATTERNS = (
    r"\bas an ai\b(?: (?:language )?model| assistant)?",
    r"\bi(?:'m| am) (?:just )?an ai\b",
    # an apology alone is no refusal ("I'm sorry I missed your call" in a drafted note)
    r"(?:\bi(?:'m| am) sorry|\bi apologi[sz]e)(?:,? but)?,? (?:as an ai\b|i (?:cannot|can't|"
    r"can not|won't|will not|am unable|am not able)|i'm (?:unable|not able))",
    r"\bi (?:cannot|can't|can not|won't|will not) (?:help|assist|provide|answer|comply|fulfill"
    r"|fulfil|do that|support|engage)\b",
    r"\bi(?:'m| am) (?:unable|not able) to\b",
    r"\bi do(?:n't| not) have (?:personal |the ability|access to real-time)"
    r"(?:opinions|feelings|experiences|preferences)?",
    r"\bis there anything else i can help\b",
    r"\bconsult a qualified professional\b",
)


class RefusalFilter(ResponseFilter):
    """Refusal and AI-disclaimer boilerplate (QA rows included); the reason quotes the match.

    ``patterns`` are case-insensitive regular expressions; "I don't know" is deliberately absent,
    since it is the relabelled answer of the ``unknown: relabel_idk`` policy.
    """

    name = "refusal"
    open_ended_only = False

    def __init__(self, patterns: Sequence[str] = DEFAULT_REFUSAL_PATTERNS):
        self.patterns = tuple(patterns)
        self._compiled = [re.compile(p, re.IGNORECASE) for p in self.patterns]

    def judge(self, text, row, index):
        for pattern in self._compiled:
            match = pattern.search(text)
            if match:
                return f"refusal boilerplate {_quote(match.group(0))}"
        return None


def _normalized_words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return any(words[i:i + n] == part for i in range(len(words) - n + 1))


class EchoResponseFilter(ResponseFilter):
    """The user turn repeated back: the response contains the preceding user turn (as a word
    sequence, ignoring case and punctuation) and adds fewer than ``min_new_words`` other words."""

    name = "echo"

    def __init__(self, min_new_words: int = 4):
        self.min_new_words = min_new_words

    def judge(self, text, row, index):
        prompt = next((m["content"] for m in reversed(row["messages"][:index])
                       if m["role"] == "user"), "")
        asked, said = _normalized_words(prompt), _normalized_words(text)
        if not asked or not _contains(said, asked):
            return None
        new = [w for w in said if w not in set(asked)]
        if len(new) < self.min_new_words:
            return f"echoes the user turn, {len(new)} new words: {_quote(text)}"
        return None


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
        words = _normalized_words(text)
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
            return (f"{dup} of {len(lines)} lines repeat (e.g. {_quote(top, 40)} {count}x) "
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
            return f"a {len(long[0])}-character word {_quote(long[0], 30)}"
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


class LengthBoundsFilter(ResponseFilter):
    """Each assistant turn within [``min_chars``, ``max_chars``] characters (stripped); at most
    ``max_turns`` assistant turns when set."""

    name = "length_bounds"

    def __init__(self, min_chars: int = 2, max_chars: int = 16_000, max_turns: int | None = None):
        self.min_chars, self.max_chars, self.max_turns = min_chars, max_chars, max_turns

    def decide(self, row):
        turns = sum(m["role"] == "assistant" for m in row["messages"])
        if self.max_turns is not None and turns > self.max_turns:
            return f"{turns} assistant turns > max_turns {self.max_turns}"
        return super().decide(row)

    def judge(self, text, row, index):
        n = len(text.strip())
        if n < self.min_chars:
            return f"{n} characters < min_chars {self.min_chars}: {_quote(text)}"
        if n > self.max_chars:
            return f"{n:,} characters > max_chars {self.max_chars:,}"
        return None


FILTERS: dict[str, type[ResponseFilter]] = {cls.name: cls for cls in (
    EmptyResponseFilter, LengthBoundsFilter, TrivialResponseFilter, RefusalFilter,
    EchoResponseFilter, RepeatedNgramFilter, GarbageFilter)}

# The config form (a list of ``{name: …, **params}``), cheapest and clearest reasons first.
DEFAULT_FILTERS: list[dict[str, Any]] = [{"name": name} for name in FILTERS]


def build_filters(cfg_list: Sequence[Mapping[str, Any]] | None) -> list[Filter]:
    """Filters from a list of ``{name: ..., **params}`` dicts (plain or OmegaConf); ``None``
    gives :data:`DEFAULT_FILTERS`."""
    filters = []
    for entry in DEFAULT_FILTERS if cfg_list is None else cfg_list:
        params = dict(entry)
        name = params.pop("name", None)
        if name not in FILTERS:
            raise UserError(f"unknown filter {name!r}; known filters: {', '.join(FILTERS)}")
        cls = FILTERS[name]
        try:
            inspect.signature(cls).bind(**params)
        except TypeError as err:
            known = [p for p in inspect.signature(cls).parameters]
            raise UserError(f"filter {name!r}: {err} (parameters: {', '.join(known) or 'none'})"
                            ) from None
        filters.append(cls(**params))
    return filters
