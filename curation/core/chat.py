"""The one prompt format: the chat template used for training, and the prompt builders used by
probing and evaluation. A format mismatch between training and evaluation is the classic silent
bug, so every stage renders prompts through this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# ChatML, as SmolLM2 uses, with ``{% generation %}`` markers around what the assistant says
# *including* ``<|im_end|>`` so the end-of-turn token is trained (TRL's assistant_only_loss needs
# the markers; without EOS in the trained span the tuned model never stops).
# Unlike SmolLM2's own template it adds no default system prompt: the same text is rendered for
# every model lessmore trains or evaluates.
CHATML_TRAINING_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- generation -%}{{- message['content'] + '<|im_end|>' -}}{%- endgeneration -%}"
    "{{- '\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)
END_OF_TURN = "<|im_end|>"
CHATML_SPECIAL_TOKENS = ("<|im_start|>", "<|im_end|>")

QA_PROMPT_PREFIX = "Answer each question with a short answer.\n\n"


def format_qa_shot(question: str, answer: str | None = None) -> str:
    """One closed-book QA turn in the plain few-shot format: ``Q: …\\nA: …``."""
    return f"Q: {question}\nA:" + (f" {answer}\n\n" if answer is not None else "")


def build_qa_prompt(question: str, exemplars: Sequence[tuple[str, str]]) -> str:
    """A plain (no chat template) few-shot closed-book QA prompt; generation stops at newline."""
    shots = "".join(format_qa_shot(q, a) for q, a in exemplars)
    return QA_PROMPT_PREFIX + shots + format_qa_shot(question)


def build_solution_prompt(question: str, exemplars: Sequence[tuple[str, str]]) -> str:
    """A plain few-shot prompt with worked solutions, in lm-eval's ``gsm8k`` format
    (``Question: …\nAnswer: …`` shots joined by a blank line); generation stops at
    ``Question:``."""
    shots = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in exemplars)
    return shots + f"Question: {question}\nAnswer:"


SOLUTION_STOP = ("Question:", "</s>", "<|im_end|>")  # lm-eval gsm8k's ``until``


def build_chat_qa_messages(question: str, exemplars: Sequence[tuple[str, str]]
                           ) -> list[dict[str, str]]:
    """The same few-shot QA prompt as a multi-turn chat (exemplars as earlier turns)."""
    messages: list[dict[str, str]] = []
    for q, a in exemplars:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    messages.append({"role": "user", "content": question})
    return messages


def render_chat(tokenizer: Any, messages: list[dict[str, str]], *,
                add_generation_prompt: bool = False) -> str:
    """Render with lessmore's training template (never the model's own default)."""
    return tokenizer.apply_chat_template(messages, chat_template=CHATML_TRAINING_TEMPLATE,
                                         tokenize=False,
                                         add_generation_prompt=add_generation_prompt)


def compute_token_lengths(tokenizer: Any, messages: list[dict[str, str]],
                          template: str | None = None) -> tuple[int, int]:
    """(total tokens, assistant tokens) of a conversation under the training template (or the
    ``template`` a training run chose)."""
    out = tokenizer.apply_chat_template(messages, chat_template=template or CHATML_TRAINING_TEMPLATE,
                                        tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    mask = out["assistant_masks"]
    return len(out["input_ids"]), int(sum(mask))
