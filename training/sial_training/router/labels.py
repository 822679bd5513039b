"""The labelling rule: the tier each observed trace teaches, "the cheapest tier whose outcome was good".

Each trace shows one tier's outcome (the tier that served it), never what another tier would have done,
so the rule moves at most one tier away from what was observed. An outcome is *good* when the reward is
at or above ``quality_floor``, there was no error, and the feedback was not negative (``fallback``,
``timeout``, ``error`` and ``user_rejected`` are negative; ``success`` and no feedback are not).
``misrouted`` (the producer's or the judge's label) is read separately:

=====================  ========================================  =====================================
outcome on tier T      not misrouted                             misrouted
=====================  ========================================  =====================================
good                   T (``served_good``)                       one tier cheaper (``misrouted_cheaper``);
                                                                 on the cheapest tier: one tier up
                                                                 (``misrouted_up``: the only way it can
                                                                 have been wrong)
bad, T not the top     one tier up (``bad_up``)                  one tier up (``bad_up``)
bad, T the top tier    the top tier (``bad_top``)                the top tier (``bad_top``)
=====================  ========================================  =====================================

No ``route_tier``: not labelable (``no_tier``); a tier the config does not name: not labelable
(``unknown_tier``; a retired tier's traces cannot teach today's tiers).

**Bad outcome on the most expensive tier: kept, labelled the top tier.** Dropping those traces would
remove exactly the hardest requests from the training set: the top tier would then appear only with its
successes, while failures on cheaper tiers are all labelled "up", so the hard cases the router most needs
to recognise would be missing. Keeping them costs money when a failure was not about difficulty (an
out-of-scope question, an outage's timeout): the router learns to send such requests to the top tier,
where they fail anyway. We take that cost for quality: under-routing is what users feel. The evaluation's
``routingQuality`` (routed at or above the label) credits these cases when they go to the top tier even
though no tier served them well, so it is an upper bound of the quality users saw.

**What one observed tier cannot tell.** Labels only come from tiers the current router chose; a request
type it always sends to the top tier is labelled "top" unless the judge flags the misroute, so a router
trained on its own traffic tends to repeat its predecessor. The one-step moves are deliberately timid (one
observation says a tier was wrong, not by how much); successive versions move further as the new router's
traffic is observed. Routing a small random share of traffic to a neighbouring tier (exploration) is what
would remove the bias; this module only reads what was served.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Literal

from .config import RouterConfig
from .dataset import RouterRequest, RouterTrace

NEGATIVE_FEEDBACK = frozenset({"fallback", "timeout", "error", "user_rejected"})

Reason = Literal["served_good", "misrouted_cheaper", "misrouted_up", "bad_up", "bad_top", "no_tier", "unknown_tier"]


@dataclass(frozen=True)
class Label:
    #: The tier the trace teaches, or None when it is not labelable.
    tier: str | None
    reason: Reason


@dataclass(frozen=True)
class LabelledExample:
    trace_id: str
    request: RouterRequest
    tier: str


def outcome_good(trace: RouterTrace, quality_floor: float) -> bool:
    """Reward at or above the floor, no error, no negative feedback (misroute is judged apart)."""
    return trace.reward >= quality_floor and not trace.error and trace.feedback_outcome not in NEGATIVE_FEEDBACK


def label_trace(trace: RouterTrace, config: RouterConfig) -> Label:
    if trace.route_tier is None:
        return Label(None, "no_tier")
    tiers = config.tier_names
    if trace.route_tier not in tiers:
        return Label(None, "unknown_tier")
    rank = tiers.index(trace.route_tier)
    top = len(tiers) - 1
    if outcome_good(trace, config.quality_floor):
        if not trace.misrouted:
            return Label(trace.route_tier, "served_good")
        if rank > 0:
            return Label(tiers[rank - 1], "misrouted_cheaper")
        return Label(tiers[1], "misrouted_up")
    if rank < top:
        return Label(tiers[rank + 1], "bad_up")
    return Label(tiers[top], "bad_top")


@dataclass(frozen=True)
class LabelledSet:
    examples: tuple[LabelledExample, ...]
    #: How many traces each rule produced (metrics.json's ``labels.reasons``).
    reasons: dict[str, int]

    @property
    def unlabelable(self) -> int:
        return self.reasons.get("no_tier", 0) + self.reasons.get("unknown_tier", 0)


def label_traces(traces: Iterable[RouterTrace], config: RouterConfig) -> LabelledSet:
    examples: list[LabelledExample] = []
    reasons: Counter[str] = Counter()
    for trace in traces:
        label = label_trace(trace, config)
        reasons[label.reason] += 1
        if label.tier is not None:
            examples.append(LabelledExample(trace.trace_id, trace.request, label.tier))
    return LabelledSet(tuple(examples), dict(sorted(reasons.items())))
