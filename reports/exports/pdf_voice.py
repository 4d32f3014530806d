"""The PDF report's voice section: one row per session with the main voice measures (pitch,
loudness, rate, pauses, HNR), values outside the patient's usual range marked H / L, the ranges in
a line below, what computed them, the dashboard's small-multiples plot of every measure, and — for
sessions analysed before voice measures existed — how to fill them in. Split from `pdf` to keep
each module to one subject."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from ser.engine.voice import BY_KEY, MEASURES

from .. import fonts, plots
from ..report import TrendReport
from ..restrictions import join
from .pdf_style import (
    BASELINE_BG,
    BEYOND_BG,
    CELL_PAD,
    INK,
    MUTED,
    RED,
    VOICE_COLUMNS,
    fit_columns,
)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _lower(label: str) -> str:
    """A measure's name inside a sentence ("Speech rate" → "speech rate"; Chinese as it is)."""
    return label[0].lower() + label[1:] if label else label


def join_groups(items: Iterable[str]) -> str:
    """Items that hold commas of their own, in the active language's list: "a; b" or "a；b"."""
    return pgettext("list separator", "; ").join(items)


def voice_cells(report: TrendReport, words: dict[str, str]) -> list[list[str]]:
    """The voice table as printed: a two-line header (short name, unit), then one row per session;
    a value outside the band ends in " H" or " L", a missing one is "—"."""
    head = [words["col_date"], words["col_number"]]
    head += [f"{VOICE_COLUMNS[k]}\n{BY_KEY[k].unit}" for k in VOICE_COLUMNS]
    rows = [[*head, words["col_mark"]]]
    for r in report.rows:
        cells = [date_format(timezone.localtime(r.date), "SHORT_DATE_FORMAT"), str(r.number)]
        for key in VOICE_COLUMNS:
            value, side = r.voice.get(key), r.voice_beyond.get(key)
            if value is None:
                cells.append("—")
                continue
            mark = {"above": " " + words["mark_high"], "below": " " + words["mark_low"]}.get(side or "", "")
            cells.append(f"{value:.{BY_KEY[key].decimals}f}{mark}")
        rows.append([*cells, words["mark_baseline"] if r.baseline else ""])
    return rows


def _table(report: TrendReport, words: dict[str, str], width: float) -> Table:
    regular, bold = fonts.pdf_fonts()
    cells = voice_cells(report, words)
    size, widths = fit_columns(cells, width, body_font=bold)  # H/L cells are bold
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), regular, size, size + 2),
        ("FONT", (0, 0), (-1, 0), bold, size, size + 1),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("ALIGN", (1, 0), (-2, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e7eb")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7fa")]),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, MUTED),
    ]
    keys = list(VOICE_COLUMNS)
    for i, r in enumerate(report.rows, start=1):
        if r.baseline:
            style.append(("BACKGROUND", (0, i), (-1, i), BASELINE_BG))
        for key in r.voice_beyond:
            if key in VOICE_COLUMNS:
                col = 2 + keys.index(key)
                style += [
                    ("BACKGROUND", (col, i), (col, i), BEYOND_BG),
                    ("FONT", (col, i), (col, i), bold, size, size + 2),
                    ("TEXTCOLOR", (col, i), (col, i), RED),
                ]
    table.setStyle(TableStyle(style))
    return table


def band_words(report: TrendReport, words: dict[str, str]) -> str:
    """Each tabled measure's usual range, in words."""
    bands = [
        f"{VOICE_COLUMNS[k]} {b.low:.{BY_KEY[k].decimals}f}–{b.high:.{BY_KEY[k].decimals}f} {BY_KEY[k].unit}"
        for k in VOICE_COLUMNS
        if (b := report.voice_bands.get(k)) is not None
    ]
    if not bands:
        return words["voice_no_bands"]
    return words["voice_bands"] % {
        "sd": f"{settings.VOICE_BAND_SD:g}",
        "rel": f"{settings.VOICE_BAND_MIN_REL:.0%}",
        "bands": join_groups(bands),
    }


def _columns_words(words: dict[str, str]) -> str:
    columns = join_groups(
        gettext("%(short)s = %(measure)s (%(unit)s)")
        % {"short": VOICE_COLUMNS[k], "measure": _lower(gettext(BY_KEY[k].label)), "unit": BY_KEY[k].unit}
        for k in VOICE_COLUMNS
    )
    others = join(_lower(gettext(m.label)) for m in MEASURES if m.key not in VOICE_COLUMNS)
    return words["voice_columns"] % {"columns": columns, "others": others}


def _provenance_words(report: TrendReport, words: dict[str, str]) -> str:
    libraries = list(dict.fromkeys(lib for r in report.rows for lib in r.voice_provenance))
    return words["voice_provenance"] % {
        "libraries": pgettext("list", " and ").join(libraries)
        if libraries
        else words["voice_unknown_library"]
    }


def _plot(words: dict[str, str], st: dict[str, ParagraphStyle], drawing: Flowable) -> Flowable:
    return KeepTogether(
        [_p(words["voice_plot"], st["h3"]), _p(words["voice_plot_note"], st["small"]), drawing]
    )


def voice_section(
    report: TrendReport,
    words: dict[str, str],
    st: dict[str, ParagraphStyle],
    width: float,
    *,
    drawing: Callable[[bytes, float], Flowable],
) -> list[Flowable]:
    """The section; `drawing` turns the plot's SVG into a Flowable `width` wide (pdf's svglib path)."""
    heading = _p(words["voice"], st["h2"])
    if not report.has_voice:
        return [KeepTogether([heading, _p(words["voice_none"], st["body"])])]
    # The heading stays with the note and the table's first rows (a long table still splits).
    out: list[Flowable] = [
        KeepTogether(
            [heading, _p(words["voice_note"], st["small"]), Spacer(1, 2), _table(report, words, width)]
        ),
        Spacer(1, 3),
        _p(band_words(report, words), st["body"]),
        Spacer(1, 2),
        _p(_columns_words(words), st["small"]),
        _p(_provenance_words(report, words), st["small"]),
    ]
    if any(all(v is None for v in r.voice.values()) for r in report.rows):
        out.append(_p(words["voice_some_missing"], st["small"]))
    trend = report.trend
    svg = plots.voice_trend_svg(
        trend.dates,
        trend.voice,
        bands={key: (b.low, b.high) for key, b in trend.voice_bands.items()},
        baseline=list(trend.baseline),
        note=plots.footnote(report.is_test_model),
    )
    out.append(_plot(words, st, drawing(svg, width)))
    return out
