"""Opening images through Pillow: headers, upright photos, palettes.

Every image labeltools reads is opened by :func:`open_header`, so a missing, foreign
or truncated file is always the same one-line
:class:`~labeltools.errors.ImageReadError` (the wording lives in
:mod:`labeltools.io.errors`).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps

from ..colormap import label_colormap
from .errors import pillow_errors

__all__ = [
    "EXIF_ORIENTATION_TAG",
    "exif_orientation",
    "is_voc_palette",
    "open_header",
    "open_image",
    "read_image",
]

PathLike = str | os.PathLike[str]

#: PIL's EXIF tag number for the orientation (1 = upright, 2..8 = flipped / rotated).
EXIF_ORIENTATION_TAG = 0x0112


def open_header(path: PathLike) -> Image.Image:
    """Open an image lazily (header parsed, pixels not decoded), with one-line errors.

    Use it as a context manager. Every read in labeltools starts here so that a
    missing, foreign or truncated file is always an :class:`ImageReadError`.
    """
    with pillow_errors(path, "header"):
        return Image.open(path)


def is_voc_palette(img: Image.Image) -> bool:
    """Whether a P-mode image's colour table agrees with the VOC colour map.

    Only the entries the table defines are compared: writers that store a shorter
    table (labelme's old ``lblsave`` wrote 255 entries) still count as VOC.
    """
    if img.mode != "P" or img.palette is None:
        return False
    raw = img.getpalette("RGB")
    if not raw:
        return False
    entries = np.asarray(raw, dtype=np.uint8).reshape(-1, 3)[:256]
    return bool(np.array_equal(entries, label_colormap(256)[: len(entries)]))


def exif_orientation(img: Image.Image) -> int:
    """The EXIF orientation of ``img`` (1 = upright; 1 when there is no tag)."""
    try:
        value = img.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except (OSError, ValueError, SyntaxError):
        # A corrupt EXIF block is common in phone pictures; treat it as "no tag".
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def open_image(path: PathLike) -> Image.Image:
    """Open a photo, decoded and turned upright by its EXIF orientation.

    labelme's GUI shows (and so annotates) the upright image; reading the raw pixel
    grid instead puts every label on the wrong pixels of a rotated phone picture.
    """
    with open_header(path) as img:
        with pillow_errors(path, "pixels"):
            img.load()
            upright = ImageOps.exif_transpose(img)
        return upright if upright is not img else img.copy()


def read_image(path: PathLike) -> np.ndarray:
    """Read a photo as an upright array: ``(H, W)`` for greyscale, else ``(H, W, 3)`` RGB."""
    img = open_image(path)
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    return np.asarray(img)
