"""Fitting a conversation into the prompt cap and tokenising it with the model's chat template."""

from __future__ import annotations

from typing import Any, Sequence


def prompt_tokens(tokenizer: Any, messages: Sequence[dict[str, str]]) -> int:
    ids = tokenizer.apply_chat_template(list(messages), tokenize=True, add_generation_prompt=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return len(ids)


def fit_prompt(tokenizer: Any, messages: list[dict[str, str]], max_tokens: int) -> list[dict[str, str]]:
    """Drops the oldest turns after the system prompt until the rendered prompt fits ``max_tokens``.

    The system prompt and the turn being answered are always kept (the latest context matters most); a
    prompt that still does not fit is kept whole and the trainer's own truncation applies.
    """
    fitted = list(messages)
    while prompt_tokens(tokenizer, fitted) > max_tokens:
        first = 1 if fitted and fitted[0]["role"] == "system" else 0
        if len(fitted) - first <= 1:
            break
        del fitted[first]
        # A conversation must not start (after the system prompt) with an assistant or tool turn.
        while len(fitted) - first > 1 and fitted[first]["role"] in ("assistant", "tool"):
            del fitted[first]
    return fitted
