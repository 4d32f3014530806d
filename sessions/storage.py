"""Stored files as local files, for the code that needs a real path (the engine's decoders run
ffprobe, ffmpeg and libsndfile on a file name).

Every stored file goes through Django's storage API, so the storage can be the file system or an
S3-compatible object store (django-storages) by a settings change alone. Nothing may therefore ask
a storage for a local path (`FieldFile.path`, `Storage.path`: object stores have none). Code that
must have one takes a temporary copy with `local_copy`, which streams the stored object once,
hashes it in the same pass, and removes the copy whatever happens. The one other local path asked
for is a folder's, by `local_folder`, to prune empty folders on storages that have them.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
                with field_file.open("rb") as src:
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


def local_folder(storage: Storage, folder: str) -> str | None:
    """A storage folder's local path where the storage has real folders (the file system), else
    None: in object storage a folder is only a name prefix, gone with its last object. For pruning
    empty folders only; files are never read or written through it."""
    try:
        return storage.path(folder)
    except NotImplementedError:
        return None
