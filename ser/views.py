"""Downloads of an analysis's files, through the owner check (storage is never served by URL)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
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


@login_required
@require_GET
def analysis_plot(request: HttpRequest, pk: str, kind: str) -> HttpResponse:
    """Within-session timeline (segments, and frames at frame granularity) or the nine-score bars."""
    from django.core.cache import cache

    from ser.engine import plots

    analysis = get_object_or_404(EmotionAnalysis.objects.for_user(request.user), pk=pk)
    if kind not in ("timeline", "bars"):
        raise Http404("No such plot.")
    key = f"aplot:{kind}:{analysis.pk}:{analysis.created_at.isoformat()}"
    svg = cache.get(key)
    if svg is None:
        note = ("TEST CHECKPOINT — meaningless scores. " if analysis.is_test_model else "") + plots.FOOTNOTE
        if kind == "bars":
            svg = plots.bars_svg(analysis.scores, note=note)
        else:
            frames = None
            if analysis.frames_file:
                with analysis.frames_file.open("rb") as f:
                    track = np.load(f)
                    frames = (track["times_s"], track["scores"])
            svg = plots.timeline_svg(analysis.segments, analysis.duration_s, frames=frames, note=note)
        cache.set(key, svg)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response
