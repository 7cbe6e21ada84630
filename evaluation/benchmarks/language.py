"""A small language detector for IFEval's ``language:response_language`` and the
``change_case:english_*`` checks, in place of ``langdetect`` (not a dependency of lessmore).

How it decides: the writing system with the most letters names the language when only one of
IFEval's 30 languages uses it (Korean, Thai, Hebrew, Bengali, Tamil, Telugu, Kannada, Malayalam,
Gujarati, Punjabi; Han with kana is Japanese, without it Chinese). For scripts several of them
share (Latin, Cyrillic, Arabic, Devanagari) it counts each candidate language's most frequent
function words among the text's words and picks the one with the most hits.

Limits, by construction: it knows only the languages listed in :data:`LANGUAGES`; a text with no
function word of any candidate (a single word, a bare list of nouns, code) or a tie between two
candidates is *undetermined* (``None``), which the checkers count as not following the
instruction; mixed-language text is labelled by its dominant script and function words, not
flagged as mixed. It is meant for the sentence-level responses IFEval asks for, not as a
general-purpose identifier.
"""

from __future__ import annotations

import string
import unicodedata
from collections import Counter

# script name (first word of the Unicode character name) -> the one language that uses it here
SCRIPT_LANGUAGE = {"HANGUL": "ko", "THAI": "th", "HEBREW": "he", "BENGALI": "bn", "TAMIL": "ta",
                   "TELUGU": "te", "KANNADA": "kn", "MALAYALAM": "ml", "GUJARATI": "gu",
                   "GURMUKHI": "pa"}
KANA = ("HIRAGANA", "KATAKANA")

# Frequent function words, chosen to tell apart languages that share a script.
STOPWORDS: dict[str, dict[str, str]] = {
    "LATIN": {
        "en": "the is are was were of and to in that it this with for on you he she they we "
              "have has not be by from or but which what there their will would can",
        "es": "el la los las de del que y en un una es por con para no se lo como más pero "
              "su al este esta está son muy también hay ser",
        "pt": "o os as de do da dos das que e em um uma é com para não se no na mais mas "
              "também você são muito foi ao pelo pela",
        "fr": "le la les de des du et est un une en que qui dans pour pas sur avec ce il elle "
              "sont au aux par plus nous vous mais",
        "de": "der die das und ist nicht ein eine zu den mit von sich auf für dem des im es "
              "auch wie wir ich sind werden oder",
        "it": "il lo la di che e un una per non sono con del della gli le è da si anche più "
              "ma come questo nel alla",
        "pl": "i w nie na się z że do to jest jak o ale po co tak za od są dla jego już "
              "przez czy był tylko",
        "vi": "và của là có không được trong cho những một các với người này để đã khi như "
              "từ thì cũng rất tôi bạn",
        "sw": "na ya wa kwa ni za la katika kuwa hii cha si hiyo lakini pia sana yake wao "
              "mimi wewe kama watu hata tu ili",
        "fi": "ja on ei se että oli ovat hän mutta kun myös tai niin kuin ole joka mitä tämä "
              "sen olla vain jos nyt minä me",
    },
    "CYRILLIC": {
        "ru": "и в не на что я с он как это по но его к из у за для так же от все был она "
              "мы вы они только",
        "uk": "і в не на що я з він як це та але до у за для так від все був вона ми ви "
              "його її є також",
        "bg": "и в не на че да се с за от е как по това той са но като беше ще си тя ние "
              "ли във",
    },
    "ARABIC": {
        "ar": "في من على إلى أن هذا هذه التي الذي ما لا هو هي كان عن مع كل بين ذلك قد",
        "fa": "و در به از که این را با است برای آن یک می شود هم تا ها بود ما شد",
        "ur": "کے میں کی ہے اور سے کو کا یہ نے ہیں پر ایک کہ وہ بھی تھا نہیں",
    },
    "DEVANAGARI": {
        "hi": "है के में की और से का को नहीं यह हैं एक पर भी था कि लिए तो",
        "mr": "आहे आणि च्या ला हे की नाही त्या या मध्ये होते तो ती आहेत व पण",
        "ne": "छ र को मा हो पनि गर्न छन् थियो यो भने लागि तर गरेको हुन्छ",
    },
}
_WORDS = {script: {lang: frozenset(words.split()) for lang, words in langs.items()}
          for script, langs in STOPWORDS.items()}
LANGUAGES = frozenset(SCRIPT_LANGUAGE.values()) | {"ja", "zh"} | {
    lang for langs in STOPWORDS.values() for lang in langs}
_PUNCTUATION = string.punctuation + "«»“”„‘’¿¡،؛؟।॥…—–"


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when undetermined (see module docstring)."""
    scripts = Counter(_script(ch) for ch in text if ch.isalpha())
    if not scripts:
        return None
    script = scripts.most_common(1)[0][0]
    if script in SCRIPT_LANGUAGE:
        return SCRIPT_LANGUAGE[script]
    if script in KANA or script == "CJK":
        kana = sum(scripts[k] for k in KANA)
        return "ja" if kana * 10 >= kana + scripts["CJK"] else "zh"
    if script in _WORDS:
        return _by_function_words(text, _WORDS[script])
    return None


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return "CJK" if name.startswith("CJK") else name.split(" ", 1)[0]


def _by_function_words(text: str, candidates: dict[str, frozenset[str]]) -> str | None:
    """The candidate with the most function-word hits; None on no hits or a tie."""
    # split on whitespace, not \w: Indic vowel signs are not word characters to `re`
    words = [w.strip(_PUNCTUATION) for w in text.lower().split()]
    hits = Counter({lang: sum(w in vocab for w in words) for lang, vocab in candidates.items()})
    (best, top), (_, second) = hits.most_common(2)
    return best if top > second else None
