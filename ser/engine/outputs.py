"""The seed WebUI's outputs for one analysis: result.json, embedding.npy, processed_audio.wav.

result.json keeps the seed's fields (`emotion`, `confidence`, `scores` with the nine names,
`granularity`, `timestamp`) and adds ours: model, revision, precision path, input SHA-256, speech
seconds, segments (and, at frame granularity, where the frame track is).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .audio import write_wav_16k
from .labels import EMOTIONS
from .pipeline import Analysis

NOTICE_TEST = (
    "Produced by a random-initialised TEST checkpoint: the scores are meaningless and must "
    "not be used clinically."
)
NOTICE = "Decision support, not a diagnosis."


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            h.update(block)
    return h.hexdigest()


def result_document(
    analysis: Analysis, *, input_sha256: str, source_name: str = "", created: datetime | None = None
) -> dict[str, Any]:
    info = analysis.model
    doc: dict[str, Any] = {
        "emotion": analysis.dominant,
        "confidence": round(analysis.confidence, 6),
        "scores": {e: round(float(p), 6) for e, p in zip(EMOTIONS, analysis.probabilities, strict=True)},
        "granularity": analysis.granularity,
        "timestamp": (created or datetime.now(UTC)).isoformat(timespec="seconds"),
        "notice": NOTICE_TEST if info.is_test_model else NOTICE,
        "model": info.model_id,
        "model_variant": info.variant,
        "model_revision": info.revision,
        "precision": info.precision,
        "device": info.device,
        "test_checkpoint": info.is_test_model,
        "input": {"name": source_name, "sha256": input_sha256},
        "channel": analysis.channel,
        "duration_s": round(analysis.duration_s, 3),
        "speech_s": round(analysis.analysed_s, 3),
        "segment_count": len(analysis.segments),
        "embedding_dim": int(analysis.embedding.shape[0]),
        "processing_s": round(analysis.processing_s, 3),
        "segments": [
            {
                "start_s": round(s.start_s, 3),
                "end_s": round(s.end_s, 3),
                "emotion": EMOTIONS[int(np.argmax(s.probabilities))],
                "scores": {e: round(float(p), 6) for e, p in zip(EMOTIONS, s.probabilities, strict=True)},
            }
            for s in analysis.segments
        ],
    }
    if analysis.frames is not None:
        doc["frames"] = {
            "count": int(analysis.frames.times_s.shape[0]),
            "rate_hz": 50,
            "smoothing": "centred moving average over 5 frames (100 ms)",
        }
    return doc


def embedding_array(analysis: Analysis) -> np.ndarray:
    """(D,) at utterance granularity, (T, D) at frame granularity — as the seed WebUI exports."""
    if analysis.granularity == "frame" and analysis.frames is not None:
        return analysis.frames.embeddings.astype(np.float32)
    return analysis.embedding.astype(np.float32)


def frames_npz_bytes(analysis: Analysis) -> bytes | None:
    """Compressed frame track: times, smoothed scores (T, 9), embeddings (T, D) float16."""
    if analysis.frames is None:
        return None
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        times_s=analysis.frames.times_s.astype(np.float32),
        scores=analysis.frames.probabilities,
        embeddings=analysis.frames.embeddings,
        classes=np.array(EMOTIONS),
    )
    return buf.getvalue()


def safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._") or "audio"
    return stem[:80]


def write_outputs(
    folder: str | os.PathLike[str], analysis: Analysis, *, input_sha256: str, source_name: str = ""
) -> Path:
    """Write result.json, embedding.npy and processed_audio.wav into `folder`."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    doc = result_document(analysis, input_sha256=input_sha256, source_name=source_name)
    (out / "result.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    np.save(out / "embedding.npy", embedding_array(analysis))
    if analysis.audio16k is not None:
        write_wav_16k(out / "processed_audio.wav", analysis.audio16k)
    return out
