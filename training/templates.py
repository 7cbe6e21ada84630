"""Which chat template training renders conversations with (``chat_template`` in the config).

``chatml`` (default) is lessmore's training template (``curation.core.chat``): ChatML with
``{% generation %}`` markers around the assistant's content and ``<|im_end|>``, so the end of a
turn is trained. ``model`` keeps the tokenizer's own template, and a path names a Jinja file.
TRL's assistant-only loss needs generation markers, and lessmore's checks, probing and
evaluation read ChatML turns: another template must keep ``<|im_start|>``/``<|im_end|>`` turns
and mark what the assistant says, or the pre-flight checks stop the run showing a row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.core.chat import CHATML_TRAINING_TEMPLATE
from curation.core.config import UserError

NAMED_TEMPLATES = {"chatml": CHATML_TRAINING_TEMPLATE}
GENERATION_MARKER = "{% generation %}"


def resolve_chat_template(choice: str, tokenizer: Any) -> str:
    """The template text for ``choice``: a named template, ``model``, or a ``.jinja`` path."""
    if choice in NAMED_TEMPLATES:
        return NAMED_TEMPLATES[choice]
    if choice == "model":
        template = tokenizer.chat_template
        if not isinstance(template, str) or not template.strip():
            raise UserError("chat_template=model, but the model's tokenizer has no chat template "
                            f"(one of its own); use one of {sorted(NAMED_TEMPLATES)} or a .jinja "
                            "file")
        return _check_markers(template, "the model's own chat template")
    path = Path(choice).expanduser()
    if path.suffix != ".jinja" or not path.is_file():
        raise UserError(f"chat_template={choice!r}: not a named template "
                        f"({', '.join(sorted(NAMED_TEMPLATES))}), 'model', or a .jinja file")
    return _check_markers(path.read_text(encoding="utf-8"), str(path))


def _check_markers(template: str, what: str) -> str:
    """Refuse a template without generation markers before any model work: with none, TRL's
    assistant-only loss has no span to train (it would refuse later, naming no row)."""
    compact = template.replace("{%-", "{%").replace("-%}", "%}").replace(" ", "")
    if GENERATION_MARKER.replace(" ", "") not in compact:
        raise UserError(f"{what} has no {GENERATION_MARKER} ... {{% endgeneration %}} markers "
                        "around the assistant's reply, so nothing would be trained; use "
                        "chat_template=chatml or add the markers (include the end-of-turn token)")
    return template
