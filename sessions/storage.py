"""Stored files as local files, for the code that needs a real path (the engine's decoders run
ffprobe, ffmpeg and libsndfile on a file name).

Every stored file goes through Django's storage API, so the storage can be the file system or an
S3-compatible object store (django-storages) by a settings change alone. Nothing may therefore ask
a storage for a local path (`FieldFile.path`, `Storage.path`: object stores have none). Code that
must have one takes a temporary copy with `local_copy`, which streams the stored object once,
hashes it in the same pass, and removes the copy whatever happens. The one other local path asked
for is a folder's, by `local_folder`, to prune empty folders on storages that have them.

Reading a stored file goes through `open_stored`. On the file system that is the storage's own
open. On an S3-compatible store it is `ObjectReader`: django-storages' S3File downloads the whole
object into a spool on the first read, so every seek of the audio player would fetch the whole
recording; the reader asks for the bytes from the position on (`GetObject` with `Range`) and
streams them, one request per seek.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile

CHUNK_SIZE = 1024 * 1024
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


@dataclass(frozen=True)
class LocalCopy:
    """A stored file's temporary local copy: where it is, its SHA-256 and its size."""

    path: Path
    sha256: str
    size: int


def is_missing_object(exc: BaseException) -> bool:
    """Whether a storage error means "no such file": FileNotFoundError from the file system (and
    from django-storages' open), or a botocore ClientError whose code says the object is gone
    (raised when it disappears between open and the first read). Recognised by its shape, so this
    app needs no import of an optional storage library."""
    if isinstance(exc, FileNotFoundError):
        return True
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"404", "NoSuchKey", "NotFound"} or status == 404


@contextmanager
def local_copy(field_file: FieldFile, *, folder: str | Path | None = None) -> Iterator[LocalCopy]:
    """Copy the stored file to a private temp file in `folder` (default: the system's temp folder),
    hashing as it streams, and yield it; the copy is removed on leaving, however that happens.

    The copy keeps the stored name's extension (decoders pick their demuxer by it). A missing stored
    file raises FileNotFoundError whatever the storage backend."""
    suffix = posixpath.splitext(field_file.name or "")[1]
    fd, name = tempfile.mkstemp(
        prefix="stored-", suffix=suffix if _SAFE_SUFFIX.match(suffix) else "", dir=folder
    )
    path = Path(name)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            try:
                with open_stored(field_file) as src:
                    for chunk in iter(lambda: src.read(CHUNK_SIZE), b""):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            except Exception as exc:
                if is_missing_object(exc) and not isinstance(exc, FileNotFoundError):
                    raise FileNotFoundError(f"stored file {field_file.name} is missing") from exc
                raise
        yield LocalCopy(path=path, sha256=digest.hexdigest(), size=size)
    finally:
        path.unlink(missing_ok=True)


class ObjectReader(io.RawIOBase):
    """A read-only, seekable file over one object of a boto3 bucket: each read after a seek opens
    one streamed `GetObject` for `bytes=<position>-` and reads on from it; nothing is spooled."""

    def __init__(self, bucket: Any, key: str, name: str = "") -> None:
        super().__init__()
        self._object = bucket.Object(key)
        self.name = name
        self._size: int | None = None
        self._position = 0
        self._body: Any = None  # the open response body, positioned at self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = int(self._object.content_length)  # one HeadObject
        return self._size

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        position = max(0, base + offset)
        if position != self._position:
            self._drop_body()
            self._position = position
        return position

    def read(self, size: int | None = -1) -> bytes:
        if self._body is None:
            if self._size is not None and self._position >= self._size:
                return b""
            try:
                response = self._object.get(Range=f"bytes={self._position}-")
            except Exception as exc:
                if _unsatisfiable(exc):  # at or past the end
                    return b""
                raise
            self._body = response["Body"]
            if self._size is None and "ContentRange" in response:  # "bytes a-b/size"
                self._size = int(str(response["ContentRange"]).rsplit("/", 1)[1])
        data = self._body.read() if size is None or size < 0 else self._body.read(size)
        self._position += len(data)
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._drop_body()
        super().close()

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None


def _unsatisfiable(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and (
        str(response.get("Error", {}).get("Code", "")) == "InvalidRange"
        or response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 416
    )


def open_stored(field_file: FieldFile) -> IO[bytes]:
    """The stored file, open for reading: an `ObjectReader` on a boto3-backed object store
    (django-storages' S3Storage: its `bucket` and key naming), else the storage's own open."""
    storage = field_file.storage
    bucket = getattr(storage, "bucket", None)
    normalize = getattr(storage, "_normalize_name", None)
    if bucket is not None and callable(normalize) and field_file.name:
        key = normalize(field_file.name.replace("\\", "/"))
        return ObjectReader(bucket, key, name=field_file.name)  # type: ignore[return-value]
    return field_file.storage.open(str(field_file.name), "rb")


def local_folder(storage: Storage, folder: str) -> str | None:
    """A storage folder's local path where the storage has real folders (the file system), else
    None: in object storage a folder is only a name prefix, gone with its last object. For pruning
    empty folders only; files are never read or written through it."""
    try:
        return storage.path(folder)
    except NotImplementedError:
        return None
