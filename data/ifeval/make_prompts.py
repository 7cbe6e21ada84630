"""Write data/ifeval/input_data.jsonl: lessmore's own IFEval-format prompts (standard library only).

Every prompt was written for lessmore (none is copied from IFEval); the instruction types and
their kwargs follow IFEval's ``input_data.jsonl`` so the real set (``google/IFEval``) runs through
the same code. Every one of the 25 types appears at least once. Output is byte-identical on
every run; edit the list below, not the .jsonl file.

    python data/ifeval/make_prompts.py
"""

import json
from pathlib import Path

OUT = Path(__file__).with_name("input_data.jsonl")

# (prompt, [(instruction_id, kwargs), ...])
PROMPTS = [
    ("Write a short product description for a reusable water bottle. Include the keywords "
     "'insulated' and 'leak-proof' in the response.",
     [("keywords:existence", {"keywords": ["insulated", "leak-proof"]})]),
    ("Explain how compound interest works to a teenager. In your response, the word 'interest' "
     "should appear at least 3 times.",
     [("keywords:frequency", {"keyword": "interest", "frequency": 3, "relation": "at least"})]),
    ("Describe a walk along a beach at sunset without using the words 'sun' or 'orange'.",
     [("keywords:forbidden_words", {"forbidden_words": ["sun", "orange"]})]),
    ("Write a two-line slogan for a bakery. In your response, the letter 'b' should appear at "
     "least 4 times.",
     [("keywords:letter_frequency", {"letter": "b", "let_frequency": 4,
                                     "let_relation": "at least"})]),
    ("Tell me about the history of the bicycle. Your entire response should be in Spanish, no "
     "other language is allowed.",
     [("language:response_language", {"language": "es"})]),
    ("Give advice on learning to cook. Your entire response should be in French, no other "
     "language is allowed.",
     [("language:response_language", {"language": "fr"})]),
    ("Summarise why people keep houseplants. Your response should contain less than 4 "
     "sentences.",
     [("length_constraints:number_sentences", {"num_sentences": 4, "relation": "less than"})]),
    ("Describe your ideal weekend. Your response should contain at least 6 sentences.",
     [("length_constraints:number_sentences", {"num_sentences": 6, "relation": "at least"})]),
    ("Write about the benefits of walking to work. There should be 3 paragraphs, separated with "
     "the markdown divider: ***",
     [("length_constraints:number_paragraphs", {"num_paragraphs": 3})]),
    ("Explain what a library card is good for. Answer with less than 60 words.",
     [("length_constraints:number_words", {"num_words": 60, "relation": "less than"})]),
    ("Write a short essay on the value of public parks. Answer with at least 150 words.",
     [("length_constraints:number_words", {"num_words": 150, "relation": "at least"})]),
    ("Write a letter to a neighbour about a shared garden. There should be 3 paragraphs, "
     "separated from each other by two new lines. Paragraph 2 must start with the word "
     "'Moreover'.",
     [("length_constraints:nth_paragraph_first_word",
       {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "moreover"})]),
    ("Draft a template email inviting a colleague to lunch. The response must contain at least "
     "3 placeholders in square brackets, such as [name].",
     [("detectable_content:number_placeholders", {"num_placeholders": 3})]),
    ("Write a thank-you note to a teacher. At the end of your response, add a postscript "
     "starting with P.S.",
     [("detectable_content:postscript", {"postscript_marker": "P.S."})]),
    ("Write a birthday message for a friend. At the end, add a postscript starting with P.P.S",
     [("detectable_content:postscript", {"postscript_marker": "P.P.S"})]),
    ("List reasons to learn a second language. Your answer must contain exactly 4 bullet "
     "points, using markdown bullets such as:\n* This is a point.",
     [("detectable_format:number_bullet_lists", {"num_bullets": 4})]),
    ("Is it a good idea to drink water before a run? Answer with one of the following options: "
     "My answer is yes., My answer is no., My answer is maybe.",
     [("detectable_format:constrained_response", {})]),
    ("Explain how to repot a plant. Highlight at least 2 sections of your answer with markdown, "
     "for example *highlighted section*.",
     [("detectable_format:number_highlighted_sections", {"num_highlights": 2})]),
    ("Plan a three-day trip to the mountains. Your response must have 3 sections. Mark the "
     "beginning of each section with Day X, such as: Day 1",
     [("detectable_format:multiple_sections", {"section_spliter": "Day", "num_sections": 3})]),
    ("Describe a simple workout routine. Your response must have 2 sections. Mark the "
     "beginning of each section with SECTION X.",
     [("detectable_format:multiple_sections", {"section_spliter": "SECTION",
                                               "num_sections": 2})]),
    ("Give the name, age and favourite colour of a made-up person. Your entire output should be "
     "wrapped in JSON format; you may use markdown ticks such as ```.",
     [("detectable_format:json_format", {})]),
    ("Write a short poem about rain. Your answer must contain a title, wrapped in double "
     "angular brackets, such as <<song of the river>>.",
     [("detectable_format:title", {})]),
    ("Suggest a name for a new coffee shop. Give two different responses, separated by 6 "
     "asterisk symbols: ******",
     [("combination:two_responses", {})]),
    ("What should I pack for a day hike? First repeat the request word for word without "
     "change, then give your answer (do not say anything before repeating the request; the "
     "request to repeat does not include this sentence).",
     [("combination:repeat_prompt", {"prompt_to_repeat": "What should I pack for a day hike?"})]),
    ("Give three tips for better sleep. Finish your response with the exact phrase 'Sleep "
     "well tonight.' No other words should follow it.",
     [("startend:end_checker", {"end_phrase": "Sleep well tonight."})]),
    ("Describe the smell of fresh bread. Wrap your entire response in double quotation marks.",
     [("startend:quotation", {})]),
    ("Write an announcement for a school science fair. Words in all capital letters should "
     "appear at least 3 times.",
     [("change_case:capital_word_frequency", {"capital_frequency": 3,
                                              "capital_relation": "at least"})]),
    ("Write a calm note to a roommate about doing the dishes. Words in all capital letters "
     "should appear less than 2 times.",
     [("change_case:capital_word_frequency", {"capital_frequency": 2,
                                              "capital_relation": "less than"})]),
    ("Write a short cheer for a football team. Your entire response should be in English, and "
     "in all capital letters.",
     [("change_case:english_capital", {})]),
    ("Describe a quiet morning in a village. Your entire response should be in English and in "
     "all lowercase letters. No capital letters are allowed.",
     [("change_case:english_lowercase", {})]),
    ("Explain why the sky looks blue. In your entire response, do not use any commas.",
     [("punctuation:no_comma", {})]),
    # several instructions at once
    ("Write a review of a fictional restaurant. Include the keyword 'delicious', do not use "
     "any commas, and answer with at least 50 words.",
     [("keywords:existence", {"keywords": ["delicious"]}), ("punctuation:no_comma", {}),
      ("length_constraints:number_words", {"num_words": 50, "relation": "at least"})]),
    ("Give instructions for brewing tea. Your answer must contain exactly 3 bullet points "
     "and a title in double angular brackets, such as <<how to brew>>.",
     [("detectable_format:number_bullet_lists", {"num_bullets": 3}),
      ("detectable_format:title", {})]),
    ("Write a short story about a lost key, entirely in lowercase English letters. End it with "
     "the phrase 'the end.'",
     [("change_case:english_lowercase", {}), ("startend:end_checker", {"end_phrase": "the end."})]),
    ("Describe the moon to a child. Your entire response should be in German, no other "
     "language is allowed, and it should contain less than 5 sentences.",
     [("language:response_language", {"language": "de"}),
      ("length_constraints:number_sentences", {"num_sentences": 5, "relation": "less than"})]),
    ("Write a packing list for a picnic as a template with at least 2 placeholders in square "
     "brackets, such as [drink], and add a postscript starting with P.S.",
     [("detectable_content:number_placeholders", {"num_placeholders": 2}),
      ("detectable_content:postscript", {"postscript_marker": "P.S."})]),
    ("Explain what a volcano is. Do not use the word 'lava', and highlight at least 1 section "
     "with markdown, such as *important*.",
     [("keywords:forbidden_words", {"forbidden_words": ["lava"]}),
      ("detectable_format:number_highlighted_sections", {"num_highlights": 1})]),
    ("Is a tomato a fruit? Wrap your entire response in double quotation marks and answer with "
     "less than 30 words.",
     [("startend:quotation", {}),
      ("length_constraints:number_words", {"num_words": 30, "relation": "less than"})]),
    ("Describe a city at night. In your response, the word 'light' should appear less than 2 "
     "times, and the letter 'z' should appear less than 2 times.",
     [("keywords:frequency", {"keyword": "light", "frequency": 2, "relation": "less than"}),
      ("keywords:letter_frequency", {"letter": "z", "let_frequency": 2,
                                     "let_relation": "less than"})]),
    ("Write a haiku about snow. Your entire response should be in Italian, no other language "
     "is allowed.",
     [("language:response_language", {"language": "it"})]),
]


def build_rows() -> list[dict]:
    return [{"key": 1000 + i, "prompt": prompt, "instruction_id_list": [i_ for i_, _ in instr],
             "kwargs": [kw for _, kw in instr]}
            for i, (prompt, instr) in enumerate(PROMPTS, start=1)]


def render() -> str:
    """The file's exact text: one JSON object per line."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in build_rows())


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
