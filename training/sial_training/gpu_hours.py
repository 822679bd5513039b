"""GPU-hour accounting of one attempt, for ``gpu-hours.json``.

The ledger does not read this file (it sums Batch's own start and stop times of every attempt, because
a reclaimed attempt cannot be relied on to write anything); this is the trainer's own figure for the
run's record. Attempts of the same job add up: the previous attempts' figure is read back from the
checkpoint folder, so the file of the attempt that finishes covers the whole job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuHours:
    gpu_hours: float
    gpus: int
    wall_seconds: float
    attempt: int

    def to_json(self) -> dict[str, float | int]:
        return {"gpuHours": round(self.gpu_hours, 6), "gpus": self.gpus, "wallSeconds": round(self.wall_seconds, 3), "attempt": self.attempt}


def account(wall_seconds: float, gpus: int, attempt: int, previous_wall_seconds: float = 0.0) -> GpuHours:
    """GPU-hours = wall time x GPUs held; a CPU run (no GPU) is 0 GPU-hours."""
    if wall_seconds < 0 or previous_wall_seconds < 0:
        raise ValueError("wall time cannot be negative")
    total = wall_seconds + previous_wall_seconds
    return GpuHours(gpu_hours=total / 3600 * gpus, gpus=gpus, wall_seconds=total, attempt=attempt)


def parse_previous(body: bytes | None) -> float:
    """Wall seconds recorded by earlier attempts (0 when none)."""
    if body is None:
        return 0.0
    try:
        value = float(json.loads(body)["wallSeconds"])
    except (ValueError, KeyError, TypeError):
        return 0.0
    return max(0.0, value)
