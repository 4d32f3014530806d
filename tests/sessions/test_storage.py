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
