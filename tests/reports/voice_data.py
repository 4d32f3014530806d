"""Voice measures for the export tests: realistic values set straight on the analyses of the
`history` fixture (the engine's own known-answer tests are in tests/ser/engine/test_voice.py; here
only the export formats are under test)."""

from __future__ import annotations

from typing import Any

from ser.engine.voice import MEASURE_KEYS
from ser.models import EmotionAnalysis
from sessions.models import TherapySession

PROVENANCE = {
    "library": "praat-parselmouth",
    "version": "0.4.7",
    "praat": "6.1.38",
    "pitch_floor_hz": 75.0,
    "pitch_ceiling_hz": 500.0,
    "min_pause_s": 0.3,
}
LIBRARY = "praat-parselmouth 0.4.7 / Praat 6.1.38"

# Per session number (f0_median_hz … hnr_db in MEASURE_KEYS order). Sessions 1–3 are the baseline;
# 4 was analysed before voice measures existed; 5 and 6 speak slower with longer pauses (below and
# above the band in both: a voice flag), and 6's voice quality could not be measured.
VALUES: dict[int, tuple[float | None, ...] | None] = {
    1: (182.4, 2.61, 58.2, 63.1, 6.12, 3.82, 4.61, 17.5, 0.62, 1.84, 16.9, 1.12, 4.31, 17.2),
    2: (178.9, 2.48, 56.9, 62.4, 5.94, 3.91, 4.72, 17.2, 0.60, 1.72, 17.2, 1.08, 4.12, 17.8),
    3: (185.1, 2.70, 59.0, 63.8, 6.30, 3.74, 4.55, 18.1, 0.64, 1.95, 16.8, 1.17, 4.40, 16.9),
    4: None,
    5: (176.2, 2.02, 54.1, 61.0, 5.41, 3.05, 4.30, 26.8, 0.91, 2.84, 17.6, 1.31, 4.82, 15.9),
    6: (171.8, 1.41, 51.7, 59.6, 4.88, 2.61, 4.12, 34.6, 1.22, 3.96, 17.0, None, None, None),
}


def voice_json(values: tuple[float | None, ...]) -> dict[str, Any]:
    reasons = {
        k: "no regular glottal periods were found"
        for k, v in zip(MEASURE_KEYS, values, strict=True)
        if v is None
    }
    return {
        "values": dict(zip(MEASURE_KEYS, values, strict=True)),
        "reasons": reasons,
        "notes": [],
        "segments": [],
        "pauses": [],
        "counts": {"syllables": 1100.0, "speaking_s": 240.0, "total_s": 300.0},
        "provenance": PROVENANCE,
    }


def add_voice(sessions: list[TherapySession]) -> None:
    """Give each session's analysis its `VALUES` (session 4 keeps `{}`: no voice measures)."""
    for session in sessions:
        values = VALUES[session.number]
        if values is not None:
            EmotionAnalysis.objects.filter(recording__session=session).update(voice=voice_json(values))
