"""The job contract as typed values: environment variables in, problems listed all at once.

entrypoint.sh validates the same variables before it hands over (and chooses the resume point); the
trainer parses them again into types, so a job started without the entrypoint (a test, local mode) is
held to the same contract.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Literal, Mapping

from .exit_codes import CONTRACT, JobError

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+")

Algorithm = Literal["grpo", "dpo"]


@dataclass(frozen=True)
class Hyperparameters:
    """The stage's ``training.hyperparameters`` (SIAL_HYPERPARAMETERS), with the trainer's defaults.

    Unknown names are refused rather than ignored: a misspelt cap would otherwise silently not apply.
    """

    learning_rate: float = 1e-6
    #: Optimizer steps of the whole run (the stage's cap).
    max_steps: int = 500
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    #: GRPO: completions generated per prompt (a group).
    num_generations: int = 8
    #: Longest prompt, in tokens; longer prompts keep their end (the latest turns).
    max_prompt_length: int = 2048
    #: Longest completion generated (GRPO, eval) or trained on (DPO), in tokens.
    max_completion_length: int = 512
    #: KL (GRPO) or preference (DPO) strength.
    beta: float = 0.1
    temperature: float = 1.0
    #: Steps between checkpoints synced to S3 (also written on SIGTERM).
    checkpoint_every: int = 50
    #: Train a LoRA adapter instead of all weights (peft); the artifact is then merged weights.
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    #: bf16 on GPU; always fp32 on CPU.
    bf16: bool = True
    seed: int = 42
    warmup_steps: int = 0
    logging_steps: int = 1
    #: Eval: answers generated per golden example (greedy).
    eval_max_examples: int = 1000

    @staticmethod
    def parse(raw: str) -> tuple["Hyperparameters", list[str]]:
        problems: list[str] = []
        try:
            values = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as error:
            return Hyperparameters(), [f"SIAL_HYPERPARAMETERS is not JSON: {error}"]
        if not isinstance(values, dict):
            return Hyperparameters(), [f"SIAL_HYPERPARAMETERS must be a JSON object; received {raw!r}"]
        known = {f.name: f for f in fields(Hyperparameters)}
        accepted: dict[str, object] = {}
        for name, value in values.items():
            spec = known.get(name)
            if spec is None:
                problems.append(f"SIAL_HYPERPARAMETERS.{name} is not a hyper-parameter of this trainer; known: {', '.join(sorted(known))}")
                continue
            default = spec.default
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                floor = 0 if name in ("warmup_steps", "seed") else 1
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= floor
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
                value = float(value) if ok else value
            if not ok:
                problems.append(f"SIAL_HYPERPARAMETERS.{name} must be {type(default).__name__} (positive); received {value!r}")
                continue
            accepted[name] = value
        hp = Hyperparameters(**accepted)  # type: ignore[arg-type]
        if "num_generations" in accepted and hp.num_generations < 2:
            problems.append("SIAL_HYPERPARAMETERS.num_generations must be at least 2: GRPO compares completions within a group")
        return hp, problems


@dataclass(frozen=True)
class TrainJob:
    run_id: str
    output_uri: str
    dataset_uri: str
    manifest_uri: str
    base_model_uri: str
    checkpoint_uri: str
    algorithm: Algorithm
    hyperparameters: Hyperparameters
    attempt: int
    #: ``<checkpoints>step-<N>/`` chosen by the entrypoint, or None to start from the base model.
    resume_from: str | None
    #: The stage's reward policy document (SIAL_REWARD_POLICY), required for GRPO.
    reward_policy: Mapping[str, object] | None
    target_model_id: str | None = None


@dataclass(frozen=True)
class EvalJob:
    run_id: str
    output_uri: str
    model_uri: str
    golden_set_uri: str
    metrics_uri: str
    hyperparameters: Hyperparameters
    reward_policy: Mapping[str, object]
    #: The production model to answer the same golden set, when the pipeline passes one.
    production_model_uri: str | None = None
    target_model_id: str | None = None


@dataclass
class _Reader:
    env: Mapping[str, str]
    problems: list[str] = field(default_factory=list)

    def get(self, name: str) -> str:
        value = self.env.get(name, "")
        if value == "":
            self.problems.append(f"{name} is not set")
        return value

    def s3(self, name: str, kind: Literal["prefix", "object", "any"], *, required: bool = True) -> str:
        value = self.env.get(name, "")
        if value == "":
            if required:
                self.problems.append(f"{name} is not set")
            return value
        if not S3_URI.match(value):
            self.problems.append(f'{name} must be an s3:// URI with a key (s3://bucket/key); received "{value}"')
        elif kind == "prefix" and not value.endswith("/"):
            self.problems.append(f'{name} is a prefix and must end in /; received "{value}"')
        elif kind == "object" and value.endswith("/"):
            self.problems.append(f'{name} names one object and must not end in /; received "{value}"')
        return value

    def policy(self, *, required: bool) -> dict[str, object] | None:
        raw = self.env.get("SIAL_REWARD_POLICY", "")
        if raw == "":
            if required:
                self.problems.append("SIAL_REWARD_POLICY is not set: the stage's reward policy (JSON) scores generated answers")
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            self.problems.append(f"SIAL_REWARD_POLICY is not JSON: {error}")
            return None
        if not isinstance(value, dict):
            self.problems.append("SIAL_REWARD_POLICY must be a JSON object (a reward policy document)")
            return None
        return value


def _common(reader: _Reader) -> tuple[str, str]:
    run_id = reader.get("SIAL_RUN_ID")
    if run_id and not RUN_ID.match(run_id):
        reader.problems.append(f'SIAL_RUN_ID must be 1-128 letters, digits, - or _ starting with a letter or digit; received "{run_id}"')
    return run_id, reader.s3("SIAL_OUTPUT_URI", "prefix")


def _raise(problems: list[str]) -> None:
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise JobError(CONTRACT, f"the job environment breaks the training job contract (training/README.md):\n{lines}")


def mode_of(env: Mapping[str, str]) -> str:
    mode = env.get("SIAL_MODE", "")
    if mode not in ("train", "eval"):
        _raise([f'SIAL_MODE must be one of: train eval; received "{mode}"'])
    return mode


def parse_train_job(env: Mapping[str, str]) -> TrainJob:
    """The training job of this environment.

    :raises JobError: (exit 64) listing every problem.
    """
    reader = _Reader(env)
    run_id, output_uri = _common(reader)
    algorithm = env.get("SIAL_ALGORITHM", "")
    if algorithm not in ("grpo", "dpo"):
        reader.problems.append(f'SIAL_ALGORITHM must be one of: grpo dpo; received "{algorithm}"')
    hyperparameters, hp_problems = Hyperparameters.parse(reader.get("SIAL_HYPERPARAMETERS"))
    reader.problems.extend(hp_problems)
    attempt_text = env.get("AWS_BATCH_JOB_ATTEMPT", "1") or "1"
    attempt = int(attempt_text) if attempt_text.isdigit() and int(attempt_text) > 0 else 1
    if not (attempt_text.isdigit() and int(attempt_text) > 0):
        reader.problems.append(f'AWS_BATCH_JOB_ATTEMPT must be a positive integer; received "{attempt_text}"')
    job = TrainJob(
        run_id=run_id,
        output_uri=output_uri,
        dataset_uri=reader.s3("SIAL_DATASET_URI", "prefix"),
        manifest_uri=reader.s3("SIAL_MANIFEST_URI", "object"),
        base_model_uri=reader.s3("SIAL_BASE_MODEL_URI", "any"),
        checkpoint_uri=reader.s3("SIAL_CHECKPOINT_URI", "prefix"),
        algorithm=algorithm,  # type: ignore[arg-type]
        hyperparameters=hyperparameters,
        attempt=attempt,
        resume_from=reader.s3("SIAL_RESUME_FROM", "prefix", required=False) or None,
        reward_policy=reader.policy(required=algorithm == "grpo"),
        target_model_id=env.get("SIAL_TARGET_MODEL_ID") or None,
    )
    _raise(reader.problems)
    return job


def parse_eval_job(env: Mapping[str, str]) -> EvalJob:
    """The eval job of this environment.

    :raises JobError: (exit 64) listing every problem.
    """
    reader = _Reader(env)
    run_id, output_uri = _common(reader)
    metrics_uri = reader.s3("SIAL_METRICS_URI", "object")
    if metrics_uri and not metrics_uri.endswith(".json"):
        reader.problems.append(f'SIAL_METRICS_URI must name a .json object; received "{metrics_uri}"')
    hyperparameters, hp_problems = Hyperparameters.parse(env.get("SIAL_HYPERPARAMETERS", "") or "{}")
    reader.problems.extend(hp_problems)
    policy = reader.policy(required=True)
    job = EvalJob(
        run_id=run_id,
        output_uri=output_uri,
        model_uri=reader.s3("SIAL_MODEL_URI", "any"),
        golden_set_uri=reader.s3("SIAL_GOLDEN_SET_URI", "any"),
        metrics_uri=metrics_uri,
        hyperparameters=hyperparameters,
        reward_policy=policy or {},
        production_model_uri=reader.s3("SIAL_PRODUCTION_MODEL_URI", "any", required=False) or None,
        target_model_id=env.get("SIAL_TARGET_MODEL_ID") or None,
    )
    _raise(reader.problems)
    return job
