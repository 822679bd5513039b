"""Synthetic router traces with a real, learnable routing signal (for the router's training tests).

Each request has a tier it *needs*: short FAQ-like questions do fine on ``small``; comparisons, long
contexts, several earlier turns or a couple of tool calls need ``medium``; code, stack traces, SQL and
multi-step tool use need ``large``. A simulated current router serves the needed tier 60 % of the time
and another tier otherwise; the outcome is good when the served tier is at least the needed one (with
noise both ways), and the judge flags most over-routing as misrouted. The labelling rule then recovers
the needed tier for most traces, with the noise a real lake has.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

TIERS = ("small", "medium", "large")
CONFIG: dict[str, Any] = {
    "tiers": [
        {"name": "small", "cost_per_1k_requests_usd": 0.5},
        {"name": "medium", "cost_per_1k_requests_usd": 2.0},
        {"name": "large", "cost_per_1k_requests_usd": 8.0},
    ],
    "quality_floor": 0.7,
    "max_misroute_rise": 0.10,
    "min_routing_quality": 0.7,
    "holdout_share": 0.2,
}

_FAQ = [
    "how do I reset my password",
    "what are your opening hours",
    "where can I download my invoice",
    "can I change my email address",
    "is there a mobile app",
    "how do I cancel my subscription",
    "what payment methods do you accept",
    "where is my order",
    "do you ship to canada",
    "how long does a refund take",
]
_COMPARE = [
    "compare the team plan and the business plan for {n} users and tell me which is cheaper over a year",
    "explain the difference between annual and monthly billing given our usage of {n} seats",
    "summarise the attached contract and list what changes if we add {n} more users",
    "which of the three storage options fits a workload of {n} gigabytes a day and why",
]
_CODE = [
    "Traceback (most recent call last):\n  File \"app.py\", line {n}, in handler\nKeyError: 'user_id' why does this fail",
    "my query SELECT id, sum(amount) FROM orders GROUP BY id HAVING count(*) > {n} returns nothing, fix it",
    "def parse(x):\n    return json.loads(x)[{n}]\nthis raises an IndexError in production, refactor it",
    "write a python function that retries an http call {n} times with exponential backoff",
    "the deployment pipeline fails with exit code {n} after the docker build step, debug it",
]
_ANALYSIS = [
    "investigate why {n} orders failed last week across all regions and open tickets for each",
    "reconcile the invoices of the last {n} months with the payments and report every mismatch",
    "check every integration for errors since monday, retry the failed ones and summarise",
]
_FILLER = ["please", "thanks", "hi", "quick question", "urgent", "hello team", "", "", ""]


def _request(rng: random.Random) -> tuple[dict[str, Any], int]:
    """A request and the rank of the tier it needs."""
    kind = rng.choices(["faq", "compare", "code", "analysis"], weights=[50, 25, 15, 10])[0]
    n = rng.randint(2, 400)
    filler = rng.choice(_FILLER)
    if kind == "faq":
        text, need = rng.choice(_FAQ) + "?", 0
        context, tools, turns = rng.randint(0, 900), rng.choice([0, 0, 1]), rng.randint(0, 2)
    elif kind == "compare":
        text, need = rng.choice(_COMPARE).format(n=n), 1
        context, tools, turns = rng.randint(1500, 6000), rng.choice([0, 1, 2]), rng.randint(0, 5)
    elif kind == "code":
        text, need = rng.choice(_CODE).format(n=n), 2
        context, tools, turns = rng.randint(0, 4000), rng.choice([0, 1, 2]), rng.randint(0, 4)
    else:
        text, need = rng.choice(_ANALYSIS).format(n=n), 2
        context, tools, turns = rng.randint(500, 5000), rng.randint(3, 7), rng.randint(0, 4)
    # Numbers carry signal of their own: a very long context needs at least the medium tier.
    if context > 20000 or (kind == "faq" and rng.random() < 0.15 and (context := rng.randint(9000, 30000))):
        need = max(need, 1)
    request = {
        "user_message": f"{filler} {text}".strip(),
        "agent_id": rng.choice(["support", "billing", "devtools"]),
        "language": rng.choice(["en", "en", "de", "ko"]),
        "context_chars": context,
        "tool_calls": tools,
        "prior_turns": turns,
    }
    return request, need


def trace(rng: random.Random, index: int, *, clean: bool = False) -> dict[str, Any]:
    """One trace as the lake exports it. ``clean``: served the needed tier, good outcome (golden-set style)."""
    request, need = _request(rng)
    if clean:
        served = need
    else:
        served = need if rng.random() < 0.6 else rng.choice([t for t in range(3) if t != need])
    if served >= need:
        good = clean or rng.random() < 0.92
    else:
        good = rng.random() < 0.1
    misrouted = (served > need and rng.random() < 0.85) if good and not clean else False
    reward = rng.uniform(0.75, 1.0) if good else rng.uniform(0.1, 0.6)
    feedback = rng.choice(["success", None]) if good else rng.choice([None, "fallback", "user_rejected", "timeout"])
    return {
        "trace_id": f"{'g' if clean else 't'}-{index:06d}",
        "ts": f"2026-11-{1 + index % 28:02d}T{index % 24:02d}:{index % 60:02d}:00Z",
        "agent_id": request["agent_id"],
        "language": request["language"],
        "user_message": request["user_message"],
        "context_chars": request["context_chars"],
        "tool_calls": request["tool_calls"],
        "prior_turns": request["prior_turns"],
        "route_tier": TIERS[served],
        "misrouted": misrouted if rng.random() > 0.1 else None,
        "reward": round(reward, 3),
        "feedback_outcome": feedback,
        "error": (not good) and rng.random() < 0.2,
    }


def traces(count: int, seed: int, *, clean: bool = False) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [trace(rng, i, clean=clean) for i in range(count)]


def write_jsonl(path: Path, rows: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


def shuffled_outcomes(rows: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The same requests with their outcomes (and so their labels) permuted: nothing left to learn."""
    outcome_fields = ("route_tier", "misrouted", "reward", "feedback_outcome", "error")
    outcomes = [{k: row[k] for k in outcome_fields} for row in rows]
    random.Random(seed).shuffle(outcomes)
    return [{**row, **outcome} for row, outcome in zip(rows, outcomes)]
