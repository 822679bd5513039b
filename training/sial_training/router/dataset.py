"""The router training set's line contract: JSON Lines, one object per lake trace.

Every line is an object with exactly these fields (no others)::

    trace_id          str, non-empty, unique in the file
    ts                str, ISO-8601 in UTC: YYYY-MM-DDTHH:MM:SS, an optional fraction of 1-9 digits,
                      then Z or +00:00 ("2026-11-02T09:15:00Z", "2026-11-02T09:15:00.123+00:00")
    agent_id          str, non-empty
    language          str, non-empty (a BCP-47 tag such as "en" or "ko"; not checked against a list)
    user_message      str, already PII-masked upstream
    context_chars     int >= 0, total characters of the retrieved contexts
    tool_calls        int >= 0
    prior_turns       int >= 0
    route_tier        str or null: the tier that served the request (null: not labelable)
    misrouted         bool or null: the producer's or the judge's label that the tier was wrong
    reward            number in [0, 1]
    feedback_outcome  null or one of success, fallback, timeout, error, user_rejected
    error             bool

A malformed line (not JSON, not an object, a field missing, extra or of the wrong type) is counted and
reported with its line number; its neighbours are still used, because one bad export line should not
cost a day's traces. Lines are split on ``\n`` only (a trailing ``\r`` is dropped; a U+2028 inside a
string is not a line break), a line that is not UTF-8 is malformed, and blank lines are skipped (not
counted). A row whose ``route_tier`` is null is valid but teaches
nothing (no tier was observed), so it is counted as unlabelable, not as malformed. Booleans are never
accepted as numbers (JSON ``true`` is not ``1`` here).

The same rules hold for the golden set, which uses this format, and for the shared vectors in
``test/vectors/router-dataset.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..exit_codes import NO_INPUT, JobError

# [0-9], not \d: \d also matches other scripts' digits.
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|\+00:00)")
FEEDBACK_OUTCOMES = ("success", "fallback", "timeout", "error", "user_rejected")

#: The fields a request carries at routing time: the model's inputs, in feature_spec.json's order.
FEATURE_FIELDS: tuple[tuple[str, str], ...] = (
    ("user_message", "string"),
    ("agent_id", "string"),
    ("language", "string"),
    ("context_chars", "integer"),
    ("tool_calls", "integer"),
    ("prior_turns", "integer"),
)
_TRACE_FIELDS = ("trace_id", "ts", *(name for name, _ in FEATURE_FIELDS), "route_tier", "misrouted", "reward", "feedback_outcome", "error")


@dataclass(frozen=True)
class RouterRequest:
    """What the router sees when it decides: the features of one request."""

    user_message: str
    agent_id: str
    language: str
    context_chars: int
    tool_calls: int
    prior_turns: int


@dataclass(frozen=True)
class RouterTrace:
    trace_id: str
    ts: str
    request: RouterRequest
    route_tier: str | None
    misrouted: bool | None
    reward: float
    feedback_outcome: str | None
    error: bool


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class RouterDataset:
    #: Every valid row, labelable or not, in file order.
    traces: tuple[RouterTrace, ...]
    #: Malformed lines, by 1-based line number.
    problems: tuple[LineProblem, ...]
    #: Non-blank lines read.
    lines: int
    #: sha256 of the file's bytes (stamped on metrics.json).
    sha256: str

    @property
    def unlabelable(self) -> int:
        return sum(1 for t in self.traces if t.route_tier is None)


def _text(values: Mapping[str, Any], name: str, problems: list[str], empty_ok: bool = False) -> str:
    value = values.get(name)
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        problems.append(f"{name} must be a {'string' if empty_ok else 'non-empty string'}; received {value!r}")
        return ""
    return value


def _count(values: Mapping[str, Any], name: str, problems: list[str]) -> int:
    value = values.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"{name} must be an integer >= 0; received {value!r}")
        return 0
    return value


def _utc_timestamp(value: object, problems: list[str]) -> str:
    # One spelling only (the lake's): ISO-8601 extended format, seconds, an optional fraction, UTC as Z or
    # +00:00. Python accepts more ISO forms than a TypeScript reader would; the contract is the narrower.
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        problems.append(f"ts must be an ISO-8601 UTC timestamp like 2026-11-02T09:15:00Z (Z or +00:00); received {value!r}")
        return ""
    try:
        datetime.fromisoformat(value[:19])
    except ValueError:
        problems.append(f"ts is not a valid date and time: {value!r}")
        return ""
    return value


def _request_fields(values: Mapping[str, Any], problems: list[str]) -> RouterRequest:
    # Only fields that are present are type-checked: a missing one is reported once, as missing.
    def present(name: str) -> bool:
        return name in values

    return RouterRequest(
        user_message=_text(values, "user_message", problems, empty_ok=True) if present("user_message") else "",
        agent_id=_text(values, "agent_id", problems) if present("agent_id") else "",
        language=_text(values, "language", problems) if present("language") else "",
        context_chars=_count(values, "context_chars", problems) if present("context_chars") else 0,
        tool_calls=_count(values, "tool_calls", problems) if present("tool_calls") else 0,
        prior_turns=_count(values, "prior_turns", problems) if present("prior_turns") else 0,
    )


def _shape(values: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    problems = []
    missing = [name for name in fields if name not in values]
    extra = sorted(set(values) - set(fields))
    if missing:
        problems.append(f"missing fields {missing}")
    if extra:
        problems.append(f"unknown fields {extra}")
    return problems


def parse_request(values: object) -> tuple[RouterRequest | None, list[str]]:
    """A serving instance's features (exactly FEATURE_FIELDS), or None with every problem found."""
    if not isinstance(values, Mapping):
        return None, [f"must be a JSON object; received {type(values).__name__}"]
    problems = _shape(values, tuple(name for name, _ in FEATURE_FIELDS))
    request = _request_fields(values, problems)
    return (None if problems else request), problems


def parse_trace(values: object) -> tuple[RouterTrace | None, list[str]]:
    """One line's object as a trace, or None with every problem found."""
    if not isinstance(values, Mapping):
        return None, [f"a line must be a JSON object; received {type(values).__name__}"]
    problems = _shape(values, _TRACE_FIELDS)
    trace_id = _text(values, "trace_id", problems) if "trace_id" in values else ""
    ts = _utc_timestamp(values["ts"], problems) if "ts" in values else ""
    request = _request_fields(values, problems)
    route_tier = values.get("route_tier")
    if route_tier is not None and (not isinstance(route_tier, str) or not route_tier.strip()):
        problems.append(f"route_tier must be a non-empty string or null; received {route_tier!r}")
    misrouted = values.get("misrouted")
    if misrouted is not None and not isinstance(misrouted, bool):
        problems.append(f"misrouted must be true, false or null; received {misrouted!r}")
    reward = values.get("reward", 0.0)
    if isinstance(reward, bool) or not isinstance(reward, (int, float)) or not math.isfinite(reward) or not 0 <= reward <= 1:
        problems.append(f"reward must be a number in [0, 1]; received {reward!r}")
        reward = 0.0
    feedback = values.get("feedback_outcome")
    if feedback is not None and feedback not in FEEDBACK_OUTCOMES:
        problems.append(f"feedback_outcome must be null or one of {', '.join(FEEDBACK_OUTCOMES)}; received {feedback!r}")
    error = values.get("error", False)
    if not isinstance(error, bool):
        problems.append(f"error must be true or false; received {error!r}")
    if problems:
        return None, problems
    return RouterTrace(trace_id, ts, request, route_tier, misrouted, float(reward), feedback, error), []


def parse_lines(lines: Iterable[str | bytes]) -> tuple[list[RouterTrace], list[LineProblem], int]:
    """Valid traces, problems by 1-based line number, and how many non-blank lines there were.

    Lines are split on newline only (a trailing carriage return is dropped), so line numbers agree with
    any reader that splits on ``\n``; a line given as bytes that is not UTF-8 is malformed.
    """
    traces: list[RouterTrace] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    count = 0
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                count += 1
                problems.append(LineProblem(number, f"not UTF-8: byte {error.start + 1} of the line"))
                continue
        else:
            line = raw
        if not line.strip():
            continue
        count += 1
        try:
            values = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(LineProblem(number, f"not JSON: {error.msg} at column {error.colno}"))
            continue
        trace, found = parse_trace(values)
        if trace is None:
            problems.append(LineProblem(number, "; ".join(found)))
            continue
        # A repeated trace would sit on both sides of the held-out split's hash at once and be counted
        # twice: the first occurrence wins, the repeat is reported.
        if trace.trace_id in seen:
            problems.append(LineProblem(number, f"trace_id {trace.trace_id!r} repeats line {seen[trace.trace_id]}"))
            continue
        seen[trace.trace_id] = number
        traces.append(trace)
    return traces, problems, count


def read_dataset(path: Path | str) -> RouterDataset:
    """The file's valid traces and its malformed lines; JobError(66) when it does not exist."""
    try:
        body = Path(path).read_bytes()
    except FileNotFoundError as error:
        raise JobError(NO_INPUT, f"router dataset {path} does not exist") from error
    lines = [line.removesuffix(b"\r") for line in body.split(b"\n")]
    traces, problems, count = parse_lines(lines)
    return RouterDataset(tuple(traces), tuple(problems), count, hashlib.sha256(body).hexdigest())


def in_holdout(trace_id: str, share: float) -> bool:
    """Whether a trace is held out: the first 8 bytes of sha256(trace_id) as a fraction below ``share``.

    A hash rather than a random draw: the same trace is on the same side in every run and every dataset
    build, so a later candidate and the current version are compared on traces neither trained on when
    both used the same rule.
    """
    digest = hashlib.sha256(trace_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share
