"""`train` mode: TRL's GRPOTrainer or DPOTrainer behind the job contract.

Spot safety: the Trainer writes each checkpoint (weights, optimizer, scheduler, RNG states, trainer state
with the data position) to local disk; a callback then publishes it to ``<checkpoints>step-<N>/`` and
moves ``latest.json`` (checkpoints.publish_checkpoint). SIGTERM (the Spot notice, or a stop) makes the
next step end with a checkpoint and the job exit 75; a retried attempt resumes from the pointer with
``Trainer.train(resume_from_checkpoint=...)``, which restores all of that state, so it continues where
the interrupted attempt stopped rather than approximately there.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .. import checkpoints, gpu_hours
from ..contract import Hyperparameters, TrainJob
from ..dataset import DpoRecord, GrpoRecord, parse_dpo, parse_grpo, parse_manifest, part_text, prompt_with_contexts, verify_manifest
from ..exit_codes import INTERRUPTED, OK
from ..metrics import RewardBook, TrainingLog, all_finite, training_metrics
from ..reward import RewardPolicy, score_completion
from ..store import ObjectStore, join_uri, require_bytes
from .model_io import fetch_model, write_artifact
from .prompts import fit_prompt

log = logging.getLogger("sial_training")

#: Written beside the checkpoint's files: the wall time the job had used when it was taken.
PROGRESS_FILE = "sial-progress.json"

#: A judge that scores (prompt messages, completion) in [0, 1]; None until the judge client is configured.
Judge = Callable[[Sequence[Mapping[str, str]], str], float | None]


def policy_reward_function(policy: RewardPolicy, book: RewardBook, judge: Judge | None = None) -> Callable[..., list[float]]:
    """The GRPO reward: the policy's score of each generated completion against its own prompt's contexts."""

    def reward(prompts: list[Any], completions: list[Any], contexts: list[list[str]], **_: Any) -> list[float]:
        book.calls += 1
        scores: list[float] = []
        for prompt, completion, ctx in zip(prompts, completions, contexts):
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            judged = judge(prompt, text) if judge is not None else None
            score = score_completion(text, ctx, policy, judged)
            book.record(score.reward, score.components, score.chars)
            scores.append(score.reward)
        return scores

    reward.__name__ = f"policy_{policy.version}"
    return reward


class Interruption:
    """SIGTERM sets a flag the training loop reads at each step end (a handler must not do the work itself)."""

    def __init__(self) -> None:
        self.requested = threading.Event()

    def install(self) -> None:
        def handler(signum: int, _frame: Any) -> None:
            log.warning("signal %s received: checkpointing at the end of this step, then exiting %s", signum, INTERRUPTED)
            self.requested.set()

        signal.signal(signal.SIGTERM, handler)


def _callbacks(store: ObjectStore, job: TrainJob, interruption: Interruption, train_log: TrainingLog, wall: Callable[[], float]) -> list[Any]:
    from transformers import TrainerCallback

    class SialCallback(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> Any:
            if interruption.requested.is_set():
                control.should_save = True
                control.should_training_stop = True
            return control

        def on_save(self, args: Any, state: Any, control: Any, **_: Any) -> Any:
            if state.is_world_process_zero:
                local = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                (local / PROGRESS_FILE).write_text(json.dumps({"step": state.global_step, "wallSeconds": wall()}), encoding="utf-8")
                started = time.monotonic()
                count = checkpoints.publish_checkpoint(store, local, job.checkpoint_uri, state.global_step)
                log.info("checkpoint step-%s synced (%s objects, %.2f s); latest.json -> %s", state.global_step, count, time.monotonic() - started, state.global_step)
            return control

        def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **_: Any) -> Any:
            if logs:
                train_log.add(state.global_step, logs)
            return control

    return [SialCallback()]


def _device() -> tuple[bool, int]:
    import torch

    return torch.cuda.is_available(), torch.cuda.device_count() if torch.cuda.is_available() else 0


def _common_args(hp: Hyperparameters, output_dir: Path, cuda: bool) -> dict[str, Any]:
    return {
        "output_dir": str(output_dir),
        "max_steps": hp.max_steps,
        "learning_rate": hp.learning_rate,
        "per_device_train_batch_size": hp.per_device_train_batch_size,
        "gradient_accumulation_steps": hp.gradient_accumulation_steps,
        "warmup_steps": hp.warmup_steps,
        "logging_steps": hp.logging_steps,
        "save_strategy": "steps",
        "save_steps": hp.checkpoint_every,
        "save_total_limit": 2,
        "seed": hp.seed,
        "data_seed": hp.seed,
        "bf16": cuda and hp.bf16,
        "use_cpu": not cuda,
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


def _lora(hp: Hyperparameters) -> Any:
    if not hp.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=hp.lora_r, lora_alpha=hp.lora_alpha, target_modules="all-linear", task_type="CAUSAL_LM")


def _vllm_available() -> bool:
    try:
        import vllm  # noqa: F401
    except ImportError:
        return False
    return True


def build_trainer(job: TrainJob, records: Sequence[GrpoRecord] | Sequence[DpoRecord], base_dir: Path, output_dir: Path, callbacks: list[Any], book: RewardBook | None, policy: RewardPolicy | None) -> Any:
    """The TRL trainer for the job (no I/O beyond the local model folder)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    hp = job.hyperparameters
    cuda, _ = _device()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if cuda and hp.bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)

    def fitted(record: GrpoRecord | DpoRecord) -> list[dict[str, str]]:
        return fit_prompt(tokenizer, prompt_with_contexts(record), hp.max_prompt_length)

    if job.algorithm == "grpo":
        from trl import GRPOConfig, GRPOTrainer

        assert policy is not None and book is not None
        rows = [{"prompt": fitted(r), "contexts": list(r.contexts)} for r in records]
        config = GRPOConfig(
            **_common_args(hp, output_dir, cuda),
            num_generations=hp.num_generations,
            max_completion_length=hp.max_completion_length,
            temperature=hp.temperature,
            beta=hp.beta,
            # Dr. GRPO: token losses summed over a constant, not each completion's own length, and no
            # per-group std scaling, so a longer answer earns no more (or less) than its reward says.
            loss_type="dr_grpo",
            scale_rewards="none",
            use_vllm=cuda and _vllm_available(),
            vllm_mode="colocate",
        )
        return GRPOTrainer(
            model=model,
            reward_funcs=[policy_reward_function(policy, book)],
            args=config,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            callbacks=callbacks,
            peft_config=_lora(hp),
        )

    from trl import DPOConfig, DPOTrainer

    rows = [
        {"prompt": fitted(r), "chosen": [{"role": "assistant", "content": r.chosen}], "rejected": [{"role": "assistant", "content": r.rejected}]}
        for r in records
        if isinstance(r, DpoRecord)
    ]
    # GRPO logs its own token count (num_tokens); DPO's comes from the Trainer's input counter.
    config = DPOConfig(**_common_args(hp, output_dir, cuda), include_num_input_tokens_seen="non_padding", beta=hp.beta, max_length=hp.max_prompt_length + hp.max_completion_length)
    return DPOTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, callbacks=callbacks, peft_config=_lora(hp))


def run_train(job: TrainJob, store: ObjectStore, workdir: Path, *, judge: Judge | None = None) -> int:
    started = time.monotonic()
    interruption = Interruption()
    interruption.install()

    manifest = parse_manifest(require_bytes(store, job.manifest_uri, "the dataset manifest"))
    grpo_parts = [require_bytes(store, uri, "the GRPO dataset part") for uri in manifest.parts("grpo")]
    dpo_parts = [require_bytes(store, uri, "the DPO dataset part") for uri in manifest.parts("dpo")]
    id_parts = [require_bytes(store, uri, "the trace-id list part") for uri in manifest.parts("trace_ids")]
    grpo, dpo, trace_ids = b"".join(grpo_parts), b"".join(dpo_parts), b"".join(id_parts)
    # The hash covers the bytes as stored; the text is read after, part by part (Athena's are gzip).
    verify_manifest(manifest, job.dataset_uri, job.algorithm, grpo, dpo, trace_ids)
    text = "".join(part_text(body) for body in (grpo_parts if job.algorithm == "grpo" else dpo_parts))
    records: Sequence[GrpoRecord] | Sequence[DpoRecord] = parse_grpo(text) if job.algorithm == "grpo" else parse_dpo(text)
    policy = RewardPolicy.parse(job.reward_policy) if job.reward_policy is not None else None
    if policy is not None and policy.version != manifest.reward_policy_version:
        log.warning("the dataset was built under reward policy %s; completions are scored under %s (the stage's current policy)", manifest.reward_policy_version, policy.version)
    log.info("dataset: %s %s records (manifest hash verified)", len(records), job.algorithm.upper())

    base_dir = fetch_model(store, job.base_model_uri, workdir / "base")
    output_dir = workdir / "checkpoints"
    resume_dir: Path | None = None
    resumed_from = 0
    previous_wall = 0.0
    if job.resume_from is not None:
        resumed_from = checkpoints.step_of_resume_uri(job.resume_from)
        resume_dir = output_dir / f"checkpoint-{resumed_from}"
        checkpoints.fetch_checkpoint(store, job.resume_from, resume_dir)
        progress = resume_dir / PROGRESS_FILE
        previous_wall = gpu_hours.parse_previous(progress.read_bytes() if progress.is_file() else None)
        log.info("resuming from %s (step %s, %.1f s of earlier attempts)", job.resume_from, resumed_from, previous_wall)

    train_log = TrainingLog()
    book = RewardBook() if job.algorithm == "grpo" else None
    wall = lambda: previous_wall + time.monotonic() - started  # noqa: E731
    trainer = build_trainer(job, records, base_dir, output_dir, _callbacks(store, job, interruption, train_log, wall), book, policy)

    train_started = time.monotonic()
    trainer.train(resume_from_checkpoint=str(resume_dir) if resume_dir is not None else None)
    train_seconds = time.monotonic() - train_started
    state = trainer.state
    cuda, gpus = _device()

    if interruption.requested.is_set() and state.global_step < job.hyperparameters.max_steps:
        log.warning("interrupted at step %s of %s: checkpoint published, exiting %s so a retried attempt resumes", state.global_step, job.hyperparameters.max_steps, INTERRUPTED)
        return INTERRUPTED

    if not trainer.is_world_process_zero():
        return OK  # one process per GPU: rank 0 writes the outputs

    losses = train_log.series("loss")
    if not losses or not all_finite(losses):
        from ..exit_codes import SOFTWARE, JobError

        raise JobError(SOFTWARE, f"training produced no finite loss (losses: {losses[:10]}); no model is written")

    final_dir = workdir / "final"
    model = trainer.model
    if job.hyperparameters.lora:
        model = model.merge_and_unload()  # the artifact is plain weights: serving needs no adapter support
    model.save_pretrained(final_dir)
    trainer.processing_class.save_pretrained(final_dir)
    archive = workdir / "model.tar.gz"
    write_artifact(final_dir, archive, {"runId": job.run_id, "algorithm": job.algorithm, "baseModelUri": job.base_model_uri, "steps": state.global_step, "lora": job.hyperparameters.lora, "merged": True})
    # Write-once: the registered version points at this key, and the bucket policy refuses to replace it.
    store.upload_file_once(archive, join_uri(job.output_uri, "model.tar.gz"))

    tokens = int(getattr(state, "num_input_tokens_seen", 0) or 0) or int(max(train_log.series("num_tokens") or [0]))
    metrics = training_metrics(
        algorithm=job.algorithm,
        log=train_log,
        steps=state.global_step,
        resumed_from_step=resumed_from,
        train_seconds=train_seconds,
        tokens=tokens,
        rewards=book,
        policy_version=policy.version if policy is not None else None,
    )
    loss_type = getattr(trainer.args, "loss_type", None)
    metrics["lossType"] = loss_type if isinstance(loss_type, str) else list(loss_type or [])
    store.put_bytes(join_uri(job.output_uri, "metrics.json"), (json.dumps(metrics, indent=2) + "\n").encode("utf-8"))
    hours = gpu_hours.account(time.monotonic() - started, gpus, job.attempt, previous_wall)
    store.put_bytes(join_uri(job.output_uri, "gpu-hours.json"), (json.dumps(hours.to_json()) + "\n").encode("utf-8"))
    log.info("trained %s steps (from %s) in %.1f s on %s; outputs under %s", state.global_step, resumed_from, train_seconds, f"{gpus} GPU(s)" if cuda else "CPU", job.output_uri)
    return OK
