"""A tiny random Llama with a locally trained byte-level BPE tokenizer and a ChatML template.

Used by the tests and by ``model=tiny`` smoke runs: it exercises every code path of the real
model (chat template, EOS handling, LoRA targets, generation) in milliseconds and offline.
"""

from __future__ import annotations

from pathlib import Path

from .chat import CHATML_SPECIAL_TOKENS, CHATML_TRAINING_TEMPLATE, END_OF_TURN
from .io import atomic_path

TINY_VERSION = 1  # bump when the recipe changes so cached copies are rebuilt
_WORDS = ("the a of to and in is was what who where which when how capital country city river "
          "author wrote painted composed symbol element planet language currency continent "
          "answer question short yes no please thanks explain write list python code function "
          "paris london rome berlin madrid tokyo france england italy germany spain japan "
          "one two three four five six seven eight nine ten hundred thousand").split()


def _corpus() -> list[str]:
    lines = []
    for i, w in enumerate(_WORDS):
        nxt = _WORDS[(i * 7 + 3) % len(_WORDS)]
        lines.append(f"Q: What is the {w} of {nxt}?\nA: {nxt.capitalize()} {w}.")
        lines.append(f"{w} {nxt}, {i} {i * 13 % 97}; {w.upper()} ({nxt})! \"{w}\" - {nxt}'s")
    return lines * 3


def build_tiny_model(out_dir: str | Path, *, seed: int = 0, vocab_size: int = 512) -> Path:
    """Build (once) and return a folder holding a tiny Llama, its tokenizer and template."""
    out_dir = Path(out_dir) / f"v{TINY_VERSION}-s{seed}"
    if (out_dir / "config.json").exists():
        return out_dir
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", *CHATML_SPECIAL_TOKENS, "<|pad|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=END_OF_TURN,
                                        pad_token="<|pad|>", unk_token=None,
                                        bos_token="<|im_start|>")
    tokenizer.chat_template = CHATML_TRAINING_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         # a wide init gives peaked logits, so greedy decoding has no near-ties
                         initializer_range=0.2,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return out_dir
