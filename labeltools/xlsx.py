"""Pixel dumps: a label image's values in a spreadsheet, one cell per pixel.

A VOC label PNG looks like a colour picture but stores class indices; a grey label
looks black; a colour mask stores colours. Dumping the pixels to a workbook whose
cells are filled with each value's colour shows at a glance which of these a file
is. The workbook is written by :mod:`labeltools._xlsxwrite`, a minimal writer that
builds each row of cells with one string join: several times faster than
xlsxwriter or openpyxl on the 187,500 cells of a VOC-sized label (see
``benchmarks/bench_xlsx.py``); the files read back in openpyxl and LibreOffice.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._xlsxwrite import Style, Workbook
from .colormap import label_colormap
from .constants import IGNORE_INDEX, IGNORE_NAME
from .errors import LabelImageError, LabelValueError
from .formats.voc import CLASS_NAMES_FILE
from .io.errors import pillow_errors
from .io.files import atomic_path, atomic_write_text
from .io.images import is_voc_palette, open_header
from .labels import class_names_by_index
from .viz import contrast_color

__all__ = ["PixelDump", "dump_csv", "dump_xlsx", "parse_box"]

PathLike = str | os.PathLike[str]

#: Excel's sheet size (also LibreOffice's since 7.4).
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_ROWS = 1_048_576
#: One header row (x) and one header column (y) hold the pixel coordinates.
HEADER_CELLS = 1
#: Column width (in characters) and row height (in points) that make a pixel cell
#: roughly square at the default zoom while a 3-digit value still fits.
INDEX_COLUMN_WIDTH = 3.6
INDEX_ROW_HEIGHT = 21.0
#: ``"255,255,255"`` needs a wider column: colour-mask cells cannot be square.
COLOUR_COLUMN_WIDTH = 10.0
PIXEL_FONT_SIZE = 8
#: More distinct values than this (a photo or a JPEG-compressed mask, not a label)
#: get no fills and a truncated legend: every format is a style record in the file.
MAX_COLOURED_VALUES = 1024
#: How 255 (void) stands out besides its pale VOC colour: bold dark-red digits.
VOID_FONT_COLOR = "C00000"
HEADER_FILL = "D9D9D9"
#: Class names for 255 when the names file has no 255th line.
VOID_NAME = "void / ignore"
#: The ``info`` sheet lists at most this many distinct values.
MAX_INFO_VALUES = 256

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class PixelDump:
    """What :func:`dump_xlsx` / :func:`dump_csv` wrote.

    ``size`` is the whole image's ``(width, height)``; ``box`` the dumped region
    ``(x, y, w, h)``. ``values`` are the distinct pixel values of the region (ints
    for index images, ``(r, g, b)`` or ``(r, g, b, a)`` tuples for colour masks),
    sorted, with ``counts`` their pixel counts.
    """

    source: Path
    out: Path
    format: str
    mode: str
    size: tuple[int, int]
    box: Box
    palette: str
    values: tuple[Any, ...]
    counts: tuple[int, ...]
    colored: bool


def parse_box(text: str) -> Box:
    """Parse ``"x,y,w,h"`` (non-negative x, y; positive w, h) into a tuple of ints."""
    parts = [p.strip() for p in text.split(",")]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"expected x,y,w,h (four integers), got {text!r}") from None
    if x < 0 or y < 0 or w < 1 or h < 1:
        raise ValueError(f"expected x, y >= 0 and w, h >= 1, got {text!r}")
    return x, y, w, h


@dataclass(frozen=True)
class _Region:
    """The decoded pixels of the dumped region and how to colour them."""

    mode: str
    size: tuple[int, int]
    box: Box
    pixels: np.ndarray  # (h, w) ints for index images; (h, w, 3|4) uint8 for colour masks
    palette: np.ndarray | None  # (256, 3) uint8 colours of indices 0..255, or None
    palette_kind: str

    @property
    def is_colour(self) -> bool:
        return self.pixels.ndim == 3


_INDEX_MODES = ("P", "L", "1")
_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I")
_COLOUR_MODES = ("RGB", "RGBA")


def _check_box(path: PathLike, box: Box | None, size: tuple[int, int]) -> Box:
    width, height = size
    if box is None:
        return 0, 0, width, height
    x, y, w, h = box
    if x < 0 or y < 0 or w < 1 or h < 1:
        raise LabelValueError(f"{path}: --box {x},{y},{w},{h} needs x, y >= 0 and w, h >= 1")
    if x + w > width or y + h > height:
        raise LabelValueError(
            f"{path}: --box {x},{y},{w},{h} reaches x + w = {x + w}, y + h = {y + h} "
            f"beyond the {width}x{height} image"
        )
    return x, y, w, h


def _check_excel_limits(path: PathLike, box: Box, whole: bool) -> None:
    _, _, w, h = box
    cols, rows = w + HEADER_CELLS, h + HEADER_CELLS
    if cols > EXCEL_MAX_COLUMNS or rows > EXCEL_MAX_ROWS:
        what = "the image" if whole else "the --box region"
        raise LabelValueError(
            f"{path}: {what} is {w}x{h} pixels, which needs {cols} columns and {rows} rows "
            f"with the coordinate headers; a sheet holds at most {EXCEL_MAX_COLUMNS} columns "
            f"and {EXCEL_MAX_ROWS} rows: dump a region with --box x,y,w,h, or use --csv"
        )


def _read_region(path: PathLike, box: Box | None, excel: bool) -> _Region:
    with open_header(path) as img:  # a header cut short is open_header's ImageReadError
        mode = img.mode
        if mode not in _INDEX_MODES + _WIDE_MODES + _COLOUR_MODES:
            raise LabelImageError(
                f"{path}: expected a P, L, RGB or 16-bit label image, found mode {mode}"
            )
        region = _check_box(path, box, img.size)
        # Both limits are checked on the header alone, before decoding anything big.
        if excel:
            _check_excel_limits(path, region, box is None)
        x, y, w, h = region
        with pillow_errors(path, "pixels", error=LabelImageError):
            crop = img.crop((x, y, x + w, y + h))
            crop.load()
        palette: np.ndarray | None
        if mode == "P":
            raw = np.asarray(img.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)[:256]
            palette = np.zeros((256, 3), dtype=np.uint8)
            palette[: len(raw)] = raw
            kind = "VOC" if is_voc_palette(img) else "other"
            pixels = np.asarray(crop, dtype=np.uint8)
        elif mode in ("L", "1"):
            palette, kind = label_colormap(256), "none (greyscale indices)"
            pixels = np.asarray(crop.convert("L"), dtype=np.uint8)
            if mode == "1":
                pixels = pixels // 255
        elif mode in _WIDE_MODES:
            # 16-bit labels keep their values; 0..255 still get their VOC colour.
            palette, kind = label_colormap(256), "none (16-bit values)"
            pixels = np.asarray(crop).astype(np.int64)
        else:
            palette, kind = None, "none (colour mask)"
            pixels = np.asarray(crop, dtype=np.uint8)
        return _Region(mode, img.size, region, pixels, palette, kind)


def _distinct(region: _Region) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values (as int keys), their counts, and the per-pixel key grid."""
    px = region.pixels
    if region.is_colour:
        channels = px.shape[2]
        keys = np.zeros(px.shape[:2], dtype=np.int64)
        for c in range(channels):
            keys = (keys << 8) | px[:, :, c]
    else:
        keys = px.astype(np.int64, copy=False)
    values, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return values, counts, inverse.reshape(keys.shape)


def _key_to_channels(key: int, channels: int) -> tuple[int, ...]:
    return tuple((key >> (8 * (channels - 1 - c))) & 0xFF for c in range(channels))


def _voc_index(rgba: tuple[int, ...]) -> int | None:
    if len(rgba) == 4 and rgba[3] != 255:
        return None
    matches = np.flatnonzero((label_colormap(256) == np.asarray(rgba[:3])).all(axis=1))
    return int(matches[0]) if matches.size else None


def _hex(rgb: Sequence[int]) -> str:
    return "{:02X}{:02X}{:02X}".format(*(int(v) for v in rgb[:3]))


def _class_names(label: Path, classes: PathLike | Sequence[str] | None) -> tuple[str, ...]:
    if classes is None:
        # A VOC dataset keeps class_names.txt beside SegmentationClass/.
        candidate = label.resolve().parent.parent / CLASS_NAMES_FILE
        if not candidate.is_file():
            return ()
        classes = candidate
    if isinstance(classes, (str, os.PathLike)):
        return class_names_by_index(classes)
    # labelme's labels.txt starts with __ignore__, which is 255, not index 0.
    names = tuple(classes)
    return names[1:] if names and names[0] == IGNORE_NAME else names


def _name_of(index: int | None, names: Sequence[str]) -> str:
    if index is None:
        return ""
    if 0 <= index < len(names):
        return names[index]
    return VOID_NAME if index == IGNORE_INDEX else ""


def _python_values(region: _Region, keys: np.ndarray) -> tuple[Any, ...]:
    if region.is_colour:
        return tuple(_key_to_channels(int(k), region.pixels.shape[2]) for k in keys)
    return tuple(int(k) for k in keys)


def dump_xlsx(
    label: PathLike,
    out: PathLike,
    *,
    box: Box | None = None,
    classes: PathLike | Sequence[str] | None = None,
    color: bool = True,
) -> PixelDump:
    """Write ``label``'s pixel values to an Excel workbook ``out``, one cell per pixel.

    Sheets: ``pixels`` (row = y, column = x, coordinate headers, frozen panes, each
    cell filled with its value's palette colour unless ``color=False``), ``legend``
    (value, class name, swatch, pixel count, share) and ``info`` (file, mode, size,
    palette kind, distinct values). P and L images give indices, 16-bit images their
    values, RGB/RGBA colour masks ``"r,g,b"`` text (with the VOC index in the legend).

    ``box=(x, y, w, h)`` dumps a region. An image (or region) beyond Excel's sheet
    size raises :class:`~labeltools.errors.LabelValueError` before anything is
    decoded. ``classes``: a class-names file or a list of names; by default the
    ``class_names.txt`` in the parent of the label's folder, if there is one.
    The write is atomic.
    """
    source, target = Path(label), Path(out)
    region = _read_region(source, box, excel=True)
    names = _class_names(source, classes)
    keys, counts, grid = _distinct(region)
    colored = color and len(keys) <= MAX_COLOURED_VALUES
    values = _python_values(region, keys)

    with Workbook() as wb, atomic_path(target, suffix=".xlsx") as tmp:
        _write_pixels(wb, region, values, grid, colored)
        _write_legend(wb, region, values, counts, names)
        _write_info(wb, source, region, values, colored, color)
        wb.save(tmp)
    return PixelDump(
        source, target, "xlsx", region.mode, region.size, region.box, region.palette_kind,
        values, tuple(int(c) for c in counts), colored,
    )


def _value_colour(region: _Region, value: Any) -> tuple[int, ...] | None:
    if region.is_colour:
        return value[:3]
    if region.palette is not None and 0 <= value < len(region.palette):
        return tuple(int(c) for c in region.palette[value])
    return None


def _cell_style(region: _Region, value: Any, colored: bool) -> Style:
    rgb = _value_colour(region, value) if colored else None
    fill = font_color = None
    if rgb is not None:
        fill, font_color = _hex(rgb), _hex(contrast_color(rgb))
    void = region.mode in _INDEX_MODES and value == IGNORE_INDEX
    return Style(
        font_size=PIXEL_FONT_SIZE,
        bold=void,
        font_color=VOID_FONT_COLOR if void else font_color,
        fill=fill,
        center=True,
    )


def _write_pixels(
    wb: Workbook, region: _Region, values: tuple[Any, ...], grid: np.ndarray, colored: bool
) -> None:
    ws = wb.add_sheet("pixels")
    x0, y0, w, h = region.box
    header = Style(font_size=PIXEL_FONT_SIZE, bold=True, fill=HEADER_FILL, center=True)
    width = COLOUR_COLUMN_WIDTH if region.is_colour else INDEX_COLUMN_WIDTH
    ws.set_column_width(0, 0, max(width, len(str(y0 + h)) + 1.5))
    ws.set_column_width(HEADER_CELLS, HEADER_CELLS + w - 1, width)
    if not region.is_colour:
        ws.set_default_row_height(INDEX_ROW_HEIGHT)
    ws.freeze(HEADER_CELLS, HEADER_CELLS)
    ws.fit_to_page_width()
    ws.append(["y \\ x", *range(x0, x0 + w)], header)

    # The hot loop: 187,500 cells for a VOC-sized label. A cell's XML depends only on
    # its column (the reference's letters) and its value (style and content), so both
    # halves are built once and each row is a single join.
    header_id = wb.style_id(header)
    tails = []
    for value in values:
        sid = wb.style_id(_cell_style(region, value, colored))
        if region.is_colour:
            text = ",".join(map(str, value))
            tails.append(f'" s="{sid}" t="inlineStr"><is><t>{text}</t></is></c>')
        else:
            tails.append(f'" s="{sid}"><v>{value}</v></c>')
    heads = ['<c r="' + letter for letter in ws.letters(HEADER_CELLS + w)[HEADER_CELLS:]]
    for y, row in enumerate(grid.tolist()):
        r = str(ws.next_row)
        first = f'<c r="A{r}" s="{header_id}"><v>{y0 + y}</v></c>'
        ws.append_xml([first, *[hx + r + tails[k] for hx, k in zip(heads, row)]], HEADER_CELLS + w)


def _write_legend(
    wb: Workbook, region: _Region, values: tuple[Any, ...], counts: np.ndarray, names: Sequence[str]
) -> None:
    ws = wb.add_sheet("legend")
    bold = Style(bold=True)
    share = Style(num_format="0.00%")
    colour = region.is_colour
    heads = (
        ["colour (r,g,b)", "VOC index", "class", "swatch", "pixels", "share"]
        if colour
        else ["value", "class", "swatch", "pixels", "share"]
    )
    ws.append(heads, bold)
    ws.set_column_width(0, 0, 14 if colour else 8)
    ws.set_column_width(heads.index("class"), heads.index("class"), 20)
    ws.freeze(1, 0)
    total = int(counts.sum())
    # Colour masks: most frequent colour first (there may be many); indices in order.
    order = np.argsort(-counts, kind="stable") if colour else np.arange(len(values))
    for i in order[:MAX_COLOURED_VALUES].tolist():
        value = values[i]
        rgb = _value_colour(region, value)
        swatch = Style(fill=_hex(rgb)) if rgb is not None else None
        n = int(counts[i])
        if colour:
            index = _voc_index(value)
            row: list[Any] = [",".join(map(str, value)), index, _name_of(index, names)]
        else:
            row = [value, _name_of(value, names)]
        ws.append([*row, None, n, n / total], [*([None] * len(row)), swatch, None, share])
    if len(values) > MAX_COLOURED_VALUES:
        ws.append([f"... {len(values) - MAX_COLOURED_VALUES} less frequent values not listed"])


def _write_info(
    wb: Workbook, source: Path, region: _Region, values: tuple[Any, ...], colored: bool, color: bool
) -> None:
    ws = wb.add_sheet("info")
    bold = Style(bold=True)
    x, y, w, h = region.box
    shown = values[:MAX_INFO_VALUES]
    listed = "; ".join(",".join(map(str, v)) if region.is_colour else str(v) for v in shown)
    if len(values) > len(shown):
        listed += f"; ... ({len(values) - len(shown)} more)"
    rows = [
        ("file", str(source)),
        ("mode", region.mode),
        ("size", f"{region.size[0]}x{region.size[1]}"),
        ("region", f"x={x} y={y} w={w} h={h}"),
        ("palette", region.palette_kind),
        ("unique values", str(len(values))),
        ("values", listed),
    ]
    if region.is_colour:
        rows.append((
            "note",
            "an RGB colour mask: cells hold r,g,b colours, not class indices; "
            "the legend gives the VOC index of VOC colours; convert with `labeltools rgb2index`",
        ))
    if color and not colored:
        rows.append((
            "note",
            f"{len(values)} distinct values: too many to colour (at most {MAX_COLOURED_VALUES})",
        ))
    ws.set_column_width(0, 0, 14)
    ws.set_column_width(1, 1, 80)
    for key, text in rows:
        ws.append([key, text], [bold, None])


def dump_csv(label: PathLike, out: PathLike, *, box: Box | None = None) -> PixelDump:
    """Write ``label``'s pixel values as a plain CSV grid (row = y, column = x, no headers).

    Index images give integers, colour masks ``"r,g,b"`` strings. No sheet-size
    limit applies. The write is atomic.
    """
    source, target = Path(label), Path(out)
    region = _read_region(source, box, excel=False)
    keys, counts, grid = _distinct(region)
    values = _python_values(region, keys)
    buf = io.StringIO()
    if region.is_colour:
        texts = [",".join(map(str, v)) for v in values]
        writer = csv.writer(buf, lineterminator="\n")
        for row in grid.tolist():
            writer.writerow([texts[k] for k in row])
    else:
        np.savetxt(buf, region.pixels, fmt="%d", delimiter=",")
    atomic_write_text(target, buf.getvalue())
    return PixelDump(
        source, target, "csv", region.mode, region.size, region.box, region.palette_kind,
        values, tuple(int(c) for c in counts), False,
    )
