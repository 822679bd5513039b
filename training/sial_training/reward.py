"""The reward policy applied to a *generated* completion: the training reward of GRPO and the scores of
the evaluator.

The same rules exist in TypeScript (lambdas/gate-score/reward/): the groundedness estimate scores every
production trace online, and ``scoreCompletion`` mirrors this module. Both run the shared vectors in
test/vectors/, so the two implementations cannot drift apart. The tokenisation rules below are the
TypeScript scorer's, reproduced exactly: lengths are counted in UTF-16 code units, both halves of a
surrogate pair count as word characters, and text is lower-cased before it is split.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from .exit_codes import CONTRACT, JobError

COMPLETION_COMPONENTS = ("groundedness", "format", "length", "judge")

_SENTENCE_ENDS = frozenset((0x2E, 0x21, 0x3F, 0x0A, 0x3002, 0xFF01, 0xFF1F))


def _is_word_char(ch: str) -> bool:
    code = ord(ch)
    if code < 0x80:
        return 0x30 <= code <= 0x39 or 0x61 <= code <= 0x7A or 0x41 <= code <= 0x5A
    # Astral characters are two UTF-16 units in TypeScript, both counted as word characters; a lone
    # surrogate (possible in JSON text) is one.
    if code > 0xFFFF or 0xD800 <= code <= 0xDFFF:
        return True
    return unicodedata.category(ch)[0] in ("L", "N", "M")


def _units(ch: str) -> int:
    """UTF-16 code units of one code point."""
    return 2 if ord(ch) > 0xFFFF else 1


def _scan(lower: str) -> Iterator[tuple[str | None, bool]]:
    """Yields (token, False) for each maximal run of word characters and (None, True) at each sentence end."""
    start = -1
    length = 0
    for i, ch in enumerate(lower):
        if _is_word_char(ch):
            if start == -1:
                start = i
                length = 0
            length += _units(ch)
            continue
        if start != -1:
            yield lower[start:i] + "\0" + str(length), False
            start = -1
        if ord(ch) in _SENTENCE_ENDS:
            yield None, True
    if start != -1:
        yield lower[start:] + "\0" + str(length), False


def _token(item: str) -> tuple[str, int]:
    text, _, length = item.rpartition("\0")
    return text, int(length)


def content_words(text: str, min_length: int) -> set[str]:
    """The lower-cased tokens of at least ``min_length`` UTF-16 units."""
    words: set[str] = set()
    for item, is_end in _scan(text.lower()):
        if is_end or item is None:
            continue
        token, length = _token(item)
        if length >= min_length:
            words.add(token)
    return words


def estimate_groundedness(answer: str, contexts: Sequence[str], min_token_length: int, sentence_support_threshold: float) -> float | None:
    """Share of the answer's sentences whose content words occur in the contexts, in [0, 1], or None when
    it cannot be estimated (no contexts, no content words in them, or none in the answer)."""
    if len(contexts) == 0:
        return None
    context_words: set[str] = set()
    for context in contexts:
        context_words |= content_words(context, min_token_length)
    if not context_words:
        return None
    sentences = supported = words = present = 0

    def close() -> None:
        nonlocal sentences, supported, words, present
        if words > 0:
            sentences += 1
            if present / words >= sentence_support_threshold:
                supported += 1
        words = present = 0

    for item, is_end in _scan(answer.lower()):
        if is_end:
            close()
            continue
        assert item is not None
        token, length = _token(item)
        if length >= min_token_length:
            words += 1
            if token in context_words:
                present += 1
    close()
    return None if sentences == 0 else supported / sentences


def code_points(text: str) -> int:
    """Answer length as the policy counts it: Unicode code points."""
    return len(text)


@dataclass(frozen=True)
class GenerationRules:
    """The policy's ``generation`` section: how a generated completion is scored."""

    weights: Mapping[str, float]
    forbidden_substrings: tuple[str, ...]
    full_score_at_chars: int
    zero_score_at_chars: int


@dataclass(frozen=True)
class RewardPolicy:
    version: str
    min_token_length: int
    sentence_support_threshold: float
    generation: GenerationRules

    @staticmethod
    def parse(raw: Mapping[str, Any]) -> "RewardPolicy":
        """Reads a policy document (config/reward-policies/<version>.json).

        :raises JobError: (exit 64) naming each missing or invalid field.
        """
        problems: list[str] = []

        def get(path: str, kind: type | tuple[type, ...]) -> Any:
            node: Any = raw
            for part in path.split("."):
                if not isinstance(node, Mapping) or part not in node:
                    problems.append(f"reward policy: {path} is missing")
                    return None
                node = node[part]
            if not isinstance(node, kind) or isinstance(node, bool) and kind is not bool:
                problems.append(f"reward policy: {path} has the wrong type ({node!r})")
                return None
            return node

        number = (int, float)
        version = get("version", str)
        min_len = get("components.groundedness.minTokenLength", int)
        threshold = get("components.groundedness.sentenceSupportThreshold", number)
        weights = {name: get(f"generation.weights.{name}", number) for name in COMPLETION_COMPONENTS}
        forbidden = get("generation.format.forbiddenSubstrings", list)
        full = get("generation.length.fullScoreAtChars", int)
        zero = get("generation.length.zeroScoreAtChars", int)
        if not problems:
            total = sum(weights.values())
            if abs(total - 1) > 1e-9:
                problems.append(f"reward policy: generation.weights must sum to 1, received a sum of {total}")
            if zero <= full:
                problems.append(f"reward policy: generation.length.zeroScoreAtChars ({zero}) must exceed fullScoreAtChars ({full})")
            if not all(isinstance(s, str) and s for s in forbidden):
                problems.append("reward policy: generation.format.forbiddenSubstrings must be non-empty strings")
        if problems:
            raise JobError(CONTRACT, "\n".join(problems))
        return RewardPolicy(
            version=version,
            min_token_length=min_len,
            sentence_support_threshold=float(threshold),
            generation=GenerationRules(
                weights={k: float(v) for k, v in weights.items()},
                forbidden_substrings=tuple(forbidden),
                full_score_at_chars=full,
                zero_score_at_chars=zero,
            ),
        )


@dataclass(frozen=True)
class CompletionScore:
    reward: float
    #: Each component in [0, 1], or None where it had no evidence.
    components: Mapping[str, float | None]
    chars: int


def _clamp01(x: float) -> float:
    return min(1.0, max(0.0, x))


def format_component(completion: str, rules: GenerationRules) -> float:
    """1 for a usable answer; 0 for one with no word at all, or with a chat-template marker left in it."""
    if not any(_is_word_char(ch) for ch in completion):
        return 0.0
    return 0.0 if any(marker in completion for marker in rules.forbidden_substrings) else 1.0


def length_component(chars: int, rules: GenerationRules) -> float:
    """1 up to the full-score length, 0 from the zero-score length, linear in between: longer is never better."""
    if chars <= rules.full_score_at_chars:
        return 1.0
    if chars >= rules.zero_score_at_chars:
        return 0.0
    return 1.0 - (chars - rules.full_score_at_chars) / (rules.zero_score_at_chars - rules.full_score_at_chars)


def score_completion(completion: str, contexts: Sequence[str], policy: RewardPolicy, judge_score: float | None = None) -> CompletionScore:
    """The policy's reward of a generated completion: a weighted mean of the components with evidence
    (the weights of those without are left out and the rest renormalised, as in online scoring)."""
    rules = policy.generation
    chars = code_points(completion)
    components: dict[str, float | None] = {
        "groundedness": estimate_groundedness(completion, contexts, policy.min_token_length, policy.sentence_support_threshold),
        "format": format_component(completion, rules),
        "length": length_component(chars, rules),
        "judge": None if judge_score is None or math.isnan(judge_score) else _clamp01(judge_score),
    }
    weighted = weight = 0.0
    for name in COMPLETION_COMPONENTS:
        value = components[name]
        if value is None:
            continue
        weighted += rules.weights[name] * value
        weight += rules.weights[name]
    reward = weighted / weight if weight > 0 else (components["format"] or 0.0)
    return CompletionScore(reward=_clamp01(reward), components=components, chars=chars)


def token_f1(answer: str, reference: str, min_token_length: int) -> float | None:
    """Answer relevance against a reference answer: F1 of their content-word sets (None without reference words)."""
    ref = content_words(reference, min_token_length)
    if not ref:
        return None
    got = content_words(answer, min_token_length)
    overlap = len(ref & got)
    if overlap == 0:
        return 0.0
    precision = overlap / len(got)
    recall = overlap / len(ref)
    return 2 * precision * recall / (precision + recall)
