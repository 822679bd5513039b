"""DPO, trained for real on CPU through the real entrypoint: a tiny Qwen2 model, a few steps."""

from __future__ import annotations

import json
import signal
import tarfile
import time
from pathlib import Path

import pytest

from helpers import RUN, Run, get, install_base_model, run_entrypoint, start_entrypoint, train_env, write_dataset

pytestmark = pytest.mark.training
pytest.importorskip("trl")

HYPERPARAMETERS = {"max_steps": 4, "per_device_train_batch_size": 2, "checkpoint_every": 2, "learning_rate": 1e-3, "max_prompt_length": 96, "max_completion_length": 32, "bf16": False}
# The run the resume test interrupts, and the uninterrupted run it is compared with.
RESUMED_HYPERPARAMETERS = {**HYPERPARAMETERS, "max_steps": 8, "checkpoint_every": 2}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sial_training.hf.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def store(tmp_path: Path, tiny_model: Path) -> Path:
    root = tmp_path / "s3"
    install_base_model(root, tiny_model)
    return root


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> tuple[Path, Run]:
    """One uninterrupted DPO run (RESUMED_HYPERPARAMETERS, attempt 1) and its store, trained once: the
    contract-outputs test reads its outputs, and the resume test compares a resumed run's weights with it.
    Each training process costs about ten CPU seconds of imports before its first step."""
    root = tmp_path_factory.mktemp("dpo-uninterrupted")
    store = root / "s3"
    install_base_model(store, tiny_model)
    manifest = write_dataset(store)
    return store, run_entrypoint(train_env(store, "dpo", RESUMED_HYPERPARAMETERS, manifest), root / "work")


def test_dpo_trains_and_writes_the_contract_outputs(uninterrupted: tuple[Path, Run]) -> None:
    store, result = uninterrupted
    steps = RESUMED_HYPERPARAMETERS["max_steps"]
    assert result.code == 0, result.stdout[-4000:]
    assert "contract valid: mode=train run=run-1 attempt=1 algorithm=dpo" in result.stdout

    metrics = json.loads(get(store, f"{RUN}output/metrics.json") or b"{}")
    assert metrics["algorithm"] == "dpo" and metrics["steps"] == steps
    assert metrics["loss"]["count"] >= 1 and all(isinstance(v, float) for v in metrics["loss"]["curve"])
    assert metrics["tokensPerSecond"] > 0 and metrics["stepsPerSecond"] > 0
    hours = json.loads(get(store, f"{RUN}output/gpu-hours.json") or b"{}")
    assert hours["gpus"] == 0 and hours["gpuHours"] == 0 and hours["attempt"] == 1 and hours["wallSeconds"] > 0
    assert json.loads(get(store, f"{RUN}checkpoints/latest.json") or b"{}") == {"step": steps}
    assert get(store, f"{RUN}checkpoints/step-2/sial-checkpoint.json") is not None

    archive = store / f"{RUN}output/model.tar.gz".removeprefix("s3://")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        info = json.load(tar.extractfile("sial-model.json"))  # type: ignore[arg-type]
    assert {"config.json", "model.safetensors", "tokenizer.json", "sial-model.json"} <= names
    assert info["algorithm"] == "dpo" and info["steps"] == steps


def test_dpo_refuses_a_dataset_that_changed_after_the_build(store: Path, tmp_path: Path) -> None:
    manifest = write_dataset(store)
    path = store / manifest["files"]["dpo"][0].removeprefix("s3://")
    path.write_bytes(path.read_bytes() + b"\n")
    result = run_entrypoint(train_env(store, "dpo", HYPERPARAMETERS, manifest), tmp_path / "work")
    assert result.code == 65, result.stdout[-2000:]
    assert "changed after the approved build" in result.stdout
    assert get(store, f"{RUN}output/model.tar.gz") is None


def test_sigterm_checkpoints_and_attempt_2_resumes_to_the_same_final_step(store: Path, tmp_path: Path, uninterrupted: tuple[Path, Run]) -> None:
    manifest = write_dataset(store)
    hp = RESUMED_HYPERPARAMETERS
    env = train_env(store, "dpo", hp, manifest)
    process = start_entrypoint({**env, "AWS_BATCH_JOB_ATTEMPT": "1"}, tmp_path / "work-1")
    pointer = store / f"{RUN}checkpoints/latest.json".removeprefix("s3://")
    deadline = time.monotonic() + 300
    while not pointer.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "training ended before the first checkpoint"
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 75, out[-3000:]
    interrupted_at = json.loads(pointer.read_text())["step"]
    assert 2 <= interrupted_at < 8
    assert get(store, f"{RUN}output/model.tar.gz") is None

    resumed = run_entrypoint({**env, "AWS_BATCH_JOB_ATTEMPT": "2"}, tmp_path / "work-2")
    assert resumed.code == 0, resumed.stdout[-4000:]
    assert f"resumes from {RUN}checkpoints/step-{interrupted_at}/" in resumed.stdout
    metrics = json.loads(get(store, f"{RUN}output/metrics.json") or b"{}")
    assert metrics["steps"] == 8 and metrics["resumedFromStep"] == interrupted_at
    hours = json.loads(get(store, f"{RUN}output/gpu-hours.json") or b"{}")
    assert hours["attempt"] == 2

    # The resumed run ends where an uninterrupted one does: optimizer, scheduler, RNG and data position
    # all came back with the checkpoint, so the weights match. The uninterrupted run: the same base model,
    # dataset and hyper-parameters in a store of its own.
    fresh_root, fresh = uninterrupted
    assert fresh.code == 0, fresh.stdout[-3000:]
    assert _weights(store) == pytest.approx(_weights(fresh_root), abs=1e-5)


def _weights(root: Path) -> list[float]:
    from safetensors.numpy import load

    with tarfile.open(root / f"{RUN}output/model.tar.gz".removeprefix("s3://")) as tar:
        tensors = load(tar.extractfile("model.safetensors").read())  # type: ignore[union-attr]
    return [float(v) for name in sorted(tensors) for v in tensors[name].ravel()[:64]]


def test_dpo_with_lora_writes_merged_weights(store: Path, tmp_path: Path) -> None:
    manifest = write_dataset(store)
    hp = {**HYPERPARAMETERS, "max_steps": 2, "lora": True, "lora_r": 4, "lora_alpha": 8}
    result = run_entrypoint(train_env(store, "dpo", hp, manifest), tmp_path / "work")
    assert result.code == 0, result.stdout[-4000:]
    with tarfile.open(store / f"{RUN}output/model.tar.gz".removeprefix("s3://")) as tar:
        names = set(tar.getnames())
        info = json.load(tar.extractfile("sial-model.json"))  # type: ignore[arg-type]
    # Plain weights a server loads without peft: no adapter files.
    assert "model.safetensors" in names and not any("adapter" in n for n in names)
    assert info["lora"] is True and info["merged"] is True
