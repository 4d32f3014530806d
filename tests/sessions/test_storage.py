"""`local_copy`: a stored file as a temporary local file, read once and hashed on the way, removed
whatever happens; a missing object reads as FileNotFoundError on any backend. `local_folder`: a
path only where the storage has real folders."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, default_storage

from sessions.models import Recording
from sessions.storage import local_copy, local_folder

CONTENT = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk, not a whole number of them


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder the copies go into (beside the test's media root, not inside it)."""
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


@pytest.fixture
def stored() -> Any:
    name = default_storage.save("recordings/ab/abcdef.flac", ContentFile(CONTENT))
    return Recording(file=name).file


def test_it_copies_and_hashes_in_one_pass_and_removes_the_copy(stored, work: Path) -> None:  # type: ignore[no-untyped-def]
    with local_copy(stored, folder=work) as copy:
        assert copy.path.parent == work and copy.path.suffix == ".flac"  # decoders go by it
        assert copy.path.read_bytes() == CONTENT
        assert copy.sha256 == hashlib.sha256(CONTENT).hexdigest() and copy.size == len(CONTENT)
    assert not copy.path.exists() and list(work.iterdir()) == []


def test_it_removes_the_copy_when_the_caller_fails(stored, work: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="engine crashed"), local_copy(stored, folder=work) as copy:
        assert copy.path.exists()
        raise RuntimeError("engine crashed")
    assert list(work.iterdir()) == []


def test_a_missing_stored_file_is_file_not_found_and_leaves_nothing(work: Path) -> None:
    missing = Recording(file="recordings/00/gone.wav").file
    with pytest.raises(FileNotFoundError), local_copy(missing, folder=work):
        pytest.fail("the body must not run")
    assert list(work.iterdir()) == []


class _GoneBody(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "GetObject"
        )


class _VanishingStorage(Storage):
    """An object store whose object is deleted between open and the first read, as S3 does it:
    botocore's ClientError with a 404, not FileNotFoundError."""

    def _open(self, name: str, mode: str = "rb") -> File:
        return File(_GoneBody(), name)

    def exists(self, name: str) -> bool:
        return True


def test_an_object_gone_mid_read_is_file_not_found_too(work: Path) -> None:
    field_file = Recording(file="recordings/00/x.wav").file
    field_file.storage = _VanishingStorage()
    with pytest.raises(FileNotFoundError), local_copy(field_file, folder=work):
        pytest.fail("the body must not run")
    assert list(work.iterdir()) == []


def test_local_folder_is_a_path_on_the_file_system_only(tmp_path: Path) -> None:
    assert local_folder(FileSystemStorage(location=tmp_path), "analyses/x") == str(
        tmp_path / "analyses" / "x"
    )
    assert local_folder(_VanishingStorage(), "analyses/x") is None  # object stores: no folders


class _Object:
    """The two calls ObjectReader makes of a boto3 S3 Object (the real one runs in
    tests/integration/test_object_storage.py against an S3 server)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ranges: list[str] = []

    @property
    def content_length(self) -> int:
        return len(self.data)

    def get(self, Range: str) -> dict:  # noqa: N803 (boto3's name)
        self.ranges.append(Range)
        start = int(Range.removeprefix("bytes=").rstrip("-"))
        if start >= len(self.data):
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": "InvalidRange"}, "ResponseMetadata": {"HTTPStatusCode": 416}}, "GetObject"
            )
        return {
            "Body": io.BytesIO(self.data[start:]),
            "ContentRange": f"bytes {start}-{len(self.data) - 1}/{len(self.data)}",
        }


class _Bucket:
    def __init__(self, obj: _Object) -> None:
        self.obj = obj

    def Object(self, key: str) -> _Object:  # noqa: N802 (boto3's name)
        return self.obj


def test_the_object_reader_streams_from_each_seek_position_in_one_request() -> None:
    from sessions.storage import ObjectReader

    data = bytes(range(256)) * 40
    obj = _Object(data)
    reader = ObjectReader(_Bucket(obj), "k", name="r.wav")
    assert reader.read(10) == data[:10] and reader.read(5) == data[10:15]  # one GET, read on
    assert reader.seek(0, io.SEEK_END) == len(data) and reader.tell() == len(data)
    assert reader.read(4) == b""  # at the end: no request that would be refused
    reader.seek(1000)
    assert reader.read() == data[1000:]
    assert obj.ranges == ["bytes=0-", "bytes=1000-"]
    reader.seek(len(data) + 5)
    reader._size = None  # an unknown size: the store's "invalid range" answer is the end too
    assert reader.read(3) == b""
    reader.close()
    assert reader.closed
