"""The checkpoint protocol of the job contract: ``<checkpoints>step-<N>/`` written completely, then the
pointer ``<checkpoints>latest.json`` = ``{"step": N}`` overwritten with one PUT. The pointer therefore
never names a half-uploaded checkpoint, even when a Spot reclaim cuts an upload short.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .exit_codes import DATA, JobError
from .store import ObjectStore, download_prefix, join_uri, upload_folder

POINTER = "latest.json"
#: Written last inside a checkpoint folder: a checkpoint without it was cut short (never chosen).
COMPLETE_MARKER = "sial-checkpoint.json"


def step_prefix(checkpoint_uri: str, step: int) -> str:
    return join_uri(checkpoint_uri, f"step-{step}/")


def pointer_uri(checkpoint_uri: str) -> str:
    return join_uri(checkpoint_uri, POINTER)


def parse_pointer(body: bytes) -> int:
    """The step of a ``{"step": N}`` pointer.

    :raises JobError: (exit 65) for anything else: resuming from, or silently discarding, an unknown state
        are both worse than a human looking.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    step = value.get("step") if isinstance(value, dict) else None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise JobError(DATA, f'the checkpoint pointer is not {{"step": <N>}}: {text[:200]!r}')
    return step


def format_pointer(step: int) -> bytes:
    return json.dumps({"step": step}).encode("utf-8")


def read_pointer(store: ObjectStore, checkpoint_uri: str) -> int | None:
    body = store.get_bytes(pointer_uri(checkpoint_uri))
    return None if body is None else parse_pointer(body)


def step_of_resume_uri(resume_from: str) -> int:
    match = re.search(r"step-(\d+)/?$", resume_from)
    if match is None:
        raise JobError(DATA, f"SIAL_RESUME_FROM {resume_from} does not name a step-<N>/ checkpoint")
    return int(match.group(1))


def publish_checkpoint(store: ObjectStore, local_dir: Path, checkpoint_uri: str, step: int) -> int:
    """Uploads a local checkpoint folder to ``step-<N>/``, its completion marker last, then moves the pointer.

    Returns the number of objects written.
    """
    prefix = step_prefix(checkpoint_uri, step)
    marker = local_dir / COMPLETE_MARKER
    marker.write_text(json.dumps({"step": step}), encoding="utf-8")
    files = sorted(p for p in local_dir.rglob("*") if p.is_file() and p != marker)
    for path in files:
        store.upload_file(path, join_uri(prefix, path.relative_to(local_dir).as_posix()))
    store.upload_file(marker, join_uri(prefix, COMPLETE_MARKER))
    store.put_bytes(pointer_uri(checkpoint_uri), format_pointer(step))
    return len(files) + 2


def fetch_checkpoint(store: ObjectStore, resume_from: str, local_dir: Path) -> int:
    """Downloads ``step-<N>/`` to ``local_dir`` and returns N.

    :raises JobError: (exit 65) when the folder lacks its completion marker (the pointer protocol was broken).
    """
    step = step_of_resume_uri(resume_from)
    local_dir.mkdir(parents=True, exist_ok=True)
    count = download_prefix(store, resume_from, local_dir)
    if count == 0 or not (local_dir / COMPLETE_MARKER).is_file():
        raise JobError(DATA, f"the checkpoint {resume_from} named by the pointer is missing or incomplete ({count} objects, no {COMPLETE_MARKER})")
    return step


__all__ = [
    "COMPLETE_MARKER",
    "POINTER",
    "fetch_checkpoint",
    "format_pointer",
    "parse_pointer",
    "pointer_uri",
    "publish_checkpoint",
    "read_pointer",
    "step_of_resume_uri",
    "step_prefix",
    "upload_folder",
]
