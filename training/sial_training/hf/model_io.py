"""Base weights in, trained weights out: a Hugging Face-format folder or archive in S3."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

from ..exit_codes import DATA, NO_INPUT, JobError
from ..store import ObjectStore, download_prefix

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
#: Written into model.tar.gz: what the archive holds and where it came from.
ARTIFACT_INFO = "sial-model.json"


def fetch_model(store: ObjectStore, uri: str, target: Path) -> Path:
    """Downloads a model (``s3://.../prefix/`` folder or ``.tar.gz`` archive) and returns its folder.

    :raises JobError: 66 when nothing is there, 65 when it is not a Hugging Face model folder.
    """
    target.mkdir(parents=True, exist_ok=True)
    if uri.endswith(ARCHIVE_SUFFIXES):
        archive = target.parent / (target.name + ".archive")
        if not store.download_file(uri, archive):
            raise JobError(NO_INPUT, f"the model archive {uri} does not exist")
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")  # refuses absolute paths, .. and links out of target
        except (tarfile.TarError, OSError) as error:
            raise JobError(DATA, f"the model archive {uri} cannot be read: {error}") from error
        finally:
            archive.unlink(missing_ok=True)
    elif download_prefix(store, uri, target) == 0:
        raise JobError(NO_INPUT, f"no model files under {uri}")
    folder = _model_folder(target)
    if folder is None:
        raise JobError(DATA, f"{uri} holds no config.json: expected a Hugging Face model folder (config, weights, tokenizer)")
    return folder


def _model_folder(root: Path) -> Path | None:
    if (root / "config.json").is_file():
        return root
    candidates = sorted(p.parent for p in root.rglob("config.json"))
    return candidates[0] if candidates else None


def write_artifact(model_dir: Path, archive: Path, info: dict[str, Any]) -> None:
    """model.tar.gz: the model folder's files at the archive's root, plus ``sial-model.json``."""
    (model_dir / ARTIFACT_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(model_dir).as_posix())


def clear(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
