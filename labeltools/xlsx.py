"""Pixel dumps: a label image's values in a spreadsheet, one cell per pixel.

A VOC label PNG looks like a colour picture but stores class indices; a grey label
looks black; a colour mask stores colours. Dumping the pixels to a workbook whose
cells are filled with each value's colour shows at a glance which of these a file
is. This is the only module that imports a spreadsheet writer (xlsxwriter: its
constant-memory mode writes a coloured 500x375 dump several times faster than
openpyxl, and the workbook reads back in openpyxl, LibreOffice and Excel).
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

from ._files import atomic_path, atomic_write_text
from .classnames import read_class_names
from .colormap import label_colormap
from .constants import IGNORE_INDEX
from .errors import LabelImageError, LabelValueError
from .pngio import _open, is_voc_palette
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
VOID_FONT_COLOR = "#C00000"
HEADER_FILL = "#D9D9D9"
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
    try:
        img = _open(path)
    except OSError as exc:  # Pillow reading a header cut short
        raise LabelImageError(f"{path}: cannot read image header: {exc}") from exc
    with img:
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
        try:
            crop = img.crop((x, y, x + w, y + h))
            crop.load()
        except OSError as exc:
            raise LabelImageError(f"{path}: cannot decode image: {exc}") from exc
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
    return "#{:02X}{:02X}{:02X}".format(*(int(v) for v in rgb[:3]))


def _class_names(label: Path, classes: PathLike | Sequence[str] | None) -> tuple[str, ...]:
    if classes is None:
        # A VOC dataset keeps class_names.txt beside SegmentationClass/.
        candidate = label.resolve().parent.parent / "class_names.txt"
        return read_class_names(candidate) if candidate.is_file() else ()
    if isinstance(classes, (str, os.PathLike)):
        return read_class_names(classes)
    return tuple(classes)


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
    import xlsxwriter  # only this command needs it

    source, target = Path(label), Path(out)
    region = _read_region(source, box, excel=True)
    names = _class_names(source, classes)
    keys, counts, grid = _distinct(region)
    colored = color and len(keys) <= MAX_COLOURED_VALUES
    values = _python_values(region, keys)

    with atomic_path(target, suffix=".xlsx") as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
        try:
            _write_pixels(wb, region, values, grid, colored)
            _write_legend(wb, region, values, counts, names)
            _write_info(wb, source, region, values, colored, color)
        finally:
            wb.close()
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


def _cell_format(wb: Any, region: _Region, value: Any, colored: bool) -> Any:
    spec: dict[str, Any] = {"font_size": PIXEL_FONT_SIZE, "align": "center"}
    rgb = _value_colour(region, value) if colored else None
    if rgb is not None:
        spec["bg_color"] = _hex(rgb)
        spec["font_color"] = _hex(contrast_color(rgb))
    if region.mode in _INDEX_MODES and value == IGNORE_INDEX:
        spec.update(bold=True, font_color=VOID_FONT_COLOR)
    return wb.add_format(spec)


def _write_pixels(
    wb: Any, region: _Region, values: tuple[Any, ...], grid: np.ndarray, colored: bool
) -> None:
    ws = wb.add_worksheet("pixels")
    x0, y0, w, h = region.box
    header = wb.add_format(
        {"bold": True, "font_size": PIXEL_FONT_SIZE, "align": "center", "bg_color": HEADER_FILL}
    )
    width = COLOUR_COLUMN_WIDTH if region.is_colour else INDEX_COLUMN_WIDTH
    ws.set_column(0, 0, max(width, len(str(y0 + h)) + 1.5))
    ws.set_column(HEADER_CELLS, HEADER_CELLS + w - 1, width)
    if not region.is_colour:
        ws.set_default_row(INDEX_ROW_HEIGHT)
    ws.freeze_panes(HEADER_CELLS, HEADER_CELLS)
    ws.write_string(0, 0, "y \\ x", header)
    for x in range(w):
        ws.write_number(0, HEADER_CELLS + x, x0 + x, header)
    # One format per distinct value, shared by all its cells (not one per cell).
    formats = [_cell_format(wb, region, v, colored) for v in values]
    if region.is_colour:
        put, cell_values = ws.write_string, [",".join(map(str, v)) for v in values]
    else:
        put, cell_values = ws.write_number, list(values)
    # The hot loop: 187,500 cells for a VOC-sized label, so no per-cell work beyond
    # two list look-ups (``grid`` holds each pixel's position in ``values``).
    for y, row in enumerate(grid.tolist()):
        r = HEADER_CELLS + y
        ws.write_number(r, 0, y0 + y, header)
        for x, k in enumerate(row, start=HEADER_CELLS):
            put(r, x, cell_values[k], formats[k])


def _write_legend(
    wb: Any, region: _Region, values: tuple[Any, ...], counts: np.ndarray, names: Sequence[str]
) -> None:
    ws = wb.add_worksheet("legend")
    bold = wb.add_format({"bold": True})
    share_fmt = wb.add_format({"num_format": "0.00%"})
    colour = region.is_colour
    heads = (
        ["colour (r,g,b)", "VOC index", "class", "swatch", "pixels", "share"]
        if colour
        else ["value", "class", "swatch", "pixels", "share"]
    )
    ws.write_row(0, 0, heads, bold)
    ws.set_column(0, 0, 14 if colour else 8)
    ws.set_column(heads.index("class"), heads.index("class"), 20)
    ws.freeze_panes(1, 0)
    total = int(counts.sum())
    order = np.argsort(-counts, kind="stable") if colour else np.arange(len(values))
    for row, i in enumerate(order[:MAX_COLOURED_VALUES].tolist(), start=1):
        value = values[i]
        rgb = _value_colour(region, value)
        swatch = wb.add_format({"bg_color": _hex(rgb)}) if rgb is not None else None
        if colour:
            index = _voc_index(value)
            ws.write_string(row, 0, ",".join(str(c) for c in value))
            if index is not None:
                ws.write_number(row, 1, index)
            ws.write_string(row, 2, _name_of(index, names))
            col = 3
        else:
            ws.write_number(row, 0, value)
            ws.write_string(row, 1, _name_of(value, names))
            col = 2
        ws.write_blank(row, col, None, swatch)
        ws.write_number(row, col + 1, int(counts[i]))
        ws.write_number(row, col + 2, int(counts[i]) / total, share_fmt)
    if len(values) > MAX_COLOURED_VALUES:
        ws.write_string(
            MAX_COLOURED_VALUES + 1, 0,
            f"... {len(values) - MAX_COLOURED_VALUES} less frequent values not listed",
        )


def _write_info(
    wb: Any, source: Path, region: _Region, values: tuple[Any, ...], colored: bool, color: bool
) -> None:
    ws = wb.add_worksheet("info")
    bold = wb.add_format({"bold": True})
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
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 80)
    for r, (key, text) in enumerate(rows):
        ws.write_string(r, 0, key, bold)
        ws.write_string(r, 1, text)


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
