"""The trend report as CSV: one row per analysed session, the columns in `COLUMNS` (the README lists
them). Column names and coded cells (`dominant_emotion`, `restriction`) are stable English keys for
machines; the `*_display` columns at the end say the same for people, in the request's language, as
does the `notice`. UTF-8 with a byte-order mark, so spreadsheet programs read non-ASCII names
correctly; numbers with a fixed number of decimals and a dot as the decimal mark; text that a
spreadsheet would run as a formula is quoted with a leading apostrophe."""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from ser.emotions import emotion_name
from ser.engine.labels import EMOTIONS
from ser.engine.voice import MEASURES

from ..report import ReportRow, TrendReport
from ..restrictions import WORDS

COLUMNS: list[tuple[str, str]] = [
    ("session_id", "the session's id (UUID)"),
    ("session_number", "the session's number for this patient"),
    ("session_date", "start, ISO 8601 with the clinic's UTC offset"),
    ("dominant_emotion", "the class with the highest share"),
    ("confidence", "that class's share, 0–1, 4 decimals"),
    *[(f"score_{e}", f"share of '{e}', 0–1, 4 decimals") for e in EMOTIONS],
    ("euclidean_drift", "distance of the session's embedding from the baseline, 4 decimals"),
    ("cosine_drift", "1 − cosine similarity to the baseline, 6 decimals"),
    ("speech_seconds", "seconds of speech the model scored, 1 decimal"),
    (
        "restriction",
        "whose speech: mix (both speakers), channel (the patient's channel), voice (patient only, by "
        "voice), mixed (its recordings differ)",
    ),
    ("drift_comparable", "1 when restricted like the baseline; 0: its drift is not compared"),
    ("is_baseline", "1 when the session is part of the baseline"),
    ("beyond_band", "1 when the drift is above the patient's usual range"),
    *[
        (f"voice_{m.key}", f"{m.label}, {m.unit}: {m.help}; {m.decimals} decimals, empty when not measured")
        for m in MEASURES
    ],
    (
        "voice_beyond_band",
        "the voice measures outside this patient's usual range, as key:above or key:below, space-separated",
    ),
    ("model_id", "model (hub id or directory); several joined by ' | '"),
    ("model_revision", "sha256 prefix of the weights"),
    ("model_variant", "embeddings compare only within a variant"),
    ("precision", "numeric path (fp32, bf16, int8)"),
    ("voice_library", "what computed the voice measures (praat-parselmouth and Praat versions)"),
    ("test_checkpoint", "1 when a random-initialised test model made it: not a clinical result"),
    ("notice", "decision support, not a diagnosis"),
    # Added last, so the columns before keep their places.
    ("dominant_emotion_display", "the dominant emotion's name in the report's language"),
    ("restriction_display", "whose speech, in words in the report's language"),
]
HEADER = [name for name, _ in COLUMNS]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def _joined(row: ReportRow, attr: str) -> str:
    return " | ".join(dict.fromkeys(_text(str(getattr(m, attr))) for m in row.models))


def _voice(row: ReportRow) -> list[str]:
    values = [row.voice.get(m.key) for m in MEASURES]
    cells = ["" if v is None else f"{v:.{m.decimals}f}" for m, v in zip(MEASURES, values, strict=True)]
    beyond = " ".join(f"{m.key}:{row.voice_beyond[m.key]}" for m in MEASURES if m.key in row.voice_beyond)
    return [*cells, beyond]


def _row(report: TrendReport, row: ReportRow) -> list[str]:
    test = any(m.is_test_model for m in row.models)
    return [
        row.session_id,
        str(row.number),
        timezone.localtime(row.date).isoformat(timespec="seconds"),
        row.dominant,
        f"{row.confidence:.4f}",
        *[f"{row.scores[e]:.4f}" for e in EMOTIONS],
        f"{row.euclidean:.4f}",
        f"{row.cosine:.6f}",
        f"{row.speech_s:.1f}",
        row.restriction,
        "1" if row.drift_comparable else "0",
        "1" if row.baseline else "0",
        "1" if row.beyond_band else "0",
        *_voice(row),
        _joined(row, "model_id"),
        _joined(row, "model_revision"),
        _joined(row, "model_variant"),
        _joined(row, "precision"),
        " | ".join(_text(p) for p in row.voice_provenance),
        "1" if test else "0",
        " ".join(report.notices) if test else report.notices[-1],
        _text(emotion_name(row.dominant)),
        _text(str(WORDS[row.restriction])),
    ]


def report_csv(report: TrendReport) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(HEADER)
    for row in report.rows:
        writer.writerow(_row(report, row))
    return buf.getvalue().encode("utf-8-sig")
