"""Pictures for people: palette legends (more views are added by the commands that need them)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .colormap import label_colormap
from .constants import BACKGROUND_INDEX, IGNORE_INDEX, IGNORE_NAME

__all__ = ["contrast_color", "font", "label_overlay", "palette_legend"]


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
