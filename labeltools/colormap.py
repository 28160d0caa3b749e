"""The PASCAL VOC colour map: class index -> RGB colour.

VOC palette PNGs store the class index in each pixel and this palette as the
image's colour table, so viewers show colours while ``PIL`` reads indices.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["VOID_COLOR", "label_colormap"]

#: The colour of :data:`~labeltools.constants.IGNORE_INDEX` (255) in the VOC palette.
VOID_COLOR = (224, 224, 192)


@functools.lru_cache(maxsize=None)
def _colormap(n: int) -> np.ndarray:
    index = np.arange(n, dtype=np.int64)
    cmap = np.zeros((n, 3), dtype=np.int64)
    # VOCdevkit's bit interleave: bits 0, 1, 2 of each successive 3-bit group of the
    # index go, most significant first, to the R, G and B bytes.
    for j in range(8):
        shift = 7 - j
        for channel in range(3):
            bit = (index >> (3 * j + channel)) & 1
            cmap[:, channel] |= bit << shift
    out = cmap.astype(np.uint8)
    out.flags.writeable = False  # cached and shared: callers must copy to modify
    return out


def label_colormap(n: int = 256) -> np.ndarray:
    """Return the VOC colour map as an ``(n, 3)`` uint8 array (read-only, cached).

    Entry 0 is black (background), 1 is ``(128, 0, 0)``, 15 ``(192, 128, 128)``
    (person) and 255 ``(224, 224, 192)``, the void colour. Identical to
    VOCdevkit's ``VOClabelcolormap.m`` and ``imgviz.label_colormap()``.

    >>> label_colormap()[15].tolist()
    [192, 128, 128]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"label_colormap: n must be an int, got {type(n).__name__}")
    if not 1 <= n <= 256:
        raise ValueError(f"label_colormap: n must be in [1, 256], got {n}")
    return _colormap(int(n))
