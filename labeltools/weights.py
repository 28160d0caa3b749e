"""Class pixel histograms, and the loss weights derived from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import IGNORE_INDEX

__all__ = ["PixelHistogram", "pixel_histogram"]


@dataclass(frozen=True)
class PixelHistogram:
    """Pixels per class of one label image (or a sum of them).

    ``counts[c]`` is the number of pixels of class ``c``; ``ignored`` counts
    ignore-index pixels and ``out_of_range`` values >= the number of classes
    (other than the ignore index), which are in neither.
    """

    counts: np.ndarray
    ignored: int = 0
    out_of_range: int = 0

    def __add__(self, other: PixelHistogram) -> PixelHistogram:
        return PixelHistogram(
            self.counts + other.counts,
            self.ignored + other.ignored,
            self.out_of_range + other.out_of_range,
        )


def pixel_histogram(
    lbl: np.ndarray, num_classes: int, ignore_index: int = IGNORE_INDEX
) -> PixelHistogram:
    """Count the pixels of each class in a uint8 label array in one pass."""
    lbl = np.asarray(lbl)
    if lbl.dtype != np.uint8:
        raise ValueError(f"pixel_histogram: expected a uint8 label array, got {lbl.dtype}")
    if not 1 <= num_classes <= 256:
        raise ValueError(f"pixel_histogram: num_classes must be in [1, 256], got {num_classes}")
    full = np.bincount(lbl.ravel(), minlength=256).astype(np.int64)
    ignored = int(full[ignore_index]) if 0 <= ignore_index < 256 else 0
    counts = full[:num_classes].copy()
    if num_classes > ignore_index >= 0:
        counts[ignore_index] = 0
    tail = full[num_classes:].sum() - (ignored if ignore_index >= num_classes else 0)
    return PixelHistogram(counts, ignored, int(tail))
