"""Shared fixtures for the evaluation tests: a small QA file and a scripted stub engine."""

import json
import re

import pytest

# 2 groups x (2 exemplars + 3 held-out), plus a pool row that must never be scored.
FACTS = [
    ("capital", "exemplar", "What is the capital of France?", ["Paris"]),
    ("capital", "exemplar", "What is the capital of Italy?", ["Rome"]),
    ("capital", "heldout", "What is the capital of Japan?", ["Tokyo"]),
    ("capital", "heldout", "What is the capital of Spain?", ["Madrid"]),
    ("capital", "heldout", "What is the capital of Germany?", ["Berlin"]),
    ("author", "exemplar", "Who wrote Hamlet?", ["William Shakespeare", "Shakespeare"]),
    ("author", "exemplar", "Who wrote Emma?", ["Jane Austen"]),
    ("author", "heldout", "Who wrote Dracula?", ["Bram Stoker", "Stoker"]),
    ("author", "heldout", "Who wrote The Raven?", ["Edgar Allan Poe", "Poe"]),
    ("author", "heldout", "Who wrote Beloved?", ["Toni Morrison"]),
    ("author", "pool", "Who wrote Ulysses?", ["James Joyce"]),
]


def write_qa_file(path, facts=FACTS):
    with open(path, "w", encoding="utf-8") as f:
        for i, (group, split, question, answers) in enumerate(facts):
            f.write(json.dumps({"id": f"q{i}", "question": question, "answers": answers,
                                "group": group, "split": split}) + "\n")
    return path


@pytest.fixture
def qa_file(tmp_path):
    return write_qa_file(tmp_path / "qa.jsonl")


class ScriptedEngine:
    """A stub model: answers a question with the scripted text, or "I don't know"."""

    def __init__(self, answers, tokenizer=None):
        self.answers, self.tokenizer, self.prompts = answers, tokenizer, []

    def generate(self, prompts, settings, desc=""):
        self.prompts += prompts
        return [[self.answers.get(_last_question(p), "I don't know")] for p in prompts]


def _last_question(prompt):
    plain = re.findall(r"Q: (.*)\nA:", prompt)
    chat = re.findall(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", prompt)
    return (plain or chat)[-1]


@pytest.fixture
def scripted_engine():
    return ScriptedEngine
