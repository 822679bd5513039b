"""Domain modules without torch: contract, dataset, checkpoints, object stores, GPU-hours, metrics, golden sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sial_training import checkpoints, contract, dataset, golden_set, gpu_hours, metrics
from sial_training.exit_codes import CONTRACT, DATA, NO_INPUT, STORAGE, JobError
from sial_training.reward import RewardPolicy, token_f1
from sial_training.store import FileObjectStore, download_prefix, open_store, require_bytes

RUN = "s3://sial-dev-artifacts/runs/run-42/"
TRAIN_ENV = {
    "SIAL_MODE": "train",
    "SIAL_RUN_ID": "run-42",
    "SIAL_OUTPUT_URI": f"{RUN}output/",
    "SIAL_DATASET_URI": f"{RUN}dataset/build-1/dpo/",
    "SIAL_MANIFEST_URI": f"{RUN}dataset/manifest.json",
    "SIAL_BASE_MODEL_URI": "s3://sial-dev-models/base/qwen3-4b/",
    "SIAL_CHECKPOINT_URI": f"{RUN}checkpoints/",
    "SIAL_ALGORITHM": "dpo",
    "SIAL_HYPERPARAMETERS": '{"learning_rate":1e-6,"max_steps":3}',
}


class TestContract:
    def test_parses_a_train_job(self) -> None:
        job = contract.parse_train_job({**TRAIN_ENV, "AWS_BATCH_JOB_ATTEMPT": "2", "SIAL_RESUME_FROM": f"{RUN}checkpoints/step-2/"})
        assert job.algorithm == "dpo" and job.attempt == 2 and job.hyperparameters.max_steps == 3
        assert job.hyperparameters.learning_rate == 1e-6 and job.resume_from == f"{RUN}checkpoints/step-2/"
        assert job.reward_policy is None

    def test_lists_every_problem_at_once(self) -> None:
        env = {**TRAIN_ENV, "SIAL_OUTPUT_URI": "s3://b/x", "SIAL_ALGORITHM": "ppo", "SIAL_HYPERPARAMETERS": '{"max_stpes": 3, "max_steps": -1}'}
        del env["SIAL_DATASET_URI"]
        with pytest.raises(JobError) as raised:
            contract.parse_train_job(env)
        assert raised.value.code == CONTRACT
        message = str(raised.value)
        for fragment in ("SIAL_OUTPUT_URI", "SIAL_ALGORITHM", "max_stpes", "max_steps must be int", "SIAL_DATASET_URI is not set"):
            assert fragment in message

    def test_grpo_needs_the_reward_policy(self, policy_v1: dict) -> None:
        env = {**TRAIN_ENV, "SIAL_ALGORITHM": "grpo"}
        with pytest.raises(JobError, match="SIAL_REWARD_POLICY is not set"):
            contract.parse_train_job(env)
        job = contract.parse_train_job({**env, "SIAL_REWARD_POLICY": json.dumps(policy_v1)})
        assert job.reward_policy is not None and RewardPolicy.parse(job.reward_policy).version == "v1"

    def test_parses_an_eval_job(self, policy_v1: dict) -> None:
        env = {
            "SIAL_MODE": "eval",
            "SIAL_RUN_ID": "run-42",
            "SIAL_OUTPUT_URI": f"{RUN}eval/",
            "SIAL_MODEL_URI": f"{RUN}output/model.tar.gz",
            "SIAL_GOLDEN_SET_URI": "s3://sial-dev-artifacts/golden-sets/qwen3-4b/",
            "SIAL_METRICS_URI": f"{RUN}eval/metrics.json",
            "SIAL_REWARD_POLICY": json.dumps(policy_v1),
        }
        job = contract.parse_eval_job(env)
        assert job.metrics_uri.endswith("metrics.json") and job.production_model_uri is None
        with pytest.raises(JobError, match="must name a .json object"):
            contract.parse_eval_job({**env, "SIAL_METRICS_URI": f"{RUN}eval/metrics.txt"})

    def test_refuses_a_policy_without_generation_rules(self, policy_v1: dict) -> None:
        del policy_v1["generation"]
        with pytest.raises(JobError, match="generation.weights.groundedness is missing"):
            RewardPolicy.parse(policy_v1)


def grpo_line(group: str = "g1") -> dict:
    return {
        "group_id": group,
        "agent_id": "support",
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Refund?"}],
        "contexts": ["Refunds are possible within thirty days."],
        "completions": [
            {"trace_id": "t1", "reward": 0.9, "completion": [{"role": "assistant", "content": "Within thirty days."}]},
            {"trace_id": "t2", "reward": 0.2, "completion": [{"role": "assistant", "content": "Never."}]},
        ],
    }


def dpo_line() -> dict:
    return {
        "group_id": "g1",
        "agent_id": "support",
        "prompt": [{"role": "user", "content": "Refund?"}],
        "contexts": [],
        "chosen": [{"role": "assistant", "content": "Within thirty days."}],
        "rejected": [{"role": "assistant", "content": "Never."}],
        "chosen_trace_id": "t1",
        "rejected_trace_id": "t2",
        "chosen_reward": 0.9,
        "rejected_reward": 0.2,
    }


def jsonl(*lines: dict) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


class TestDataset:
    def test_reads_grpo_and_dpo_lines(self) -> None:
        [grpo] = dataset.parse_grpo(jsonl(grpo_line()))
        assert grpo.prompt[0]["role"] == "system" and grpo.contexts == ("Refunds are possible within thirty days.",)
        assert grpo.completions[0] == ("t1", 0.9, "Within thirty days.")
        [dpo] = dataset.parse_dpo(jsonl(dpo_line()))
        assert (dpo.chosen, dpo.rejected) == ("Within thirty days.", "Never.")

    def test_lists_bad_lines(self) -> None:
        bad = grpo_line()
        bad["prompt"] = [{"role": "system", "content": "x"}, {"role": "assistant", "content": "y"}]
        bad["completions"][0]["reward"] = 3
        with pytest.raises(JobError) as raised:
            dataset.parse_grpo(jsonl(bad, {**grpo_line("g2"), "agent_id": ""}))
        assert raised.value.code == DATA
        assert "must contain a user message" in str(raised.value) and "reward must be a number in [0, 1]" in str(raised.value)
        assert "line 2.agent_id" in str(raised.value)
        with pytest.raises(JobError, match="no records"):
            dataset.parse_dpo("\n")
        with pytest.raises(JobError, match="line 1 is not JSON"):
            dataset.parse_dpo("{nope\n")
        flipped = {**dpo_line(), "chosen_reward": 0.1}
        with pytest.raises(JobError, match="scores below"):
            dataset.parse_dpo(jsonl(flipped))

    def test_checks_the_manifest_hash_and_file(self) -> None:
        grpo, dpo, ids = jsonl(grpo_line()).encode(), jsonl(dpo_line()).encode(), b"t1\nt2\n"
        manifest = dataset.ManifestFiles(f"{RUN}dataset/grpo.jsonl", f"{RUN}dataset/dpo.jsonl", f"{RUN}dataset/trace-ids.txt", dataset.content_sha256(grpo, dpo, ids), "v1")
        dataset.verify_manifest(manifest, f"{RUN}dataset/dpo.jsonl", "dpo", grpo, dpo, ids)
        with pytest.raises(JobError, match="changed after the approved build"):
            dataset.verify_manifest(manifest, f"{RUN}dataset/dpo.jsonl", "dpo", grpo, dpo + b"\n", ids)
        with pytest.raises(JobError, match="is not the manifest's grpo file"):
            dataset.verify_manifest(manifest, f"{RUN}dataset/dpo.jsonl", "grpo", grpo, dpo, ids)

    def test_contexts_join_the_system_prompt_once(self) -> None:
        [record] = dataset.parse_grpo(jsonl(grpo_line()))
        messages = dataset.prompt_with_contexts(record)
        assert len(messages) == 2 and messages[0]["content"].startswith("Be brief.\n\nRetrieved context:\nRefunds")
        [again] = dataset.parse_grpo(jsonl({**grpo_line(), "prompt": [{"role": "user", "content": "Refunds are possible within thirty days. Really?"}]}))
        assert dataset.prompt_with_contexts(again) == [{"role": "user", "content": "Refunds are possible within thirty days. Really?"}]


class TestCheckpoints:
    def test_pointer_protocol(self, tmp_path: Path) -> None:
        store = FileObjectStore(tmp_path / "s3")
        ckpt = f"{RUN}checkpoints/"
        assert checkpoints.read_pointer(store, ckpt) is None
        local = tmp_path / "local"
        (local / "sub").mkdir(parents=True)
        (local / "weights.bin").write_bytes(b"w")
        (local / "sub" / "state.json").write_text("{}")
        checkpoints.publish_checkpoint(store, local, ckpt, 4)
        assert checkpoints.read_pointer(store, ckpt) == 4
        assert store.get_bytes(f"{ckpt}latest.json") == b'{"step": 4}'
        restored = tmp_path / "restored"
        assert checkpoints.fetch_checkpoint(store, f"{ckpt}step-4/", restored) == 4
        assert (restored / "sub" / "state.json").read_text() == "{}"

    def test_refuses_unknown_pointers_and_incomplete_checkpoints(self, tmp_path: Path) -> None:
        with pytest.raises(JobError) as raised:
            checkpoints.parse_pointer(b'{"step": "four"}')
        assert raised.value.code == DATA
        assert checkpoints.parse_pointer(b' {"step" : 12}\n') == 12
        store = FileObjectStore(tmp_path / "s3")
        store.put_bytes(f"{RUN}checkpoints/step-3/weights.bin", b"half")
        with pytest.raises(JobError, match="missing or incomplete"):
            checkpoints.fetch_checkpoint(store, f"{RUN}checkpoints/step-3/", tmp_path / "x")


class TestStores:
    def test_file_store_layout_matches_local_mode(self, tmp_path: Path) -> None:
        store = open_store({"SIAL_OBJECT_STORE_ROOT": str(tmp_path)})
        store.put_bytes("s3://bucket-a/a/b.txt", b"hi")
        assert (tmp_path / "bucket-a" / "a" / "b.txt").read_bytes() == b"hi"
        assert store.list_keys("s3://bucket-a/a/") == ["s3://bucket-a/a/b.txt"]
        assert store.list_keys("s3://bucket-a/a") == ["s3://bucket-a/a/b.txt"]
        assert store.list_keys("s3://bucket-a/zz/") == []
        with pytest.raises(JobError) as raised:
            require_bytes(store, "s3://bucket-a/missing", "the dataset")
        assert raised.value.code == NO_INPUT
        with pytest.raises(JobError, match="outside its bucket"):
            store.put_bytes("s3://bucket-a/../escape", b"x")

    def test_s3_store_against_moto(self, tmp_path: Path) -> None:
        moto = pytest.importorskip("moto")
        import boto3

        from sial_training.store import S3ObjectStore

        with moto.mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            client.create_bucket(Bucket="sial-test")
            store = S3ObjectStore(client)
            assert store.get_bytes("s3://sial-test/none") is None
            store.put_bytes("s3://sial-test/p/a.json", b"{}")
            (tmp_path / "f.bin").write_bytes(b"123")
            store.upload_file(tmp_path / "f.bin", "s3://sial-test/p/q/f.bin")
            assert store.list_keys("s3://sial-test/p/") == ["s3://sial-test/p/a.json", "s3://sial-test/p/q/f.bin"]
            assert download_prefix(store, "s3://sial-test/p/", tmp_path / "out") == 2
            assert (tmp_path / "out" / "q" / "f.bin").read_bytes() == b"123"
            assert store.download_file("s3://sial-test/none", tmp_path / "none") is False
            with pytest.raises(JobError, match="S3 call on s3://missing-bucket/x failed"):
                store.put_bytes("s3://missing-bucket/x", b"")


    def test_file_store_writes_a_model_archive_once(self, tmp_path: Path) -> None:
        store = FileObjectStore(tmp_path / "store")
        (tmp_path / "a.tgz").write_bytes(b"archive")
        (tmp_path / "b.tgz").write_bytes(b"other archive")
        store.upload_file_once(tmp_path / "a.tgz", "s3://bucket-a/runs/r1/output/model.tar.gz")
        store.upload_file_once(tmp_path / "a.tgz", "s3://bucket-a/runs/r1/output/model.tar.gz")  # a retry: same content
        with pytest.raises(JobError, match="already exists with other content") as raised:
            store.upload_file_once(tmp_path / "b.tgz", "s3://bucket-a/runs/r1/output/model.tar.gz")
        assert raised.value.code == STORAGE
        assert store.get_bytes("s3://bucket-a/runs/r1/output/model.tar.gz") == b"archive"

    @pytest.mark.parametrize("size", [3, 6 * 1024 * 1024])
    def test_s3_store_writes_a_model_archive_once_against_moto(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
        moto = pytest.importorskip("moto")
        import boto3

        from sial_training import store as store_module

        # 5 MiB parts (S3's minimum): a 6 MiB archive takes the multipart path with If-None-Match on completion.
        monkeypatch.setattr(store_module, "MULTIPART_PART_BYTES", 5 * 1024 * 1024)
        with moto.mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            client.create_bucket(Bucket="sial-test")
            s3 = store_module.S3ObjectStore(client)
            (tmp_path / "a.tgz").write_bytes(b"a" * size)
            (tmp_path / "b.tgz").write_bytes(b"b" * size)
            uri = "s3://sial-test/runs/r1/output/model.tar.gz"
            s3.upload_file_once(tmp_path / "a.tgz", uri)
            s3.upload_file_once(tmp_path / "a.tgz", uri)
            with pytest.raises(JobError, match="already exists with other content"):
                s3.upload_file_once(tmp_path / "b.tgz", uri)
            assert s3.get_bytes(uri) == b"a" * size
            assert client.list_multipart_uploads(Bucket="sial-test").get("Uploads", []) == []


class TestAccounting:
    def test_gpu_hours_add_up_across_attempts(self) -> None:
        first = gpu_hours.account(1800, 8, 1)
        assert first.gpu_hours == pytest.approx(4.0)
        second = gpu_hours.account(900, 8, 2, gpu_hours.parse_previous(json.dumps(first.to_json()).encode()))
        assert second.to_json() == {"gpuHours": 6.0, "gpus": 8, "wallSeconds": 2700.0, "attempt": 2}
        assert gpu_hours.account(100, 0, 1).gpu_hours == 0
        assert gpu_hours.parse_previous(b"garbage") == 0.0

    def test_metrics_summarise_curves(self) -> None:
        log = metrics.TrainingLog()
        for step in range(1, 121):
            log.add(step, {"loss": 1 / step, "completions/mean_length": 10.0, "note": "text"})
        book = metrics.RewardBook()
        book.record(0.5, {"groundedness": 1.0, "format": 0.0, "judge": None}, 12)
        summary = metrics.training_metrics(algorithm="grpo", log=log, steps=120, resumed_from_step=20, train_seconds=50, tokens=5000, rewards=book, policy_version="v1")
        loss = summary["loss"]
        assert isinstance(loss, dict) and loss["first"] == 1 and loss["last"] == pytest.approx(1 / 120) and len(loss["curve"]) == metrics.CURVE_POINTS
        assert summary["stepsPerSecond"] == 2 and summary["tokensPerSecond"] == 100
        assert summary["reward"] == {"scored": 1, "calls": 0, "mean": 0.5, "components": {"format": 0.0, "groundedness": 1.0}, "completionChars": metrics.summarise([12.0])}
        assert metrics.summarise([float("nan")]) == {"count": 0}


class TestGoldenSet:
    def line(self, example_id: str) -> dict:
        return {"id": example_id, "messages": [{"role": "user", "content": "Refund?"}], "contexts": ["Refunds within thirty days."], "reference": "Within thirty days.", "expected_route": "small"}

    def test_reads_a_versioned_set_and_checks_its_hash(self) -> None:
        body = jsonl(self.line("a"), self.line("b")).encode()
        meta = golden_set.golden_meta(body, "v1", "starter", "2025-01-01T00:00:00Z")
        parsed = golden_set.parse_golden_set(body, meta)
        assert parsed.version == "v1" and [e.id for e in parsed.examples] == ["a", "b"] and parsed.examples[0].expected_route == "small"
        with pytest.raises(JobError, match="changed without a new version"):
            golden_set.parse_golden_set(body + b"\n", meta)
        dup = jsonl(self.line("a"), self.line("a")).encode()
        with pytest.raises(JobError, match="unique"):
            golden_set.parse_golden_set(dup, golden_set.golden_meta(dup, "v1", "", ""))

    def test_relevance_is_token_f1(self) -> None:
        assert token_f1("within thirty days", "Within thirty days.", 3) == 1
        assert token_f1("never", "Within thirty days.", 3) == 0
        assert token_f1("anything", "", 3) is None


class TestDatasetParts:
    def test_a_manifest_lists_parts_that_are_read_in_order_and_gunzipped_when_compressed(self) -> None:
        import gzip

        body = json.dumps({"grpoUri": "s3://b/d/grpo/", "dpoUri": "s3://b/d/dpo/", "traceIdsUri": "s3://b/d/ids/", "contentSha256": "0" * 64, "rewardPolicyVersion": "v1", "files": {"grpo": ["s3://b/d/grpo/1.gz", "s3://b/d/grpo/0.gz"], "dpo": [], "traceIds": ["s3://b/d/ids/0.txt"]}}).encode()
        manifest = dataset.parse_manifest(body)
        assert manifest.parts("grpo") == ("s3://b/d/grpo/1.gz", "s3://b/d/grpo/0.gz")
        assert manifest.parts("dpo") == ()
        assert dataset.part_text(gzip.compress("a\n".encode())) == "a\n"
        assert dataset.part_text(b"plain\n") == "plain\n"
        with pytest.raises(dataset.DatasetError):
            dataset.part_text(b"\x1f\x8bnot gzip")

    def test_an_older_manifest_without_files_names_one_file_per_set(self) -> None:
        manifest = dataset.ManifestFiles("s3://b/g.jsonl", "s3://b/d.jsonl", "s3://b/t.txt", "0" * 64, "v1")
        assert manifest.parts("dpo") == ("s3://b/d.jsonl",)
