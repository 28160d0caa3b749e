"""Class pixel histograms, and the loss weights derived from them.

:func:`pixel_histogram` counts one label array; :func:`count_pixels` counts a whole
dataset of label PNGs (in parallel through :mod:`labeltools.engine`) and is the one
counting implementation shared by ``labeltools weights`` and ``labeltools stats``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .constants import IGNORE_INDEX

__all__ = [
    "ClassCounts",
    "OutOfRange",
    "PixelHistogram",
    "count_pixels",
    "pixel_histogram",
]


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


@dataclass(frozen=True)
class OutOfRange:
    """A label value >= the number of classes (and not the ignore index)."""

    value: int
    pixels: int
    files: tuple[str, ...]


@dataclass(frozen=True)
class ClassCounts:
    """Pixel statistics of a set of label images, per class.

    - ``pixels[c]``: pixels of class ``c`` (int64, shape ``(C,)``);
    - ``images[c]``: number of images that contain class ``c`` at all;
    - ``image_pixels[c]``: labelled pixels (not ignored, not out of range) of the
      images that contain class ``c``: the denominator of median-frequency balancing;
    - ``ignored``: ignore-index pixels; ``out_of_range``: pixels whose value is
      >= ``num_classes`` (and not the ignore index), detailed per value in
      ``out_of_range_values`` with the files each occurs in;
    - ``num_images``: label images counted.

    Ignored and out-of-range pixels are in no class and in no share.
    """

    pixels: np.ndarray
    images: np.ndarray
    image_pixels: np.ndarray
    ignored: int
    out_of_range: int
    out_of_range_values: tuple[OutOfRange, ...]
    num_images: int

    @property
    def num_classes(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def labelled(self) -> int:
        """Pixels counted in some class (the denominator of every share)."""
        return int(self.pixels.sum())

    def shares(self) -> np.ndarray:
        """Each class's share of the labelled pixels (float64; zeros when nothing is labelled)."""
        total = self.labelled
        if total == 0:
            return np.zeros(self.num_classes, dtype=np.float64)
        return self.pixels / total


@dataclass(frozen=True)
class _ImageCounts:
    # What one worker sends back: small, so the pool's pickling cost stays negligible.
    path: str
    counts: np.ndarray
    ignored: int
    out_of_range: tuple[tuple[int, int], ...]


def _count_image(path: str, num_classes: int, ignore_index: int) -> _ImageCounts:
    from .pngio import lblread  # Pillow is only needed once files are read

    lbl = lblread(path)
    hist = pixel_histogram(lbl, num_classes, ignore_index)
    oor: tuple[tuple[int, int], ...] = ()
    if hist.out_of_range:
        # Rare (a broken dataset), so a second pass only then to name the values.
        full = np.bincount(lbl.ravel(), minlength=256)
        bad = [v for v in range(num_classes, 256) if full[v] and v != ignore_index]
        oor = tuple((v, int(full[v])) for v in bad)
    return _ImageCounts(path, hist.counts, hist.ignored, oor)


def count_pixels(
    label_paths: Sequence[str | os.PathLike[str]],
    num_classes: int,
    *,
    ignore_index: int = IGNORE_INDEX,
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ClassCounts:
    """Count the pixels of each class over label PNGs (P or L; RGB raises).

    ``workers``: 1 = in this process, ``None``/0 = all CPUs, N = N processes; the
    result is identical for any number of workers. ``progress(done, total)`` is
    called after each file. Values >= ``num_classes`` other than ``ignore_index``
    are not an error here: they are counted in ``out_of_range`` and listed per value
    in ``out_of_range_values``, for the caller to report.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"count_pixels: num_classes must be an int, got {type(num_classes).__name__}")
    if not 1 <= num_classes <= 256:
        raise ValueError(f"count_pixels: num_classes must be in [1, 256], got {num_classes}")
    from .engine import run

    paths = [os.fspath(p) for p in label_paths]
    fn = functools.partial(_count_image, num_classes=int(num_classes), ignore_index=ignore_index)
    pixels = np.zeros(num_classes, dtype=np.int64)
    images = np.zeros(num_classes, dtype=np.int64)
    image_pixels = np.zeros(num_classes, dtype=np.int64)
    ignored = 0
    oor_pixels: dict[int, int] = {}
    oor_files: dict[int, list[str]] = {}
    for res in run(fn, paths, workers=workers, progress=progress):
        pixels += res.counts
        present = res.counts > 0
        images += present
        image_pixels[present] += int(res.counts.sum())
        ignored += res.ignored
        for value, n in res.out_of_range:
            oor_pixels[value] = oor_pixels.get(value, 0) + n
            oor_files.setdefault(value, []).append(res.path)
    values = tuple(
        OutOfRange(v, oor_pixels[v], tuple(oor_files[v])) for v in sorted(oor_pixels)
    )
    return ClassCounts(
        pixels=pixels,
        images=images,
        image_pixels=image_pixels,
        ignored=ignored,
        out_of_range=sum(oor_pixels.values()),
        out_of_range_values=values,
        num_images=len(paths),
    )
