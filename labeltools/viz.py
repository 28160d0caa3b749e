"""Pictures for people: palette legends (more views are added by the commands that need them)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .colormap import label_colormap

__all__ = ["confusion_matrix_image", "contrast_color", "font", "palette_legend"]


@lru_cache(maxsize=8)
def font(size: int = 14) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font (no system fonts needed on a server)."""
    return ImageFont.load_default(size=size)


def contrast_color(rgb: Sequence[int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on ``rgb`` (ITU-R BT.601 luma)."""
    r, g, b = (int(v) for v in rgb[:3])
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b >= 128 else (255, 255, 255)


def palette_legend(
    indices: Sequence[int],
    names: Sequence[str] | None = None,
    *,
    swatch: int = 22,
    font_size: int = 14,
) -> Image.Image:
    """An RGB image listing each index with its colour swatch, number and name.

    ``names[i]`` names ``indices[i]``; without names only the numbers are drawn.
    """
    if names is not None and len(names) != len(indices):
        raise ValueError(f"palette_legend: {len(indices)} indices but {len(names)} names")
    cmap = label_colormap(256)
    fnt = font(font_size)
    pad = 6
    labels = [
        f"{i:3d}  {names[k]}" if names is not None else f"{i:3d}" for k, i in enumerate(indices)
    ]
    text_w = max((int(fnt.getlength(t)) for t in labels), default=0)
    row_h = swatch + 4
    width = pad * 3 + swatch + text_w + pad
    height = pad * 2 + row_h * max(1, len(indices))
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for row, (index, text) in enumerate(zip(indices, labels)):
        y = pad + row * row_h
        color = tuple(int(c) for c in cmap[index])
        draw.rectangle([pad, y, pad + swatch, y + swatch], fill=color, outline=(96, 96, 96))
        draw.text((pad * 2 + swatch, y + swatch / 2), text, fill=(0, 0, 0), font=fnt, anchor="lm")
    return img


#: Heatmap end colours: white for 0 %, dark blue for 100 % of a ground-truth row.
_HEAT_LOW = np.array([255, 255, 255], dtype=np.float64)
_HEAT_HIGH = np.array([8, 48, 107], dtype=np.float64)
#: Cells of a class with no ground-truth pixels (a row that cannot be normalised).
_NO_DATA = (225, 225, 225)
_GRID = (190, 190, 190)
_INK = (0, 0, 0)


def _vertical_text(text: str, fnt: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> Image.Image:
    """``text`` drawn bottom-to-top on a white RGB strip (for column headers)."""
    left, top, right, bottom = fnt.getbbox(text)
    strip = Image.new("RGB", (max(1, right) + 2, max(1, bottom) + 2), (255, 255, 255))
    ImageDraw.Draw(strip).text((1, 1), text, fill=_INK, font=fnt)
    return strip.rotate(90, expand=True)


def confusion_matrix_image(
    counts: np.ndarray,
    names: Sequence[str] | None = None,
    *,
    cell: int = 34,
    font_size: int = 12,
) -> Image.Image:
    """A row-normalised confusion-matrix heatmap: rows ground truth, columns prediction.

    Each cell shows the percentage of its row's ground-truth pixels (blank when
    none; "<1" when under half a percent), so the diagonal reads as per-class
    accuracy. Rows of classes absent from the ground truth are grey. Class labels
    ("index name") run down the left and up the top.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(
            f"confusion_matrix_image: expected a square (C, C) matrix, got shape {counts.shape}"
        )
    n = counts.shape[0]
    if names is not None and len(names) != n:
        raise ValueError(f"confusion_matrix_image: {n} classes but {len(names)} names")
    labels = [f"{i} {names[i]}" if names is not None else str(i) for i in range(n)]
    rows = counts.sum(axis=1)
    share = np.zeros_like(counts)
    np.divide(counts, rows[:, None], out=share, where=rows[:, None] > 0)

    fnt = font(font_size)
    title_fnt = font(font_size + 2)
    pad = 8
    label_w = max(int(fnt.getlength(t)) for t in labels) + pad
    headers = [_vertical_text(t, fnt) for t in labels]
    header_h = max(h.height for h in headers) + pad
    title = "ground truth (rows, each sums to 100 %) vs prediction (columns)"
    title_h = font_size + 2 + 2 * pad
    grid_w = n * cell
    width = max(pad + label_w + grid_w + pad, pad * 2 + int(title_fnt.getlength(title)))
    height = title_h + header_h + n * cell + pad
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.text((pad, pad), title, fill=_INK, font=title_fnt)
    x0, y0 = pad + label_w, title_h + header_h
    for j, header in enumerate(headers):
        img.paste(
            header, (x0 + j * cell + (cell - header.width) // 2, y0 - pad // 2 - header.height)
        )
    for i in range(n):
        y = y0 + i * cell
        draw.text((x0 - pad // 2, y + cell / 2), labels[i], fill=_INK, font=fnt, anchor="rm")
        for j in range(n):
            x = x0 + j * cell
            if rows[i] == 0:
                fill: tuple[int, ...] = _NO_DATA
                text = ""
            else:
                v = share[i, j]
                # sqrt: a 2 % confusion is worth seeing next to a 95 % diagonal.
                fill = tuple(int(round(c)) for c in _HEAT_LOW + (_HEAT_HIGH - _HEAT_LOW) * v**0.5)
                text = "" if counts[i, j] == 0 else ("<1" if v < 0.005 else f"{100 * v:.0f}")
            draw.rectangle([x, y, x + cell, y + cell], fill=fill, outline=_GRID)
            if text:
                draw.text(
                    (x + cell / 2, y + cell / 2),
                    text,
                    fill=contrast_color(fill),
                    font=fnt,
                    anchor="mm",
                )
    return img
