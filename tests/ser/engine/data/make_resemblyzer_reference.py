"""Generate ``resemblyzer_reference.npz``: a known-answer fixture from the REAL
Resemblyzer 0.1.4 package, used to check our re-implementation of its front end
(power-mel spectrogram, partial slicing, VoiceEncoder embeddings).

Not part of the test suite.  Needs a scratch venv with Resemblyzer==0.1.4, torch,
librosa (and soxr, optional), plus ``espeak-ng`` on PATH.  Made with:

    python3.11 -m venv /tmp/rzvenv
    /tmp/rzvenv/bin/pip install torch==2.13.0
    /tmp/rzvenv/bin/pip install Resemblyzer==0.1.4 librosa "setuptools<81"
    /tmp/rzvenv/bin/python tests/ser/engine/data/make_resemblyzer_reference.py

Pipeline: espeak-ng speech (22050 Hz int16) -> resample to 16000 Hz (soxr "HQ",
or librosa soxr_hq) -> int16 via np.round(x * 32767) clipped.  The float waveform
fed to Resemblyzer is exactly ``wav = wav_int16.astype(np.float32) / 32768.0``
(no preprocess_wav: no volume normalisation, no VAD trimming).

Keys: wav_int16, mel (T, 40 power mel, NOT log, = audio.wav_to_mel_spectrogram(wav)),
partials / embed / slice_starts / slice_stops (embed_utterance(wav,
return_partials=True, rate=1.3, min_coverage=0.75)), embed_quiet
(embed_utterance(wav * 0.25)), mel_edge (the mel of 0.5 s of a 220 Hz tone at 0.5 from
the first sample to the last, float32: checks the zero padding at the ends),
resemblyzer_version, librosa_version,
pretrained_sha256 (of resemblyzer/pretrained.pt).
"""

import hashlib
import subprocess
from pathlib import Path

import librosa
import numpy as np
import resemblyzer
from resemblyzer import VoiceEncoder, audio

TEXT = "The quick brown fox jumps over the lazy dog near the river bank."
OUT = Path(__file__).with_name("resemblyzer_reference.npz")


def read_espeak_wav(data: bytes):
    """Parse espeak-ng --stdout WAV (its RIFF/data sizes are bogus 0x7fff... when piped)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, sr = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if cid == b"fmt ":
            fmt = data[pos + 8 : pos + 8 + size]
            assert int.from_bytes(fmt[0:2], "little") == 1  # PCM
            assert int.from_bytes(fmt[2:4], "little") == 1  # mono
            assert int.from_bytes(fmt[14:16], "little") == 16  # 16-bit
            sr = int.from_bytes(fmt[4:8], "little")
        elif cid == b"data":
            body = data[pos + 8 :]  # take everything to EOF
            return np.frombuffer(body[: len(body) // 2 * 2], "<i2"), sr
        pos += 8 + size
    raise ValueError("no data chunk")


def main():
    raw = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "165", "-p", "50", "--stdout", TEXT],
        check=True,
        capture_output=True,
    ).stdout
    pcm, sr = read_espeak_wav(raw)
    x = pcm.astype(np.float64) / 32768.0
    try:
        import soxr

        y = soxr.resample(x, sr, 16000, quality="HQ")
    except ImportError:
        y = librosa.resample(x, orig_sr=sr, target_sr=16000, res_type="soxr_hq")
    wav_int16 = np.clip(np.round(y * 32767), -32768, 32767).astype(np.int16)

    wav = wav_int16.astype(np.float32) / 32768.0
    mel = audio.wav_to_mel_spectrogram(wav)
    enc = VoiceEncoder("cpu")
    embed, partials, slices = enc.embed_utterance(wav, return_partials=True, rate=1.3, min_coverage=0.75)
    embed_quiet = enc.embed_utterance(wav * 0.25)

    # The edges: a tone at full level from the first sample to the last (the espeak clip starts
    # and ends in silence, so it cannot tell zero padding from reflect padding at the ends).
    t = np.arange(8000) / 16000.0
    edge = (0.5 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    mel_edge = audio.wav_to_mel_spectrogram(edge)

    pt = Path(resemblyzer.__file__).with_name("pretrained.pt")
    np.savez_compressed(
        OUT,
        wav_int16=wav_int16,
        mel=mel.astype(np.float32),
        partials=partials.astype(np.float32),
        embed=embed.astype(np.float32),
        embed_quiet=embed_quiet.astype(np.float32),
        mel_edge=mel_edge.astype(np.float32),
        slice_starts=np.array([s.start for s in slices], np.int64),
        slice_stops=np.array([s.stop for s in slices], np.int64),
        resemblyzer_version=np.array("0.1.4"),
        librosa_version=np.array(librosa.__version__),
        pretrained_sha256=np.array(hashlib.sha256(pt.read_bytes()).hexdigest()),
    )
    print(
        f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(wav_int16)} samples, "
        f"mel {mel.shape}, {len(slices)} partials"
    )


if __name__ == "__main__":
    main()
