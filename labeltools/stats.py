"""Dataset statistics: pixels and images per class, and the label sizes.

The pixel counting is :func:`labeltools.weights.count_pixels`, the same code that
``labeltools weights`` derives its loss weights from, so the two commands can never
disagree about a dataset.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .constants import IGNORE_INDEX, MAX_CLASSES
from .errors import DatasetError
from .formats.voc import find_labels
from .weights import ClassCounts, count_pixels

if TYPE_CHECKING:
    from PIL import Image

    from .engine import BackendSpec

__all__ = ["DatasetStats", "dataset_stats", "share_chart"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class DatasetStats:
    """What :func:`dataset_stats` counted.

    ``counts`` holds the per-class pixels and images (see
    :class:`~labeltools.weights.ClassCounts`); ``class_names[c]`` names class ``c``
    ("" when unnamed); ``sizes`` lists each label size ``(width, height)`` with its
    number of images, most common first. ``num_classes_source`` says where the
    number of classes came from: ``"given"``, ``"class_names.txt"`` or
    ``"largest value"`` (inferred from the labels).
    """

    root: Path
    counts: ClassCounts
    class_names: tuple[str, ...]
    num_classes_source: str
    sizes: tuple[tuple[tuple[int, int], int], ...]

    @property
    def num_images(self) -> int:
        return self.counts.num_images

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        shares = c.shares()
        return {
            "root": str(self.root),
            "num_images": c.num_images,
            "num_classes": c.num_classes,
            "num_classes_source": self.num_classes_source,
            "labelled_pixels": c.labelled,
            "ignored_pixels": c.ignored,
            "out_of_range_pixels": c.out_of_range,
            "out_of_range_values": {str(o.value): o.pixels for o in c.out_of_range_values},
            "classes": [
                {
                    "index": i,
                    "name": self.class_names[i],
                    "pixels": int(c.pixels[i]),
                    "share": float(shares[i]),
                    "images": int(c.images[i]),
                }
                for i in range(c.num_classes)
            ],
            "sizes": [{"width": w, "height": h, "images": n} for (w, h), n in self.sizes],
        }


def _label_size(path: str) -> tuple[int, int]:
    from .io.images import open_header

    with open_header(path) as img:  # a header cut short is open_header's ImageReadError
        return img.size


def _trim(counts: ClassCounts, n: int) -> ClassCounts:
    return dataclasses.replace(
        counts, pixels=counts.pixels[:n], images=counts.images[:n],
        image_pixels=counts.image_pixels[:n],
    )


def dataset_stats(
    path: PathLike,
    *,
    list_file: PathLike | None = None,
    num_classes: int | None = None,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetStats:
    """Per-class pixels, shares and images, and the label sizes, of a dataset's labels.

    ``path`` is a VOC dataset root or a folder of label PNGs; ``list_file`` (e.g.
    ``train.txt``, also looked up in ``ImageSets/Segmentation``) restricts the ids.
    The number of classes is ``num_classes``, else the length of ``class_names.txt``,
    else one more than the largest label value below 255. Values >= the number of
    classes (other than 255) are not an error here: they are counted apart
    (``counts.out_of_range``), as ignored pixels are. ``progress(done, total)`` is
    called per label counted.
    """
    labels = find_labels(path, list_file)
    names = labels.class_names
    if num_classes is not None:
        if isinstance(num_classes, bool) or not 1 <= num_classes <= MAX_CLASSES:
            raise ValueError(f"num_classes must be in [1, {MAX_CLASSES}], got {num_classes}")
        n, source = num_classes, "given"
    elif names is not None:
        n, source = len(names), "class_names.txt"
    else:
        n, source = MAX_CLASSES, "largest value"
    counts = count_pixels(labels.paths, n, workers=workers, backend=backend, progress=progress)
    if source == "largest value":
        present = np.flatnonzero(counts.pixels)
        if present.size == 0:
            raise DatasetError(
                f"{labels.root}: every label pixel is {IGNORE_INDEX} (ignore); "
                f"give the number of classes (--num-classes N)"
            )
        counts = _trim(counts, int(present[-1]) + 1)
    n = counts.num_classes
    named = tuple(names or ())[:n]
    class_names = named + ("",) * (n - len(named))
    # Sizes need headers only: serial, a pool would cost more than it saves.
    sizes = Counter(_label_size(str(p)) for p in labels.paths)
    ordered = tuple(sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])))
    return DatasetStats(labels.root, counts, class_names, source, ordered)


def share_chart(stats: DatasetStats, *, log: bool = False) -> Image.Image:
    """``stats --plot``: the class shares as a bar chart (see
    :func:`~labeltools.viz.class_share_chart`), titled with the dataset and its label count."""
    from .viz import class_share_chart

    scale = ", log scale" if log else ""
    title = f"{stats.root.name}: share of labelled pixels per class ({stats.num_images} labels{scale})"
    return class_share_chart(stats.class_names, stats.counts.shares().tolist(), log=log, title=title)
