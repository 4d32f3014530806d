"""An analysis's stored files follow its row: when an EmotionAnalysis is deleted (directly, or by
the CASCADE from its recording, session or patient), its five files (result.json, embedding.npy,
processed_audio.wav, frames.npz, segments.npz) are removed once the transaction commits, then the
folders that held them if they are left empty.

A `post_delete` receiver because it sees every row a cascade deletes, which the delete services of
the layers below cannot name (they may not import this app); after commit because a rolled-back
delete must leave the files its rows still point at. The recording's own audio is removed by the
sessions app's receiver in the same way. Connected in `SerConfig.ready`.
"""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction

from sessions.receivers import delete_stored_file
from sessions.storage import local_folder

from .models import DOWNLOADS

log = logging.getLogger(__name__)


def analysis_files_delete(sender: Any, instance: Any, **_: Any) -> None:
    """post_delete of EmotionAnalysis: its files leave storage after the delete commits."""
    files = [getattr(instance, field) for field in DOWNLOADS.values()]
    stored = [(f.storage, f.name) for f in files if f and f.name]
    if stored:
        transaction.on_commit(lambda: _delete_all(stored))


def _delete_all(stored: list[tuple[Storage, str]]) -> None:
    for storage, name in stored:
        delete_stored_file(storage, name)
    prune_empty_folders(stored[0][0], (posixpath.dirname(name) for _, name in stored))


def prune_empty_folders(storage: Storage, folders: Iterable[str]) -> None:
    """Remove `analyses/<recording>/<variant>/` and then `analyses/<recording>/` where they are
    empty, never the top folder itself. Only storages with real folders (the file system) have any
    to remove; `rmdir` refuses a folder that is not empty, so a file written meanwhile is safe."""
    for folder in set(folders):
        while "/" in folder:
            path = local_folder(storage, folder)
            if path is None:  # object storage: folders are only name prefixes
                return
            try:
                os.rmdir(path)
            except FileNotFoundError:  # already removed: its parent may still be left
                pass
            except OSError:  # not empty: another variant's files, or a file written meanwhile
                break
            folder = posixpath.dirname(folder)
