"""Perplexity and bits per byte: the formulas, paragraph splitting, pooling by file, and the
tiny model's scores against a direct forward pass."""

import math

import pytest
import torch

from curation.core.config import UserError
from curation.core.engine import GenerationEngine
from evaluation.benchmarks.perplexity import (
    Perplexity,
    compute_bits_per_byte,
    compute_perplexity,
    split_documents,
)
from tests import PROJECT_ROOT


@pytest.mark.parametrize(("nll", "tokens", "expected"), [
    (6.0, 3, math.exp(2.0)), (0.0, 5, 1.0), (math.log(10) * 4, 4, 10.0)])
def test_compute_perplexity(nll, tokens, expected):
    assert compute_perplexity(nll, tokens) == pytest.approx(expected)


@pytest.mark.parametrize(("nll", "n_bytes", "expected"), [
    (8 * math.log(2), 4, 2.0), (math.log(2), 1, 1.0), (0.0, 3, 0.0)])
def test_compute_bits_per_byte(nll, n_bytes, expected):
    assert compute_bits_per_byte(nll, n_bytes) == pytest.approx(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("One line\nwrapped.\n\nTwo.\n", ["One line wrapped.", "Two."]),
    ("\n\n  A  \n \n\n\nB\n", ["A", "B"]),      # blank lines with spaces still split
    ("", []),
])
def test_split_documents(text, expected):
    assert split_documents(text) == expected


class WordTokenizer:
    def encode(self, text, add_special_tokens=False):
        return text.split()


class WordScorer:
    """Every word costs 1 nat in group a's file and 2 in b's."""

    tokenizer = WordTokenizer()
    max_length = 100

    def loglikelihood(self, requests, desc=""):
        assert all(context == "" for context, _ in requests)
        return [(-len(c.split()) * (2.0 if c.startswith("b") else 1.0), False)
                for _, c in requests]


@pytest.fixture
def text_dir(tmp_path):
    (tmp_path / "a.txt").write_text("aa aa aa\n\naa aa\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("bb bb\n", encoding="utf-8")
    return tmp_path


def test_pooled_over_tokens_and_split_by_file(text_dir):
    result = Perplexity(data=str(text_dir)).evaluate(WordScorer())
    ppl, bpb = result.metrics["perplexity/perplexity"], result.metrics["perplexity/bits_per_byte"]
    # a: 5 tokens, 5 nats; b: 2 tokens, 4 nats -> exp(9 / 7) overall, not a mean of documents
    assert (ppl.value, ppl.n) == (pytest.approx(math.exp(9 / 7)), 3)
    assert {g: s.value for g, s in ppl.by_group.items()} == {
        "a": pytest.approx(math.e), "b": pytest.approx(math.exp(2))}
    assert bpb.value == pytest.approx(9 / ((8 + 5 + 5) * math.log(2)))  # 18 bytes of text
    assert not ppl.higher_is_better and not bpb.higher_is_better
    assert [r["id"] for r in result.samples] == ["a:0", "a:1", "b:0"]
    assert result.samples[0]["tokens"] == 3 and result.samples[0]["bytes"] == 8


def test_missing_text_and_long_paragraphs_are_user_errors(text_dir):
    with pytest.raises(UserError, match="no text files"):
        Perplexity(data=str(text_dir / "none")).load_data()
    scorer = WordScorer()
    scorer.max_length = 2
    with pytest.raises(UserError, match="3 tokens"):
        Perplexity(data=str(text_dir / "a.txt")).evaluate(scorer)


def test_shipped_sample_text_loads():
    docs = Perplexity(data=str(PROJECT_ROOT / "data" / "text")).load_data()
    assert len({d["group"] for d in docs}) >= 3 and len(docs) >= 10


def test_tiny_model_matches_a_direct_forward_pass(text_dir, tiny_lm):
    model, tok = tiny_lm
    result = Perplexity(data=str(text_dir)).evaluate(GenerationEngine(model, tok,
                                                                      show_progress=False))
    for row in result.samples:
        ids = tok.encode(row["text"], add_special_tokens=False)
        prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        with torch.inference_mode():
            logits = model(torch.tensor([[prefix, *ids[:-1]]])).logits[0].float()
        expected = logits.log_softmax(-1).gather(-1, torch.tensor(ids)[:, None]).sum().item()
        assert row["loglikelihood"] == pytest.approx(expected, abs=1e-4)
        assert row["tokens"] == len(ids)
    total = sum(-r["loglikelihood"] for r in result.samples)
    tokens = sum(r["tokens"] for r in result.samples)
    assert result.metrics["perplexity/perplexity"].value == pytest.approx(math.exp(total / tokens))


def test_results_do_not_depend_on_batch_size(text_dir, tiny_lm):
    bench = Perplexity(data=str(text_dir))
    one, eight = (bench.evaluate(GenerationEngine(*tiny_lm, batch_size=b, show_progress=False))
                  for b in (1, 8))
    for a, b in zip(one.samples, eight.samples, strict=True):
        assert a["loglikelihood"] == pytest.approx(b["loglikelihood"], abs=1e-5)
    assert (one.metrics["perplexity/perplexity"].value
            == pytest.approx(eight.metrics["perplexity/perplexity"].value, rel=1e-6))
