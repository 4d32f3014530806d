"""The files of one analysis: the seed WebUI's result.json, embedding.npy and processed_audio.wav,
plus frames.npz (the 20 ms track), segments.npz (per-segment embeddings) and voice.npz (the pitch
and intensity contours, every 10 ms, and the pauses). `artifacts` makes them
(bytes; the processed audio stays the file the pipeline spooled, given by path); the batch CLI
writes them to a folder, the web app to its storage.

result.json keeps the seed's fields (`emotion`, `confidence`, `scores` with the nine names,
`granularity`, `timestamp`) and adds ours: model, revision, precision path, input SHA-256, speech
seconds, segments (and, at frame granularity, where the frame track is), the voice measures with
the library that computed them, and `labels`: each emotion key's display name in English and
Simplified Chinese ({"angry": {"en": "angry", "zh-Hans": "生气"}, ...}). Words for people (notes,
reasons) are English; beside them `*_message(s)` keep each as {"msgid", "params"} to translate.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import speakers as speaker_attribution
from . import voice
from .labels import DISPLAY_NAMES, EMOTIONS
from .notices import DISCLAIMER, TEST_MODEL_WARNING
from .pipeline import Analysis

SEED_FILES = ("result.json", "embedding.npy", "processed_audio.wav")


def sha256_file(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


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
        "notice": TEST_MODEL_WARNING if info.is_test_model else DISCLAIMER,
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
    if analysis.speakers is not None:
        att = analysis.speakers
        for seg, speaker, voice_, sim, margin in zip(
            doc["segments"], att.speakers, att.voices, att.similarity, att.margin, strict=True
        ):
            seg.update(speaker=speaker or None, speaker_voice=voice_, similarity=sim, speaker_margin=margin)
        doc["speakers"] = speaker_attribution.document(att)
    if analysis.voice is not None:
        doc["voice"] = voice.document(analysis.voice)
    elif analysis.voice_error:
        doc["voice"] = {"error": analysis.voice_error}
        if analysis.voice_error_message is not None:
            doc["voice"]["error_message"] = analysis.voice_error_message
    if analysis.frames is not None:
        doc["frames"] = {
            "count": int(analysis.frames.times_s.shape[0]),
            "rate_hz": 50,
            "smoothing": "centred moving average over 5 frames (100 ms)",
        }
    # Each emotion key's name for people, in English and Simplified Chinese (the model's own tokens)
    doc["labels"] = {e: dict(DISPLAY_NAMES[e]) for e in EMOTIONS}
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


def segments_npz_bytes(analysis: Analysis) -> bytes:
    """Per-segment start/end times and embeddings (S, D) float32."""
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        start_s=np.array([s.start_s for s in analysis.segments], np.float32),
        end_s=np.array([s.end_s for s in analysis.segments], np.float32),
        embeddings=np.stack([s.embedding for s in analysis.segments]).astype(np.float32),
    )
    return buf.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def artifacts(
    analysis: Analysis,
    *,
    input_sha256: str,
    source_name: str = "",
    names: tuple[str, ...] = (*SEED_FILES, "frames.npz", "segments.npz", "voice.npz"),
) -> dict[str, bytes | Path]:
    """The analysis's files by name, limited to `names`; files that do not apply (no kept audio,
    no frame track) are left out. Each is bytes, except processed_audio.wav: the path of the kept
    audio file (about 115 MB an hour), for the caller to copy or stream, never to read whole."""
    makers = {
        "result.json": lambda: json.dumps(
            result_document(analysis, input_sha256=input_sha256, source_name=source_name),
            indent=2,
            ensure_ascii=False,
        ).encode("utf-8"),
        "embedding.npy": lambda: _npy(embedding_array(analysis)),
        "processed_audio.wav": lambda: analysis.audio_path,
        "frames.npz": lambda: frames_npz_bytes(analysis),
        "segments.npz": lambda: segments_npz_bytes(analysis),
        "voice.npz": lambda: voice.npz_bytes(analysis.voice) if analysis.voice is not None else None,
    }
    out: dict[str, bytes | Path] = {}
    for name in names:
        content = makers[name]()
        if content is not None:
            out[name] = content
    return out


def write_outputs(
    folder: str | os.PathLike[str],
    analysis: Analysis,
    *,
    input_sha256: str,
    source_name: str = "",
    names: tuple[str, ...] = SEED_FILES,
) -> Path:
    """Write the named files (default: the seed WebUI's three) into `folder`; the processed audio is
    copied from its file in blocks."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in artifacts(
        analysis, input_sha256=input_sha256, source_name=source_name, names=names
    ).items():
        target = out / name
        if isinstance(content, Path):
            if not (target.exists() and target.samefile(content)):  # already written in place
                shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    return out
