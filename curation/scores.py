"""How well a model already predicts an open-ended response (DESIGN §3.3): the response's mean
token NLL given the instruction, and IFD (Li et al., 2024, "From Quantity to Quality")::

    IFD = L(response | instruction) / L(response alone)

where both L are the MEAN negative log-likelihood per token over the SAME response tokens.
IFD ≥ 1 means the instruction does not help predict the response (a misaligned pair): drop it.

Spans, under lessmore's training template (:data:`~curation.core.chat.CHATML_TRAINING_TEMPLATE`):

- continuation: the assistant content + ``<|im_end|>`` (exactly what training puts the loss on);
- conditioned context: the conversation up to and including ``<|im_start|>assistant\\n`` of
  the scored turn (system turn and earlier turns included);
- unconditioned context: the ``<|im_start|>assistant\\n`` header alone. The paper scores the bare
  response text; keeping the header means both passes predict the response in the position and
  format training uses, so the only difference between them is the instruction (without it the
  first tokens would also pay for "this is an assistant turn", which inflates L(alone) and
  biases IFD down for short answers).

The engine encodes context and continuation separately and concatenates the ids, so both passes
score identical continuation ids (``tests/curation/test_scores.py`` proves it on the tiny
model). A turn that does not fit ``max_length`` is scored on a left-truncated context (the
continuation is never cut); a turn whose continuation plus header alone exceeds ``max_length``
cannot be scored and is NaN.

Multi-turn rows are scored per assistant turn. Row aggregates: ``score_nll`` is the mean over
turns and ``score_ifd`` the MAX over turns: training puts the loss on every assistant turn, so a
conversation is only as aligned as its worst turn. A failed turn makes its row's aggregates NaN.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datasets import Dataset, List, Value

from .core.cache import ResultCache, compute_key, map_cached
from .core.chat import END_OF_TURN, render_chat
from .core.config import UserError
from .core.engine import GenerationEngine
from .core.records import is_open_ended
from .steps import Annotator, Filter, has_open_ended_rows

log = logging.getLogger(__name__)

SCORE_VERSION = 1  # bump when scoring changes: cached rows from older code then miss
SCORE_COLUMNS = ("score_nll", "score_ifd", "score_nll_turns", "score_ifd_turns")
_FEATURES = {"score_nll": Value("float64"), "score_ifd": Value("float64"),
             "score_nll_turns": List(Value("float64")), "score_ifd_turns": List(Value("float64"))}


@dataclass(frozen=True)
class TurnRequest:
    """One assistant turn to score: the two contexts and the shared continuation."""

    index: int  # position of the assistant turn in ``messages``
    context: str  # the conversation up to and including the assistant header
    header: str  # the assistant header alone: the unconditioned context
    continuation: str  # the assistant content + <|im_end|>


@dataclass(frozen=True)
class TurnScore:
    nll: float  # mean NLL per continuation token given the context
    nll_alone: float  # the same, given the assistant header only
    ifd: float
    failure: str | None = None
    truncated: bool = False  # scored on a left-truncated context

    @classmethod
    def failed(cls, reason: str) -> TurnScore:
        return cls(math.nan, math.nan, math.nan, reason)


def build_turn_requests(tokenizer: Any, messages: Sequence[Mapping[str, str]]
                        ) -> list[TurnRequest]:
    """A request per assistant turn, rendered with lessmore's training template."""
    messages = [dict(m) for m in messages]
    header = assistant_header(tokenizer)
    requests = []
    for i, turn in enumerate(messages):
        if turn["role"] != "assistant":
            continue
        context = render_chat(tokenizer, messages[:i], add_generation_prompt=True)
        continuation = turn["content"] + END_OF_TURN
        # the invariant the spans rest on: training renders exactly context + continuation
        if not render_chat(tokenizer, messages[:i + 1]).startswith(context + continuation):
            raise RuntimeError("the training template no longer renders an assistant turn as "
                               "context + content + <|im_end|>; fix curation/scores.py")
        requests.append(TurnRequest(i, context, header, continuation))
    return requests


def assistant_header(tokenizer: Any) -> str:
    """What the template writes before an assistant's content (``<|im_start|>assistant\\n``)."""
    probe = [{"role": "user", "content": "?"}]
    prompt = render_chat(tokenizer, probe, add_generation_prompt=True)
    return prompt.removeprefix(render_chat(tokenizer, probe))


def truncate_left(tokenizer: Any, text: str, max_tokens: int) -> str:
    """The longest suffix of ``text``, cut at a token boundary, that encodes to at most
    ``max_tokens`` tokens."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True
                        )["offset_mapping"]
    if len(offsets) <= max_tokens:
        return text
    for start in range(max(0, len(offsets) - max_tokens), len(offsets)):
        cut = text[offsets[start][0]:]
        # re-encoding at the cut may merge differently: then drop one more token
        if len(tokenizer.encode(cut, add_special_tokens=False)) <= max_tokens:
            return cut
    return ""


def compute_turn_scores(engine: GenerationEngine, turns: Sequence[TurnRequest],
                        max_length: int | None = None, *, desc: str = "scoring responses"
                        ) -> list[TurnScore]:
    """NLL given the context, NLL given the header only, and IFD, for each turn; one batched
    engine call for all of them. A turn that cannot be scored is NaN with a failure reason."""
    tok = engine.tokenizer
    # per turn: (continuation tokens, the context to use), or why it cannot be scored
    planned = [_plan(tok, turn, max_length) for turn in turns]
    requests = []
    for turn, plan in zip(turns, planned, strict=True):
        if not isinstance(plan, str):
            requests += [(plan[1], turn.continuation), (turn.header, turn.continuation)]
    logprobs = iter(engine.loglikelihood(requests, desc=desc))
    scores = []
    for turn, plan in zip(turns, planned, strict=True):
        if isinstance(plan, str):
            scores.append(TurnScore.failed(plan))
            continue
        (given, _), (alone, _) = next(logprobs), next(logprobs)
        n, context = plan
        scores.append(_score(-given / n, -alone / n, truncated=context != turn.context))
    return scores


def _plan(tok: Any, turn: TurnRequest, max_length: int | None) -> tuple[int, str] | str:
    """(continuation tokens, the context to use), or why the turn cannot be scored."""
    n_cont = len(tok.encode(turn.continuation, add_special_tokens=False))
    if n_cont == 0:
        return "empty continuation"
    if max_length is None:
        return n_cont, turn.context
    n_header = len(tok.encode(turn.header, add_special_tokens=False))
    if n_header + n_cont > max_length:
        return f"response does not fit max_length {max_length}"
    return n_cont, truncate_left(tok, turn.context, max_length - n_cont)


def _score(nll: float, nll_alone: float, *, truncated: bool) -> TurnScore:
    ifd = nll / nll_alone if nll_alone > 0 else math.nan
    if not all(math.isfinite(x) for x in (nll, nll_alone, ifd)):
        log.debug("non-finite score: NLL %s, alone %s", nll, nll_alone)
        return TurnScore(nll, nll_alone, math.nan, "non-finite log-likelihood", truncated)
    return TurnScore(nll, nll_alone, ifd, None, truncated)


class ResponseScoreStep(Annotator):
    """Adds ``score_nll``, ``score_ifd`` and their per-turn lists ``score_nll_turns``,
    ``score_ifd_turns`` to open-ended rows (null for QA rows, NaN where scoring failed).

    ``engine`` wraps the model that judges: the target model or a smaller proxy (Superfiltering:
    a small model ranks IFD well at far less cost). ``fingerprint`` names that model (e.g.
    ``path@revision``) so ``datasets`` does not hash it. ``max_length`` (tokens; default the
    model's own) bounds each pass: longer turns are scored on a left-truncated context.
    After a call, ``failures`` counts failed turns by reason and ``truncated`` the turns scored
    on a left-truncated context (both for the manifest).
    """

    name = "score"

    def __init__(self, engine: GenerationEngine, fingerprint: str,
                 max_length: int | None = None, cache: ResultCache | None = None,
                 chunk_size: int = 64):
        self.engine, self.fingerprint = engine, fingerprint
        self.max_length = max_length
        # per-row results on disk: a killed run resumes without rescoring finished rows
        self.cache, self.chunk_size = cache, chunk_size
        self.failures: Counter[str] = Counter()
        self.truncated = 0

    @classmethod
    def from_config(cls, cfg, ds, context):
        if not (cfg.score.enabled and has_open_ended_rows(ds)):
            return []
        path = cfg.score.model_path or cfg.model.path
        return [cls(context.engine(path, cfg.score.batch_size), f"{path}@score",
                    max_length=cfg.max_length, cache=context.cache(path))]

    def annotate(self, ds: Dataset) -> Dataset:
        messages = ds["messages"]
        rows = [i for i, answers in enumerate(_column(ds, "answers"))
                if is_open_ended({"answers": answers})]
        turns = [build_turn_requests(self.engine.tokenizer, messages[i]) for i in rows]
        per_row = map_cached([compute_key(messages[i]) for i in rows],
                             lambda todo: self._score_rows([turns[t] for t in todo]),
                             cache=self.cache, kind="score", chunk_size=self.chunk_size,
                             config=compute_key({"version": SCORE_VERSION,
                                                 "max_length": self._max_length()}))
        per_row = [[TurnScore(**t) for t in row] for row in per_row]
        flat = [t for row in per_row for t in row]
        self.failures = Counter(s.failure for s in flat if s.failure)
        self.truncated = sum(s.truncated for s in flat)
        if self.failures:
            log.warning("score: %d turns could not be scored: %s", sum(self.failures.values()),
                        dict(self.failures))
        columns: dict[str, list[Any]] = {c: [None] * len(ds) for c in SCORE_COLUMNS}
        for i, row_scores in zip(rows, per_row, strict=True):
            for name, value in _aggregate(row_scores).items():
                columns[name][i] = value
        return self._add_columns(ds, columns)

    def _score_rows(self, rows: list[list[TurnRequest]]) -> list[list[dict[str, Any]]]:
        """Scores of each row's turns (one batched engine call), as JSON-able dicts."""
        flat = iter(compute_turn_scores(self.engine, [t for ts in rows for t in ts],
                                        self._max_length()))
        return [[dataclasses.asdict(next(flat)) for _ in ts] for ts in rows]

    def stats(self) -> dict[str, Any]:
        return {"failures": dict(sorted(self.failures.items())), "truncated": self.truncated}

    def _max_length(self) -> int | None:
        limits = [x for x in (self.max_length, self.engine.max_length) if x]
        return min(limits) if limits else None

    def _add_columns(self, ds: Dataset, columns: dict[str, list[Any]]) -> Dataset:
        ds = ds.remove_columns([c for c in SCORE_COLUMNS if c in ds.column_names])
        key = f"{ds._fingerprint}:{self.fingerprint}:{self._max_length()}:score"
        tag = hashlib.sha256(key.encode()).hexdigest()[:16]
        for name in SCORE_COLUMNS:
            ds = ds.add_column(name, columns[name], feature=_FEATURES[name],
                               new_fingerprint=f"{tag}-{name}")
        return ds


def _aggregate(turns: list[TurnScore]) -> dict[str, Any]:
    """Row columns from its turns: mean NLL, max IFD; NaN when any turn failed."""
    nll = [t.nll if t.failure is None else math.nan for t in turns]
    ifd = [t.ifd for t in turns]
    failed = any(t.failure for t in turns) or not turns
    return {"score_nll": math.nan if failed else sum(nll) / len(nll),
            "score_ifd": math.nan if failed else max(ifd),
            "score_nll_turns": nll, "score_ifd_turns": ifd}


def _column(ds: Dataset, name: str) -> list[Any]:
    return ds[name] if name in ds.column_names else [None] * len(ds)


class IFDFilter(Filter):
    """Drops rows with IFD ≥ ``max_ifd`` (DESIGN §3.3). QA rows (no score) are kept; so are
    rows whose scoring failed (NaN), unless ``drop_unscored``."""

    name = "ifd"

    def __init__(self, max_ifd: float = 1.0, drop_unscored: bool = False):
        self.max_ifd, self.drop_unscored = max_ifd, drop_unscored

    @classmethod
    def from_config(cls, cfg, ds, context):
        if not (cfg.score.enabled and has_open_ended_rows(ds)):
            return []
        return [cls(cfg.score.max_ifd, cfg.score.drop_unscored)]

    def drops(self, ds: Dataset) -> dict[int, str]:
        if "score_ifd" not in ds.column_names:
            raise UserError("the ifd filter needs the score_ifd column: run the score step first")
        return super().drops(ds)

    def decide(self, row):
        ifd = row.get("score_ifd")
        if ifd is None:
            return None
        if math.isnan(ifd):
            return "IFD could not be computed" if self.drop_unscored else None
        if ifd < self.max_ifd:
            return None
        reason = (f"IFD {ifd:.2f} ≥ {self.max_ifd:g}: the instruction does not help predict "
                  f"the response")
        per_turn = row.get("score_ifd_turns") or []
        if len(per_turn) > 1:
            reason += f" (assistant turn {per_turn.index(ifd) + 1} of {len(per_turn)})"
        return reason
