"""GRPO, trained for real on CPU through the real entrypoint, rewarded by the reward policy's functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import POLICY_V1
from helpers import RUN, get, install_base_model, run_entrypoint, train_env, write_dataset

pytestmark = pytest.mark.training
pytest.importorskip("trl")

HYPERPARAMETERS = {
    "max_steps": 3,
    "per_device_train_batch_size": 4,
    "num_generations": 4,
    "max_prompt_length": 96,
    "max_completion_length": 12,
    "checkpoint_every": 2,
    "learning_rate": 1e-3,
    "beta": 0.04,
    "temperature": 1.5,
    "bf16": False,
}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sial_training.hf.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-grpo") / "model")


def test_grpo_trains_with_the_policy_reward_and_dr_grpo(tmp_path: Path, tiny_model: Path) -> None:
    store = tmp_path / "s3"
    install_base_model(store, tiny_model)
    manifest = write_dataset(store)
    policy = json.loads(POLICY_V1.read_text())
    # A random tiny model rarely writes a whole supported sentence: a lenient groundedness setting makes
    # the rewards of a group differ, so the advantages (and the policy gradient) are not all zero.
    policy["components"]["groundedness"] = {"minTokenLength": 2, "sentenceSupportThreshold": 0.2}
    result = run_entrypoint(train_env(store, "grpo", HYPERPARAMETERS, manifest, policy), tmp_path / "work")
    assert result.code == 0, result.stdout[-5000:]

    metrics = json.loads(get(store, f"{RUN}output/metrics.json") or b"{}")
    assert metrics["algorithm"] == "grpo" and metrics["steps"] == 3 and metrics["rewardPolicyVersion"] == "v1"
    assert metrics["lossType"] == "dr_grpo"
    # Rewards came from the policy's functions: every generated completion was scored, by component.
    reward = metrics["reward"]
    assert reward["scored"] == 3 * HYPERPARAMETERS["per_device_train_batch_size"] and reward["calls"] == 3
    assert 0 <= reward["mean"] <= 1
    assert set(reward["components"]) >= {"format", "length", "groundedness"}
    assert reward["completionChars"]["count"] == reward["scored"]
    curves = metrics["curves"]
    assert curves["rewards/policy_v1/mean"]["count"] == 3
    # Completion-length statistics per step (what length inflation would show first).
    assert curves["completions/mean_length"]["count"] == 3 and curves["completions/max_length"]["max"] <= HYPERPARAMETERS["max_completion_length"]
    assert metrics["loss"]["count"] == 3 and all(abs(v) < 1e6 for v in metrics["loss"]["curve"])
    assert json.loads(get(store, f"{RUN}checkpoints/latest.json") or b"{}") == {"step": 3}
    assert get(store, f"{RUN}output/model.tar.gz") is not None
    assert curves["reward_std"]["max"] > 0 and any(v != 0 for v in metrics["loss"]["curve"])


def test_grpo_without_a_reward_policy_is_a_contract_error(tmp_path: Path, tiny_model: Path) -> None:
    store = tmp_path / "s3"
    manifest = write_dataset(store)
    result = run_entrypoint(train_env(store, "grpo", HYPERPARAMETERS, manifest), tmp_path / "work")
    assert result.code == 64 and "SIAL_REWARD_POLICY is not set" in result.stdout
