"""File storage port: invoice PDFs and other documents (docs/decisions/0005-outbox-and-offline-adapters.md).

``S3Storage`` talks to any S3-compatible service (AWS S3, Cloudflare R2, MinIO)
through boto3 when ``S3_BUCKET`` is set; ``LocalStorage`` keeps files under
``settings.storage_dir`` otherwise. Both accept only "safe" keys (slash-separated
segments of letters, digits, ``.``, ``_`` and ``-``; no ``..``), so a key can
never escape its folder or bucket prefix, whoever built it.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from nexdrive.settings import Settings

logger = logging.getLogger("nexdrive.storage")

MAX_KEY_LENGTH = 512
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class StorageError(Exception):
    """The storage backend failed (network, permissions, ...)."""


class ObjectMissing(StorageError):
    """No object is stored under this key."""


class UnsafeKey(StorageError, ValueError):
    """A key that could escape the storage root (``..``, absolute paths, odd characters)."""


def clean_key(key: str) -> str:
    """The key itself if it is safe, else UnsafeKey. Keys look like ``invoices/2026/NXD-2026-0001.pdf``."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise UnsafeKey(f"Storage key must be 1-{MAX_KEY_LENGTH} characters.")
    segments = key.split("/")
    for segment in segments:
        # The pattern refuses "", ".", "..", leading dots, backslashes, NUL and every other surprise.
        if not _SEGMENT.match(segment) or segment in (".", ".."):
            raise UnsafeKey(f"Unsafe storage key {key!r}.")
    return key


@runtime_checkable
class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Store ``data`` under ``key`` (replacing what was there); returns the key."""

    def get(self, key: str) -> bytes:
        """The stored bytes; ObjectMissing when nothing is stored under ``key``."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    def url(self, key: str, expires_in: int = 300) -> str | None:
        """A short-lived direct download link, or None when files are only served through the app."""


class LocalStorage:
    """Files in a local folder (the offline default). Writes are atomic: a reader never sees half a file."""

    def __init__(self, settings: Settings | None = None, *, root: Path | str | None = None):
        if root is None:
            if settings is None:
                raise ValueError("LocalStorage needs settings or a root folder.")
            root = settings.storage_dir
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        root = self.root.resolve()
        path = (root / clean_key(key)).resolve()
        # Second line of defence (symlinks inside the root pointing out of it).
        if not path.is_relative_to(root):
            raise UnsafeKey(f"Unsafe storage key {key!r}.")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(data))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectMissing(f"Nothing stored under {key!r}.") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str, expires_in: int = 300) -> str | None:
        clean_key(key)
        return None


class S3Storage:
    """An S3-compatible bucket through boto3. Credentials and region come from the usual AWS environment
    variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``; R2 uses ``auto``).

    ``S3_ENDPOINT_URL`` points it at R2 or MinIO; ``client`` lets a test pass a
    client wrapped in botocore's Stubber.
    """

    def __init__(self, settings: Settings, *, client=None):
        if not settings.s3_bucket:
            raise ValueError("S3Storage needs S3_BUCKET.")
        self.bucket = settings.s3_bucket
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=settings.s3_endpoint_url or None,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=20),
            )
        self.client = client

    @staticmethod
    def _missing(exc) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=clean_key(key), Body=bytes(data), ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Could not store {key!r}: {exc}") from exc
        return key

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=clean_key(key))
            return response["Body"].read()
        except ClientError as exc:
            if self._missing(exc):
                raise ObjectMissing(f"Nothing stored under {key!r}.") from None
            raise StorageError(f"Could not read {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"Could not read {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=clean_key(key))
            return True
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise StorageError(f"Could not check {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"Could not check {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=clean_key(key))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"Could not delete {key!r}: {exc}") from exc

    def url(self, key: str, expires_in: int = 300) -> str | None:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": clean_key(key)}, ExpiresIn=int(expires_in))


__all__ = ["LocalStorage", "ObjectMissing", "S3Storage", "Storage", "StorageError", "UnsafeKey", "clean_key"]
