"""Quality filters for the assistant turns of open-ended rows (datatrove style).

Each filter is a small :class:`ResponseFilter`: the base class walks the assistant turns and
:meth:`ResponseFilter.judge` says why one turn is bad (``None`` when it is fine); the first bad
turn drops the row. Rows with ``answers`` (short-answer QA) are judged only by the filters that
make sense for them (empty and refusal): a QA answer is short by design, so the length, trivial,
echo, repetition and garbage checks skip them. The text-statistics filters (repetition, garbage)
live in :mod:`curation.statistical_filters`.

``filters.steps`` names each filter by its class, ``{_target_: curation.filters.RefusalFilter,
**params}``, so any :class:`~curation.steps.Filter` subclass of a user's own plugs in the same way
(:func:`build_filters`).

Defaults are conservative: on ``data/chats`` they catch the trivial, refusal, repeated and echoed
rows and no good row (``tests/curation/test_filters.py`` holds the numbers). Off-topic and wrong
answers need a model: see :mod:`curation.scores`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .core.config import UserError, instantiate_target
from .core.records import is_open_ended
from .steps import Filter

_WORD = re.compile(r"\w+")


def iter_assistant_turns(messages: Sequence[Mapping[str, str]]) -> Iterator[tuple[int, str]]:
    """(index in ``messages``, content) of every assistant turn."""
    for i, turn in enumerate(messages):
        if turn["role"] == "assistant":
            yield i, turn["content"]


def quote_excerpt(text: str, limit: int = 60) -> str:
    """The text trimmed to ``limit`` characters and repr-quoted, for a one-line reason."""
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


class ResponseFilter(Filter):
    """Drops a row when :meth:`judge` finds a bad assistant turn; the reason names the turn."""

    open_ended_only = True  # QA rows (with ``answers``) skip this filter

    @classmethod
    def from_config(cls, cfg, ds, context):
        """The quality filters ``cfg.filters.steps`` names, in order (this base class stands for
        all of them in the run's table of contents)."""
        return build_filters(cfg.filters.steps)

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
            return f"bare acknowledgement {quote_excerpt(text)}"
        n = len(text.split())
        if n < self.min_words:
            return f"trivial response of {n} word{'s' * (n != 1)} < {self.min_words}: {quote_excerpt(text)}"
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
                return f"refusal boilerplate {quote_excerpt(match.group(0))}"
        return None


def split_words(text: str) -> list[str]:
    """The casefolded words of ``text`` (punctuation dropped)."""
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
        asked, said = split_words(prompt), split_words(text)
        if not asked or not _contains(said, asked):
            return None
        new = [w for w in said if w not in set(asked)]
        if len(new) < self.min_new_words:
            return f"echoes the user turn, {len(new)} new words: {quote_excerpt(text)}"
        return None


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
            return f"{n} characters < min_chars {self.min_chars}: {quote_excerpt(text)}"
        if n > self.max_chars:
            return f"{n:,} characters > max_chars {self.max_chars:,}"
        return None


# The config form (a list of ``{_target_: …, **params}``), cheapest and clearest reasons first.
DEFAULT_FILTERS: list[dict[str, Any]] = [{"_target_": f"curation.{path}"} for path in (
    "filters.EmptyResponseFilter", "filters.LengthBoundsFilter", "filters.TrivialResponseFilter",
    "filters.RefusalFilter", "filters.EchoResponseFilter",
    "statistical_filters.RepeatedNgramFilter", "statistical_filters.GarbageFilter")]


def build_filters(entries: Sequence[Mapping[str, Any]] | None) -> list[Filter]:
    """Filters from a list of ``{_target_: CLASS, **params}`` entries (plain or OmegaConf), each
    a :class:`~curation.steps.Filter` class built with its params (checked against its
    signature); ``None`` gives :data:`DEFAULT_FILTERS`."""
    filters = []
    for entry in DEFAULT_FILTERS if entries is None else entries:
        if not isinstance(entry, Mapping):
            raise UserError(f"filter {entry!r}: each filter is a {{_target_: CLASS, ...}} entry")
        if "_target_" not in entry and "name" in entry:
            raise UserError(f"filter {entry['name']!r}: filters are named by _target_ (their "
                            f"class), e.g. {{_target_: {_former_target(entry['name'])}}}")
        filters.append(instantiate_target(entry, Filter, "filter"))
    return filters


def _former_target(name: str) -> str:
    """The class a filter's former registry name stood for (a default one if unknown)."""
    import importlib

    def name_of(target: str) -> str:
        module, _, cls = target.rpartition(".")
        return getattr(importlib.import_module(module), cls).name

    targets = {name_of(e["_target_"]): e["_target_"] for e in DEFAULT_FILTERS}
    return targets.get(name, "curation.filters.RefusalFilter")
