"""Pictures for people: palette legends and label overlays (commands add the views they need)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .colormap import label_colormap
from .constants import IGNORE_INDEX, IGNORE_NAME

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
    image: Image.Image,
    label: np.ndarray,
    names: Sequence[str],
    *,
    alpha: float = 0.5,
) -> Image.Image:
    """The image in grey with each labelled pixel tinted its VOC colour, legend on the right.

    ``label`` holds class indices (int, ``-1`` or 255 = void) of the image's size;
    background (0) stays untinted. The legend lists the classes present, by ``names``.
    """
    lbl = np.asarray(label)
    if lbl.shape != (image.height, image.width):
        raise ValueError(
            f"label_overlay: label shape {lbl.shape} differs from the image's "
            f"{(image.height, image.width)}"
        )
    index = lbl.astype(np.uint8)  # -1 (labelme's ignore) is 255, VOC's void
    grey = np.asarray(image.convert("L"), dtype=np.float32)[..., None]
    colors = label_colormap(256)[index].astype(np.float32)
    tinted = (alpha * colors + (1 - alpha) * grey).round().astype(np.uint8)
    out = np.where((index != 0)[..., None], tinted, grey.astype(np.uint8))
    present = [int(i) for i in np.unique(index)]
    legend = palette_legend(
        present, [IGNORE_NAME if i == IGNORE_INDEX else names[i] for i in present]
    )
    size = (image.width + legend.width, max(image.height, legend.height))
    canvas = Image.new("RGB", size, "white")
    canvas.paste(Image.fromarray(out), (0, 0))
    canvas.paste(legend, (image.width, 0))
    return canvas
