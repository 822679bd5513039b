"""What the real-training tests share: a tiny base model in a local object store, a dataset in the
dataset build's line format with its manifest, and a way to run the real entrypoint."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "training" / "entrypoint.sh"
BUCKET = "sial-test-artifacts"
RUN = f"s3://{BUCKET}/runs/run-1/"
BASE_MODEL_URI = f"s3://{BUCKET}/base/tiny-qwen2/"

CONTEXTS = {
    "refund": "Refunds are possible within thirty days of purchase for annual plans.",
    "password": "Reset your password from the account settings page.",
    "invoice": "Invoices are sent by e-mail at the start of each month.",
}


def conversation(topic: str, question: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You are a helpful support assistant."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": question},
    ]


QUESTIONS = {"refund": "Can I get a refund?", "password": "How do I reset my password?", "invoice": "When do invoices arrive?"}


def dataset_lines() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """GRPO groups and DPO pairs in the dataset build's format (lambdas/pipeline/dataset/sql/dataset-grpo.sql and dataset-dpo.sql)."""
    grpo, dpo, ids = [], [], []
    for i, (topic, context) in enumerate(sorted(CONTEXTS.items())):
        prompt = conversation(topic, QUESTIONS[topic])
        good, bad = f"t-{i}-good", f"t-{i}-bad"
        ids += [good, bad]
        group = hashlib.sha256(topic.encode()).hexdigest()[:24]
        grpo.append(
            {
                "group_id": group,
                "agent_id": "support",
                "prompt": prompt,
                "contexts": [context],
                "completions": [
                    {"trace_id": good, "reward": 0.9, "completion": [{"role": "assistant", "content": context}]},
                    {"trace_id": bad, "reward": 0.1, "completion": [{"role": "assistant", "content": "I do not know."}]},
                ],
            }
        )
        dpo.append(
            {
                "group_id": group,
                "agent_id": "support",
                "prompt": prompt,
                "contexts": [context],
                "chosen": [{"role": "assistant", "content": context}],
                "rejected": [{"role": "assistant", "content": "I do not know."}],
                "chosen_trace_id": good,
                "rejected_trace_id": bad,
                "chosen_reward": 0.9,
                "rejected_reward": 0.1,
            }
        )
    return grpo, dpo, sorted(ids)


def put(root: Path, uri: str, body: bytes) -> None:
    path = root / uri.removeprefix("s3://")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def get(root: Path, uri: str) -> bytes | None:
    path = root / uri.removeprefix("s3://")
    return path.read_bytes() if path.is_file() else None


def write_dataset(root: Path, prefix: str = f"{RUN}dataset/") -> dict[str, Any]:
    grpo, dpo, ids = dataset_lines()
    grpo_text = "".join(json.dumps(line) + "\n" for line in grpo).encode()
    dpo_text = "".join(json.dumps(line) + "\n" for line in dpo).encode()
    ids_text = "".join(f"{i}\n" for i in ids).encode()
    # As Athena's UNLOAD writes them: each set in gzip-compressed parts under its folder (GRPO in two).
    half = len(grpo) // 2
    grpo_parts = [gzip.compress("".join(json.dumps(line) + "\n" for line in part).encode()) for part in (grpo[:half], grpo[half:])]
    dpo_parts = [gzip.compress(dpo_text)]
    id_parts = [gzip.compress(ids_text)]
    files = {
        "grpo": [f"{prefix}build-1/grpo/part-{i}.gz" for i in range(len(grpo_parts))],
        "dpo": [f"{prefix}build-1/dpo/part-0.gz"],
        "traceIds": [f"{prefix}build-1/trace-ids/part-0.gz"],
    }
    manifest = {
        "grpoUri": f"{prefix}build-1/grpo/",
        "dpoUri": f"{prefix}build-1/dpo/",
        "traceIdsUri": f"{prefix}build-1/trace-ids/",
        "manifestUri": f"{prefix}manifest.json",
        "files": files,
        "contentSha256": hashlib.sha256(b"".join(grpo_parts + dpo_parts + id_parts)).hexdigest(),
        "rewardPolicyVersion": "v1",
    }
    for uris, bodies in ((files["grpo"], grpo_parts), (files["dpo"], dpo_parts), (files["traceIds"], id_parts)):
        for uri, body in zip(uris, bodies):
            put(root, uri, body)
    put(root, manifest["manifestUri"], json.dumps(manifest).encode())
    return manifest


def install_base_model(root: Path, model_dir: Path, uri: str = BASE_MODEL_URI) -> None:
    for path in model_dir.rglob("*"):
        if path.is_file():
            put(root, uri + path.relative_to(model_dir).as_posix(), path.read_bytes())


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def train_env(root: Path, algorithm: str, hyperparameters: dict[str, Any], manifest: dict[str, str], policy: dict[str, Any] | None = None) -> dict[str, str]:
    env = {
        "SIAL_MODE": "train",
        "SIAL_RUN_ID": "run-1",
        "SIAL_OUTPUT_URI": f"{RUN}output/",
        "SIAL_DATASET_URI": manifest["grpoUri"] if algorithm == "grpo" else manifest["dpoUri"],
        "SIAL_MANIFEST_URI": manifest["manifestUri"],
        "SIAL_BASE_MODEL_URI": BASE_MODEL_URI,
        "SIAL_CHECKPOINT_URI": f"{RUN}checkpoints/",
        "SIAL_ALGORITHM": algorithm,
        "SIAL_HYPERPARAMETERS": json.dumps(hyperparameters),
        "SIAL_OBJECT_STORE_ROOT": str(root),
    }
    if policy is not None:
        env["SIAL_REWARD_POLICY"] = json.dumps(policy)
    return env


def base_env(workdir: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "OMP_NUM_THREADS")}
    return {
        **keep,
        "SIAL_PYTHON": sys.executable,
        "SIAL_WORKDIR": str(workdir),
        "PYTHONPATH": str(REPO / "training"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": keep.get("OMP_NUM_THREADS", "1"),
        "NO_COLOR": "1",
    }


def start_entrypoint(env: dict[str, str], workdir: Path) -> subprocess.Popen[str]:
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.Popen([bash, str(ENTRYPOINT)], env={**base_env(workdir), **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_entrypoint(env: dict[str, str], workdir: Path, timeout: float = 600) -> Run:
    process = start_entrypoint(env, workdir)
    out, _ = process.communicate(timeout=timeout)
    return Run(process.returncode, out, "")
