"""The training dataset: reading and validating the JSONL the dataset build writes, and checking it
against its manifest.

The build's SQL engine writes each file set as one or more parts (Athena UNLOAD: several gzip-compressed
parts; local DuckDB: one plain file), listed in the manifest's ``files``; the parts are read in that order,
hashed as stored and decompressed where they start with the gzip magic bytes.

Line formats (written by the dataset SQL, lambdas/pipeline/dataset/sql/dataset-grpo.sql and dataset-dpo.sql; GRPO
completions also carry ``reward_components``, ``reward_policy_version`` and ``late_feedback``, which the trainer does not need):

- GRPO: ``{"group_id", "agent_id", "prompt": [message...], "contexts": [str...],
  "completions": [{"trace_id", "reward", "completion": [assistant message]}...]}``
- DPO:  ``{"group_id", "agent_id", "prompt": [message...], "contexts": [str...], "chosen": [assistant message],
  "rejected": [assistant message], "chosen_trace_id", "rejected_trace_id", "chosen_reward", "rejected_reward"}``

A prompt is the whole conversation the production model saw before it answered: the system prompt,
earlier user and assistant turns and tool results, in order (roles system, user, assistant, tool). The
retrieved contexts travel beside it, because the reward scores a generated answer against them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from .exit_codes import DATA, JobError

ROLES = ("system", "user", "assistant", "tool")
Message = Mapping[str, str]


@dataclass(frozen=True)
class PromptRecord:
    group_id: str
    agent_id: str
    prompt: tuple[Message, ...]
    contexts: tuple[str, ...]


@dataclass(frozen=True)
class GrpoRecord(PromptRecord):
    #: (trace id, reward, completion text) of the production completions the group was built from.
    completions: tuple[tuple[str, float, str], ...]


@dataclass(frozen=True)
class DpoRecord(PromptRecord):
    chosen: str
    rejected: str
    chosen_reward: float
    rejected_reward: float


class DatasetError(JobError):
    def __init__(self, message: str) -> None:
        super().__init__(DATA, message)


def _messages(value: Any, where: str, problems: list[str]) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        problems.append(f"{where} must be a non-empty list of messages")
        return ()
    out: list[Message] = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            problems.append(f"{where}[{i}] must be {{role: {'|'.join(ROLES)}, content: string}}")
            continue
        out.append({"role": m["role"], "content": m["content"]})
    return tuple(out)


def _answer(value: Any, where: str, problems: list[str]) -> str:
    messages = _messages(value, where, problems)
    if len(messages) != 1 or messages[0]["role"] != "assistant":
        if messages:
            problems.append(f"{where} must be exactly one assistant message")
        return ""
    return messages[0]["content"]


def _common(line: Mapping[str, Any], where: str, problems: list[str]) -> tuple[str, str, tuple[Message, ...], tuple[str, ...]]:
    group_id, agent_id = line.get("group_id"), line.get("agent_id")
    if not isinstance(group_id, str) or not group_id:
        problems.append(f"{where}.group_id must be a non-empty string")
    if not isinstance(agent_id, str) or not agent_id:
        problems.append(f"{where}.agent_id must be a non-empty string")
    prompt = _messages(line.get("prompt"), f"{where}.prompt", problems)
    if prompt and not any(m["role"] == "user" for m in prompt):
        problems.append(f"{where}.prompt must contain a user message")
    contexts = line.get("contexts", [])
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        problems.append(f"{where}.contexts must be a list of strings")
        contexts = []
    return str(group_id), str(agent_id), prompt, tuple(contexts)


def _reward(value: Any, where: str, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        problems.append(f"{where} must be a number in [0, 1]")
        return 0.0
    return float(value)


def _lines(text: str) -> list[tuple[int, Mapping[str, Any]]]:
    out: list[tuple[int, Mapping[str, Any]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise DatasetError(f"line {number} is not JSON: {error}") from error
        if not isinstance(value, dict):
            raise DatasetError(f"line {number} is not a JSON object")
        out.append((number, value))
    return out


def _finish(records: list[Any], problems: list[str], kind: str) -> None:
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DatasetError(f"the {kind} dataset breaks its line format:\n{shown}{more}")
    if not records:
        raise DatasetError(f"the {kind} dataset has no records: nothing to train on")


def parse_grpo(text: str) -> list[GrpoRecord]:
    records: list[GrpoRecord] = []
    problems: list[str] = []
    for number, line in _lines(text):
        where = f"line {number}"
        group_id, agent_id, prompt, contexts = _common(line, where, problems)
        completions = []
        raw_completions = line.get("completions", [])
        if not isinstance(raw_completions, list):
            problems.append(f"{where}.completions must be a list")
            raw_completions = []
        for i, c in enumerate(raw_completions):
            if not isinstance(c, dict):
                problems.append(f"{where}.completions[{i}] must be an object")
                continue
            completions.append((str(c.get("trace_id", "")), _reward(c.get("reward"), f"{where}.completions[{i}].reward", problems), _answer(c.get("completion"), f"{where}.completions[{i}].completion", problems)))
        records.append(GrpoRecord(group_id, agent_id, prompt, contexts, tuple(completions)))
    _finish(records, problems, "GRPO")
    return records


def parse_dpo(text: str) -> list[DpoRecord]:
    records: list[DpoRecord] = []
    problems: list[str] = []
    for number, line in _lines(text):
        where = f"line {number}"
        group_id, agent_id, prompt, contexts = _common(line, where, problems)
        chosen = _answer(line.get("chosen"), f"{where}.chosen", problems)
        rejected = _answer(line.get("rejected"), f"{where}.rejected", problems)
        chosen_reward = _reward(line.get("chosen_reward"), f"{where}.chosen_reward", problems)
        rejected_reward = _reward(line.get("rejected_reward"), f"{where}.rejected_reward", problems)
        if chosen_reward < rejected_reward:
            problems.append(f"{where}: the chosen answer scores below the rejected one")
        records.append(DpoRecord(group_id, agent_id, prompt, contexts, chosen, rejected, chosen_reward, rejected_reward))
    _finish(records, problems, "DPO")
    return records


@dataclass(frozen=True)
class ManifestFiles:
    grpo_uri: str
    dpo_uri: str
    trace_ids_uri: str
    content_sha256: str
    reward_policy_version: str
    #: The parts of each file set, in reading order; a manifest without ``files`` names one file per set.
    grpo_files: tuple[str, ...] = ()
    dpo_files: tuple[str, ...] = ()
    trace_ids_files: tuple[str, ...] = ()

    def parts(self, kind: Literal["grpo", "dpo", "trace_ids"]) -> tuple[str, ...]:
        listed = {"grpo": self.grpo_files, "dpo": self.dpo_files, "trace_ids": self.trace_ids_files}[kind]
        single = {"grpo": self.grpo_uri, "dpo": self.dpo_uri, "trace_ids": self.trace_ids_uri}[kind]
        return listed if listed or self.grpo_files or self.dpo_files or self.trace_ids_files else (single,)


GZIP_MAGIC = b"\x1f\x8b"


def part_text(body: bytes) -> str:
    """One stored part as text: gunzipped when it is gzip (Athena's UNLOAD output), else as written."""
    try:
        return (gzip.decompress(body) if body[:2] == GZIP_MAGIC else body).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DatasetError(f"a dataset part is neither UTF-8 text nor valid gzip: {error}") from error


def parse_manifest(body: bytes) -> ManifestFiles:
    try:
        manifest = json.loads(body)
        files = manifest.get("files")
        if files is not None and not (isinstance(files, dict) and all(isinstance(files.get(k), list) for k in ("grpo", "dpo", "traceIds"))):
            raise TypeError("files must list grpo, dpo and traceIds parts")
        listed = {k: tuple(str(u) for u in files[k]) for k in ("grpo", "dpo", "traceIds")} if files is not None else {"grpo": (), "dpo": (), "traceIds": ()}
        return ManifestFiles(
            grpo_uri=str(manifest["grpoUri"]),
            dpo_uri=str(manifest["dpoUri"]),
            trace_ids_uri=str(manifest["traceIdsUri"]),
            content_sha256=str(manifest["contentSha256"]),
            reward_policy_version=str(manifest["rewardPolicyVersion"]),
            grpo_files=listed["grpo"],
            dpo_files=listed["dpo"],
            trace_ids_files=listed["traceIds"],
        )
    except (ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"the dataset manifest is not a manifest (grpoUri, dpoUri, traceIdsUri, contentSha256, rewardPolicyVersion): {error}") from error


def content_sha256(grpo: bytes, dpo: bytes, trace_ids: bytes) -> str:
    """The manifest's contentSha256: sha256 over the GRPO parts, then the DPO parts, then the trace-id parts,
    each as stored (compressed or not), in the manifest's order."""
    digest = hashlib.sha256()
    for part in (grpo, dpo, trace_ids):
        digest.update(part)
    return digest.hexdigest()


def verify_manifest(manifest: ManifestFiles, dataset_uri: str, algorithm: Literal["grpo", "dpo"], grpo: bytes, dpo: bytes, trace_ids: bytes) -> None:
    """Checks the files against the manifest: the job's dataset is the algorithm's file, and the bytes hash to contentSha256.

    :raises DatasetError: (exit 65) on any mismatch: training on data nobody approved is worse than not training.
    """
    expected_uri = manifest.grpo_uri if algorithm == "grpo" else manifest.dpo_uri
    if dataset_uri != expected_uri:
        raise DatasetError(f"SIAL_DATASET_URI {dataset_uri} is not the manifest's {algorithm} file {expected_uri}")
    actual = content_sha256(grpo, dpo, trace_ids)
    if actual != manifest.content_sha256:
        raise DatasetError(f"the dataset files hash to {actual} but the manifest says {manifest.content_sha256}: the files changed after the approved build")


def prompt_with_contexts(record: PromptRecord) -> list[dict[str, str]]:
    """The conversation as the model is prompted with it: the recorded messages, plus the retrieved contexts
    the messages do not already carry verbatim, appended to the system prompt (or as one). Chat templates
    accept a system message only first, so the contexts join it rather than standing alone mid-conversation."""
    messages = [dict(m) for m in record.prompt]
    missing = [c for c in record.contexts if c and not any(c in m["content"] for m in messages)]
    if missing:
        block = "Retrieved context:\n" + "\n\n".join(missing)
        if messages[0]["role"] == "system":
            messages[0]["content"] = f"{messages[0]['content']}\n\n{block}"
        else:
            messages.insert(0, {"role": "system", "content": block})
    return messages


def sequence_text(messages: Sequence[Message]) -> str:
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages)
