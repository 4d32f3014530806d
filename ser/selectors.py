"""Reads of the analysis app: a session's recordings with their job and the analysis to show, and
an analysis's downloadable files."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from django.db.models import QuerySet

from sessions.models import Recording, TherapySession

from .models import DOWNLOADS, AnalysisJob, EmotionAnalysis

_TYPES = {
    ".json": "application/json",
    ".npy": "application/octet-stream",
    ".wav": "audio/wav",
    ".npz": "application/octet-stream",
}


@dataclass(frozen=True)
class RecordingView:
    """One recording as the session page shows it."""

    recording: Recording
    job: AnalysisJob
    analysis: EmotionAnalysis | None  # the most recent analysis, if any

    @property
    def downloads(self) -> list[str]:
        a = self.analysis
        return [n for n in DOWNLOADS if a is not None and n != "segments.npz" and a.has_artifact(n)]


def recordings_with_jobs(*, session: TherapySession) -> QuerySet[Recording]:
    return (
        session.recordings.order_by("created_at")
        .select_related("uploaded_by", "job")
        .prefetch_related("analyses")
    )


def session_recordings(*, session: TherapySession) -> list[RecordingView]:
    out = []
    for recording in recordings_with_jobs(session=session):
        job = getattr(recording, "job", None) or AnalysisJob(recording=recording)
        analyses = list(recording.analyses.all())  # newest first (Meta.ordering)
        out.append(RecordingView(recording, job, analyses[0] if analyses else None))
    return out


@dataclass(frozen=True)
class Download:
    handle: IO[bytes]
    content_type: str
    filename: str
    as_attachment: bool


def analysis_download(*, analysis: EmotionAnalysis, name: str) -> Download | None:
    """The named file of an analysis, or None if it has no such file."""
    if name not in DOWNLOADS or not analysis.has_artifact(name):
        return None
    handle: IO[Any]
    if name == "embedding.npy" and analysis.granularity == "frame":
        # (T, D) frame embeddings, as the seed WebUI exports them, from the compressed track.
        with analysis.frames_file.open("rb") as f, zipfile.ZipFile(f) as z:
            frames = np.load(io.BytesIO(z.read("embeddings.npy"))).astype(np.float32)
        handle = io.BytesIO()
        np.save(handle, frames)
        handle.seek(0)
    else:
        handle = getattr(analysis, DOWNLOADS[name]).open("rb")
    return Download(
        handle=handle,
        content_type=_TYPES[name[name.rfind(".") :]],
        filename=f"session{analysis.recording.session.number}_{name}",
        as_attachment=name != "processed_audio.wav",
    )
