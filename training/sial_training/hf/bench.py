"""Trainer benchmark: our trainer beside a bare TRL loop on the same tiny model and data, side by side.

    python -m sial_training.hf.bench [--steps 30] [--checkpoint-every 10] [--repeats 2]
    (or: npm run bench -- trainer)

"ours" is what a job runs: the TRL trainer plus checkpoint sync to the object store (step-<N>/, then
latest.json) every N steps, the SIGTERM check at each step end, step logging, and, for GRPO, the policy
reward with its per-component bookkeeping. "bare TRL" is the same TRL trainer and config on the same data
with none of that: no checkpoints, no callbacks, and a GRPO reward that only returns the policy's score.
Figures are printed, never asserted; runs alternate so drift in the machine's load hits both.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..contract import Hyperparameters, TrainJob
from ..dataset import DpoRecord, GrpoRecord
from ..golden_set import parse_golden_set
from ..metrics import RewardBook, TrainingLog
from ..reward import RewardPolicy, score_completion
from ..store import FileObjectStore
from .train import Interruption, _callbacks, build_trainer
from .tiny import build_tiny_model

REPO = Path(__file__).resolve().parents[3]


def _records(algorithm: str) -> list[Any]:
    folder = REPO / "training" / "golden-sets" / "qwen3-4b"
    golden = parse_golden_set((folder / "golden.jsonl").read_bytes(), (folder / "golden.json").read_bytes())
    records: list[Any] = []
    for e in golden.examples:
        r = e.record
        if algorithm == "grpo":
            records.append(GrpoRecord(r.group_id, "bench", r.prompt, r.contexts, ()))
        else:
            records.append(DpoRecord(r.group_id, "bench", r.prompt, r.contexts, e.reference, "I do not know.", 0.9, 0.1))
    return records


def _job(algorithm: str, hp: Hyperparameters, policy: dict[str, Any]) -> TrainJob:
    return TrainJob(
        run_id="bench",
        output_uri="s3://bench/out/",
        dataset_uri="s3://bench/data.jsonl",
        manifest_uri="s3://bench/manifest.json",
        base_model_uri="s3://bench/base/",
        checkpoint_uri="s3://bench/checkpoints/",
        algorithm=algorithm,  # type: ignore[arg-type]
        hyperparameters=hp,
        attempt=1,
        resume_from=None,
        reward_policy=policy,
    )


def _run(variant: str, algorithm: str, base: Path, hp: Hyperparameters, policy_doc: dict[str, Any], work: Path) -> dict[str, float]:
    policy = RewardPolicy.parse(policy_doc)
    records = _records(algorithm)
    work.mkdir(parents=True)
    if variant == "ours":
        job = _job(algorithm, hp, policy_doc)
        store = FileObjectStore(work / "s3")
        started = time.monotonic()
        callbacks = _callbacks(store, job, Interruption(), TrainingLog(), lambda: time.monotonic() - started)
        trainer = build_trainer(job, records, base, work / "ckpt", callbacks, RewardBook() if algorithm == "grpo" else None, policy)
    else:
        job = _job(algorithm, replace(hp, checkpoint_every=hp.max_steps * 10), policy_doc)
        trainer = build_trainer(job, records, base, work / "ckpt", [], RewardBook() if algorithm == "grpo" else None, policy)
        trainer.args.save_strategy = "no"
        if algorithm == "grpo":
            def plain(prompts: list[Any], completions: list[Any], contexts: list[list[str]], **_: Any) -> list[float]:
                return [score_completion(c[-1]["content"], ctx, policy).reward for c, ctx in zip(completions, contexts)]

            plain.__name__ = trainer.reward_func_names[0] if hasattr(trainer, "reward_func_names") else "policy"
            trainer.reward_funcs = [plain]
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    state = trainer.state
    tokens = int(getattr(state, "num_input_tokens_seen", 0) or 0)
    if not tokens:
        tokens = int(max([row.get("num_tokens", 0) for row in state.log_history] or [0]))
    return {"seconds": seconds, "steps": state.global_step, "tokens": tokens}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sial_training.hf.bench")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--checkpoint-every", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    policy_doc = json.loads((REPO / "config" / "reward-policies" / "v1.json").read_text())
    hp = Hyperparameters(max_steps=args.steps, per_device_train_batch_size=4, num_generations=4, max_prompt_length=128, max_completion_length=16, checkpoint_every=args.checkpoint_every, learning_rate=1e-4, bf16=False, logging_steps=1)
    with tempfile.TemporaryDirectory() as tmp:
        base = build_tiny_model(Path(tmp) / "base")
        print(f"Trainer benchmark: tiny Qwen2 (2 layers, hidden 32) on CPU, {args.steps} steps, checkpoint every {args.checkpoint_every}, {args.repeats} alternating runs each")
        for algorithm in ("dpo", "grpo"):
            totals: dict[str, dict[str, float]] = {"bare TRL": {"seconds": 0, "steps": 0, "tokens": 0}, "ours": {"seconds": 0, "steps": 0, "tokens": 0}}
            for repeat in range(args.repeats):
                for variant in ("bare TRL", "ours") if repeat % 2 == 0 else ("ours", "bare TRL"):
                    result = _run("ours" if variant == "ours" else "bare", algorithm, base, hp, policy_doc, Path(tmp) / f"{algorithm}-{variant.replace(' ', '-')}-{repeat}")
                    for key in totals[variant]:
                        totals[variant][key] += result[key]
            bare, ours = totals["bare TRL"], totals["ours"]
            bare_sps, ours_sps = bare["steps"] / bare["seconds"], ours["steps"] / ours["seconds"]
            overhead = (ours["seconds"] / ours["steps"]) / (bare["seconds"] / bare["steps"]) - 1
            print(f"  {algorithm.upper():4}  bare TRL: {bare_sps:6.2f} steps/s {bare['tokens'] / bare['seconds']:9.0f} tokens/s   ours: {ours_sps:6.2f} steps/s {ours['tokens'] / ours['seconds']:9.0f} tokens/s   overhead {overhead * 100:+.1f} % (target < 5 %)")


if __name__ == "__main__":
    main()
