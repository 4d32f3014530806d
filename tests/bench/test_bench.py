"""The benchmark script keeps working: its quick mode runs end to end and prints the JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_the_quick_benchmark_prints_the_figures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [sys.executable, "bench/engine_bench.py", "--quick", "--workers", "--cache", str(tmp_path)],
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in (
        "audio_s",
        "baseline_s",
        "ours_s",
        "rtf",
        "baseline_rtf",
        "speedup",
        "fidelity_cosine",
        "max_prob_diff",
        "peak_rss_mb",
        "load_peak_rss_mb",
        "analysis_peak_rss_mb",
        "patient_channel_rtf",
        "vad_contended_s",
        "throughput_1x2",
        "throughput_2x1",
        "two_worker_ratio",
        "top1_segments",
        "voice_s",
        "voice_cost_pct",
        "patient_voice_cost_pct",
        "speakers_s",
        "speakers_cost_pct",
        "voice_vs_left_agreement",
    ):
        assert isinstance(result[key], (int, float)), key
    assert result["audio_s"] >= 25
    assert result["voice_s"] > 0 and result["voice_cost_pct"] > 0  # measured inside the analysis
    assert result["speakers_s"] > 0 and result["speaker_seconds"]["patient"] > 0
    assert result["fidelity_cosine"] > 0.99
    assert 0 < result["segments"] and 0 < result["speech_s_analysed"] < result["audio_s"]
