"""Object storage behind one small interface: S3 in AWS, a folder in local mode and tests.

``FileObjectStore`` lays ``s3://bucket/key`` out as ``<root>/bucket/key``, the same layout as local
mode's TypeScript object store, so the local pipeline and the real trainer read each other's files.
``S3ObjectStore`` imports boto3 only when it is built.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any, Mapping, Protocol

from .exit_codes import NO_INPUT, STORAGE, JobError

#: Part size of a create-only multipart upload (S3 allows at most 10,000 parts: archives up to ~640 GB).
MULTIPART_PART_BYTES = 64 * 1024 * 1024

_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.*)$")

#: Local mode and tests only: serve every s3:// URI from this folder instead of S3.
STORE_ROOT_ENV = "SIAL_OBJECT_STORE_ROOT"


def split_uri(uri: str) -> tuple[str, str]:
    match = _S3_URI.match(uri)
    if match is None:
        raise JobError(STORAGE, f'"{uri}" is not an s3://bucket/key URI')
    return match.group(1), match.group(2)


def join_uri(prefix: str, name: str) -> str:
    return f"{prefix}{name}" if prefix.endswith("/") else f"{prefix}/{name}"


class ObjectStore(Protocol):
    def get_bytes(self, uri: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""

    def put_bytes(self, uri: str, body: bytes) -> None: ...

    def download_file(self, uri: str, path: Path) -> bool:
        """Copies the object to ``path``; False when it does not exist."""

    def upload_file(self, path: Path, uri: str) -> None: ...

    def upload_file_once(self, path: Path, uri: str) -> None:
        """Creates the object only if it does not exist (a registered model archive is write-once).

        The same content already there is success (a retried attempt re-publishing its own archive);
        different content is a STORAGE error, and the object is left as it was.
        """

    def list_keys(self, prefix_uri: str) -> list[str]:
        """URIs of every object under the prefix, sorted."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _exists_with_other_content(uri: str) -> JobError:
    return JobError(STORAGE, f"{uri} already exists with other content; a registered model archive is write-once (the bucket policy denies overwriting it)")


def require_bytes(store: ObjectStore, uri: str, what: str) -> bytes:
    body = store.get_bytes(uri)
    if body is None:
        raise JobError(NO_INPUT, f"{what} {uri} does not exist")
    return body


def download_prefix(store: ObjectStore, prefix_uri: str, target: Path) -> int:
    """Copies every object under the prefix into ``target`` (keeping relative paths); returns how many."""
    prefix = prefix_uri if prefix_uri.endswith("/") else prefix_uri + "/"
    count = 0
    for uri in store.list_keys(prefix):
        relative = uri[len(prefix):]
        if relative == "" or relative.endswith("/"):
            continue
        destination = target / relative
        if not destination.resolve().is_relative_to(target.resolve()):
            raise JobError(STORAGE, f"object {uri} would be written outside {target}")
        destination.parent.mkdir(parents=True, exist_ok=True)
        store.download_file(uri, destination)
        count += 1
    return count


def upload_folder(store: ObjectStore, folder: Path, prefix_uri: str) -> int:
    count = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        store.upload_file(path, join_uri(prefix_uri, path.relative_to(folder).as_posix()))
        count += 1
    return count


class FileObjectStore:
    """``s3://bucket/key`` at ``<root>/bucket/key``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def path_of(self, uri: str) -> Path:
        bucket, key = split_uri(uri)
        bucket_dir = self.root / bucket
        path = (bucket_dir / key).resolve()
        if path != bucket_dir and not path.is_relative_to(bucket_dir):
            raise JobError(STORAGE, f'"{uri}" resolves outside its bucket folder')
        return path

    def get_bytes(self, uri: str) -> bytes | None:
        path = self.path_of(uri)
        return path.read_bytes() if path.is_file() else None

    def put_bytes(self, uri: str, body: bytes) -> None:
        path = self.path_of(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half an object, as with an S3 PUT.
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(body)
        os.replace(partial, path)

    def download_file(self, uri: str, path: Path) -> bool:
        source = self.path_of(uri)
        if not source.is_file():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        return True

    def upload_file(self, path: Path, uri: str) -> None:
        target = self.path_of(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        os.replace(partial, target)

    def upload_file_once(self, path: Path, uri: str) -> None:
        target = self.path_of(uri)
        if target.is_file():
            if file_sha256(target) == file_sha256(path):
                return
            raise _exists_with_other_content(uri)
        self.upload_file(path, uri)

    def list_keys(self, prefix_uri: str) -> list[str]:
        bucket, key_prefix = split_uri(prefix_uri)
        bucket_dir = self.root / bucket
        search = bucket_dir / key_prefix.rsplit("/", 1)[0] if "/" in key_prefix else bucket_dir
        if not search.is_dir():
            return []
        uris = []
        for path in search.rglob("*"):
            if path.is_file() and not path.name.endswith(".partial"):
                key = path.relative_to(bucket_dir).as_posix()
                if key.startswith(key_prefix):
                    uris.append(f"s3://{bucket}/{key}")
        return sorted(uris)


class S3ObjectStore:
    """Amazon S3 through boto3 (the job role's credentials from the container endpoint)."""

    def __init__(self, client: Any | None = None) -> None:
        if client is None:
            import boto3  # the image has it; domain tests never build this class without moto

            client = boto3.client("s3")
        self.client = client

    def _storage_error(self, uri: str, error: Exception) -> JobError:
        return JobError(STORAGE, f"S3 call on {uri} failed: {error}")

    @staticmethod
    def _is_missing(error: Exception) -> bool:
        response = getattr(error, "response", None) or {}
        code = str(response.get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def get_bytes(self, uri: str) -> bytes | None:
        bucket, key = split_uri(uri)
        try:
            body: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
            return body
        except Exception as error:  # botocore's ClientError, without importing botocore here
            if self._is_missing(error):
                return None
            raise self._storage_error(uri, error) from error

    def put_bytes(self, uri: str, body: bytes) -> None:
        bucket, key = split_uri(uri)
        try:
            self.client.put_object(Bucket=bucket, Key=key, Body=body)
        except Exception as error:
            raise self._storage_error(uri, error) from error

    def download_file(self, uri: str, path: Path) -> bool:
        bucket, key = split_uri(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client.download_file(bucket, key, str(path))
            return True
        except Exception as error:
            if self._is_missing(error):
                return False
            raise self._storage_error(uri, error) from error

    def upload_file(self, path: Path, uri: str) -> None:
        bucket, key = split_uri(uri)
        try:
            # Managed transfer: multipart for large shards, one atomic object either way.
            self.client.upload_file(str(path), bucket, key)
        except Exception as error:
            raise self._storage_error(uri, error) from error

    def upload_file_once(self, path: Path, uri: str) -> None:
        bucket, key = split_uri(uri)
        digest = file_sha256(path)
        # If-None-Match: * on the PUT (or on the multipart completion): S3 refuses to replace an existing
        # key, which is also what the bucket policy demands on registered archives.
        try:
            if path.stat().st_size <= MULTIPART_PART_BYTES:
                with path.open("rb") as body:
                    self.client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*", Metadata={"sha256": digest})
            else:
                self._multipart_once(path, bucket, key, digest)
            return
        except Exception as error:
            if not self._is_precondition_failed(error):
                raise self._storage_error(uri, error) from error
        try:
            existing = self.client.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get("sha256")
        except Exception as error:
            raise self._storage_error(uri, error) from error
        if existing != digest:
            raise _exists_with_other_content(uri)

    def _multipart_once(self, path: Path, bucket: str, key: str, digest: str) -> None:
        upload_id = self.client.create_multipart_upload(Bucket=bucket, Key=key, Metadata={"sha256": digest})["UploadId"]
        try:
            parts = []
            with path.open("rb") as handle:
                for number, chunk in enumerate(iter(lambda: handle.read(MULTIPART_PART_BYTES), b""), start=1):
                    etag = self.client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk)["ETag"]
                    parts.append({"ETag": etag, "PartNumber": number})
            self.client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, IfNoneMatch="*")
        except BaseException:
            # Parts of an unfinished upload are billed until aborted (the lifecycle rule aborts them after 7 days).
            try:
                self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except Exception:
                pass
            raise

    @staticmethod
    def _is_precondition_failed(error: Exception) -> bool:
        response = getattr(error, "response", None) or {}
        return str(response.get("Error", {}).get("Code", "")) in ("PreconditionFailed", "412")

    def list_keys(self, prefix_uri: str) -> list[str]:
        bucket, prefix = split_uri(prefix_uri)
        uris: list[str] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                uris.extend(f"s3://{bucket}/{item['Key']}" for item in page.get("Contents", []))
        except Exception as error:
            raise self._storage_error(prefix_uri, error) from error
        return sorted(uris)


def open_store(env: Mapping[str, str]) -> ObjectStore:
    """A folder when SIAL_OBJECT_STORE_ROOT is set (local mode, tests); S3 otherwise."""
    root = env.get(STORE_ROOT_ENV, "")
    return FileObjectStore(root) if root else S3ObjectStore()
