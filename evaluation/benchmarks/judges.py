"""Pairwise judges for :mod:`evaluation.benchmarks.win_rate`: a local model scored through the engine, or an
OpenAI-compatible ``/v1/chat/completions`` endpoint.

A judge turns judge prompts (two responses labelled A and B) into :class:`Verdict` objects.
A verdict it could not get — an HTTP error after the retries, a malformed reply, an answer that
is not plainly "A" or "B" — has ``choice=None`` and says why: the caller counts it as a failure,
never as a vote for either side.

The endpoint's API key is read from the environment variable the config names, at call time, and
kept only in the request header: it is never stored on a config object, logged or returned.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from curation.core.config import UserError

from .responses import build_instruction_prompt

log = logging.getLogger(__name__)

# The first non-empty line must be just the letter, optionally as "Response A", "Answer: B",
# "[[A]]" or "**B**"; a sentence such as "A is better because..." is not parsed (ambiguous).
_VERDICT = re.compile(r"(?i:(?:the\s+)?(?:better\s+)?(?:answer|response|verdict)?\s*(?:is)?\s*:?\s*)"
                      r"[\[(\"'*]*([AB])[\])\"'*.]*")
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Verdict:
    """One judgment: ``choice`` "A", "B", or None (a failure, ``error`` says why)."""

    choice: str | None
    raw: str = ""
    error: str | None = None
    margin: float | None = None  # local judge: log P("A") - log P("B")


def parse_verdict(text: str) -> Verdict:
    """The letter a judge answered, or a failure when the reply is not plainly A or B."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    match = _VERDICT.fullmatch(lines[0]) if lines else None
    if match is None:
        return Verdict(None, text, "unparseable verdict")
    return Verdict(match.group(1), text)


class LocalJudge:
    """A local causal LM: the verdict is whichever of "A" and "B" is the likelier next token
    (no parsing, so it never fails for format)."""

    def __init__(self, engine: Any, *, chat_template: bool = True) -> None:
        self.engine, self.chat_template = engine, chat_template

    def judge(self, prompts: list[str]) -> list[Verdict]:
        contexts = [self._context(p) for p in prompts]
        space = "" if self.chat_template else " "  # plain prompts end with "Answer:"
        requests = [(c, space + letter) for c in contexts for letter in ("A", "B")]
        scores = self.engine.loglikelihood(requests, desc="judging")
        verdicts = []
        for k in range(len(prompts)):
            margin = scores[2 * k][0] - scores[2 * k + 1][0]
            choice = "A" if margin > 0 else "B" if margin < 0 else None
            verdicts.append(Verdict(choice, "", None if choice else "equal log-likelihoods",
                                    margin))
        return verdicts

    def _context(self, prompt: str) -> str:
        if self.chat_template:
            return build_instruction_prompt(self.engine.tokenizer, prompt, True)
        return prompt + "\nAnswer:"


class EndpointJudge:
    """An OpenAI-compatible chat completions endpoint, asked at temperature 0."""

    def __init__(self, *, base_url: str, model: str, api_key_env: str | None,
                 timeout_s: float = 60.0, retries: int = 2, retry_wait_s: float = 1.0,
                 workers: int = 4, max_tokens: int = 8) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key_env = model, api_key_env
        self.timeout_s, self.retries, self.retry_wait_s = timeout_s, retries, retry_wait_s
        self.workers, self.max_tokens = max(1, workers), max_tokens

    def judge(self, prompts: list[str]) -> list[Verdict]:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise UserError(f"judge: environment variable {self.api_key_env} is not set")
            headers["Authorization"] = f"Bearer {key}"
        with ThreadPoolExecutor(self.workers) as pool:  # map keeps the prompts' order
            return list(pool.map(lambda p: self._ask(p, headers), prompts))

    def _ask(self, prompt: str, headers: dict[str, str]) -> Verdict:
        body = json.dumps({"model": self.model, "temperature": 0, "max_tokens": self.max_tokens,
                           "messages": [{"role": "user", "content": prompt}]}).encode()
        for attempt in range(self.retries + 1):
            try:
                request = urllib.request.Request(self.url, body, headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                    return parse_verdict(_content(json.loads(reply.read())))
            except urllib.error.HTTPError as e:
                error, retry = f"HTTP {e.code}", e.code in RETRY_STATUS
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                error, retry = f"connection error: {type(e).__name__}", True
            except (ValueError, KeyError, IndexError, TypeError):
                return Verdict(None, "", "malformed reply")
            if not retry or attempt == self.retries:
                return Verdict(None, "", error)
            time.sleep(self.retry_wait_s * 2 ** attempt)
        raise AssertionError("unreachable")  # the loop always returns


def _content(reply: Any) -> str:
    content = reply["choices"][0]["message"]["content"]
    if not isinstance(content, str):
        raise TypeError("content is not a string")
    return content
