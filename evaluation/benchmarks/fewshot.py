"""Few-shot prompts built the way lm-evaluation-harness 0.4 builds them, shared by the generation
and multiple-choice benchmarks, so a task ported from an lm-eval YAML gets byte-identical prompts.

Plain text: ``description + Σ(shot text + target_delimiter + shot answer + fewshot_delimiter) +
item text``. Chat (lm-eval's ``--apply_chat_template``, which turns ``fewshot_as_multiturn`` on):
a system turn holding the description (if any), a user/assistant pair per shot and the item's user
turn, rendered with a generation prompt by lessmore's training template or the model's own.

Fields are lm-eval's ``doc_to_*`` conventions: a row field's name gives that field; anything else
is a Jinja template, and a rendered ``[...]`` is read as a Python list literal (alias/choice lists).
"""

from __future__ import annotations

import abc
import ast
import contextlib
import functools
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from curation.core.chat import render_chat
from curation.core.config import UserError
from curation.core.readers import LOCAL_SUFFIXES, iter_raw_rows

from .base import Benchmark

SAMPLERS = ("random", "first_n")
CHAT_TEMPLATES = ("training", "model")
# lm-eval's Jinja environment: a missing field is an error, a trailing newline is kept
_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@dataclass
class FewShotBenchmark(Benchmark):
    """Base of the benchmarks whose data is a hub dataset or a local file in its format."""

    data: str  # hub name (openai/gsm8k) or a local .jsonl/.json/.parquet/.csv in the same format
    subset: str | None = None  # hub config name (openai/gsm8k: main); ignored for local files
    split: str = "test"  # hub split scored; ignored for local files
    fewshot_data: str | None = None  # where shots come from (default: data, split fewshot_split)
    fewshot_split: str = "train"
    k_shots: int = 0
    sampler: str = "random"  # random: lm-eval's default (a fresh seeded draw per item) | first_n
    fewshot_seed: int = 1234  # lm-eval's default fewshot_random_seed
    description: str = ""  # prepended (plain) or the system turn (chat); a Jinja template
    doc_to_text: str = "Question: {{question}}\nAnswer:"
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    chat_template: bool = False  # render as chat turns instead of plain text
    chat_template_source: str = "training"  # training: lessmore's template | model: the model's own
    group_field: str | None = None  # row field that splits every score by group
    limit: int | None = None

    def load_data(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(eval items, shot pool), checked before any model is loaded."""
        if self.sampler not in SAMPLERS:
            raise UserError(f"{self.name}: sampler must be one of {SAMPLERS}, not {self.sampler!r}")
        if self.chat_template_source not in CHAT_TEMPLATES:
            raise UserError(f"{self.name}: chat_template_source must be one of {CHAT_TEMPLATES}, "
                            f"not {self.chat_template_source!r}")
        items = load_rows(self.data, self.subset, self.split, limit=self.limit)
        pool = (load_rows(self.fewshot_data or self.data, self.subset, self.fewshot_split)
                if self.k_shots else [])
        if self.k_shots and self.k_shots > len(pool) - self._shares_pool():
            raise UserError(f"{self.name}: k_shots={self.k_shots} but the shot pool has "
                            f"{len(pool)} rows")
        return items, pool

    def settings(self) -> dict[str, Any]:
        fmt = f"chat_template:{self.chat_template_source}" if self.chat_template else "plain"
        return {**super().settings(), "prompt_format": f"lm-eval/{fmt}"}

    def build_prompts(self, items: list[dict[str, Any]], pool: list[dict[str, Any]],
                      tokenizer: Any) -> list[str]:
        """Every item's prompt; shots are drawn in item order, as lm-eval draws them."""
        shots = draw_shots(items, pool, self.k_shots, sampler=self.sampler,
                           seed=self.fewshot_seed, exclude_self=self._shares_pool())
        return [self.build_prompt(item, s, tokenizer) for item, s in zip(items, shots, strict=True)]

    def build_prompt(self, item: dict[str, Any], shots: list[dict[str, Any]], tokenizer: Any) -> str:
        turns = [(render_text(self.doc_to_text, s), self.shot_answer(s)) for s in shots]
        text = render_text(self.doc_to_text, item)
        description = render_text(self.description, item) if self.description else ""
        if not self.chat_template:
            return description + "".join(q + self.target_delimiter + a + self.fewshot_delimiter
                                         for q, a in turns) + text
        messages = [{"role": "system", "content": description}] if description else []
        for q, a in turns:
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        messages.append({"role": "user", "content": text})
        if self.chat_template_source == "training":
            return render_chat(tokenizer, messages, add_generation_prompt=True)
        if not getattr(tokenizer, "chat_template", None):
            raise UserError(f"{self.name}: chat_template_source=model but the model has no chat "
                            "template")
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    @abc.abstractmethod
    def shot_answer(self, row: dict[str, Any]) -> str:
        """The answer a shot shows after its text (subclasses: the gold target)."""

    def group_of(self, row: dict[str, Any]) -> str | None:
        return None if self.group_field is None else str(row.get(self.group_field))

    def _shares_pool(self) -> bool:
        """Shots come from the scored rows themselves, so an item must not be its own shot
        (lm-eval: when the few-shot split is the test split)."""
        same = self.fewshot_data in (None, self.data)
        return same and (self.fewshot_split == self.split or is_local(self.data))


def is_local(source: str) -> bool:
    """A local path (as ``curation.core.readers`` tells it from a hub name)."""
    path = Path(source).expanduser()
    return path.exists() or path.suffix in LOCAL_SUFFIXES or source.startswith((".", "/", "~"))


def load_rows(source: str, subset: str | None, split: str, *, limit: int | None = None
              ) -> list[dict[str, Any]]:
    """Rows of a local file, or of hub dataset ``source`` (config ``subset``, ``split``)."""
    name = f"{source}:{subset}" if subset and not is_local(source) else source
    rows: list[dict[str, Any]] = []
    for raw in iter_raw_rows(name, split=split):
        if raw.error or not isinstance(raw.value, dict):
            raise UserError(f"{raw.file}:{raw.line}: {raw.error or 'not a JSON object'}")
        rows.append(raw.value)
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise UserError(f"{name}: no rows in split {split!r}")
    return rows


def compute_rows_fingerprint(*parts: list[dict[str, Any]]) -> str:
    """A hash of the rows themselves, the same whether they came from the hub or a file."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_shots(items: list[dict[str, Any]], pool: list[dict[str, Any]], k: int, *, sampler: str,
               seed: int, exclude_self: bool) -> list[list[dict[str, Any]]]:
    """Each item's shots as lm-eval draws them: ``first_n`` takes the pool's first k; ``random``
    draws k per item, in item order, from one ``random.Random(seed)`` (so shots and their order
    depend on the item's position)."""
    rnd = random.Random(seed)
    out = []
    for item in items:
        if k == 0:
            out.append([])
        elif sampler == "first_n":
            out.append([x for x in pool if not (exclude_self and x == item)][:k])
        elif not exclude_self:
            out.append(rnd.sample(pool, k))
        else:  # one spare draw, so the item itself can be dropped
            shots = [x for x in rnd.sample(pool, k + 1) if x != item][:k]
            out.append(shots if len(shots) == k else rnd.sample([x for x in pool if x != item], k))
    return out


@functools.lru_cache(maxsize=256)
def _compile(template: str) -> jinja2.Template:
    return _JINJA.from_string(template)


def render_field(template: str, row: dict[str, Any]) -> Any:
    """A row field by name, else the rendered Jinja template."""
    return row[template] if template in row else _compile(template).render(**row)


def render_text(template: str, row: dict[str, Any]) -> str:
    return str(render_field(template, row))


def render_list(template: str, row: dict[str, Any]) -> Any:
    """A field or template whose rendering ``[...]`` is a Python list literal (else as is)."""
    value = render_field(template, row)
    if isinstance(value, str) and len(value) >= 2 and value[0] == "[" and value[-1] == "]":
        with contextlib.suppress(SyntaxError, ValueError):
            return ast.literal_eval(value)
    return value
