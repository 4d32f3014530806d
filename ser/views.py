"""Downloads of an analysis's files, through the owner check (storage is never served by URL)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .models import DOWNLOADS, EmotionAnalysis

_TYPES = {
    ".json": "application/json",
    ".npy": "application/octet-stream",
    ".wav": "audio/wav",
    ".npz": "application/octet-stream",
}


@login_required
@require_GET
def analysis_download(request: HttpRequest, pk: str, name: str) -> FileResponse:
    analysis = get_object_or_404(EmotionAnalysis.objects.for_user(request.user), pk=pk)
    if name not in DOWNLOADS or not analysis.has_artifact(name):
        raise Http404("No such file for this analysis.")
    content_type = _TYPES[name[name.rfind(".") :]]
    if name == "embedding.npy" and analysis.granularity == "frame":
        # (T, D) frame embeddings, as the seed WebUI exports them, from the compressed track.
        with analysis.frames_file.open("rb") as f, zipfile.ZipFile(f) as z:
            frames = np.load(io.BytesIO(z.read("embeddings.npy"))).astype(np.float32)
        buf = io.BytesIO()
        np.save(buf, frames)
        buf.seek(0)
        handle = buf
    else:
        handle = getattr(analysis, DOWNLOADS[name]).open("rb")
    stem = f"session{analysis.recording.session.number}_{name}"
    response = FileResponse(
        handle, as_attachment=name != "processed_audio.wav", filename=stem, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response
