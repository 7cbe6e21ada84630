"""What a probed row generates and how a generation counts as correct, by the shape of its gold
answer (see ``curation.probes``), and how a probe protocol is named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .core.answers import FINAL_ANSWERS, FinalAnswer, compute_exact_match, extract_short_answer
from .core.chat import SOLUTION_STOP, build_qa_prompt, build_solution_prompt
from .core.config import UserError
from .core.records import is_short_answer

# SliCK's protocol (Gekhman et al., 2024): fewer prompts or samples approximate its categories
SLICK_N_PROMPTS, SLICK_N_SAMPLES = 10, 16


def approximate_protocol(cfg: Any) -> bool:
    """Whether a probe config draws fewer prompts or samples than SliCK's 10 x 16."""
    return cfg.n_prompts < SLICK_N_PROMPTS or cfg.n_samples < SLICK_N_SAMPLES


def describe_protocol(cfg: Any) -> str:
    """One line naming the protocol, e.g. ``quick (3 prompts x 2 samples; approximate: SliCK
    uses 10 x 16)``."""
    size = f"{cfg.n_prompts} prompts x {cfg.n_samples} samples"
    return (f"{cfg.name} ({size}; approximate: SliCK uses {SLICK_N_PROMPTS} x "
            f"{SLICK_N_SAMPLES})" if approximate_protocol(cfg) else f"{cfg.name} ({size})")


@dataclass(frozen=True)
class AnswerCheck:
    """What one kind of probed row generates and how a generation is judged."""

    kind: str  # short_answer | final_answer
    max_new_tokens: int
    stop: tuple[str, ...]
    final: FinalAnswer | None = None

    def prompt(self, question: str, shots: list[tuple[str, str]]) -> str:
        return (build_qa_prompt if self.final is None else build_solution_prompt)(question, shots)

    def answer(self, completion: str) -> str:
        """The part of a completion that is compared (stored in the cache record)."""
        return (extract_short_answer(completion) if self.final is None
                else self.final.extract(completion))

    def hits(self, answers: Any, gold: list[str]) -> int:
        if self.final is None:
            return int(sum(compute_exact_match(a, gold) for a in answers))
        return int(sum(self.final.matches(a, gold) for a in answers))


def build_checks(cfg: Any) -> dict[str, AnswerCheck]:
    """The checks a probe config asks for: short answers always, final answers if named."""
    checks = {"short_answer": AnswerCheck("short_answer", cfg.max_new_tokens, ("\n",))}
    if cfg.final_answer is not None:
        if cfg.final_answer not in FINAL_ANSWERS:
            raise UserError(f"probe.final_answer={cfg.final_answer!r}: unknown extractor "
                            f"(known: {', '.join(sorted(FINAL_ANSWERS))}, or null)")
        checks["final_answer"] = AnswerCheck("final_answer", cfg.solution_max_new_tokens,
                                             SOLUTION_STOP, FINAL_ANSWERS[cfg.final_answer])
    return checks


def probe_kind(answers: Any, checks: dict[str, AnswerCheck]) -> str | None:
    """``short_answer``, ``final_answer`` (long answers with an extractor), or None."""
    if is_short_answer(answers):
        return "short_answer"
    return "final_answer" if answers and "final_answer" in checks else None
