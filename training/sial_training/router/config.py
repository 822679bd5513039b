"""The router's configuration: serving tiers cheapest first, their costs, and the gate's thresholds.

The pipeline passes it as JSON (a file, or the ``SIAL_ROUTER_CONFIG`` environment variable)::

    {"tiers": [{"name": "small", "cost_per_1k_requests_usd": 0.4},
               {"name": "large", "cost_per_1k_requests_usd": 6.0}],
     "quality_floor": 0.7, "max_misroute_rise": 0.10,
     "min_routing_quality": 0.85, "holdout_share": 0.2, "max_malformed_share": 0.05}

Only ``tiers`` is required; the other keys default to the values shown.

Every problem is reported at once; an unknown key is refused rather than ignored, because a misspelt
threshold would otherwise silently not apply.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..exit_codes import CONTRACT, NO_INPUT, JobError

CONFIG_ENV = "SIAL_ROUTER_CONFIG"
_TIER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Tier:
    name: str
    #: What 1,000 requests served by this tier cost, in USD (the cost metric's unit).
    cost_per_1k_requests_usd: float


@dataclass(frozen=True)
class RouterConfig:
    #: Cheapest first: "one tier up" and "one tier cheaper" in the labelling rule follow this order.
    tiers: tuple[Tier, ...]
    #: A reward at or above this is a good outcome (with no error, no negative feedback, no misroute).
    quality_floor: float = 0.7
    #: The gate refuses a candidate whose misroute rate is more than this above the current version's
    #: (0.10 = 10 percentage points).
    max_misroute_rise: float = 0.10
    #: The gate refuses a candidate that routes less than this share of requests at or above their label
    #: tier: under-routing is what users feel, over-routing only costs money.
    min_routing_quality: float = 0.85
    #: Share of labelled traces held out for evaluation (chosen by a hash of trace_id, so stable).
    holdout_share: float = 0.2
    #: A dataset with more malformed lines than this share is refused (exit 65) rather than trained on:
    #: a few bad lines are noise, many mean the export's format changed under us.
    max_malformed_share: float = 0.05

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)

    def rank(self, tier: str) -> int:
        """0 for the cheapest tier; ValueError for a name not configured."""
        return self.tier_names.index(tier)

    def cost(self, tier: str) -> float:
        return self.tiers[self.rank(tier)].cost_per_1k_requests_usd

    def to_json(self) -> dict[str, Any]:
        return {
            "tiers": [{"name": t.name, "cost_per_1k_requests_usd": t.cost_per_1k_requests_usd} for t in self.tiers],
            "quality_floor": self.quality_floor,
            "max_misroute_rise": self.max_misroute_rise,
            "min_routing_quality": self.min_routing_quality,
            "holdout_share": self.holdout_share,
            "max_malformed_share": self.max_malformed_share,
        }


_SHARES = {
    "quality_floor": (0.0, 1.0),
    "max_misroute_rise": (0.0, 1.0),
    "min_routing_quality": (0.0, 1.0),
    # Neither 0 (nothing to evaluate on) nor 1 (nothing to train on).
    "holdout_share": (0.01, 0.99),
    "max_malformed_share": (0.0, 1.0),
}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _tiers(raw: object, problems: list[str]) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        problems.append(f"tiers must be a list of at least two tiers, cheapest first; received {raw!r}")
        return ()
    tiers: list[Tier] = []
    for i, item in enumerate(raw):
        where = f"tiers[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be an object {{name, cost_per_1k_requests_usd}}; received {item!r}")
            continue
        unknown = sorted(set(item) - {"name", "cost_per_1k_requests_usd"})
        if unknown:
            problems.append(f"{where} has unknown keys {unknown}; known: name, cost_per_1k_requests_usd")
        name, cost = item.get("name"), _number(item.get("cost_per_1k_requests_usd"))
        if not isinstance(name, str) or not _TIER_NAME.match(name):
            problems.append(f"{where}.name must be letters, digits, '.', '_', '-' (at most 64); received {name!r}")
            continue
        if cost is None or cost < 0:
            problems.append(f"{where}.cost_per_1k_requests_usd must be a number >= 0; received {item.get('cost_per_1k_requests_usd')!r}")
            continue
        tiers.append(Tier(name, cost))
    names = [t.name for t in tiers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"tier names must be unique; repeated: {duplicates}")
    for cheaper, dearer in zip(tiers, tiers[1:]):
        if dearer.cost_per_1k_requests_usd < cheaper.cost_per_1k_requests_usd:
            problems.append(
                f"tiers must be listed cheapest first: {dearer.name} ({dearer.cost_per_1k_requests_usd}) "
                f"costs less than {cheaper.name} ({cheaper.cost_per_1k_requests_usd}) before it"
            )
    return tuple(tiers)


def parse_config(raw: str | Mapping[str, Any], source: str = "router config") -> RouterConfig:
    """The config from JSON text or an already parsed object; JobError(64) listing every problem."""
    if isinstance(raw, str):
        try:
            values = json.loads(raw)
        except json.JSONDecodeError as error:
            raise JobError(CONTRACT, f"{source} is not JSON: {error}") from error
    else:
        values = raw
    if not isinstance(values, Mapping):
        raise JobError(CONTRACT, f"{source} must be a JSON object; received {type(values).__name__}")
    problems: list[str] = []
    known = {"tiers", *_SHARES}
    unknown = sorted(set(values) - known)
    if unknown:
        problems.append(f"unknown keys {unknown}; known: {', '.join(sorted(known))}")
    tiers = _tiers(values.get("tiers"), problems)
    shares: dict[str, float] = {}
    for name, (low, high) in _SHARES.items():
        if name not in values:
            continue
        value = _number(values[name])
        if value is None or not low <= value <= high:
            problems.append(f"{name} must be a number in [{low}, {high}]; received {values[name]!r}")
        else:
            shares[name] = value
    if problems:
        raise JobError(CONTRACT, f"{source} is invalid: " + "; ".join(problems))
    return RouterConfig(tiers=tiers, **shares)


def load_config(path: str | None, env: Mapping[str, str]) -> RouterConfig:
    """``--config FILE`` when given, else ``SIAL_ROUTER_CONFIG`` (JSON text); exit 64 when neither is."""
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as error:
            raise JobError(NO_INPUT, f"router config {path} does not exist") from error
        return parse_config(text, f"router config {path}")
    raw = env.get(CONFIG_ENV)
    if not raw:
        raise JobError(CONTRACT, f"no router config: pass --config FILE or set {CONFIG_ENV} to its JSON")
    return parse_config(raw, CONFIG_ENV)
