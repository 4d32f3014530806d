"""The PDF report's look and words: page sizes, margins, colours, paragraph styles, and every word
the PDF adds (`WORDS`, marked for translation)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

PAGE_SIZES = {"a4": A4, "letter": LETTER}

WORDS: dict[str, Promise] = {
    "product": _("Speech-emotion session tracker"),
    "title": _("Emotion trend report"),
    "patient": _("Patient"),
    "record_id": _("Record id"),
    "not_recorded": _("not recorded"),
    "dob": _("Date of birth"),
    "therapist": _("Therapist"),
    "professional_id": _("professional id"),
    "range": _("Date range"),
    "count": _("Analysed sessions"),
    "generated": _("Generated"),
    "variant": _("Model variant"),
    "other_variants": _("also stored, not comparable and not shown: %(names)s"),
    "baseline": _("Baseline"),
    "flags": _("Review flags"),
    "no_flags": _("No review flags for the sessions in this range."),
    "flag_sessions": _("Sessions concerned: %(numbers)s."),
    "trajectory": _("Emotion trajectory"),
    "trajectory_note": _(
        "The nine class probabilities per session; the strip above shows each session's dominant emotion."
    ),
    "drift": _("Drift from the baseline"),
    "drift_note": _(
        "Left: Euclidean distance of each session's voice embedding from the baseline, with this "
        "patient's usual range. Right: cosine distance (1 − cosine similarity)."
    ),
    "sessions": _("Sessions"),
    "empty": _("No analysed sessions in this range: there is nothing to plot or list."),
    "col_date": _("Date"),
    "col_number": _("No."),
    "col_dominant": _("Dominant"),
    "col_confidence": _("Conf."),
    "col_euclidean": _("Eucl."),
    "col_cosine": _("Cosine"),
    "col_speech": _("Speech s"),
    "col_mark": _("Mark"),
    "mark_baseline": _("baseline"),
    "mark_beyond": _("beyond"),
    "table_note": _(
        "Conf.: the dominant emotion's share. Scores: each class's share (0–1). Eucl. and Cosine: "
        "drift of the session's voice embedding from the baseline (Euclidean distance; 1 − cosine "
        "similarity). Speech s: seconds of speech analysed. Mark: baseline = part of the baseline; "
        "beyond = drift above this patient's usual range."
    ),
    "models": _("Models"),
    "col_model_id": _("Model"),
    "col_revision": _("Revision"),
    "col_precision": _("Precision"),
    "col_model_variant": _("Variant"),
    "col_device": _("Device"),
    "col_test": _("Test checkpoint"),
    "yes": _("yes"),
    "no": _("no"),
    "no_models": _("No model results in this range."),
    "page": _("Page %(page)d of %(pages)d"),
}

MARGIN = 15 * mm
INK, MUTED, RULE = colors.HexColor("#1f2933"), colors.HexColor("#52606d"), colors.HexColor("#cbd2d9")
RED, RED_BG = colors.HexColor("#b00020"), colors.HexColor("#fdecea")
BASELINE_BG, BEYOND_BG = colors.HexColor("#e3eef7"), colors.HexColor("#fbe3d6")
TABLE_FONT_SIZES = (7.5, 7.0, 6.5, 6.0, 5.5, 5.0)


def paragraph_styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=12, textColor=INK)
    return {
        "body": body,
        "title": ParagraphStyle("title", body, fontName="Helvetica-Bold", fontSize=16, leading=20),
        "h2": ParagraphStyle(
            "h2", body, fontName="Helvetica-Bold", fontSize=11, leading=14, spaceBefore=8, spaceAfter=3
        ),
        "small": ParagraphStyle("small", body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", body, fontSize=7.5, leading=9),
        "label": ParagraphStyle("label", body, fontName="Helvetica-Bold"),
        "cell_head": ParagraphStyle("cell_head", body, fontName="Helvetica-Bold", fontSize=7.5, leading=9),
        "warning": ParagraphStyle(
            "warning", body, fontName="Helvetica-Bold", fontSize=8.5, leading=11, textColor=RED
        ),
        "notice": ParagraphStyle("notice", body, fontName="Helvetica-Bold"),
        "flag": ParagraphStyle("flag", body, leftIndent=8, spaceAfter=4),
    }
