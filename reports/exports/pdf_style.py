"""The PDF report's look and words: page sizes, margins, colours, paragraph styles, and every word
the PDF adds (`WORDS`, marked for translation)."""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

from .. import fonts

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
    "flag_title": _("%(title)s."),
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
    "col_restriction": _("Speech of"),
    "col_mark": _("Mark"),
    "mark_baseline": _("baseline"),
    "mark_beyond": _("beyond"),
    "mark_differs": _("not compared"),
    # Whose speech a session rests on (reports.restrictions), one word each.
    "restriction_mix": _("both"),
    "restriction_channel": _("channel"),
    "restriction_voice": _("voice"),
    "restriction_mixed": _("mixed"),
    "table_note": _(
        "Conf.: the dominant emotion's share. Scores: each class's share (0–1). Eucl. and Cosine: "
        "drift of the session's voice embedding from the baseline (Euclidean distance; 1 − cosine "
        "similarity). Speech s: seconds of speech analysed. Speech of: both = both speakers (mixed "
        "channels, or a one-channel recording); channel = the patient's own channel; voice = the "
        "patient's speech found by voice; mixed = its recordings differ. Mark: baseline = part of the "
        "baseline; beyond = drift above this patient's usual range; not compared = restricted "
        "differently from the baseline, so its drift is not compared."
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
    "voice": _("Voice measures"),
    "voice_note": _(
        "Per session, computed on the speech the emotion model scored. H / L (bold, shaded): above / "
        "below this patient's usual range, for review, not a diagnosis; — : not measured. Baseline "
        "rows are shaded blue."
    ),
    "voice_none": _(
        "No voice measures for these sessions: they were analysed before voice measures existed. An "
        "administrator can compute them from the stored recordings with: python manage.py voice_recompute"
    ),
    "voice_some_missing": _(
        "A session with — throughout has no voice measures: analysed before they existed (python "
        "manage.py voice_recompute fills them in) or none could be computed."
    ),
    "voice_bands": _(
        "Usual range from the baseline (mean ± %(sd)s SD, at least ± %(rel)s of the mean): %(bands)s."
    ),
    "voice_no_bands": _("No usual range yet: it needs at least two baseline sessions with voice measures."),
    "voice_columns": _(
        "Columns: %(columns)s. The other measures (%(others)s) are in the CSV and FHIR exports."
    ),
    "voice_provenance": _(
        "Computed with Praat's algorithms through parselmouth: %(libraries)s. Loudness is Praat's "
        "intensity in dB, not calibrated: compare it only within this patient and one recording "
        "set-up, never between microphones."
    ),
    "voice_plot": _("Voice measures across sessions"),
    "voice_plot_note": _(
        "Every measure per session with this patient's usual range (shaded); circled: baseline sessions; "
        "triangles: above / below the range."
    ),
    "voice_unknown_library": _("praat-parselmouth (version not recorded)"),
    "mark_high": _("H"),
    "mark_low": _("L"),
    "page": _("Page %(page)d of %(pages)d"),
}

# The voice table's columns (ser.engine.voice keys) and their short headings: what fits the page
# legibly beside the date; the rest of the measures go to the CSV and FHIR exports.
VOICE_COLUMNS: dict[str, Promise] = {
    "f0_median_hz": _("F0 median"),
    "f0_sd_st": _("F0 var."),
    "intensity_median_db": _("Loudness"),
    "speech_rate": _("Speech rate"),
    "articulation_rate": _("Artic. rate"),
    "pause_ratio": _("Pause ratio"),
    "pause_mean_s": _("Mean pause"),
    "hnr_db": _("HNR"),
}

MARGIN = 15 * mm
INK, MUTED, RULE = colors.HexColor("#1f2933"), colors.HexColor("#52606d"), colors.HexColor("#cbd2d9")
RED, RED_BG = colors.HexColor("#b00020"), colors.HexColor("#fdecea")
BASELINE_BG, BEYOND_BG = colors.HexColor("#e3eef7"), colors.HexColor("#fbe3d6")
TABLE_FONT_SIZES = (7.5, 7.0, 6.5, 6.0, 5.5, 5.0)
CELL_PAD = 2.5  # points left and right of every table cell


def fit_columns(
    cells: list[list[str]], width: float, *, body_font: str | None = None
) -> tuple[float, list[float]]:
    """The largest table font size (of TABLE_FONT_SIZES) whose natural column widths fit `width`
    — the header row in bold, each of its lines measured on its own, the body in `body_font` (the
    regular face of `fonts.pdf_fonts()` by default) — and the widths, the slack shared out so the
    table spans the frame."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    regular, bold = fonts.pdf_fonts()
    body_font = body_font or regular
    for size in TABLE_FONT_SIZES:
        natural = [
            max(
                *(stringWidth(line, bold, size) for line in cells[0][c].split("\n")),
                *(stringWidth(row[c], body_font, size) for row in cells[1:]),
            )
            + 2 * CELL_PAD
            for c in range(len(cells[0]))
        ]
        if sum(natural) <= width or size == TABLE_FONT_SIZES[-1]:
            slack = max(0.0, width - sum(natural)) / len(natural)
            return size, [w + slack for w in natural]
    raise AssertionError("unreachable")


def paragraph_styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles, in the fonts of `fonts.pdf_fonts()` (Chinese included). Chinese has no
    spaces to break lines at: `wordWrap="CJK"` breaks between any two glyphs when the paragraph is
    in Chinese."""
    regular, bold = fonts.pdf_fonts()
    wrap = "CJK" if (translation.get_language() or "").lower().startswith("zh") else None
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12, textColor=INK, wordWrap=wrap)
    return {
        "body": body,
        "title": ParagraphStyle("title", body, fontName=bold, fontSize=16, leading=20),
        "h2": ParagraphStyle("h2", body, fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=3),
        "small": ParagraphStyle("small", body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", body, fontSize=7.5, leading=9),
        "label": ParagraphStyle("label", body, fontName=bold),
        "h3": ParagraphStyle(
            "h3", body, fontName=bold, fontSize=9.5, leading=12, spaceBefore=8, spaceAfter=2
        ),
        "cell_head": ParagraphStyle("cell_head", body, fontName=bold, fontSize=7.5, leading=9),
        "warning": ParagraphStyle("warning", body, fontName=bold, fontSize=8.5, leading=11, textColor=RED),
        "notice": ParagraphStyle("notice", body, fontName=bold),
        "flag": ParagraphStyle("flag", body, leftIndent=8, spaceAfter=4),
    }
