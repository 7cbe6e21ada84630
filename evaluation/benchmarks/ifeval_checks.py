"""The 25 verifiable instruction types of IFEval (Zhou et al., 2023), one pure function each.

Each checker takes the response and the instruction's ``kwargs`` (named as in IFEval's
``input_data.jsonl``) and says whether the response follows it. The rules follow Google's
reference implementation; where it leans on a library (nltk, langdetect) an approximation
written here stands in, and says so:

- sentences: split after ``.``/``!``/``?`` followed by whitespace, with common abbreviations
  (Mr., Dr., e.g., ...) and decimals protected; newlines do not end a sentence (as in IFEval);
- words: runs of ``\\w`` characters (IFEval's ``RegexpTokenizer(r"\\w+")``);
- all-capital words: word tokens (hyphenated and apostrophe words kept whole) that are upper case;
- language: :func:`evaluation.benchmarks.language.detect_language` (a script + stopword profile detector);
  an undetermined language counts as *not* followed, where IFEval counts a langdetect error as
  followed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .language import detect_language

RELATIONS = ("less than", "at least")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Inc|Ltd|Co|vs|etc|e\.g|i\.e)\.",
                           re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+")


def count_words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def count_sentences(text: str) -> int:
    """Sentences in ``text`` (see the module docstring for the rule)."""
    text = _ABBREVIATION.sub(lambda m: m.group(0).replace(".", "<prd>"), text.replace("\n", " "))
    text = re.sub(r"(\d)\.(\d)", r"\1<prd>\2", text)
    return sum(1 for part in _SENTENCE_END.split(text) if part.strip())


def compare(count: int, relation: str, threshold: int) -> bool:
    """IFEval's two relations: ``less than`` is strict, ``at least`` inclusive."""
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}, got {relation!r}")
    return count < threshold if relation == "less than" else count >= threshold


# --- keywords and letters ------------------------------------------------------------------------

def keywords_existence(response: str, *, keywords: list[str]) -> bool:
    return all(re.search(re.escape(k), response, re.IGNORECASE) for k in keywords)


def keywords_frequency(response: str, *, keyword: str, frequency: int, relation: str) -> bool:
    found = len(re.findall(re.escape(keyword.strip()), response, re.IGNORECASE))
    return compare(found, relation, frequency)


def keywords_forbidden(response: str, *, forbidden_words: list[str]) -> bool:
    return not any(re.search(rf"\b{re.escape(w)}\b", response, re.IGNORECASE)
                   for w in forbidden_words)


def letter_frequency(response: str, *, letter: str, let_frequency: int,
                     let_relation: str) -> bool:
    return compare(response.lower().count(letter.strip().lower()), let_relation, let_frequency)


# --- language and case ---------------------------------------------------------------------------

def response_language(response: str, *, language: str) -> bool:
    return detect_language(response) == language


def english_capital(response: str) -> bool:
    return response.isupper() and detect_language(response) == "en"


def english_lowercase(response: str) -> bool:
    return response.islower() and detect_language(response) == "en"


def capital_word_frequency(response: str, *, capital_frequency: int,
                           capital_relation: str) -> bool:
    words = re.findall(r"\w+(?:[-']\w+)*", response)
    return compare(sum(w.isupper() for w in words), capital_relation, capital_frequency)


def no_comma(response: str) -> bool:
    return "," not in response


# --- length --------------------------------------------------------------------------------------

def number_sentences(response: str, *, num_sentences: int, relation: str) -> bool:
    return compare(count_sentences(response), relation, num_sentences)


def number_words(response: str, *, num_words: int, relation: str) -> bool:
    return compare(count_words(response), relation, num_words)


def number_paragraphs(response: str, *, num_paragraphs: int) -> bool:
    """Paragraphs split by ``***``; an empty one is allowed only at either end."""
    parts = re.split(r"\s?\*\*\*\s?", response)
    if any(not p.strip() for p in parts[1:-1]):
        return False
    return sum(1 for p in parts if p.strip()) == num_paragraphs


def nth_paragraph_first_word(response: str, *, num_paragraphs: int, nth_paragraph: int,
                             first_word: str) -> bool:
    """Paragraphs split by a blank line; the nth must start with ``first_word`` (any case)."""
    parts = response.split("\n\n")
    count = sum(1 for p in parts if p.strip())
    if nth_paragraph > count or not parts[nth_paragraph - 1].strip():
        return False
    word = parts[nth_paragraph - 1].split()[0].lstrip("'\"")
    word = re.split(r"[.,?!'\"]", word)[0].lower()
    return count == num_paragraphs and word == first_word.lower()


# --- content and format --------------------------------------------------------------------------

def number_placeholders(response: str, *, num_placeholders: int) -> bool:
    return len(re.findall(r"\[.*?\]", response)) >= num_placeholders


def postscript(response: str, *, postscript_marker: str) -> bool:
    marker = postscript_marker.strip()
    patterns = {"P.P.S": r"\s*p\.\s?p\.\s?s.*$", "P.S.": r"\s*p\.\s?s\..*$"}
    pattern = patterns.get(marker, r"\s*" + re.escape(marker.lower()) + r".*$")
    return bool(re.findall(pattern, response.lower(), re.MULTILINE))


def number_bullet_lists(response: str, *, num_bullets: int) -> bool:
    """Exactly ``num_bullets`` lines starting with ``*`` (not ``**``) or ``-``."""
    stars = re.findall(r"^\s*\*[^*].*$", response, re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", response, re.MULTILINE)
    return len(stars) + len(dashes) == num_bullets


CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def constrained_response(response: str) -> bool:
    return any(option in response.strip() for option in CONSTRAINED_OPTIONS)


def number_highlighted_sections(response: str, *, num_highlights: int) -> bool:
    """``*text*`` and ``**text**`` spans with non-blank text, counted as IFEval counts them."""
    single = [h for h in re.findall(r"\*[^\n*]*\*", response) if h.strip("*").strip()]
    double = [h for h in re.findall(r"\*\*[^\n*]*\*\*", response) if h[2:-2].strip()]
    return len(single) + len(double) >= num_highlights


def multiple_sections(response: str, *, section_spliter: str, num_sections: int) -> bool:
    marker = re.escape(section_spliter.strip())
    return len(re.split(rf"\s?{marker}\s?\d+\s?", response)) - 1 >= num_sections


def json_format(response: str) -> bool:
    text = response.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        text = text.removeprefix(fence)
    try:
        json.loads(text.removesuffix("```").strip())
    except ValueError:
        return False
    return True


def title(response: str) -> bool:
    return any(t.strip("<>").strip() for t in re.findall(r"<<[^\n]+>>", response))


# --- combinations and start/end ------------------------------------------------------------------

def two_responses(response: str) -> bool:
    """Two different non-empty responses separated by ``******``; no empty one in between."""
    parts = response.split("******")
    if any(not p.strip() for p in parts[1:-1]):
        return False
    kept = [p.strip() for p in parts if p.strip()]
    return len(kept) == 2 and kept[0] != kept[1]


def repeat_prompt(response: str, *, prompt_to_repeat: str) -> bool:
    return response.strip().lower().startswith(prompt_to_repeat.strip().lower())


def end_checker(response: str, *, end_phrase: str) -> bool:
    return response.strip().strip('"').lower().endswith(end_phrase.strip().lower())


def quotation(response: str) -> bool:
    text = response.strip()
    return len(text) > 1 and text[0] == '"' and text[-1] == '"'


CHECKS: dict[str, Callable[..., bool]] = {
    "keywords:existence": keywords_existence,
    "keywords:frequency": keywords_frequency,
    "keywords:forbidden_words": keywords_forbidden,
    "keywords:letter_frequency": letter_frequency,
    "language:response_language": response_language,
    "length_constraints:number_sentences": number_sentences,
    "length_constraints:number_paragraphs": number_paragraphs,
    "length_constraints:number_words": number_words,
    "length_constraints:nth_paragraph_first_word": nth_paragraph_first_word,
    "detectable_content:number_placeholders": number_placeholders,
    "detectable_content:postscript": postscript,
    "detectable_format:number_bullet_lists": number_bullet_lists,
    "detectable_format:constrained_response": constrained_response,
    "detectable_format:number_highlighted_sections": number_highlighted_sections,
    "detectable_format:multiple_sections": multiple_sections,
    "detectable_format:json_format": json_format,
    "detectable_format:title": title,
    "combination:two_responses": two_responses,
    "combination:repeat_prompt": repeat_prompt,
    "startend:end_checker": end_checker,
    "startend:quotation": quotation,
    "change_case:capital_word_frequency": capital_word_frequency,
    "change_case:english_capital": english_capital,
    "change_case:english_lowercase": english_lowercase,
    "punctuation:no_comma": no_comma,
}


def response_variants(response: str) -> list[str]:
    """IFEval's loose variants: the response without its first line, last line or both, and
    each of those four with every ``*`` removed (markdown emphasis hides many a keyword)."""
    lines = response.split("\n")
    cut = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(),
           "\n".join(lines[1:-1]).strip()]
    return cut + [v.replace("*", "") for v in cut]


def check_instruction(instruction_id: str, response: str, kwargs: dict[str, Any], *,
                      loose: bool = False) -> bool:
    """Strict: the response follows the instruction. Loose: any of its variants does.
    An empty (whitespace-only) response or variant never follows anything."""
    check = CHECKS[instruction_id]
    variants = response_variants(response) if loose else [response]
    return any(v.strip() and check(v, **kwargs) for v in variants)
