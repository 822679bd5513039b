from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "test" / "vectors"
POLICY_V1 = REPO / "config" / "reward-policies" / "v1.json"


def load_vectors(name: str) -> dict:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture
def policy_v1() -> dict:
    return json.loads(POLICY_V1.read_text(encoding="utf-8"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Real-training tests need torch; where it is missing they would skip. Under SIAL_REQUIRE_TRAINING=1
    # (what `npm test` sets) a missing torch is an error instead, so CI never passes without training.
    if os.environ.get("SIAL_REQUIRE_TRAINING") != "1":
        return
    try:
        import torch  # noqa: F401
        import trl  # noqa: F401
    except ImportError as error:
        raise pytest.UsageError(f"SIAL_REQUIRE_TRAINING=1 but the training stack does not import: {error}") from error


_skipped_training: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "training" in report.keywords:
        _skipped_training.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("SIAL_REQUIRE_TRAINING") == "1" and _skipped_training:
        print(f"\nSIAL_REQUIRE_TRAINING=1 but {len(_skipped_training)} real-training test(s) were skipped: {', '.join(_skipped_training)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
