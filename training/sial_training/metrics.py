"""Metrics of a training run (``metrics.json`` beside the model) and of an eval (the eval gate's metrics.json).

Pure bookkeeping over plain numbers: the trainer layer feeds it what TRL logs each step and what the
reward functions computed, and it writes summaries a reviewer can read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

#: Points kept of each curve in metrics.json (evenly spaced, first and last included).
CURVE_POINTS = 50


def summarise(values: Sequence[float]) -> dict[str, float | int | list[float]]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return {"count": 0}
    if len(finite) <= CURVE_POINTS:
        curve = list(finite)
    else:
        last = len(finite) - 1
        curve = [finite[round(i * last / (CURVE_POINTS - 1))] for i in range(CURVE_POINTS)]
    return {
        "count": len(finite),
        "first": finite[0],
        "last": finite[-1],
        "min": min(finite),
        "max": max(finite),
        "mean": sum(finite) / len(finite),
        "curve": curve,
    }


@dataclass
class RewardBook:
    """Every policy reward the GRPO reward function computed, by component, per optimizer step."""

    rewards: list[float] = field(default_factory=list)
    components: dict[str, list[float]] = field(default_factory=dict)
    completion_chars: list[int] = field(default_factory=list)
    calls: int = 0

    def record(self, reward: float, components: Mapping[str, float | None], chars: int) -> None:
        self.rewards.append(reward)
        self.completion_chars.append(chars)
        for name, value in components.items():
            if value is not None:
                self.components.setdefault(name, []).append(value)

    def summary(self) -> dict[str, object]:
        return {
            "scored": len(self.rewards),
            "calls": self.calls,
            "mean": sum(self.rewards) / len(self.rewards) if self.rewards else None,
            "components": {name: sum(v) / len(v) for name, v in sorted(self.components.items())},
            "completionChars": summarise([float(c) for c in self.completion_chars]),
        }


@dataclass
class TrainingLog:
    """The per-step records TRL logs (loss, reward, completion length...), keyed by step."""

    steps: dict[int, dict[str, float]] = field(default_factory=dict)

    def add(self, step: int, values: Mapping[str, object]) -> None:
        row = self.steps.setdefault(step, {})
        for key, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[key] = float(value)

    def series(self, key: str) -> list[float]:
        return [row[key] for _, row in sorted(self.steps.items()) if key in row]

    def keys(self) -> set[str]:
        return {k for row in self.steps.values() for k in row}


def training_metrics(
    *,
    algorithm: str,
    log: TrainingLog,
    steps: int,
    resumed_from_step: int,
    train_seconds: float,
    tokens: int,
    rewards: RewardBook | None,
    policy_version: str | None,
) -> dict[str, object]:
    curves = {key: summarise(log.series(key)) for key in sorted(log.keys()) if key not in ("epoch", "step")}
    loss = curves.get("loss", {"count": 0})
    return {
        "algorithm": algorithm,
        "steps": steps,
        "resumedFromStep": resumed_from_step,
        "trainSeconds": round(train_seconds, 3),
        "stepsPerSecond": (steps - resumed_from_step) / train_seconds if train_seconds > 0 else None,
        "tokens": tokens,
        "tokensPerSecond": tokens / train_seconds if train_seconds > 0 else None,
        "loss": loss,
        "rewardPolicyVersion": policy_version,
        "reward": rewards.summary() if rewards is not None else None,
        "curves": curves,
    }


def all_finite(values: Iterable[float]) -> bool:
    return all(math.isfinite(v) for v in values)
