"""Fonts with Chinese in them, for the plots (matplotlib) and the PDF (ReportLab).

Noto Sans CJK SC from Debian (fonts-noto-cjk), converted to TrueType outlines once by
scripts/make_cjk_font.py (ReportLab cannot embed the CFF outlines Debian ships); bootstrap and the
Dockerfile make the files in var/fonts/. The PDF embeds only the glyphs it uses. Without the
files the PDF falls back to Helvetica (no Chinese: a warning is logged once) and the plots to
matplotlib's own font."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

FAMILY = "Noto Sans CJK SC"
PDF_REGULAR, PDF_BOLD = "NotoSansCJKsc", "NotoSansCJKsc-Bold"
FALLBACK = ("Helvetica", "Helvetica-Bold")


def font_files() -> dict[str, Path]:
    folder = Path(settings.BASE_DIR) / "var" / "fonts"
    return {"regular": folder / "NotoSansCJKsc-Regular.ttf", "bold": folder / "NotoSansCJKsc-Bold.ttf"}


@cache
def pdf_fonts() -> tuple[str, str]:
    """ReportLab font names (regular, bold) that cover Chinese, registered once per process."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    files = font_files()
    if not all(p.is_file() for p in files.values()):
        log.warning(
            "no CJK font in %s: PDF reports cannot show Chinese (run scripts/bootstrap.sh)",
            files["regular"].parent,
        )
        return FALLBACK
    pdfmetrics.registerFont(TTFont(PDF_REGULAR, str(files["regular"])))
    pdfmetrics.registerFont(TTFont(PDF_BOLD, str(files["bold"])))
    # <b> in a Paragraph picks the bold face of the family.
    addMapping(PDF_REGULAR, 0, 0, PDF_REGULAR)
    addMapping(PDF_REGULAR, 1, 0, PDF_BOLD)
    addMapping(PDF_REGULAR, 0, 1, PDF_REGULAR)
    addMapping(PDF_REGULAR, 1, 1, PDF_BOLD)
    return PDF_REGULAR, PDF_BOLD


@cache
def matplotlib_families() -> list[str]:
    """`rcParams["font.family"]` for the plots: matplotlib's own sans-serif first (Latin, digits),
    then Noto Sans CJK SC, which matplotlib (≥ 3.6) falls back to glyph by glyph for Chinese. (A
    list in `font.family` is what falls back; the generic "sans-serif" picks one family only.)"""
    from matplotlib import font_manager, rcParams

    own = str(rcParams["font.sans-serif"][0])
    for path in font_files().values():
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
    if any(f.name == FAMILY for f in font_manager.fontManager.ttflist):
        return [own, FAMILY]
    log.warning("no %s font: plots cannot show Chinese (run scripts/bootstrap.sh)", FAMILY)
    return [own]
