"""The golden set: a versioned JSONL per target model that the eval job answers and scores.

Layout under the artifact bucket: ``golden-sets/<targetModelId>/`` holds ``golden.jsonl`` and
``golden.json`` (``{"version", "sha256", "examples", "createdAt", "description"}``); the eval job reads the
prefix, checks the hash, and stamps the version on metrics.json. A line:

``{"id", "messages": [message...], "contexts": [str...], "reference": str, "expected_route": str | null}``

``messages`` is the conversation up to the turn to answer (the same shape as a training prompt).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from .dataset import PromptRecord, _messages
from .exit_codes import DATA, JobError

GOLDEN_FILE = "golden.jsonl"
GOLDEN_META = "golden.json"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class GoldenExample:
    id: str
    record: PromptRecord
    reference: str
    expected_route: str | None


@dataclass(frozen=True)
class GoldenSet:
    version: str
    sha256: str
    examples: tuple[GoldenExample, ...]


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def parse_golden_set(jsonl: bytes, meta: bytes) -> GoldenSet:
    """Reads and checks a golden set.

    :raises JobError: (exit 65) on a hash mismatch, a bad version or any bad line (all listed).
    """
    try:
        info = json.loads(meta)
        version, expected = str(info["version"]), str(info["sha256"])
    except (ValueError, KeyError, TypeError) as error:
        raise JobError(DATA, f"{GOLDEN_META} must be {{version, sha256, ...}}: {error}") from error
    if not _VERSION.match(version):
        raise JobError(DATA, f"golden set version {version!r} must be 1-64 letters, digits, . _ -")
    actual = sha256_hex(jsonl)
    if actual != expected:
        raise JobError(DATA, f"{GOLDEN_FILE} hashes to {actual} but {GOLDEN_META} says {expected}: the golden set changed without a new version")
    problems: list[str] = []
    examples: list[GoldenExample] = []
    seen: set[str] = set()
    for number, raw in enumerate(jsonl.decode("utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{GOLDEN_FILE} line {number}"
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as error:
            problems.append(f"{where} is not JSON: {error}")
            continue
        if not isinstance(line, dict):
            problems.append(f"{where} is not an object")
            continue
        example_id = line.get("id")
        if not isinstance(example_id, str) or not example_id or example_id in seen:
            problems.append(f"{where}.id must be a unique non-empty string")
            continue
        seen.add(example_id)
        messages = _messages(line.get("messages"), f"{where}.messages", problems)
        if messages and messages[-1]["role"] not in ("user", "tool"):
            problems.append(f"{where}.messages must end with a user or tool message")
        contexts = line.get("contexts", [])
        reference = line.get("reference")
        route = line.get("expected_route")
        if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
            problems.append(f"{where}.contexts must be a list of strings")
            contexts = []
        if not isinstance(reference, str):
            problems.append(f"{where}.reference must be a string (the reference answer)")
            reference = ""
        if route is not None and not isinstance(route, str):
            problems.append(f"{where}.expected_route must be a string or null")
            route = None
        examples.append(GoldenExample(example_id, PromptRecord(example_id, "golden", messages, tuple(contexts)), reference, route))
    if problems:
        raise JobError(DATA, "the golden set breaks its format:\n" + "\n".join(f"  - {p}" for p in problems[:20]))
    if not examples:
        raise JobError(DATA, "the golden set has no examples")
    return GoldenSet(version, actual, tuple(examples))


def golden_meta(jsonl: bytes, version: str, description: str, created_at: str) -> bytes:
    """The golden.json of a golden.jsonl (what `sial golden-set` writes)."""
    examples = sum(1 for line in jsonl.decode("utf-8").splitlines() if line.strip())
    return (json.dumps({"version": version, "sha256": sha256_hex(jsonl), "examples": examples, "createdAt": created_at, "description": description}, indent=2) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m sial_training.golden_set SRC.jsonl --version V [--description D] --out DIR``

    Checks every line of SRC against the golden-set format and writes DIR/golden.jsonl and DIR/golden.json
    (version, sha256, count). Upload DIR to ``s3://<artifact bucket>/golden-sets/<targetModelId>/``; a
    changed set needs a new version, because the eval gate compares only runs on the same version.
    """
    import argparse
    import datetime
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m sial_training.golden_set", description=main.__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("--version", required=True)
    parser.add_argument("--description", default="")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    body = args.source.read_bytes()
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = golden_meta(body, args.version, args.description, created)
    try:
        parsed = parse_golden_set(body, meta)
    except JobError as error:
        print(error)
        return error.code
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / GOLDEN_FILE).write_bytes(body)
    (args.out / GOLDEN_META).write_bytes(meta)
    print(f"golden set {parsed.version}: {len(parsed.examples)} examples, sha256 {parsed.sha256} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
