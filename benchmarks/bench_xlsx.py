"""dump-xlsx vs the seed's openpyxl loop, on the same seeded VOC-sized label.

The reference is the seed write-up's code: ``openpyxl.Workbook()``, then one
``ws.append(row)`` per image row of ``pix[x, y]`` values, no colours. labeltools
writes the same values *with* a palette fill and contrasting font per cell, a
legend and an info sheet. For the record (why labeltools writes the XML itself)
two more writers do the coloured dump: xlsxwriter in constant-memory mode and
openpyxl in write-only mode, each with one cached style per distinct value.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from _timing import best_of, run_cli
from PIL import Image, ImageDraw

from labeltools import lblsave
from labeltools.colormap import label_colormap
from labeltools.viz import contrast_color
from labeltools.xlsx import dump_xlsx

#: A VOC-sized label: 500x375, a few overlapping objects with 255 borders.
SIZE = (500, 375)
QUICK_SIZE = (200, 150)
SEED = 0


def make_label(path: Path, size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    w, h = size
    img = Image.new("L", size, 0)
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        cls = int(rng.integers(1, 21))
        pts = [(float(x), float(y)) for x, y in zip(rng.uniform(0, w, 12), rng.uniform(0, h, 12))]
        draw.polygon(pts, fill=cls)
        draw.line(pts + [pts[0]], fill=255, width=5)
    lbl = np.asarray(img)
    lblsave(path, lbl)
    return lbl


def seed_loop(label: Path, out: Path) -> None:
    """The seed's code, verbatim apart from the paths."""
    import openpyxl

    img1 = Image.open(label)
    pix = img1.load()
    width = img1.size[0]
    height = img1.size[1]
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(height):
        row = []
        for j in range(width):
            row.append(pix[j, i])
        ws.append(row)
    wb.save(out)


def _hex(rgb) -> str:
    return "{:02X}{:02X}{:02X}".format(*(int(c) for c in rgb))


def xlsxwriter_coloured(label: Path, out: Path) -> None:
    import xlsxwriter

    lbl = np.array(Image.open(label))
    cmap = label_colormap()
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    ws = wb.add_worksheet("pixels")
    formats = {
        v: wb.add_format({
            "bg_color": "#" + _hex(cmap[v]), "font_color": "#" + _hex(contrast_color(cmap[v])),
            "font_size": 8, "align": "center",
        })
        for v in np.unique(lbl).tolist()
    }
    ws.freeze_panes(1, 1)
    ws.write_row(0, 1, list(range(lbl.shape[1])))
    for y, row in enumerate(lbl.tolist(), start=1):
        ws.write_number(y, 0, y - 1)
        for x, v in enumerate(row, start=1):
            ws.write_number(y, x, v, formats[v])
    wb.close()


def openpyxl_write_only_coloured(label: Path, out: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    lbl = np.array(Image.open(label))
    cmap = label_colormap()
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("pixels")
    protos = {}
    for v in np.unique(lbl).tolist():
        cell = WriteOnlyCell(ws, value=v)
        cell.fill = PatternFill("solid", fgColor=_hex(cmap[v]))
        cell.font = Font(size=8, color=_hex(contrast_color(cmap[v])))
        cell.alignment = Alignment(horizontal="center")
        protos[v] = cell
    ws.append([None, *range(lbl.shape[1])])
    for y, row in enumerate(lbl.tolist()):
        cells: list = [y]
        for v in row:
            cell = WriteOnlyCell(ws, value=v)
            cell._style = protos[v]._style  # share the cached style, not a copy per cell
            cells.append(cell)
        ws.append(cells)
    wb.save(out)


def run(workdir: Path, quick: bool) -> list[str]:
    size = QUICK_SIZE if quick else SIZE
    repeat = 1 if quick else 3
    label = workdir / "label.png"
    make_label(label, size)
    counter = itertools.count()

    def fresh(name: str) -> Path:
        folder = workdir / f"run{next(counter)}"
        folder.mkdir()
        return folder / name

    seed = best_of(lambda: seed_loop(label, fresh("seed.xlsx")), repeat)
    ours = best_of(lambda: dump_xlsx(label, fresh("dump.xlsx")), repeat)
    # The whole command, Python start-up and imports included.
    cli = best_of(lambda: run_cli("dump-xlsx", str(label), str(fresh("cli.xlsx"))), repeat)
    lines = [
        f"label {size[0]}x{size[1]} ({size[0] * size[1]:,} cells), best of {repeat}",
        f"seed openpyxl loop (no colours):        {seed:6.3f} s",
        f"dump-xlsx (colours, legend, info):      {ours:6.3f} s  "
        f"-> {seed / ours:.1f}x faster than the seed loop",
        f"`labeltools dump-xlsx`, whole process:  {cli:6.3f} s  "
        f"-> {seed / cli:.1f}x faster than the seed loop (start-up included)",
    ]
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        lines.append("xlsxwriter not installed: its comparison skipped")
    else:
        xw = best_of(lambda: xlsxwriter_coloured(label, fresh("xw.xlsx")), repeat)
        lines.append(
            f"xlsxwriter constant_memory (colours):   {xw:6.3f} s  "
            f"-> {seed / xw:.1f}x the seed loop; dump-xlsx is {xw / ours:.1f}x faster"
        )
    wo = best_of(lambda: openpyxl_write_only_coloured(label, fresh("wo.xlsx")), repeat)
    lines.append(
        f"openpyxl write_only (colours):          {wo:6.3f} s  "
        f"-> {seed / wo:.1f}x the seed loop; dump-xlsx is {wo / ours:.1f}x faster"
    )
    return lines
