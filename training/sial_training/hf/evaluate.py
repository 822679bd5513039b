"""`eval` mode: answer the golden set with the candidate (and production, when given), score both under the
reward policy, and write the eval gate's metrics.json plus per-example results."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

from ..contract import EvalJob
from ..dataset import prompt_with_contexts
from ..evaluation import ExampleScore, eval_metrics, score_example
from ..exit_codes import OK
from ..golden_set import GOLDEN_FILE, GOLDEN_META, GoldenExample, GoldenSet, parse_golden_set
from ..reward import RewardPolicy
from ..store import ObjectStore, join_uri, require_bytes
from .model_io import fetch_model
from .prompts import fit_prompt

log = logging.getLogger("sial_training")

BATCH = 8


def golden_uris(uri: str) -> tuple[str, str]:
    """(golden.jsonl, golden.json) of a golden-set prefix, or of a .jsonl and the golden.json beside it."""
    if uri.endswith("/"):
        return join_uri(uri, GOLDEN_FILE), join_uri(uri, GOLDEN_META)
    return uri, uri.rsplit("/", 1)[0] + "/" + GOLDEN_META


def generate_answers(model_dir: Path, examples: Sequence[GoldenExample], max_prompt_tokens: int, max_new_tokens: int, bf16: bool) -> list[str]:
    """Greedy answers (deterministic: a rerun of the eval gives the same numbers)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16 if cuda and bf16 else torch.float32)
    model.to("cuda" if cuda else "cpu").eval()
    answers: list[str] = []
    for start in range(0, len(examples), BATCH):
        batch = examples[start : start + BATCH]
        texts = [tokenizer.apply_chat_template(fit_prompt(tokenizer, prompt_with_contexts(e.record), max_prompt_tokens), tokenize=False, add_generation_prompt=True) for e in batch]
        inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        for row in output[:, inputs["input_ids"].shape[1] :]:
            answers.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    return answers


def _answer_and_score(store: ObjectStore, uri: str, workdir: Path, golden: GoldenSet, policy: RewardPolicy, job: EvalJob) -> list[ExampleScore]:
    model_dir = fetch_model(store, uri, workdir)
    hp = job.hyperparameters
    examples = golden.examples[: hp.eval_max_examples]
    started = time.monotonic()
    answers = generate_answers(model_dir, examples, hp.max_prompt_length, hp.max_completion_length, hp.bf16)
    log.info("answered %s golden examples with %s in %.1f s", len(answers), uri, time.monotonic() - started)
    return [score_example(example, answer, policy) for example, answer in zip(examples, answers)]


def run_eval(job: EvalJob, store: ObjectStore, workdir: Path) -> int:
    policy = RewardPolicy.parse(job.reward_policy)
    jsonl_uri, meta_uri = golden_uris(job.golden_set_uri)
    golden = parse_golden_set(require_bytes(store, jsonl_uri, "the golden set"), require_bytes(store, meta_uri, "the golden set's version file"))
    log.info("golden set %s: %s examples (hash verified)", golden.version, len(golden.examples))

    candidate = _answer_and_score(store, job.model_uri, workdir / "candidate", golden, policy, job)
    production: list[ExampleScore] | None = None
    if job.production_model_uri is not None:
        production = _answer_and_score(store, job.production_model_uri, workdir / "production", golden, policy, job)

    metrics = eval_metrics(golden, candidate, production, job.production_model_uri)
    results: list[dict[str, Any]] = []
    for i, score in enumerate(candidate):
        row = {"model": "candidate", **score.to_json()}
        results.append(row)
        if production is not None:
            results.append({"model": "production", **production[i].to_json()})
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results).encode("utf-8")
    store.put_bytes(join_uri(job.output_uri, "results.jsonl"), body)
    store.put_bytes(job.metrics_uri, (json.dumps(metrics, indent=2) + "\n").encode("utf-8"))
    log.info("eval: faithfulness %.3f, mean answer %.0f characters; metrics at %s", metrics["faithfulness"], metrics["meanAnswerChars"], job.metrics_uri)
    return OK
