"""The evaluator's arithmetic: per-example scores under the reward policy, and the eval gate's metrics.json.

Every metric is in [0, 1], higher is better (the eval gate compares them with production's):

- ``faithfulness``: mean groundedness of the answers against each example's contexts (the policy's
  estimate; the judge refines it once configured);
- ``metrics.relevance``: mean token F1 of the answer against the golden reference answer;
- ``metrics.format``: share of answers that pass the policy's format rule;
- ``metrics.reward``: mean policy reward of the answers.

``meanAnswerChars`` feeds the gate's length-inflation rule. The expected route of an example is kept in
the per-example results; a route is chosen by the router, not by the model evaluated here, so misroute is
the router's metric, not this one's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .golden_set import GoldenExample, GoldenSet
from .reward import RewardPolicy, score_completion, token_f1


@dataclass(frozen=True)
class ExampleScore:
    id: str
    answer: str
    chars: int
    reward: float
    components: Mapping[str, float | None]
    relevance: float | None
    expected_route: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "answer": self.answer,
            "chars": self.chars,
            "reward": self.reward,
            "components": dict(self.components),
            "relevance": self.relevance,
            "expectedRoute": self.expected_route,
        }


def score_example(example: GoldenExample, answer: str, policy: RewardPolicy, judge_score: float | None = None) -> ExampleScore:
    score = score_completion(answer, example.record.contexts, policy, judge_score)
    return ExampleScore(
        id=example.id,
        answer=answer,
        chars=score.chars,
        reward=score.reward,
        components=score.components,
        relevance=token_f1(answer, example.reference, policy.min_token_length),
        expected_route=example.expected_route,
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(scores: Sequence[ExampleScore]) -> dict[str, Any]:
    """faithfulness, metrics and meanAnswerChars of one model's answers."""
    grounded = [s.components["groundedness"] for s in scores if s.components.get("groundedness") is not None]
    relevance = [s.relevance for s in scores if s.relevance is not None]
    metrics: dict[str, float] = {
        "format": _mean([s.components["format"] or 0.0 for s in scores]) or 0.0,
        "reward": _mean([s.reward for s in scores]) or 0.0,
    }
    if relevance:
        metrics["relevance"] = _mean(relevance) or 0.0
    return {
        # No example with contexts means no evidence of faithfulness: 0, so the gate's floor refuses it.
        "faithfulness": _mean([g for g in grounded if g is not None]) or 0.0,
        "metrics": metrics,
        "meanAnswerChars": _mean([float(s.chars) for s in scores]) or 0.0,
    }


def eval_metrics(golden: GoldenSet, candidate: Sequence[ExampleScore], production: Sequence[ExampleScore] | None = None, production_uri: str | None = None) -> dict[str, Any]:
    """The eval job's metrics.json (evalMetricsSchema in lambdas/pipeline/contracts.ts)."""
    document: dict[str, Any] = {**summarise(candidate), "goldenSetVersion": golden.version, "examples": len(candidate)}
    if production is not None and production_uri is not None:
        document["production"] = {**summarise(production), "modelUri": production_uri}
    return document
