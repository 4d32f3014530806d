"""Stored files follow their rows: when a Recording row is deleted (directly, or by the CASCADE from
its session or patient), its audio file is removed from storage once the transaction commits.

Why a `post_delete` receiver rather than code in the delete services: cascades delete recordings
that no service of this app touches one by one (a patient's delete reaches them through
TherapySession), and the receiver sees every one of them. Why after commit: a delete that rolls back
must leave the file its row still points at. The analysis app removes its own files the same way
(`ser/receivers.py`); this app never imports it.

The `recordings/<2 hex>/` bucket folders are left in place: they are shared by many recordings, at
most 256 of them, and removing one could race an upload being stored into it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction

log = logging.getLogger(__name__)


def delete_stored_file(storage: Storage, name: str) -> None:
    """Remove one stored file; a storage error is logged, not raised (the row is already gone, and
    `manage.py find_orphan_files` finds the file later)."""
    try:
        storage.delete(name)
    except Exception as exc:  # any backend: OSError on disk, botocore errors on S3, …
        log.error("could not delete stored file %s (%s); it is now an orphan", name, type(exc).__name__)


def recording_file_delete(sender: Any, instance: Any, **_: Any) -> None:
    """post_delete of Recording: its audio leaves storage after the delete commits."""
    field_file = instance.file
    if not field_file or not field_file.name:
        return
    storage, name = field_file.storage, field_file.name
    transaction.on_commit(lambda: delete_stored_file(storage, name))
