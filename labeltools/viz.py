"""Pictures for people: palette legends (more views are added by the commands that need them)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .colormap import label_colormap
from .constants import BACKGROUND_INDEX, IGNORE_INDEX, IGNORE_NAME

__all__ = [
    "class_share_chart",
    "colormap_legend",
    "confusion_matrix_image",
    "contrast_color",
    "font",
    "label_overlay",
    "palette_legend",
    "save_png",
]


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
    width = pad * 2 + swatch + text_w + pad * 2  # text starts after the swatch; 2-pad margin
    height = pad * 2 + row_h * max(1, len(indices))
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for row, (index, text) in enumerate(zip(indices, labels)):
        y = pad + row * row_h
        color = tuple(int(c) for c in cmap[index])
        draw.rectangle([pad, y, pad + swatch, y + swatch], fill=color, outline=(96, 96, 96))
        draw.text((pad * 2 + swatch, y + swatch / 2), text, fill=(0, 0, 0), font=fnt, anchor="lm")
    return img



def label_overlay(
    photo: np.ndarray,
    index: np.ndarray,
    *,
    alpha: float = 0.5,
    names: Sequence[str] | None = None,
) -> Image.Image:
    """A photo with its label drawn over it, and a legend of the classes present.

    Labelled pixels are blended with their palette colour at opacity ``alpha``;
    background (0) is left as it is so the photo stays readable. ``names[i]`` names
    class ``i`` in the legend (255 is "ignore" unless named).
    """
    photo = np.asarray(photo)
    index = np.asarray(index)
    if photo.shape[:2] != index.shape or photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(
            f"label_overlay: expected an (H, W, 3) photo matching the (H, W) label, "
            f"got {photo.shape} and {index.shape}"
        )
    colors = label_colormap(256)[index]
    blended = photo.astype(np.float32) * (1 - alpha) + colors.astype(np.float32) * alpha
    out = np.where((index != BACKGROUND_INDEX)[..., None], np.rint(blended), photo).astype(np.uint8)
    present = np.flatnonzero(np.bincount(index.ravel(), minlength=256)).tolist()

    def name(i: int) -> str:
        if names is not None and i < len(names):
            return names[i]
        return IGNORE_NAME if i == IGNORE_INDEX else ""

    legend = palette_legend(present, [name(i) for i in present])
    h, w = index.shape
    canvas = Image.new("RGB", (w + legend.width, max(h, legend.height)), (255, 255, 255))
    canvas.paste(Image.fromarray(out), (0, 0))
    canvas.paste(legend, (w, 0))
    return canvas


#: Light grid lines and axis text of charts.
_GRID = (225, 225, 225)
_AXIS_TEXT = (90, 90, 90)


def _percent(share: float) -> str:
    if share == 0:
        return "0"
    if share >= 0.0001:
        return f"{share * 100:.2f}%"
    return f"{share * 100:.2g}%"


def _linear_ticks(top: float) -> list[float]:
    """Tick values from 0 to a round number >= ``top`` (a share in (0, 1])."""
    for step in (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25):
        if top <= step * 5:
            n = int(np.ceil(top / step - 1e-9))
            return [step * k for k in range(max(n, 1) + 1)]
    return [0.0, 0.25, 0.5, 0.75, 1.0]


def class_share_chart(
    names: Sequence[str],
    shares: Sequence[float],
    *,
    log: bool = False,
    title: str = "",
    bar_width: int = 520,
    font_size: int = 13,
) -> Image.Image:
    """A horizontal bar chart of each class's share of the labelled pixels.

    One row per class (index and name), the bar in the class's VOC colour, its
    percentage at the bar's end. ``log=True`` puts the shares on a log scale, so rare
    classes stay visible next to the background; a class with no pixels has no bar.
    """
    if len(names) != len(shares):
        raise ValueError(f"class_share_chart: {len(names)} names but {len(shares)} shares")
    values = np.asarray(shares, dtype=np.float64)
    if values.size == 0 or np.any(values < 0) or np.any(values > 1) or not np.all(np.isfinite(values)):
        raise ValueError("class_share_chart: expected one share in [0, 1] per class")
    cmap = label_colormap(256)
    fnt, small = font(font_size), font(font_size - 2)
    labels = [f"{i:3d} {name}".rstrip() for i, name in enumerate(names)]
    pad, row_h, bar_h = 10, font_size + 9, font_size + 3
    label_w = max(int(fnt.getlength(t)) for t in labels) + pad
    value_w = int(fnt.getlength("100.00%")) + pad
    title_h = font_size + 2 * pad if title else pad
    axis_h = font_size + 2 * pad
    width = pad + label_w + bar_width + value_w + pad
    height = title_h + row_h * len(labels) + axis_h
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    x0, y0 = pad + label_w, title_h
    y1 = y0 + row_h * len(labels)

    positive = values[values > 0]
    if log:
        # The decade strictly below the smallest share, so that share still gets a bar.
        lo = float(np.floor(np.log10(positive.min()) - 1e-9)) if positive.size else -4.0
        lo = min(lo, -1.0)
        ticks = [10.0**e for e in range(int(lo), 1)]

        def length(s: float) -> float:
            return 0.0 if s <= 0 else (np.log10(s) - lo) / -lo * bar_width

    else:
        ticks = _linear_ticks(float(values.max()) if values.max() > 0 else 1.0)

        def length(s: float) -> float:
            return s / ticks[-1] * bar_width

    for t in ticks:
        x = x0 + length(t) if (t > 0 or not log) else x0
        draw.line([(x, y0), (x, y1)], fill=_GRID)
        draw.text((x, y1 + pad / 2), f"{t * 100:g}%", fill=_AXIS_TEXT, font=small, anchor="mt")
    if title:
        draw.text((width / 2, pad), title, fill=(0, 0, 0), font=fnt, anchor="mt")
    for row, (text, s) in enumerate(zip(labels, values.tolist())):
        cy = y0 + row * row_h + row_h / 2
        draw.text((x0 - pad / 2, cy), text, fill=(0, 0, 0), font=fnt, anchor="rm")
        end = x0 + length(s)
        if s > 0:
            color = tuple(int(c) for c in cmap[row])
            draw.rectangle([x0, cy - bar_h / 2, max(end, x0 + 1), cy + bar_h / 2],
                           fill=color, outline=(96, 96, 96))
        draw.text((end + 4, cy), _percent(s), fill=(0, 0, 0), font=small, anchor="lm")
    draw.line([(x0, y0), (x0, y1)], fill=(0, 0, 0))
    return img


#: Heatmap end colours: white for 0 %, dark blue for 100 % of a ground-truth row.
_HEAT_LOW = np.array([255, 255, 255], dtype=np.float64)
_HEAT_HIGH = np.array([8, 48, 107], dtype=np.float64)
#: Cells of a class with no ground-truth pixels (a row that cannot be normalised).
_NO_DATA = (225, 225, 225)
_HEAT_GRID = (190, 190, 190)
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
            draw.rectangle([x, y, x + cell, y + cell], fill=fill, outline=_HEAT_GRID)
            if text:
                draw.text(
                    (x + cell / 2, y + cell / 2),
                    text,
                    fill=contrast_color(fill),
                    font=fnt,
                    anchor="mm",
                )
    return img


def colormap_legend(n: int = 21, names: Sequence[str] | None = None) -> Image.Image:
    """``labeltools colormap``: :func:`palette_legend` of indices ``0 .. n-1``; ``names[i]``
    names index ``i`` (missing names are blank, extra names are not drawn)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 256:
        raise ValueError(f"colormap_legend: n must be an int in [1, 256], got {n!r}")
    shown = None
    if names is not None:
        shown = [*names[:n], *[""] * (n - len(names))]
    return palette_legend(list(range(n)), shown)


def save_png(img: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write ``img`` as a PNG atomically, creating the folder; return the path."""
    from .io.files import atomic_path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target, suffix=".png") as tmp:
        img.save(tmp, format="PNG")
    return target
