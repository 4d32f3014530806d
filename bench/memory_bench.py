"""Memory benchmark: does a worker's peak memory stay flat as recordings get longer?

    python bench/memory_bench.py                 # 10-minute speech recording vs 3-hour mostly-silent FLAC
    python bench/memory_bench.py --long-min 60   # a shorter long file, for a quicker look

Runs `analyse_file` as the worker does (processed audio kept and written out with the other files)
on the tiny test checkpoint, each recording in a fresh subprocess so that its peak RSS is its own.
The recordings are made in a subprocess too: a child's ru_maxrss starts from its parent's high-water
mark (Linux carries it across fork/exec), so the parent must stay small. Recordings and checkpoint
are cached in a temp dir. Prints progress to stderr and one JSON line last on stdout.
Target (issue 8): peak RSS grows < 200 MB from the 10-minute to the 3-hour recording.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_GROWTH_MB = 200.0
SR = 44100


def log(msg: str) -> None:
    print(f"[memory-bench] {msg}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    for line in out.stderr.splitlines():
        if line.startswith("[memory-bench]"):
            print(line, file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- recordings


def make_short(path: Path, seconds: float) -> dict:
    """Two speakers on two channels with pauses (engine_bench's recording), 44.1 kHz WAV."""
    sys.path.insert(0, str(ROOT / "bench"))
    from engine_bench import make_recording

    return make_recording(path, seconds=seconds)


def make_long(path: Path, minutes: float, *, turns: int = 24, seed: int = 1) -> dict:
    """`minutes` of 44.1 kHz stereo FLAC, digital silence but for `turns` speech turns spread over it
    (a recorder left running in an empty room, with a few words now and then). Written a minute at a
    time, so making it takes little memory either."""
    import numpy as np
    import soundfile as sf

    sys.path.insert(0, str(ROOT / "bench"))
    from engine_bench import make_recording

    with tempfile.TemporaryDirectory() as tmp:
        make_recording(Path(tmp) / "speech.wav", seconds=turns * 8, silence=0.0, seed=seed)
        speech, _ = sf.read(Path(tmp) / "speech.wav", dtype="float32")
    total = int(minutes * 60 * SR)
    rng = np.random.default_rng(seed)
    piece = speech.shape[0] // turns
    starts = np.sort(rng.choice(np.arange(total // piece - 1), size=turns, replace=False)) * piece
    block = 60 * SR
    with sf.SoundFile(path, "w", SR, 2, "PCM_16", format="FLAC") as f:
        for pos in range(0, total, block):
            out = np.zeros((min(block, total - pos), 2), np.float32)
            for i, s in enumerate(starts):
                a, b = max(s, pos), min(s + piece, pos + out.shape[0])
                if a < b:
                    out[a - pos : b - pos] = speech[i * piece + a - s : i * piece + b - s]
            f.write(out)
    return {"audio_s": total / SR, "speech_s": turns * piece / SR, "turns": turns}


# --------------------------------------------------------------------------- one measured run


def analyse_to_folder(audio: str, model_dir: str, out: str) -> dict:
    """What the worker does with one recording: analyse it, keeping the processed audio, and write
    the files (processed_audio.wav included) out."""
    from ser.engine.model import EmotionModel
    from ser.engine.outputs import write_outputs
    from ser.engine.pipeline import NoSpeechError, analyse_file

    model = EmotionModel.load(model_dir, threads=2, precision="fp32")
    loaded_mb = peak_rss_mb()
    t = time.perf_counter()
    folder = Path(out)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = analyse_file(audio, model, audio_out=Path(tmp) / "processed_audio.wav")
            write_outputs(folder, result, input_sha256="0" * 64, source_name=Path(audio).name)
        status, segments, timings = "ok", len(result.segments), result.timings
    except NoSpeechError:
        status, segments, timings = "no-speech", 0, {}
    return {
        "wall_s": round(time.perf_counter() - t, 2),
        "status": status,
        "segments": segments,
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "model_loaded_rss_mb": round(loaded_mb, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "wav_mb": round((folder / "processed_audio.wav").stat().st_size / 2**20, 1)
        if (folder / "processed_audio.wav").exists()
        else 0.0,
    }


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "ser-memory-bench"))
    ap.add_argument("--short-min", type=float, default=10.0)
    ap.add_argument("--long-min", type=float, default=180.0)
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "short":
            out = make_short(Path(rest[0]), float(rest[1]))
        elif kind == "long":
            out = make_long(Path(rest[0]), float(rest[1]))
        else:
            out = analyse_to_folder(*rest)
        print(json.dumps(out))
        return

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    from ser.testkit.checkpoint import write_test_checkpoint

    model_dir = str(write_test_checkpoint(cache / "tiny", size="tiny"))
    short = cache / f"speech_{args.short_min:g}min.wav"
    long = cache / f"silent_{args.long_min:g}min.flac"
    for path, kind, minutes in ((short, "short", args.short_min), (long, "long", args.long_min)):
        if not path.exists():
            log(f"making {path.name}")
            part = path.with_suffix(".part" + path.suffix)
            run_child("--child", kind, str(part), str(minutes * 60 if kind == "short" else minutes))
            part.rename(path)
    runs: dict[str, dict] = {}
    for name, path in (("short", short), ("long", long)):
        with tempfile.TemporaryDirectory() as tmp:
            log(f"analysing {path.name} ({path.stat().st_size / 2**20:.1f} MB)")
            runs[name] = run_child("--child", "analyse", str(path), model_dir, str(Path(tmp) / "result"))
            log(f"{name}: {json.dumps(runs[name])}")
    growth = runs["long"]["peak_rss_mb"] - runs["short"]["peak_rss_mb"]
    print(
        json.dumps(
            {
                "short_audio_min": args.short_min,
                "long_audio_min": args.long_min,
                "short_peak_rss_mb": runs["short"]["peak_rss_mb"],
                "long_peak_rss_mb": runs["long"]["peak_rss_mb"],
                "peak_rss_growth_mb": round(growth, 1),
                "short_wall_s": runs["short"]["wall_s"],
                "long_wall_s": runs["long"]["wall_s"],
                "short_segments": runs["short"]["segments"],
                "long_segments": runs["long"]["segments"],
                "model_loaded_rss_mb": runs["short"]["model_loaded_rss_mb"],
                "target_growth_mb": TARGET_GROWTH_MB,
                "within_target": growth < TARGET_GROWTH_MB,
            }
        )
    )


if __name__ == "__main__":
    main()
