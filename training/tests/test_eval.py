"""`eval` mode for real: a tiny model answers the starter golden set through the entrypoint."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from conftest import POLICY_V1, REPO
from helpers import BASE_MODEL_URI, RUN, BUCKET, get, install_base_model, put, run_entrypoint
from sial_training import evaluation, golden_set
from sial_training.reward import RewardPolicy

GOLDEN = REPO / "training" / "golden-sets" / "qwen3-4b"
GOLDEN_URI = f"s3://{BUCKET}/golden-sets/qwen3-4b/"


def test_the_starter_golden_sets_are_valid_and_hashed() -> None:
    for folder in sorted((REPO / "training" / "golden-sets").iterdir()):
        parsed = golden_set.parse_golden_set((folder / "golden.jsonl").read_bytes(), (folder / "golden.json").read_bytes())
        assert parsed.version == "starter-v1" and len(parsed.examples) >= 5


def test_the_golden_set_command_writes_a_version_file(tmp_path: Path) -> None:
    assert golden_set.main([str(GOLDEN / "golden.jsonl"), "--version", "v2", "--out", str(tmp_path / "out")]) == 0
    meta = json.loads((tmp_path / "out" / "golden.json").read_text())
    assert meta["version"] == "v2" and meta["examples"] == 6
    (tmp_path / "bad.jsonl").write_text('{"id": "x"}\n')
    assert golden_set.main([str(tmp_path / "bad.jsonl"), "--version", "v3", "--out", str(tmp_path / "bad")]) == 65


def test_eval_metrics_have_the_eval_gates_shape() -> None:
    golden = golden_set.parse_golden_set((GOLDEN / "golden.jsonl").read_bytes(), (GOLDEN / "golden.json").read_bytes())
    policy = RewardPolicy.parse(json.loads(POLICY_V1.read_text()))
    good = [evaluation.score_example(e, e.record.contexts[0], policy) for e in golden.examples]
    bad = [evaluation.score_example(e, "Jupiter is lovely this time of year. " * 5, policy) for e in golden.examples]
    metrics = evaluation.eval_metrics(golden, good, bad, "s3://b/prod/model.tar.gz")
    assert set(metrics) == {"faithfulness", "metrics", "meanAnswerChars", "goldenSetVersion", "examples", "production"}
    assert metrics["faithfulness"] == 1 and metrics["production"]["faithfulness"] == 0
    assert all(0 <= v <= 1 for v in metrics["metrics"].values()) and set(metrics["metrics"]) == {"format", "reward", "relevance"}
    assert metrics["production"]["meanAnswerChars"] == len("Jupiter is lovely this time of year. " * 5)


@pytest.mark.training
def test_eval_answers_the_golden_set_with_candidate_and_production(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from sial_training.hf.tiny import build_tiny_model

    model_dir = build_tiny_model(tmp_path / "tiny")
    store = tmp_path / "s3"
    install_base_model(store, model_dir)
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    put(store, f"{RUN}output/model.tar.gz", archive.read_bytes())
    for name in ("golden.jsonl", "golden.json"):
        put(store, GOLDEN_URI + name, (GOLDEN / name).read_bytes())
    env = {
        "SIAL_MODE": "eval",
        "SIAL_RUN_ID": "run-1",
        "SIAL_OUTPUT_URI": f"{RUN}eval/",
        "SIAL_MODEL_URI": f"{RUN}output/model.tar.gz",
        "SIAL_GOLDEN_SET_URI": GOLDEN_URI,
        "SIAL_METRICS_URI": f"{RUN}eval/metrics.json",
        "SIAL_PRODUCTION_MODEL_URI": BASE_MODEL_URI,
        "SIAL_HYPERPARAMETERS": json.dumps({"max_completion_length": 16, "max_prompt_length": 128, "bf16": False}),
        "SIAL_REWARD_POLICY": POLICY_V1.read_text(),
        "SIAL_OBJECT_STORE_ROOT": str(store),
    }
    result = run_entrypoint(env, tmp_path / "work")
    assert result.code == 0, result.stdout[-4000:]
    metrics = json.loads(get(store, f"{RUN}eval/metrics.json") or b"{}")
    assert metrics["goldenSetVersion"] == "starter-v1" and metrics["examples"] == 6
    assert 0 <= metrics["faithfulness"] <= 1 and metrics["meanAnswerChars"] >= 0
    assert metrics["production"]["modelUri"] == BASE_MODEL_URI
    # The same weights answer greedily the same: candidate and production agree exactly.
    assert metrics["production"]["meanAnswerChars"] == metrics["meanAnswerChars"]
    results = [json.loads(line) for line in (get(store, f"{RUN}eval/results.jsonl") or b"").decode().splitlines()]
    assert len(results) == 12 and {r["model"] for r in results} == {"candidate", "production"}
    assert {r["expectedRoute"] for r in results} == {"small", "large"}
    assert all(isinstance(r["answer"], str) and r["chars"] == len(r["answer"]) for r in results)
