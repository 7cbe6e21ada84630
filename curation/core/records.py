"""The one record schema every stage uses (DESIGN §2) and its validation.

A record is a dict with ``id``, ``messages`` (a list of ``{role, content}``), ``source``, and for
short-answer QA also ``question``, ``answers`` and ``group``; ``split`` is kept when the source
has one and ``origin`` is ``file:line``. Stages add prefixed columns (``probe_…``, ``score_…``,
``sel_…``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "user", "assistant")
# One message longer than this is refused: it is almost always a scraping or join accident and
# it would blow up tokenisation and memory later.
MAX_MESSAGE_CHARS = 100_000

_WS = re.compile(r"\s+")


class KnowledgeCategory(enum.StrEnum):
    """SliCK categories (Gekhman et al., 2024): how well the base model knows a fact."""

    HIGHLY_KNOWN = "HighlyKnown"
    MAYBE_KNOWN = "MaybeKnown"
    WEAKLY_KNOWN = "WeaklyKnown"
    UNKNOWN = "Unknown"

    @property
    def known(self) -> bool:
        return self is not KnowledgeCategory.UNKNOWN


class RecordError(ValueError):
    """A row that cannot become a record; carries the offending field."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Rejection:
    """Why one input row was refused, and where it came from."""

    file: str
    line: int
    field: str
    reason: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field,
                "reason": self.reason, "raw": self.raw[:500]}


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace-collapsed text: the key for exact dedup."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def compute_record_id(messages: list[dict[str, str]]) -> str:
    """A stable id from the normalised conversation content."""
    canon = json.dumps([[m["role"], normalize_text(m["content"])] for m in messages],
                       ensure_ascii=False, separators=(",", ":"))
    return "r-" + hashlib.sha1(canon.encode("utf-8")).hexdigest()[:16]


def compute_content_key(messages: list[dict[str, str]]) -> str:
    """Hash of the normalised content of a conversation, ignoring ids and sources."""
    return compute_record_id(messages)[2:]


def validate_messages(messages: Any, max_chars: int = MAX_MESSAGE_CHARS) -> list[dict[str, str]]:
    """Check a conversation and return it as plain ``{role, content}`` dicts.

    Rules: a non-empty list; each turn a dict with a known role and non-empty string content; an
    optional system turn first, then user and assistant alternating, starting with user and
    ending with assistant (the turn that is trained on).
    """
    if not isinstance(messages, list):
        raise RecordError("messages", f"expected a list of turns, got {type(messages).__name__}")
    if not messages:
        raise RecordError("messages", "empty conversation")
    out = []
    for i, turn in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(turn, dict):
            raise RecordError(where, f"expected an object, got {type(turn).__name__}")
        role, content = turn.get("role"), turn.get("content")
        if role not in ROLES:
            raise RecordError(f"{where}.role", f"unknown role {role!r} (expected one of {ROLES})")
        if content is None:
            raise RecordError(f"{where}.content", "missing")
        if not isinstance(content, str):
            raise RecordError(f"{where}.content", f"expected a string, got {type(content).__name__}")
        if not content.strip():
            raise RecordError(f"{where}.content", "empty")
        if len(content) > max_chars:
            raise RecordError(f"{where}.content", f"too long: {len(content):,} chars > {max_chars:,}")
        out.append({"role": role, "content": content})
    _check_role_order(out)
    return out


def _check_role_order(messages: list[dict[str, str]]) -> None:
    turns = messages[1:] if messages[0]["role"] == "system" else messages
    if not turns:
        raise RecordError("messages", "only a system turn")
    for i, turn in enumerate(turns):
        expected = "user" if i % 2 == 0 else "assistant"
        if turn["role"] != expected:
            idx = i + (len(messages) - len(turns))
            raise RecordError(f"messages[{idx}].role",
                              f"bad role order: expected {expected}, got {turn['role']}")
    if turns[-1]["role"] != "assistant":
        raise RecordError("messages", "conversation must end with an assistant turn")


# A gold answer SliCK's exact match can probe: one line of at most this many words. NQ-open keeps
# answers of at most 5 tokens and EntityQuestions' are entity names; a worked solution (GSM8K:
# several lines ending ``#### 72``) or a paragraph is long-form, and exact match against it would
# call every such row Unknown.
SHORT_ANSWER_MAX_WORDS = 10


def is_short_answer(answers: Any) -> bool:
    """Whether ``answers`` are short gold answers (every alias one line, at most
    ``SHORT_ANSWER_MAX_WORDS`` words)."""
    return bool(answers) and all(
        isinstance(a, str) and "\n" not in a.strip() and len(a.split()) <= SHORT_ANSWER_MAX_WORDS
        for a in answers)


def is_open_ended(row: Mapping[str, Any]) -> bool:
    """A row whose answer is long-form: no gold ``answers`` (an instruction), or answers that are
    not short (a worked solution, a paragraph). Such rows are scored by likelihood (NLL, IFD),
    not probed by exact match."""
    return not is_short_answer(row.get("answers"))
