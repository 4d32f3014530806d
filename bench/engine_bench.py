"""Engine benchmark: plain FunASR vs our pipeline on the same long two-speaker recording.

    python bench/engine_bench.py            # full: plus_large-size random checkpoint, 10-min recording
    python bench/engine_bench.py --quick    # tiny checkpoint, ~30 s recording (runs in the tests)

Every measured run happens in its own subprocess so its peak RSS is its own. Prints progress to
stderr and one JSON line last on stdout. See ../shared/performance.md for the protocol.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LINES = [
    "I have not been sleeping well since the last time we met.",
    "Can you tell me what the nights have been like?",
    "Mostly I lie awake and go over the same conversations again and again.",
    "That sounds exhausting. What goes through your mind?",
    "That I said the wrong thing, that people are disappointed in me.",
    "Has anything helped, even a little, during the week?",
    "Walking in the morning helped. I felt lighter for a few hours.",
    "Let's think about how to build more of those mornings into your week.",
    "Work has been calmer, and my sister called on Sunday, which was nice.",
    "I noticed you smiled when you mentioned your sister.",
    "Yes. We used to be close, and I would like that again.",
    "What would a first small step towards that look like?",
]


PATIENT_VOICE, THERAPIST_VOICE = ("en-us+m3", 40), ("en-us+f3", 70)  # espeak-ng voice and pitch


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM): ru_maxrss of a child starts from its parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start a new high-water mark from the current RSS (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- the recording


def make_recording(
    path: Path, *, seconds: float, silence: float = 0.30, sr: int = 44100, seed: int = 0
) -> dict:
    """Two speakers on two channels (patient left, clinician right), turns separated by pauses so
    that about `silence` of the recording is silent. espeak-ng speech, or speech-like noise bursts."""
    import shutil

    import soundfile as sf
    import soxr

    rng = np.random.default_rng(seed)
    have_espeak = shutil.which("espeak-ng") is not None
    turns, speech_total, i = [], 0.0, 0
    while speech_total < seconds * (1 - silence):
        channel = i % 2
        if have_espeak:
            from ser.testkit.synth import espeak

            voice, pitch = PATIENT_VOICE if channel == 0 else THERAPIST_VOICE
            text = " ".join(rng.choice(LINES, size=int(rng.integers(1, 4))))
            x, rate = espeak(str(text), voice=voice, pitch=pitch, speed=int(rng.integers(150, 185)))
            x = soxr.resample(x, rate, sr).astype(np.float32)
        else:
            n = int(rng.uniform(2, 9) * sr)
            env = np.abs(np.sin(np.linspace(0, rng.uniform(8, 30), n))) ** 2
            x = (0.2 * rng.standard_normal(n) * env).astype(np.float32)
        turns.append((channel, x))
        speech_total += x.size / sr
        i += 1
    gap_total = speech_total * silence / (1 - silence)
    gaps = rng.dirichlet(np.ones(len(turns) + 1)) * gap_total
    audio = np.zeros((int((speech_total + gap_total) * sr) + sr, 2), np.float32)
    pos = int(gaps[0] * sr)
    for (channel, x), gap in zip(turns, gaps[1:], strict=True):
        audio[pos : pos + x.size, channel] = 0.8 * x
        pos += x.size + int(gap * sr)
    audio = audio[:pos]
    sf.write(path, audio, sr, subtype="PCM_16")
    return {
        "audio_s": audio.shape[0] / sr,
        "speech_s": speech_total,
        "turns": len(turns),
        "speech": "espeak-ng" if have_espeak else "noise-bursts",
    }


# --------------------------------------------------------------------------- subprocess runs


def run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    for line in out.stderr.splitlines():
        if line.startswith("[bench]"):
            print(line, file=sys.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_baseline(model_dir: str, audio: str, threads: int) -> dict:
    """What a user of FunASR alone does: AutoModel, then generate() on ≤ 30 s fixed windows, fp32."""
    import torch
    from funasr import AutoModel

    from ser.engine.audio import load_16k_mono

    t = time.perf_counter()
    model = AutoModel(
        model=model_dir, disable_update=True, device="cpu", ncpu=threads, disable_pbar=True, log_level="ERROR"
    )
    torch.set_num_threads(threads)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    wav = load_16k_mono(audio, channel="mix")
    step = 30 * 16000
    embs = []
    for start in range(0, wav.size, step):
        piece = wav[start : start + step]
        if piece.size < 8000:
            continue
        res = model.generate(piece, granularity="utterance", extract_embedding=True, disable_pbar=True)[0]
        embs.append(res["feats"])
    return {
        "seconds": time.perf_counter() - t,
        "load_s": load_s,
        "windows": len(embs),
        "peak_rss_mb": peak_rss_mb(),
    }


def child_ours(
    model_dir: str,
    audio: str,
    threads: int,
    precision: str,
    channel: str,
    out: str,
    batch_seconds: float,
    max_segment_s: float,
) -> dict:
    from ser.engine.model import EmotionModel
    from ser.engine.pipeline import SpeakerSetup, analyse_file
    from ser.engine.vad import VadConfig

    t = time.perf_counter()
    model = EmotionModel.load(model_dir, threads=threads, precision=precision, batch_seconds=batch_seconds)
    load_s = time.perf_counter() - t
    speakers = None
    speaker_load_s = 0.0
    if channel == "voice":
        # "Patient only (voice)": the speaker model loads once per worker, the therapist enrolled
        # once from a separate sample of the clinician's voice; neither is part of the analysis.
        from ser.engine.speakers import SpeakerEncoder, enrol
        from ser.testkit.synth import ENROLMENT_TEXT, Voice

        t = time.perf_counter()
        encoder = SpeakerEncoder.load()
        speaker_load_s = time.perf_counter() - t
        profile = enrol([Voice(*THERAPIST_VOICE).say(ENROLMENT_TEXT)], encoder)
        speakers = SpeakerSetup(encoder, profile.embedding, profile.pitch_hz)
    load_peak = peak_rss_mb()
    # The analysis's own peak: the high-water mark restarts from the loaded worker's RSS.
    analysis_peak_measured = reset_peak_rss()
    t = time.perf_counter()
    result = analyse_file(
        audio, model, channel=channel, vad=VadConfig(max_segment_s=max_segment_s), speakers=speakers
    )
    seconds = time.perf_counter() - t
    analysis_peak = peak_rss_mb() if analysis_peak_measured else None
    np.savez(
        out,
        starts=[s.start_s for s in result.segments],
        ends=[s.end_s for s in result.segments],
        emb=np.stack([s.embedding for s in result.segments]),
        probs=np.stack([s.probabilities for s in result.segments]),
        speakers=np.array(result.speakers.speakers if result.speakers is not None else [], dtype=str),
    )
    return {
        "speaker_load_s": speaker_load_s,
        "speaker_seconds": (
            {k: round(result.speakers.seconds_of(k), 1) for k in ("patient", "therapist", "uncertain")}
            if result.speakers is not None
            else {}
        ),
        "seconds": seconds,
        "load_s": load_s,
        "precision": model.info.precision,
        "segments": len(result.segments),
        "speech_s": result.analysed_s,
        "timings": result.timings,
        "peak_rss_mb": max(load_peak, analysis_peak or peak_rss_mb()),
        "load_peak_rss_mb": load_peak,
        "analysis_peak_rss_mb": analysis_peak,
    }


def child_worker(model_dir: str, audio: str, threads: int, precision: str, runs: int) -> dict:
    """One worker process of the two-worker comparison: load, say so, wait for the go (a line on
    stdin, so that side-by-side processes start together), then analyse the recording `runs` times."""
    from ser.engine.model import EmotionModel
    from ser.engine.pipeline import analyse_file

    model = EmotionModel.load(model_dir, threads=threads, precision=precision)
    print("ready", file=sys.stderr, flush=True)
    sys.stdin.readline()
    t = time.perf_counter()
    audio_s = 0.0
    for _ in range(runs):
        audio_s += analyse_file(audio, model).duration_s
    return {"seconds": time.perf_counter() - t, "audio_s": audio_s, "threads": threads}


def side_by_side(model_dir: str, audio: str, precision: str, processes: int, threads: int, runs: int) -> dict:
    """`processes` workers of `threads` torch threads each, started together once all have loaded;
    total throughput = audio seconds analysed / wall seconds until the last one finished."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "worker",
                model_dir,
                audio,
                str(threads),
                precision,
                str(runs),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for p in procs:  # wait until every worker has loaded its model
        assert p.stderr is not None
        while (line := p.stderr.readline()) and line.strip() != "ready":
            pass
    t = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(err[-2000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - t
    audio_total = sum(r["audio_s"] for r in results)
    return {"processes": processes, "threads": threads, "wall_s": wall, "throughput": audio_total / wall}


def child_vad_contention(audio: str, seconds: float) -> dict:
    """The product's VAD on `seconds` of the recording while another process keeps 2 torch threads
    busy on the same cores (a second worker, a busy web process)."""
    from ser.engine.audio import load_16k_mono
    from ser.engine.vad import SpeechDetector, VadConfig

    wav = load_16k_mono(audio, channel="mix")[: int(seconds * 16000)]
    busy = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import torch\ntorch.set_num_threads(2)\na = torch.randn(1024, 1024)\nwhile True: a @ a",
        ]
    )
    try:
        time.sleep(3)  # let it get going
        times = []
        for _ in range(3):
            t = time.perf_counter()
            detector = SpeechDetector(VadConfig())
            detector.feed(wav)
            detector.regions()
            times.append(time.perf_counter() - t)
    finally:
        busy.kill()
        busy.wait()
    return {"audio_s": wav.size / 16000, "median_s": float(np.median(times)), "max_s": float(max(times))}


def child_reference(model_dir: str, audio: str, threads: int, segments: str, limit: int) -> dict:
    """fp32, FunASR's own attention, one segment at a time, on the fast run's segments."""
    from ser.engine.audio import load_16k_mono
    from ser.engine.model import EmotionModel

    model = EmotionModel.load(model_dir, threads=threads, precision="fp32")
    seg = np.load(segments)
    wav = load_16k_mono(audio, channel="mix")
    n = min(limit, len(seg["starts"])) if limit > 0 else len(seg["starts"])
    pick = np.linspace(0, len(seg["starts"]) - 1, n).round().astype(int) if n else np.array([], int)
    cos, diff, agree = [], [], []
    for i in pick:
        ref = model.score(wav[int(seg["starts"][i] * 16000) : int(seg["ends"][i] * 16000)])
        fast = seg["emb"][i]
        cos.append(float(np.dot(ref.embedding, fast) / np.linalg.norm(ref.embedding) / np.linalg.norm(fast)))
        diff.append(float(np.abs(ref.probabilities - seg["probs"][i]).max()))
        top2 = np.sort(ref.probabilities)[-2:]
        if top2[1] - top2[0] >= 0.05:  # fp32's top-1 leads clearly: the fast path must agree
            agree.append(int(np.argmax(ref.probabilities)) == int(np.argmax(seg["probs"][i])))
    return {
        "top1_agreement": float(np.mean(agree)) if agree else None,
        "top1_segments": len(agree),
        "compared": int(len(pick)),
        "mean_cosine": float(np.mean(cos)) if cos else 1.0,
        "min_cosine": float(np.min(cos)) if cos else 1.0,
        "max_prob_diff": float(np.max(diff)) if diff else 0.0,
    }


# --------------------------------------------------------------------------- main


def _agreement(voice_npz: Path, left_npz: Path, audio_s: float) -> float:
    """Share of the mix's speech (10 ms frames in the voice run's segments) where "patient only
    (voice)" and the left-channel restriction agree on whether it is the patient's."""
    frames = int(audio_s * 100) + 1
    v, left = np.load(voice_npz), np.load(left_npz)

    def mask(starts: np.ndarray, ends: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        m = np.zeros(frames, bool)
        for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
            if keep is None or keep[i]:
                m[int(round(a * 100)) : int(round(b * 100))] = True
        return m

    speech = mask(v["starts"], v["ends"])
    patient = mask(v["starts"], v["ends"], v["speakers"] == "patient")
    on_left = mask(left["starts"], left["ends"])
    return float(((patient == on_left) & speech).sum() / max(speech.sum(), 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny model, ~30 s audio (for the tests)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument(
        "--cache", default=os.environ.get("BENCH_CACHE", str(Path.home() / ".cache" / "clinic-ser"))
    )
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--batch-seconds", type=float, default=10.0)
    ap.add_argument("--max-segment-s", type=float, default=10.0)
    ap.add_argument("--fidelity-segments", type=int, default=40, help="0 = all")
    ap.add_argument(
        "--workers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also compare 1 process × 2 threads with 2 processes × 1 thread (default: in full runs)",
    )
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "baseline":
            result = child_baseline(rest[0], rest[1], int(rest[2]))
        elif kind == "worker":
            result = child_worker(rest[0], rest[1], int(rest[2]), rest[3], int(rest[4]))
        elif kind == "vad":
            result = child_vad_contention(rest[0], float(rest[1]))
        elif kind == "ours":
            result = child_ours(
                rest[0], rest[1], int(rest[2]), rest[3], rest[4], rest[5], float(rest[6]), float(rest[7])
            )
        else:
            result = child_reference(rest[0], rest[1], int(rest[2]), rest[3], int(rest[4]))
        print(json.dumps(result))
        return

    from ser.testkit.checkpoint import write_test_checkpoint

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    size = "tiny" if args.quick else "large"
    seconds = 30.0 if args.quick else args.minutes * 60
    log(f"checkpoint: {size} (random-initialised, real format) in {cache}")
    model_dir = str(write_test_checkpoint(cache / f"emotion2vec-{size}-random", size=size))
    audio = cache / f"session-{int(seconds)}s-2ch-44k.wav"
    meta_path = audio.with_suffix(".json")
    if not audio.exists() or not meta_path.exists():
        log(f"making a {seconds / 60:.1f}-minute two-speaker recording")
        meta_path.write_text(json.dumps(make_recording(audio, seconds=seconds)))
    meta = json.loads(meta_path.read_text())
    audio_s = meta["audio_s"]
    t = str(args.threads)
    common = [str(args.batch_seconds), str(args.max_segment_s)]

    log("baseline: FunASR AutoModel.generate on 30 s fixed windows, fp32")
    base = run_child(["--child", "baseline", model_dir, str(audio), t])
    log(f"  {base['seconds']:.1f} s, RTF {base['seconds'] / audio_s:.3f}, peak {base['peak_rss_mb']:.0f} MB")
    segs = str(cache / "bench-segments.npz")
    log(
        "ours: decode → channel → 16 kHz → VAD → batched emotion2vec (fast path) → aggregates, mixed channels"
    )
    ours = run_child(["--child", "ours", model_dir, str(audio), t, args.precision, "mix", segs, *common])
    log(
        f"  {ours['seconds']:.1f} s, RTF {ours['seconds'] / audio_s:.3f}, {ours['precision']}, "
        f"{ours['segments']} segments, peak {ours['peak_rss_mb']:.0f} MB, stages {ours['timings']}"
    )
    patient = run_child(
        [
            "--child",
            "ours",
            model_dir,
            str(audio),
            t,
            args.precision,
            "left",
            str(cache / "bench-segments-left.npz"),
            *common,
        ]
    )
    log(f"  patient channel only: {patient['seconds']:.1f} s, RTF {patient['seconds'] / audio_s:.3f}")
    # The voice measures run inside the same analysis, on the same segments: their cost is their
    # stage's time against the rest of the analysis (what the analysis took without them).
    voice_s = ours["timings"].get("voice_s", 0.0)
    voice_cost = 100 * voice_s / max(ours["seconds"] - voice_s, 1e-9)
    patient_voice_s = patient["timings"].get("voice_s", 0.0)
    patient_voice_cost = 100 * patient_voice_s / max(patient["seconds"] - patient_voice_s, 1e-9)
    log(
        f"  voice measures: {voice_s:.2f} s = +{voice_cost:.1f} % of the analysis (mix); "
        f"{patient_voice_s:.2f} s = +{patient_voice_cost:.1f} % (patient channel); target ≤ 10 %"
    )
    log("patient only (voice): the mixed channels, segments attributed by the therapist's enrolled voice")
    by_voice = run_child(
        [
            "--child",
            "ours",
            model_dir,
            str(audio),
            t,
            args.precision,
            "voice",
            str(cache / "bench-segments-voice.npz"),
            *common,
        ]
    )
    speakers_s = by_voice["timings"].get("speakers_s", 0.0)
    speakers_cost = 100 * speakers_s / max(by_voice["seconds"] - speakers_s, 1e-9)
    agreement = _agreement(cache / "bench-segments-voice.npz", cache / "bench-segments-left.npz", audio_s)
    log(
        f"  {by_voice['seconds']:.1f} s; attribution {speakers_s:.2f} s = +{speakers_cost:.1f} % of the "
        f"analysis (target ≤ 15 %); speaker model load {by_voice['speaker_load_s']:.2f} s (once per worker); "
        f"seconds {by_voice['speaker_seconds']}; agrees with the left channel on {agreement:.1%} of speech"
    )
    log("fidelity: fp32 FunASR path, one segment at a time, on the same segments")
    ref = run_child(["--child", "reference", model_dir, str(audio), t, segs, str(args.fidelity_segments)])
    log(f"  {ref}")
    log("VAD beside another process busy on 2 torch threads")
    vad = run_child(["--child", "vad", str(audio), "30" if args.quick else "90"])
    log(f"  {vad}")
    workers: dict = {}
    if args.workers if args.workers is not None else not args.quick:
        precision = ours["precision"]
        log("two workers' work: 1 process × 2 threads (the recording twice) vs 2 processes × 1 thread")
        one = side_by_side(model_dir, str(audio), precision, processes=1, threads=2, runs=2)
        log(f"  1 × 2: {one}")
        two = side_by_side(model_dir, str(audio), precision, processes=2, threads=1, runs=1)
        log(f"  2 × 1: {two}")
        workers = {
            "throughput_1x2": round(one["throughput"], 2),
            "throughput_2x1": round(two["throughput"], 2),
            "two_worker_ratio": round(two["throughput"] / one["throughput"], 3),
        }
    summary = {
        "mode": "quick" if args.quick else "full",
        "model": f"emotion2vec+ {size} architecture, random-initialised",
        "threads": args.threads,
        "audio_s": round(audio_s, 2),
        "speech_s_generated": round(meta["speech_s"], 2),
        "speech": meta["speech"],
        "baseline_s": round(base["seconds"], 2),
        "ours_s": round(ours["seconds"], 2),
        "rtf": round(ours["seconds"] / audio_s, 4),
        "baseline_rtf": round(base["seconds"] / audio_s, 4),
        "speedup": round(base["seconds"] / ours["seconds"], 2),
        "precision": ours["precision"],
        "segments": ours["segments"],
        "speech_s_analysed": round(ours["speech_s"], 2),
        "stages_s": {k: round(v, 2) for k, v in ours["timings"].items() if k.endswith("_s")},
        "fidelity_cosine": round(ref["mean_cosine"], 6),
        "fidelity_min_cosine": round(ref["min_cosine"], 6),
        "max_prob_diff": round(ref["max_prob_diff"], 6),
        "top1_agreement": None if ref["top1_agreement"] is None else round(ref["top1_agreement"], 4),
        "top1_segments": ref["top1_segments"],
        "fidelity_segments": ref["compared"],
        "voice_s": round(voice_s, 2),
        "voice_cost_pct": round(voice_cost, 1),
        "patient_voice_cost_pct": round(patient_voice_cost, 1),
        "patient_channel_s": round(patient["seconds"], 2),
        "voice_channel_s": round(by_voice["seconds"], 2),
        "speakers_s": round(speakers_s, 2),
        "speakers_cost_pct": round(speakers_cost, 1),
        "speaker_load_s": round(by_voice["speaker_load_s"], 2),
        "speaker_seconds": by_voice["speaker_seconds"],
        "voice_vs_left_agreement": round(agreement, 4),
        "patient_channel_rtf": round(patient["seconds"] / audio_s, 4),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "load_peak_rss_mb": round(ours["load_peak_rss_mb"], 1),
        "analysis_peak_rss_mb": None
        if ours["analysis_peak_rss_mb"] is None
        else round(ours["analysis_peak_rss_mb"], 1),
        "vad_contended_s": round(vad["median_s"], 3),
        "vad_contended_audio_s": round(vad["audio_s"], 1),
        **workers,
        "baseline_peak_rss_mb": round(base["peak_rss_mb"], 1),
        "load_s": round(ours["load_s"], 2),
        "baseline_load_s": round(base["load_s"], 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
