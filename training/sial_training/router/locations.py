"""Where the router job's inputs come from and its outputs go: local paths, or ``s3://`` URIs.

On AWS Batch the job is given URIs (the dataset and golden set in the lake's bucket, the current
version's artifact in the registry bucket, an output prefix); locally and in tests, paths. A URI is
fetched through ``store.py`` (S3, or a folder when ``SIAL_OBJECT_STORE_ROOT`` is set), into the job's
scratch folder; an output prefix is written locally first and uploaded when everything is written, so a
failed job never leaves half an artifact under the prefix.

A model may be given as a folder (``model.joblib`` + ``feature_spec.json``), as a ``model.tar.gz``, or as
the URI of either (a prefix ending in ``/``, or the archive's key).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from ..exit_codes import DATA, NO_INPUT, JobError
from ..store import ObjectStore, download_prefix

#: The archive SageMaker serves and a registered router version points at.
ARCHIVE_FILE = "model.tar.gz"


def is_uri(location: str) -> bool:
    return location.startswith("s3://")


def fetch_file(location: str, store: ObjectStore, scratch: Path, what: str) -> Path:
    """A local path for a file given as a path or a URI; JobError(66) when a URI names nothing."""
    if not is_uri(location):
        return Path(location)
    target = scratch / "inputs" / what.replace(" ", "-") / location.rstrip("/").rsplit("/", 1)[-1]
    if not store.download_file(location, target):
        raise JobError(NO_INPUT, f"{what} {location} does not exist")
    return target


def _extract(archive: Path, target: Path) -> Path:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            # The "data" filter refuses absolute paths, links out of the folder and device files.
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise JobError(DATA, f"{archive} is not a readable .tar.gz: {error}") from error
    return target


def fetch_model(location: str, store: ObjectStore, scratch: Path, what: str) -> Path:
    """A local folder holding a saved router, from a folder, an archive, or the URI of either."""
    folder = scratch / "models" / what.replace(" ", "-")
    if is_uri(location):
        if location.endswith("/"):
            if download_prefix(store, location, folder) == 0:
                raise JobError(NO_INPUT, f"{what} {location} holds no objects")
            return folder
        return _extract(fetch_file(location, store, scratch, what), folder)
    path = Path(location)
    if path.is_file() and path.name.endswith(".tar.gz"):
        return _extract(path, folder)
    return path


def output_folder(location: str, scratch: Path) -> Path:
    """Where to write outputs: the folder itself, or a scratch folder to upload from."""
    return scratch / "outputs" if is_uri(location) else Path(location)


def publish(folder: Path, location: str, store: ObjectStore) -> None:
    """Uploads the outputs when the location is a prefix; metrics.json last, so its presence means done."""
    if not is_uri(location):
        return
    prefix = location if location.endswith("/") else location + "/"
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: (p.name == "metrics.json", p.as_posix()))
    for path in files:
        uri = prefix + path.relative_to(folder).as_posix()
        # The archive is what a registered version points at: write-once (the bucket policy demands it).
        if path.name == ARCHIVE_FILE:
            store.upload_file_once(path, uri)
        else:
            store.upload_file(path, uri)
