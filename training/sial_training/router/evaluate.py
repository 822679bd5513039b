"""Routing metrics and the gate, given labels and predictions (pure: no model, no I/O).

For a set of labelled requests (the held-out split, the golden set) and a router's predicted tiers:

- ``accuracy``: predicted tier == label; ``misrouteRate`` = 1 - accuracy, split into ``underRouteRate``
  (predicted cheaper than the label: the user gets a worse answer) and ``overRouteRate`` (dearer: money);
- ``routingQuality``: share routed at or above the label tier, the quality users can expect;
- ``topTierShare``: share of traffic sent to the most expensive tier;
- ``costPer1kRequestsUsd``: the tiers' costs weighted by how much traffic the router sends to each.

The same figures are computed for the majority-class baseline (every request to the tier most common in
the training labels) and, when given, for the current router version on the same requests.

The gate refuses a candidate when, on any evaluated set, its misroute rate is more than
``max_misroute_rise`` above the current version's, or its routing quality is below
``min_routing_quality``; every reason is listed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

from .config import RouterConfig

# Rates are ratios of counts; a rise of exactly the threshold must pass despite float rounding.
_EPSILON = 1e-9


@dataclass(frozen=True)
class RoutingMetrics:
    examples: int
    accuracy: float
    misroute_rate: float
    under_route_rate: float
    over_route_rate: float
    routing_quality: float
    top_tier_share: float
    cost_per_1k_requests_usd: float
    #: Share of requests routed to each configured tier.
    tier_shares: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "accuracy": self.accuracy,
            "misrouteRate": self.misroute_rate,
            "underRouteRate": self.under_route_rate,
            "overRouteRate": self.over_route_rate,
            "routingQuality": self.routing_quality,
            "topTierShare": self.top_tier_share,
            "costPer1kRequestsUsd": self.cost_per_1k_requests_usd,
            "tierShares": dict(self.tier_shares),
        }


def routing_metrics(labels: Sequence[str], predictions: Sequence[str], config: RouterConfig) -> RoutingMetrics:
    """ValueError for empty or unequal inputs, or a tier the config does not name."""
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions")
    if not labels:
        raise ValueError("no labelled examples to evaluate")
    names = config.tier_names
    unknown = sorted(set(labels) - set(names)) + sorted(set(predictions) - set(names))
    if unknown:
        raise ValueError(f"tiers {sorted(set(unknown))} are not in the router config ({', '.join(names)})")
    n = len(labels)
    ranks = [(names.index(label), names.index(predicted)) for label, predicted in zip(labels, predictions)]
    correct = sum(1 for label, predicted in ranks if predicted == label)
    under = sum(1 for label, predicted in ranks if predicted < label)
    over = n - correct - under
    routed = Counter(predictions)
    shares = {name: routed.get(name, 0) / n for name in names}
    return RoutingMetrics(
        examples=n,
        accuracy=correct / n,
        misroute_rate=(n - correct) / n,
        under_route_rate=under / n,
        over_route_rate=over / n,
        routing_quality=(n - under) / n,
        top_tier_share=shares[names[-1]],
        cost_per_1k_requests_usd=sum(shares[t.name] * t.cost_per_1k_requests_usd for t in config.tiers),
        tier_shares=shares,
    )


def majority_tier(labels: Sequence[str], config: RouterConfig) -> str:
    """The most common label; a tie goes to the dearer tier (the baseline errs towards quality)."""
    if not labels:
        raise ValueError("no labels to take a majority of")
    counts = Counter(labels)
    return max(counts, key=lambda tier: (counts[tier], config.rank(tier)))


@dataclass(frozen=True)
class SetEvaluation:
    #: "holdout" or "golden".
    name: str
    candidate: RoutingMetrics
    baseline_tier: str
    baseline: RoutingMetrics
    current: RoutingMetrics | None
    #: The tier every label would cost if routed perfectly (what the labels themselves cost).
    oracle_cost_per_1k_requests_usd: float

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.to_json(),
            "baseline": {"tier": self.baseline_tier, **self.baseline.to_json()},
            "current": None if self.current is None else self.current.to_json(),
            "oracleCostPer1kRequestsUsd": self.oracle_cost_per_1k_requests_usd,
        }


def evaluate_set(
    name: str,
    labels: Sequence[str],
    candidate: Sequence[str],
    baseline_tier: str,
    config: RouterConfig,
    current: Sequence[str] | None = None,
) -> SetEvaluation:
    return SetEvaluation(
        name=name,
        candidate=routing_metrics(labels, candidate, config),
        baseline_tier=baseline_tier,
        baseline=routing_metrics(labels, [baseline_tier] * len(labels), config),
        current=None if current is None else routing_metrics(labels, current, config),
        oracle_cost_per_1k_requests_usd=routing_metrics(labels, labels, config).cost_per_1k_requests_usd,
    )


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": list(self.reasons)}


def gate(evaluations: Sequence[SetEvaluation], config: RouterConfig) -> GateVerdict:
    """Refuse on any set where misroute rises too far above the current version or quality is too low."""
    if not evaluations:
        return GateVerdict(False, ("nothing was evaluated: no held-out examples and no golden set",))
    reasons: list[str] = []
    for evaluation in evaluations:
        candidate, current = evaluation.candidate, evaluation.current
        if current is not None and candidate.misroute_rate - current.misroute_rate > config.max_misroute_rise + _EPSILON:
            reasons.append(
                f"{evaluation.name}: misroute rate {candidate.misroute_rate:.3f} is "
                f"{candidate.misroute_rate - current.misroute_rate:.3f} above the current version's "
                f"{current.misroute_rate:.3f} (allowed rise {config.max_misroute_rise:.3f})"
            )
        if candidate.routing_quality < config.min_routing_quality - _EPSILON:
            reasons.append(
                f"{evaluation.name}: routing quality {candidate.routing_quality:.3f} (share routed at or above "
                f"its label tier) is below the floor {config.min_routing_quality:.3f}"
            )
    return GateVerdict(not reasons, tuple(reasons))
