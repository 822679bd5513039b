"""A tiny causal LM and tokenizer built on this machine: what the tests and local mode train for real on
CPU instead of downloading weights. A byte-level BPE tokenizer trained on the given texts (with a
ChatML chat template) and a 2-layer Qwen2 model with random weights, saved as a Hugging Face folder,
exactly the shape of real base weights in S3.

    python -m sial_training.hf.tiny OUT_DIR [TEXT_FILE...]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
DEFAULT_CORPUS = [
    "You are a helpful support assistant. Answer from the retrieved context.",
    "Refunds are possible within thirty days of purchase for annual plans.",
    "Reset your password from the account settings page.",
    "Invoices are sent by e-mail at the start of each month.",
    "system user assistant tool Retrieved context",
]


def build_tiny_model(out_dir: Path, texts: Iterable[str] = (), *, vocab_size: int = 512, hidden_size: int = 32, layers: int = 2, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    corpus = [*DEFAULT_CORPUS, *texts]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(corpus * 4, trainer)
    hf_tokenizer = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    hf_tokenizer.chat_template = CHAT_TEMPLATE

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(hf_tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        eos_token_id=hf_tokenizer.eos_token_id,
        pad_token_id=hf_tokenizer.pad_token_id,
    )
    model = Qwen2ForCausalLM(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    hf_tokenizer.save_pretrained(out_dir)
    return out_dir


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m sial_training.hf.tiny OUT_DIR [TEXT_FILE...]")
    extra = [line for name in sys.argv[2:] for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    print(build_tiny_model(Path(sys.argv[1]), extra))
