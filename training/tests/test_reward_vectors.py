"""The shared reward vectors (test/vectors/): the same files test/unit/reward-vectors.test.ts runs."""

from __future__ import annotations

import pytest

from conftest import load_vectors
from sial_training.reward import RewardPolicy, estimate_groundedness, score_completion

GROUNDEDNESS = load_vectors("reward-groundedness.json")["cases"]
COMPLETION = load_vectors("reward-completion.json")


@pytest.mark.parametrize("case", GROUNDEDNESS, ids=[c["name"] for c in GROUNDEDNESS])
def test_groundedness_vector(case: dict) -> None:
    got = estimate_groundedness(case["answer"], case["contexts"], case["minTokenLength"], case["sentenceSupportThreshold"])
    assert got == pytest.approx(case["expected"], abs=1e-12) if case["expected"] is not None else got is None


@pytest.mark.parametrize("case", COMPLETION["cases"], ids=[c["name"] for c in COMPLETION["cases"]])
def test_completion_vector(case: dict) -> None:
    policy = RewardPolicy.parse(COMPLETION["policy"])
    got = score_completion(case["completion"], case["contexts"], policy, case.get("judge"))
    expected = case["expected"]
    assert got.reward == pytest.approx(expected["reward"], abs=1e-12)
    assert got.chars == expected["chars"]
    for name, value in expected["components"].items():
        assert got.components[name] == (pytest.approx(value, abs=1e-12) if value is not None else None), name


def test_vectors_cover_the_edge_cases() -> None:
    assert len(GROUNDEDNESS) >= 20 and len(COMPLETION["cases"]) >= 8
