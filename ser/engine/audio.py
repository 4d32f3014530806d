"""Audio in: probe from the header, decode in blocks, pick a channel, resample to 16 kHz mono.

libsndfile (soundfile) reads WAV, FLAC, OGG/Vorbis/Opus and MP3; PyAV (FFmpeg) reads the rest
(M4A/AAC, WebM/Opus from browsers, …). Limits are checked from the header before any decode, and
decoding streams in blocks through a soxr resampler (`stream_16k_mono`), so a long recording never
exists in memory whole, at its original rate or at 16 kHz: the pipeline spools the 16 kHz blocks to
a PCM16 WAV file as they come (`open_wav_16k`) and reads segments back (`read_wav_16k`). Every
failure is an AudioError whose message says what was wrong in words a user can act on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .messages import Explained, gettext_noop, said

TARGET_SR = 16_000
CHANNELS: tuple[str, ...] = ("mix", "left", "right")
SUPPORTED = gettext_noop("WAV, FLAC, MP3, M4A/AAC, OGG/Opus or WebM")
_BLOCK_S = 10.0
# What the batch tools pick up from a folder (content is still checked when each file is read).
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".webm", ".mp4", ".aiff", ".aif"}
)


class AudioError(Explained, ValueError):
    """The file is not audio we can analyse; the message is meant for the user."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    sample_rate: int
    channels: int
    frames: int  # 0 when the container does not say (some browser WebM files)
    backend: str = "soundfile"  # or "pyav"

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


_UNREADABLE = gettext_noop(
    "This file could not be read as audio (it may be damaged, or not a recording). "
    "Supported formats: %(formats)s."
)
_TRUNCATED = gettext_noop("The audio could not be decoded; the file may be truncated or damaged.")
_NO_SAMPLES = gettext_noop("The recording contains no audio samples.")
_BAD_HEADER = gettext_noop("The audio header is invalid (no sample rate or channels).")


def _bad_channel(channel: object) -> AudioError:
    return AudioError(
        gettext_noop("Channel must be one of %(choices)s, not %(channel)s."),
        choices=", ".join(CHANNELS),
        channel=repr(channel),
    )


def _too_long(seconds: float, limit: float) -> AudioError:
    return AudioError(
        gettext_noop(
            "The recording is %(minutes).0f minutes long; the limit is %(limit).0f minutes. "
            "Split it, or ask an administrator to raise SER_MAX_DURATION_S."
        ),
        minutes=seconds / 60,
        limit=limit / 60,
    )


def _probe_pyav(path: Path) -> AudioInfo:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(
                    gettext_noop("The file has no audio track. Supported formats: %(formats)s."),
                    formats=said(SUPPORTED),
                )
            stream = container.streams.audio[0]
            sr = int(stream.codec_context.sample_rate or stream.rate or 0)
            channels = int(stream.codec_context.channels or 0)
            seconds = 0.0
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / 1_000_000
            fmt = str(container.format.name).split(",")[0].upper()
            codec = str(stream.codec_context.name).upper()
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(_UNREADABLE, formats=said(SUPPORTED)) from exc
    if sr <= 0 or channels <= 0:
        raise AudioError(_BAD_HEADER)
    return AudioInfo(
        format=f"{fmt}/{codec}",
        sample_rate=sr,
        channels=channels,
        frames=int(round(seconds * sr)),
        backend="pyav",
    )


def probe(path: str | os.PathLike[str], *, max_duration_s: float | None = None) -> AudioInfo:
    """Read the header only. Raises AudioError for empty, unreadable or over-long files."""
    import soundfile as sf

    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        raise AudioError(
            gettext_noop("The file is empty. Choose the session's audio recording and try again.")
        )
    try:
        sfi = sf.info(str(p))
        info = AudioInfo(
            format=str(sfi.format),
            sample_rate=int(sfi.samplerate),
            channels=int(sfi.channels),
            frames=int(sfi.frames),
        )
        if info.sample_rate <= 0 or info.channels <= 0:
            raise AudioError(_BAD_HEADER)
    except AudioError:
        raise
    except Exception:
        info = _probe_pyav(p)
    if info.backend == "soundfile" and info.frames <= 0:
        raise AudioError(_NO_SAMPLES)
    if max_duration_s is not None and info.duration_s > max_duration_s:
        raise _too_long(info.duration_s, max_duration_s)
    return info


def _blocks_soundfile(path: Path, info: AudioInfo) -> Iterator[np.ndarray]:
    import soundfile as sf

    block = int(_BLOCK_S * info.sample_rate)
    with sf.SoundFile(str(path)) as f:
        while True:
            data = f.read(block, dtype="float32", always_2d=True)
            if data.shape[0] == 0:
                return
            yield data


def _blocks_pyav(path: Path, info: AudioInfo) -> Iterator[np.ndarray]:
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        # Convert every decoded frame to planar float32 at the stream's own rate and layout.
        resampler = av.AudioResampler(
            format="fltp", layout=stream.codec_context.layout, rate=info.sample_rate
        )
        for packet in container.demux(stream):
            for frame in packet.decode():
                for out in resampler.resample(frame):
                    yield out.to_ndarray().T.astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray().T.astype(np.float32, copy=False)


def pick_channel(data: np.ndarray, channel: str = "mix") -> np.ndarray:
    """(frames, channels) → (frames,). Mono files give their one channel for any choice."""
    if channel not in CHANNELS:
        raise _bad_channel(channel)
    if data.ndim == 1:
        return data
    if data.shape[1] == 1:
        return data[:, 0]
    if channel == "left":
        return data[:, 0]
    if channel == "right":
        return data[:, 1]
    return data.mean(axis=1, dtype=np.float32)


def resample(x: np.ndarray, sr: int, target_sr: int = TARGET_SR) -> np.ndarray:
    """Band-limited resampling (soxr, high quality); never drops samples."""
    if sr == target_sr:
        return np.ascontiguousarray(x, dtype=np.float32)
    import soxr

    return np.ascontiguousarray(soxr.resample(x, sr, target_sr, quality="HQ"), dtype=np.float32)


def stream_16k_mono(
    path: str | os.PathLike[str], *, channel: str = "mix", max_duration_s: float | None = None
) -> Iterator[np.ndarray]:
    """The analysis input as a stream of 16 kHz mono float32 blocks (about 10 s each): decoded,
    channel-picked and resampled block by block, so memory stays flat however long the recording.

    The header, the limits and the channel choice are checked here, before the first block; decode
    errors, over-long data and invalid samples are raised (as AudioError) while iterating.
    """
    p = Path(path)
    info = probe(p, max_duration_s=max_duration_s)
    if channel not in CHANNELS:
        raise _bad_channel(channel)
    if channel == "right" and info.channels < 2:
        raise AudioError(
            gettext_noop("The right channel was chosen, but the recording has only one channel.")
        )
    return _stream(p, info, channel, max_duration_s)


def _stream(path: Path, info: AudioInfo, channel: str, max_duration_s: float | None) -> Iterator[np.ndarray]:
    import soxr

    blocks = _blocks_soundfile(path, info) if info.backend == "soundfile" else _blocks_pyav(path, info)
    stream = (
        None
        if info.sample_rate == TARGET_SR
        else soxr.ResampleStream(info.sample_rate, TARGET_SR, 1, dtype="float32", quality="HQ")
    )
    seen = 0
    try:
        for block in blocks:
            seen += block.shape[0]
            if max_duration_s is not None and seen > (max_duration_s + 1) * info.sample_rate:
                raise _too_long(seen / info.sample_rate, max_duration_s)
            mono = pick_channel(block, channel)
            out = mono if stream is None else stream.resample_chunk(mono, last=False)
            if out.size:
                yield _checked(out)
        if stream is not None:
            tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
            if tail.size:
                yield _checked(tail)
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(_TRUNCATED) from exc
    if seen == 0:
        raise AudioError(_NO_SAMPLES)
    if info.backend == "soundfile" and seen < info.frames:
        raise AudioError(_TRUNCATED)


def _checked(block: np.ndarray) -> np.ndarray:
    block = np.ascontiguousarray(block, dtype=np.float32)
    if not np.isfinite(block).all():
        raise AudioError(gettext_noop("The audio contains invalid sample values."))
    return block


def load_16k_mono(
    path: str | os.PathLike[str], *, channel: str = "mix", max_duration_s: float | None = None
) -> np.ndarray:
    """The whole analysis input in memory (16 kHz mono float32): for short clips and tools. The
    pipeline streams instead (`stream_16k_mono`)."""
    return np.concatenate(list(stream_16k_mono(path, channel=channel, max_duration_s=max_duration_s)))


def verify_decodes(path: str | os.PathLike[str], info: AudioInfo, *, seconds: float = 1.0) -> None:
    """Decode the first and the last second: catches files whose header promises more than the
    data holds (truncated uploads) without decoding the whole recording in a web request."""
    p = Path(path)
    if info.backend == "pyav":
        _verify_pyav(p, info, seconds)
        return
    import soundfile as sf

    n = max(1, min(info.frames, int(seconds * info.sample_rate)))
    try:
        with sf.SoundFile(str(p)) as f:
            head = f.read(n, dtype="float32", always_2d=True)
            tail = head
            if info.frames > n:
                f.seek(info.frames - n)
                tail = f.read(n, dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(_TRUNCATED) from exc
    if head.shape[0] < n or tail.shape[0] < n:
        raise AudioError(_TRUNCATED)


def _verify_pyav(path: Path, info: AudioInfo, seconds: float) -> None:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            got = 0
            for frame in container.decode(stream):
                got += frame.samples
                if got >= seconds * info.sample_rate:
                    break
            if got == 0:
                raise AudioError(_NO_SAMPLES)
            if info.frames > 4 * seconds * info.sample_rate and stream.time_base is not None:
                container.seek(int((info.duration_s - 2 * seconds) / stream.time_base), stream=stream)
                tail = sum(f.samples for _, f in zip(range(50), container.decode(stream), strict=False))
                if tail == 0:
                    raise AudioError(_TRUNCATED)
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(_TRUNCATED) from exc


def write_wav_16k(target: str | os.PathLike[str] | BinaryIO, wav16k: np.ndarray) -> None:
    """The processed audio (the seed WebUI's processed_audio.wav): 16 kHz mono PCM16."""
    with open_wav_16k(target) as f:
        f.write(np.clip(wav16k, -1.0, 1.0))


def open_wav_16k(target: str | os.PathLike[str] | BinaryIO) -> Any:
    """A soundfile writer for the processed audio, to write block by block (clip each block to
    [-1, 1] first, as `write_wav_16k` does). 16-bit, as the seed WebUI writes it."""
    import soundfile as sf

    dest = target if hasattr(target, "write") else str(target)
    return sf.SoundFile(dest, "w", TARGET_SR, 1, "PCM_16", format="WAV")


def read_wav_16k(path: str | os.PathLike[str], start: int, stop: int) -> np.ndarray:
    """Samples [start, stop) of a processed-audio file, as float32."""
    import soundfile as sf

    data, _ = sf.read(str(path), start=start, stop=stop, dtype="float32", always_2d=False)
    return np.ascontiguousarray(data, dtype=np.float32)


def find_audio_files(inputs: list[str]) -> list[Path]:
    """Files named directly, plus audio files found (recursively, sorted) in folders named."""
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)
        else:
            files.append(p)
    return files
