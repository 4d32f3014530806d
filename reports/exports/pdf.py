"""The trend report as a PDF (A4 or US Letter) for the clinical record: who and which range, the
notices, the baseline in words, the review flags with their reasons, the trajectory and drift plots,
one table row per session, the voice measures (`pdf_voice`), and the models behind the numbers.

Why ReportLab (platypus) and svglib: on this machine a 200-session report took 5.1 s with WeasyPrint
(HTML → layout engine) against 2.1 s with ReportLab, which lays the table out directly. svglib turns
the SVG plots of `reports.plots` into ReportLab Drawings, so the plots stay vector graphics (and
matplotlib writes its text as paths, so the plots need no fonts). The text uses Noto Sans CJK SC
(`reports.fonts.pdf_fonts`, embedded as a subset of the glyphs used), so Chinese words and names
print; without the font files it falls back to the built-in Helvetica (Windows-1252 only).

Every word is in the active language (the request's, or for a push the sending therapist's), dates
in its named formats, and the document says its language (/Lang).

Every page carries, from the page template rather than the story, the header (product, patient,
record id), the disclaimer and "Page N of M" in the footer, and — when a test checkpoint made any of
the results — the test-checkpoint warning in red, so no printed page can be taken on its own
without them. The document's metadata name no patient: they show in file listings and indexes.
All words the PDF adds are in `pdf_style.WORDS`, ready for translation."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from svglib.svglib import svg2rlg

from ser.emotions import emotion_name, emotion_names
from ser.engine.labels import EMOTIONS
from ser.engine.notices import DISCLAIMER, DISCLAIMER_LONG, TEST_MODEL_WARNING

from .. import fonts, plots
from ..charts import trend_drift_svg
from ..report import TrendReport
from ..restrictions import join
from .pdf_style import (
    BASELINE_BG,
    BEYOND_BG,
    CELL_PAD,
    INK,
    MARGIN,
    MUTED,
    PAGE_SIZES,
    RED,
    RED_BG,
    RULE,
    WORDS,
    fit_columns,
    paragraph_styles,
)
from .pdf_voice import voice_section


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _record_id(report: TrendReport, words: dict[str, str]) -> str:
    return report.patient.external_id or words["not_recorded"]


def _local(report: TrendReport) -> str:
    local = timezone.localtime(report.generated_at)
    return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} {local:%Z}"


def _therapist(report: TrendReport, words: dict[str, str]) -> str:
    user = report.therapist
    name = user.get_username()
    full = user.get_full_name().strip()
    text = f"{full} ({name})" if full else name
    if report.profile.professional_id:
        text += f", {words['professional_id']} {report.profile.professional_id}"
    return text


def _facts(report: TrendReport, words: dict[str, str], st: dict[str, ParagraphStyle]) -> Table:
    variant = report.variant or "—"
    others = [v for v in report.trend.variants if v != report.variant]
    if others:
        variant += " (" + words["other_variants"] % {"names": ", ".join(others)} + ")"
    rows: list[tuple[str, str]] = [
        (words["patient"], report.patient.display_name),
        (words["record_id"], _record_id(report, words)),
    ]
    if report.patient.date_of_birth:
        rows.append((words["dob"], date_format(report.patient.date_of_birth, "SHORT_DATE_FORMAT")))
    rows += [
        (words["therapist"], _therapist(report, words)),
        (words["range"], report.range_words),
        (words["count"], str(len(report.rows))),
        (words["generated"], _local(report)),
        (words["variant"], variant),
    ]
    table = Table(
        [[_p(k, st["label"]), _p(v, st["body"])] for k, v in rows],
        colWidths=[32 * mm, None],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _disclaimer(st: dict[str, ParagraphStyle], width: float) -> Table:
    # The test-checkpoint warning, when it applies, is in every page's header already.
    box = Table([[_p(gettext(DISCLAIMER_LONG), st["notice"])]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [("BOX", (0, 0), (-1, -1), 0.6, RULE), ("BACKGROUND", (0, 0), (-1, -1), colors.whitesmoke)]
        )
    )
    return box


def _flags(report: TrendReport, words: dict[str, str], st: dict[str, ParagraphStyle]) -> list[Flowable]:
    if not report.flags:
        return [_p(words["no_flags"], st["body"])]
    out: list[Flowable] = []
    for flag in report.flags:
        numbers = join(flag.sessions)
        title = words["flag_title"] % {"title": flag.title}
        text = f"<b>{escape(title)}</b> {escape(flag.detail)} " + escape(
            words["flag_sessions"] % {"numbers": numbers}
        )
        out.append(Paragraph(text, st["flag"]))
    return out


# svglib reads `fill-opacity` and `stroke-opacity` but not `opacity`, which matplotlib writes for a
# shape whose face and edge share one alpha (the drift plot's band): without this the band prints
# as a solid block. For a single shape the two forms look the same.
_OPACITY = re.compile(rb"(?<![-\w])opacity:\s*([0-9.]+)")


def _drawing(svg: bytes, width: float) -> Flowable:
    """An SVG plot as a vector Drawing scaled to `width`."""
    svg = _OPACITY.sub(rb"fill-opacity: \1; stroke-opacity: \1", svg)
    drawing = svg2rlg(io.BytesIO(svg))
    if drawing is None:  # svglib logs why; matplotlib's SVG always parses, so this is a bug
        raise ValueError("the plot SVG could not be read")
    scale = width / drawing.width
    drawing.scale(scale, scale)
    drawing.width, drawing.height = width, drawing.height * scale
    return drawing  # type: ignore[no-any-return]


def _plots(
    report: TrendReport, words: dict[str, str], st: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    trend = report.trend
    note = plots.footnote(report.is_test_model)
    trajectory = plots.trajectory_svg(trend.dates, trend.scores, dominant=trend.dominant, note=note)
    drift = trend_drift_svg(trend, note=note)
    return [
        KeepTogether(
            [
                _p(words["trajectory"], st["h2"]),
                _p(words["trajectory_note"], st["small"]),
                _drawing(trajectory, width),
            ]
        ),
        KeepTogether(
            [_p(words["drift"], st["h2"]), _p(words["drift_note"], st["small"]), _drawing(drift, width)]
        ),
    ]


def session_cells(report: TrendReport, words: dict[str, str]) -> list[list[str]]:
    """The sessions table as printed: a header row, then one row per session."""
    head = [words[k] for k in ("col_date", "col_number", "col_dominant", "col_confidence")]
    tail = [words[k] for k in ("col_euclidean", "col_cosine", "col_speech", "col_restriction", "col_mark")]
    rows = [[*head, *emotion_names(), *tail]]
    for r in report.rows:
        mark = words["mark_baseline"] if r.baseline else words["mark_beyond"] if r.beyond_band else ""
        if not r.drift_comparable:
            mark = f"{mark} {words['mark_differs']}".strip()
        rows.append(
            [
                date_format(timezone.localtime(r.date), "SHORT_DATE_FORMAT"),
                str(r.number),
                emotion_name(r.dominant),
                f"{r.confidence:.3f}",
                *[f"{r.scores[e]:.3f}" for e in EMOTIONS],
                f"{r.euclidean:.3f}",
                f"{r.cosine:.4f}",
                f"{r.speech_s:.0f}",
                words[f"restriction_{r.restriction}"],
                mark,
            ]
        )
    return rows


def _sessions_table(report: TrendReport, words: dict[str, str], width: float) -> Table:
    regular, bold = fonts.pdf_fonts()
    cells = session_cells(report, words)
    size, widths = fit_columns(cells, width)
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), regular, size, size + 2),
        ("FONT", (0, 0), (-1, 0), bold, size, size + 2),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("ALIGN", (3, 0), (-3, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e7eb")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7fa")]),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, MUTED),
    ]
    for i, r in enumerate(report.rows, start=1):
        if r.baseline:
            style.append(("BACKGROUND", (0, i), (-1, i), BASELINE_BG))
        elif r.beyond_band:
            style.append(("BACKGROUND", (0, i), (-1, i), BEYOND_BG))
            style.append(("TEXTCOLOR", (-1, i), (-1, i), RED))
    table.setStyle(TableStyle(style))
    return table


def _models_table(
    report: TrendReport, words: dict[str, str], st: dict[str, ParagraphStyle], width: float
) -> Flowable:
    if not report.models:
        return _p(words["no_models"], st["body"])
    keys = ("col_model_id", "col_revision", "col_precision", "col_model_variant", "col_device", "col_test")
    rows = [[_p(words[k], st["cell_head"]) for k in keys]]
    for m in report.models:
        values = (m.model_id, m.model_revision, m.precision, m.model_variant, m.device)
        test = words["yes"] if m.is_test_model else words["no"]
        rows.append([*(_p(v, st["cell"]) for v in values), _p(test, st["cell"])])
    widths = [width * f for f in (0.31, 0.19, 0.11, 0.21, 0.08, 0.10)]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, MUTED),
            ]
        )
    )
    return table


def _story(
    report: TrendReport, words: dict[str, str], st: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    story: list[Flowable] = [
        _p(words["title"], st["title"]),
        Spacer(1, 4),
        _disclaimer(st, width),
        Spacer(1, 8),
        _facts(report, words, st),
    ]
    if not report.rows:
        story += [Spacer(1, 10), _p(words["empty"], st["h2"])]
    else:
        story += [_p(words["baseline"], st["h2"]), _p(report.baseline_words, st["body"])]
        story += [_p(words["flags"], st["h2"]), *_flags(report, words, st)]
        story += _plots(report, words, st, width)
        story += [
            _p(words["sessions"], st["h2"]),
            _sessions_table(report, words, width),
            Spacer(1, 3),
            _p(words["table_note"], st["small"]),
        ]
        story += voice_section(report, words, st, width, drawing=_drawing)
    story += [KeepTogether([_p(words["models"], st["h2"]), _models_table(report, words, st, width)])]
    return story


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds every page until the end so each can say "Page N of M" (ReportLab's own recipe)."""

    def __init__(self, *args: Any, page_words: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page_words = page_words
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        regular, _ = fonts.pdf_fonts()
        for state in self._held:
            self.__dict__.update(state)
            width = self._pagesize[0]
            self.setFont(regular, 7.5)
            self.setFillColor(MUTED)
            text = self._page_words % {"page": self._pageNumber, "pages": total}
            self.drawRightString(width - MARGIN, 9 * mm, text)
            super().showPage()
        super().save()


def _shorten(text: str, room: float, font: str | None = None, size: float = 8) -> str:
    """`text`, cut with an ellipsis to fit `room` points (a long name must not run into the header)."""
    font = font or fonts.pdf_fonts()[0]
    if stringWidth(text, font, size) <= room:
        return text
    while text and stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _decorate(
    canvas: Canvas,
    doc: BaseDocTemplate,
    *,
    report: TrendReport,
    words: dict[str, str],
    warning: Paragraph | None,
) -> None:
    """What every page carries: the header, the footer's disclaimer, the test warning when it applies."""
    regular, bold = fonts.pdf_fonts()
    width, height = doc.pagesize
    canvas.saveState()
    canvas.setFont(bold, 8)
    canvas.setFillColor(INK)
    left = f"{words['product']} · {words['title']}"
    canvas.drawString(MARGIN, height - 11 * mm, left)
    canvas.setFont(regular, 8)
    ident = f" · {words['record_id']} {_record_id(report, words)}"
    room = width - 2 * MARGIN - stringWidth(left, bold, 8) - 12 - stringWidth(ident, regular, 8)
    name = _shorten(report.patient.display_name, room, regular)
    canvas.drawRightString(width - MARGIN, height - 11 * mm, name + ident)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(MARGIN, height - 13 * mm, width - MARGIN, height - 13 * mm)
    if warning is not None:
        _, h = warning.wrap(width - 2 * MARGIN - 8, height)
        top = height - 15 * mm
        canvas.setFillColor(RED_BG)
        canvas.setStrokeColor(RED)
        canvas.rect(MARGIN, top - h - 6, width - 2 * MARGIN, h + 6, stroke=1, fill=1)
        warning.drawOn(canvas, MARGIN + 4, top - h - 3)
    canvas.setStrokeColor(RULE)
    canvas.line(MARGIN, 13 * mm, width - MARGIN, 13 * mm)
    canvas.setFont(bold, 7.5)
    canvas.setFillColor(INK)
    canvas.drawString(MARGIN, 9 * mm, gettext(DISCLAIMER))
    canvas.restoreState()


def _pdf_language() -> str:
    """The document's language as a BCP 47 tag (the catalogue's /Lang): "en" or "zh-Hans"."""
    code = translation.get_language() or "en"
    return "zh-Hans" if code.lower().startswith("zh") else code.split("-")[0]


def report_pdf(report: TrendReport, *, page_size: str = "a4") -> bytes:
    """The report as PDF bytes; `page_size` is "a4" or "letter"."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size must be one of {', '.join(PAGE_SIZES)}, not {page_size!r}")
    size = PAGE_SIZES[page_size]
    words = {k: str(v) for k, v in WORDS.items()}
    st = paragraph_styles()
    width = size[0] - 2 * MARGIN
    top = 17 * mm
    warning = None
    if report.is_test_model:
        warning = _p(gettext(TEST_MODEL_WARNING), st["warning"])
        top += warning.wrap(width - 8, size[1])[1] + 8
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=size,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=top,
        bottomMargin=18 * mm,
        title=words["title"],
        author=words["product"],
        creator=words["product"],
        subject=gettext(DISCLAIMER),
        invariant=1,
        lang=_pdf_language(),
        initialFontName=fonts.pdf_fonts()[0],
    )
    frame = Frame(MARGIN, doc.bottomMargin, width, doc.height, id="body", leftPadding=0, rightPadding=0)
    decorate: Callable[[Canvas, BaseDocTemplate], None] = partial(
        _decorate, report=report, words=words, warning=warning
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    doc.build(
        _story(report, words, st, width), canvasmaker=partial(_NumberedCanvas, page_words=words["page"])
    )
    return buf.getvalue()
