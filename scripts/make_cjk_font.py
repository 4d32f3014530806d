"""Make TrueType copies of Debian's Noto Sans CJK SC (fonts-noto-cjk) for the PDF reports.

ReportLab embeds TrueType outlines only; Debian ships Noto CJK as OpenType collections with CFF
(PostScript) outlines. This converts the Simplified Chinese face of each weight to quadratic
TrueType outlines with fontTools (cu2qu, the conversion Google's own font tools use), keeping every
glyph. Run by scripts/bootstrap.sh and the Dockerfile; ~35 s per weight, once.

    python scripts/make_cjk_font.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable

SOURCES = {
    "Regular": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    "Bold": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
}
FACE = "Noto Sans CJK SC"


def convert(source: Path, target: Path) -> None:
    collection = TTCollection(str(source))
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == FACE)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
        "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
    ):  # fmt: skip
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = 1
    font["post"].formatType = 3.0  # no glyph names: 65k of them overflow format 2
    tmp = target.with_suffix(".tmp")
    font.save(str(tmp))
    tmp.replace(target)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "var/fonts")
    out.mkdir(parents=True, exist_ok=True)
    weight = sys.argv[2] if len(sys.argv) > 2 else None
    for name, source in SOURCES.items():
        if weight and name != weight:
            continue
        target = out / f"NotoSansCJKsc-{name}.ttf"
        if target.exists():
            continue
        if not source.exists():
            print(f"{source} is missing: install the Debian package fonts-noto-cjk", file=sys.stderr)
            return 1
        convert(source, target)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
