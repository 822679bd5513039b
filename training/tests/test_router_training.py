"""The router trained for real on synthetic traces with a learnable signal: it must beat the majority
baseline clearly, the gate must refuse a candidate trained on shuffled outcomes, the saved artifact must
serve the same predictions over HTTP, and the CLI must answer with the job's exit codes."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pytest

import router_synthetic as synthetic
from sial_training.exit_codes import CONTRACT, DATA, NO_INPUT, JobError
from sial_training.router.__main__ import main
from sial_training.router.config import Tier, parse_config
from sial_training.router.dataset import parse_request, read_dataset
from sial_training.router.labels import label_traces
from sial_training.router.model import fit_router, load_model
from sial_training.router.serve import make_server
from sial_training.router.train import run_evaluate, run_train

CONFIG = parse_config(synthetic.CONFIG)
TRAIN_ROWS = 3000


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("router")
    rows = synthetic.traces(TRAIN_ROWS, seed=1)
    dataset = synthetic.write_jsonl(root / "traces.jsonl", rows, ('{"trace_id": "cut', '{"trace_id": "x", "reward": 2}'))
    golden = synthetic.write_jsonl(root / "golden.jsonl", synthetic.traces(300, seed=2, clean=True))
    (root / "router.json").write_text(json.dumps(synthetic.CONFIG))
    metrics = run_train(dataset, CONFIG, root / "good", golden_path=golden, log=lambda _: None)
    return {"root": root, "rows": rows, "dataset": dataset, "golden": golden, "good": root / "good", "metrics": metrics}


def test_the_learned_router_beats_the_majority_baseline(trained: dict[str, Any]) -> None:
    metrics = trained["metrics"]
    assert metrics["dataset"]["malformed"] == 2 and metrics["dataset"]["lines"] == TRAIN_ROWS + 2
    assert [p["line"] for p in metrics["dataset"]["problems"]] == [TRAIN_ROWS + 1, TRAIN_ROWS + 2]
    assert metrics["dataset"]["trainExamples"] + metrics["dataset"]["holdoutExamples"] == TRAIN_ROWS
    assert 0.15 < metrics["dataset"]["holdoutExamples"] / TRAIN_ROWS < 0.25
    for name, margin in (("holdout", 0.2), ("golden", 0.4)):
        candidate, baseline = metrics[name]["candidate"], metrics[name]["baseline"]
        # Held-out labels carry the lake's noise; the golden set's are clean, so the margin is larger there.
        assert candidate["accuracy"] >= baseline["accuracy"] + margin, (name, candidate, baseline)
        assert candidate["misrouteRate"] == pytest.approx(1 - candidate["accuracy"])
        assert candidate["routingQuality"] >= 0.8
        # Cheaper than sending everything to the top tier, the quality-safe alternative.
        assert candidate["costPer1kRequestsUsd"] < CONFIG.cost("large") * 0.6
        assert metrics[name]["current"] is None
    assert metrics["golden"]["candidate"]["accuracy"] >= 0.9
    assert metrics["gate"] == {"passed": True, "reasons": []}
    assert metrics["resources"]["cpuSeconds"] > 0
    good = trained["good"]
    spec = json.loads((good / "feature_spec.json").read_text())
    assert [i["name"] for i in spec["inputs"]] == ["user_message", "agent_id", "language", "context_chars", "tool_calls", "prior_turns"]
    assert spec["tiers"] == ["small", "medium", "large"] and spec["baselineTier"] == metrics["baselineTier"]
    assert json.loads((good / "metrics.json").read_text()) == metrics
    with tarfile.open(good / "model.tar.gz") as archive:
        assert sorted(archive.getnames()) == ["feature_spec.json", "model.joblib"]
    assert (good / "model.joblib").stat().st_size < 5 * 1024 * 1024


def test_the_gate_refuses_a_candidate_trained_on_shuffled_outcomes(trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As the Batch job runs it: every input an s3:// URI, the outputs uploaded to a prefix (the object
    # store is a folder here, the layout local mode uses).
    store = tmp_path / "store"
    lake, registry = store / "sial-lake" / "router", store / "sial-artifacts" / "router"
    lake.mkdir(parents=True)
    synthetic.write_jsonl(lake / "shuffled.jsonl", synthetic.shuffled_outcomes(trained["rows"], seed=5))
    shutil.copy(trained["golden"], lake / "golden.jsonl")
    shutil.copy(trained["root"] / "router.json", lake / "router.json")
    (registry / "v1").mkdir(parents=True)
    shutil.copy(trained["good"] / "model.tar.gz", registry / "v1" / "model.tar.gz")
    monkeypatch.setenv("SIAL_OBJECT_STORE_ROOT", str(store))
    monkeypatch.setenv("SIAL_WORKDIR", str(tmp_path / "work"))
    code = main([
        "train", "--dataset", "s3://sial-lake/router/shuffled.jsonl", "--config", "s3://sial-lake/router/router.json",
        "--golden", "s3://sial-lake/router/golden.jsonl", "--current", "s3://sial-artifacts/router/v1/model.tar.gz",
        "--out", "s3://sial-artifacts/router/v2/",
    ])
    assert code == 0
    assert sorted(p.name for p in (registry / "v2").iterdir()) == ["feature_spec.json", "metrics.json", "model.joblib", "model.tar.gz"]
    metrics = json.loads((registry / "v2" / "metrics.json").read_text())
    assert not metrics["gate"]["passed"]
    assert any(r.startswith("golden: misroute rate") and "above the current version's" in r for r in metrics["gate"]["reasons"])
    assert metrics["golden"]["current"]["misrouteRate"] < 0.1 < metrics["golden"]["candidate"]["misrouteRate"] - 0.2

    # The evaluate command alone, on the clean dataset's held-out split: refused too.
    out = tmp_path / "evaluate.json"
    code = main(["evaluate", "--model", "s3://sial-artifacts/router/v2/", "--config", str(trained["root"] / "router.json"), "--dataset", str(trained["dataset"]), "--current", str(trained["good"]), "--out", str(out)])
    report = json.loads(out.read_text())
    assert code == 0 and report["kind"] == "evaluate" and not report["gate"]["passed"] and report["golden"] is None
    assert report["holdout"]["candidate"]["misrouteRate"] > report["holdout"]["current"]["misrouteRate"] + CONFIG.max_misroute_rise
    # The good version against itself passes.
    code = main(["evaluate", "--model", str(trained["good"] / "model.tar.gz"), "--config", str(trained["root"] / "router.json"), "--golden", str(trained["golden"]), "--current", str(trained["good"]), "--out", str(out)])
    assert code == 0 and json.loads(out.read_text())["gate"]["passed"]
    assert main(["evaluate", "--model", "s3://sial-artifacts/router/v9/", "--config", str(trained["root"] / "router.json"), "--golden", str(trained["golden"])]) == NO_INPUT


def test_training_is_deterministic_and_the_artifact_predicts_as_in_process(trained: dict[str, Any]) -> None:
    labelled = label_traces(read_dataset(trained["dataset"]).traces, CONFIG).examples[:300]
    requests, labels = [e.request for e in labelled], [e.tier for e in labelled]
    first, second = fit_router(requests, labels, CONFIG.tier_names), fit_router(requests, labels, CONFIG.tier_names)
    assert first.predict(requests) == second.predict(requests)
    loaded = load_model(trained["good"])
    assert loaded.classes == ("large", "medium", "small") and loaded.tiers == CONFIG.tier_names
    with pytest.raises(JobError) as raised:
        fit_router(requests[:5], ["small"] * 5, CONFIG.tier_names)
    assert raised.value.code == DATA


@pytest.fixture(scope="module")
def server(trained: dict[str, Any]) -> Iterator[str]:
    httpd = make_server(trained["good"], "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _call(url: str, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_served_artifact_predicts_what_the_model_predicts(trained: dict[str, Any], server: str) -> None:
    assert _call(f"{server}/ping") == (200, {"status": "ok"})
    fields = ("user_message", "agent_id", "language", "context_chars", "tool_calls", "prior_turns")
    instances = [{k: row[k] for k in fields} for row in synthetic.traces(60, seed=9)]
    status, answer = _call(f"{server}/invocations", json.dumps({"instances": instances}).encode())
    assert status == 200 and len(answer["predictions"]) == 60
    model = load_model(trained["good"])
    expected = model.predict([parse_request(i)[0] for i in instances])  # type: ignore[misc]
    assert [p["tier"] for p in answer["predictions"]] == [p.tier for p in expected]
    for got, want in zip(answer["predictions"], expected):
        assert list(got["probabilities"]) == ["small", "medium", "large"]
        assert got["probabilities"] == pytest.approx(want.probabilities, abs=1e-12)
        assert sum(got["probabilities"].values()) == pytest.approx(1.0)
    # The routing signal reaches the server: a stack trace goes to the large tier, a FAQ to the small one.
    status, answer = _call(f"{server}/invocations", json.dumps({"instances": [
        {**instances[0], "user_message": "Traceback (most recent call last): KeyError 'user_id' in handler, fix it", "context_chars": 500, "tool_calls": 1},
        {**instances[0], "user_message": "how do I reset my password?", "context_chars": 200, "tool_calls": 0, "prior_turns": 0},
    ]}).encode())
    assert [p["tier"] for p in answer["predictions"]] == ["large", "small"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{not json", "application/json", 400, "not UTF-8 JSON"),
        (b'{"rows": []}', "application/json", 400, '{"instances": [...]}'),
        (b'{"instances": []}', "application/json", 400, "non-empty list"),
        (json.dumps({"instances": [{"user_message": "hi"}, 3]}).encode(), "application/json", 400, "instances[0]: missing fields"),
        (b'{"instances": [{}]}', "text/csv", 415, "application/json"),
    ],
)
def test_malformed_invocations_are_400_with_a_message(server: str, body: bytes, content_type: str, status: int, fragment: str) -> None:
    got, answer = _call(f"{server}/invocations", body, content_type)
    assert got == status and fragment in answer["error"] and "Traceback" not in answer["error"]


def test_oversized_bodies_are_refused_unread(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/invocations")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(7 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and "at most" in json.loads(response.read())["error"]
    assert response.getheader("Connection") == "close"
    connection.close()


def test_artifacts_are_checked_before_use(trained: dict[str, Any], tmp_path: Path) -> None:
    spec = json.loads((trained["good"] / "feature_spec.json").read_text())
    for name, spec_change, model_bytes in (
        ("truncated", {}, (trained["good"] / "model.joblib").read_bytes()[:100]),
        ("other-sklearn", {"sklearnVersion": "1.0.0"}, None),
        ("other-format", {"format": "sial-router-features/0"}, None),
        ("other-inputs", {"inputs": spec["inputs"][:-1]}, None),
    ):
        folder = tmp_path / name
        shutil.copytree(trained["good"], folder)
        (folder / "feature_spec.json").write_text(json.dumps({**spec, **spec_change}))
        if model_bytes is not None:
            (folder / "model.joblib").write_bytes(model_bytes)
        with pytest.raises(JobError) as raised:
            load_model(folder)
        assert raised.value.code == DATA, name


def test_unknown_paths_are_404(server: str) -> None:
    assert _call(f"{server}/health")[0] == 404
    assert _call(f"{server}/predict", b"{}")[0] == 404


def test_cli_exit_codes(trained: dict[str, Any], tmp_path: Path) -> None:
    config = str(trained["root"] / "router.json")
    assert main(["train", "--dataset", str(tmp_path / "absent.jsonl"), "--config", config, "--out", str(tmp_path / "o")]) == NO_INPUT
    (tmp_path / "bad.json").write_text('{"tiers": []}')
    assert main(["train", "--dataset", str(trained["dataset"]), "--config", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o")]) == CONTRACT
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n[]\n")
    assert main(["train", "--dataset", str(junk), "--config", config, "--out", str(tmp_path / "o")]) == DATA
    # One malformed line in 3,000 is noise; a quarter of them means the export changed: refused.
    rows = [json.dumps(r) for r in trained["rows"][:30]]
    mostly_broken = synthetic.write_jsonl(tmp_path / "broken.jsonl", [], tuple(rows + ["{}"] * 10))
    with pytest.raises(JobError, match="10 of 40 lines are malformed, more than max_malformed_share 0.05") as raised:
        run_train(mostly_broken, CONFIG, tmp_path / "o", log=lambda _: None)
    assert raised.value.code == DATA and not (tmp_path / "o" / "model.joblib").exists()
    assert main(["evaluate", "--model", str(trained["good"]), "--config", config]) == CONTRACT
    assert main(["train", "--dataset", str(junk)]) == CONTRACT
    # A current version whose tiers the config no longer names cannot be compared: invalid data.
    renamed = replace(CONFIG, tiers=(Tier("s", 0.5), Tier("m", 2.0), Tier("l", 8.0)))
    with pytest.raises(JobError) as raised:
        run_evaluate(trained["good"], renamed, golden_path=trained["golden"], log=lambda _: None)
    assert raised.value.code == DATA
    with pytest.raises(JobError) as missing:
        make_server(tmp_path / "no-model", "127.0.0.1", 0)
    assert missing.value.code == NO_INPUT
    # As the image runs it: a usage error is 64, not argparse's 2.
    result = subprocess.run([sys.executable, "-m", "sial_training.router", "fly"], capture_output=True, text=True, timeout=60)
    assert result.returncode == CONTRACT and "invalid choice" in result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_starts_as_sagemaker_starts_it(trained: dict[str, Any], tmp_path: Path) -> None:
    # SageMaker unpacks model.tar.gz into the model folder and runs the image with the argument "serve".
    model_dir = tmp_path / "opt-ml-model"
    with tarfile.open(trained["good"] / "model.tar.gz") as archive:
        archive.extractall(model_dir, filter="data")
    port = _free_port()
    # Only the package on PYTHONPATH, as in the image.
    env = {**os.environ, "SAGEMAKER_BIND_TO_PORT": str(port), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "sial_training.router", "serve", "--model-dir", str(model_dir), "--host", "127.0.0.1"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = _call(f"http://127.0.0.1:{port}/ping")
                assert status == 200
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "the server did not answer /ping within 30 s"
                time.sleep(0.1)
        row = trained["rows"][0]
        instance = {k: row[k] for k in ("user_message", "agent_id", "language", "context_chars", "tool_calls", "prior_turns")}
        status, answer = _call(f"http://127.0.0.1:{port}/invocations", json.dumps({"instances": [instance]}).encode())
        assert status == 200
        assert answer["predictions"][0]["tier"] == load_model(trained["good"]).predict([parse_request(instance)[0]])[0].tier  # type: ignore[list-item]
    finally:
        server.terminate()
        server.wait(timeout=10)
