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
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .constants import IGNORE_INDEX, WEIGHT_METHODS
from .errors import DatasetError
from .formats.voc import CLASS_NAMES_FILE, LabelFiles, find_labels

if TYPE_CHECKING:
    from .engine import BackendSpec

__all__ = [
    "METHODS",
    "ClassCounts",
    "ClassWeights",
    "DatasetWeights",
    "OutOfRange",
    "PixelHistogram",
    "class_weights",
    "count_pixels",
    "counts_to_json",
    "dataset_weights",
    "label_value_counts",
    "pixel_histogram",
    "save_counts",
    "save_weights",
    "weights_path",
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
    from .io.labelpng import value_counts

    return _split_histogram(value_counts(lbl.ravel()), num_classes, ignore_index)


def _split_histogram(full: np.ndarray, num_classes: int, ignore_index: int) -> PixelHistogram:
    """A 256-bin value histogram -> class counts, ignored and out-of-range pixels."""
    if not 1 <= num_classes <= 256:
        raise ValueError(f"pixel_histogram: num_classes must be in [1, 256], got {num_classes}")
    full = np.asarray(full, dtype=np.int64)
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


def label_value_counts(path: str | os.PathLike[str]) -> np.ndarray:
    """How many pixels of a label PNG hold each value 0..255 (int64, shape (256,)).

    The usual label PNG (8-bit P or L, unfiltered rows, as ``lblsave`` writes) is
    inflated with zlib and its runs counted, without Pillow. Other P and L images are
    counted by Pillow while decoding, without building an array; anything else goes
    through :func:`~labeltools.io.labelpng.read_label`, which reads "1" images and refuses
    colour masks.
    """
    from .io.labelpng import read_label_counts

    fast = read_label_counts(path)
    if fast is not None:
        return fast
    from .io.errors import pillow_errors
    from .io.images import open_header
    from .io.labelpng import read_label

    with open_header(path) as img:
        if img.mode in ("P", "L"):
            with pillow_errors(path, "pixels"):
                return np.asarray(img.histogram(), dtype=np.int64)
    return np.bincount(read_label(path).ravel(), minlength=256).astype(np.int64)


def count_image(path: str, num_classes: int, ignore_index: int) -> _ImageCounts:
    """One label PNG's pixel counts split into classes, void and out-of-range values
    (shared by weights and split's class-presence pass)."""
    full = label_value_counts(path)
    hist = _split_histogram(full, num_classes, ignore_index)
    oor: tuple[tuple[int, int], ...] = ()
    if hist.out_of_range:
        oor = tuple(
            (v, int(full[v])) for v in range(num_classes, 256) if full[v] and v != ignore_index
        )
    return _ImageCounts(path, hist.counts, hist.ignored, oor)


@dataclass(frozen=True)
class _Counts:
    """A partial :class:`ClassCounts` of some images, as a chunk sums it where it ran.

    Every field is an integer sum (or a concatenation, in input order) over images, so
    :meth:`__add__` is associative and any chunking gives the same totals.
    """

    pixels: np.ndarray
    images: np.ndarray
    image_pixels: np.ndarray
    ignored: int
    num_images: int
    #: (value, pixels, path) for each out-of-range value of each image, in input order.
    out_of_range: tuple[tuple[int, int, str], ...]

    @classmethod
    def zeros(cls, num_classes: int) -> _Counts:
        zero = np.zeros(num_classes, dtype=np.int64)
        return cls(zero, zero, zero, 0, 0, ())

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(
            self.pixels + other.pixels,
            self.images + other.images,
            self.image_pixels + other.image_pixels,
            self.ignored + other.ignored,
            self.num_images + other.num_images,
            self.out_of_range + other.out_of_range,
        )


def _count_one(path: str, num_classes: int, ignore_index: int) -> _Counts:
    res = count_image(path, num_classes, ignore_index)
    present = res.counts > 0
    # The image's labelled pixels, credited to every class present in it.
    return _Counts(
        res.counts, present.astype(np.int64), present * res.counts.sum(), res.ignored, 1,
        tuple((v, n, path) for v, n in res.out_of_range),
    )


def _add_counts(a: _Counts, b: _Counts) -> _Counts:
    return a + b


def count_pixels(
    label_paths: Sequence[str | os.PathLike[str]],
    num_classes: int,
    *,
    ignore_index: int = IGNORE_INDEX,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> ClassCounts:
    """Count the pixels of each class over label PNGs (P or L; RGB raises).

    ``workers`` / ``backend``: where the files are counted (see :mod:`labeltools.engine`);
    the result is identical for any of them. ``progress(done, total)`` is called as
    files are counted. Values >= ``num_classes`` other than ``ignore_index``
    are not an error here: they are counted in ``out_of_range`` and listed per value
    in ``out_of_range_values``, for the caller to report.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"count_pixels: num_classes must be an int, got {type(num_classes).__name__}")
    if not 1 <= num_classes <= 256:
        raise ValueError(f"count_pixels: num_classes must be in [1, 256], got {num_classes}")
    from .engine import map_reduce

    paths = [os.fspath(p) for p in label_paths]
    n = int(num_classes)
    fn = functools.partial(_count_one, num_classes=n, ignore_index=ignore_index)
    # Summed per chunk where the chunk ran: the parent adds a few partials, not a
    # handful of small NumPy calls per file (CPU taken from the workers).
    total = map_reduce(
        fn, paths, _add_counts, _Counts.zeros(n), workers=workers, backend=backend,
        progress=progress, reads=dict.fromkeys(os.path.dirname(p) or "." for p in paths),
    )
    oor_pixels: dict[int, int] = {}
    oor_files: dict[int, list[str]] = {}
    for value, pixels, path in total.out_of_range:
        oor_pixels[value] = oor_pixels.get(value, 0) + pixels
        oor_files.setdefault(value, []).append(path)
    values = tuple(
        OutOfRange(v, oor_pixels[v], tuple(oor_files[v])) for v in sorted(oor_pixels)
    )
    return ClassCounts(
        pixels=total.pixels,
        images=total.images,
        image_pixels=total.image_pixels,
        ignored=total.ignored,
        out_of_range=sum(oor_pixels.values()),
        out_of_range_values=values,
        num_images=total.num_images,
    )


#: The weighting schemes :func:`class_weights` knows.
METHODS = WEIGHT_METHODS

#: ENet's constant: keeps 1 / ln(c + f) bounded (at 1 / ln(1.02) ~ 50.5) as f -> 0.
ENET_C = 1.02


@dataclass(frozen=True)
class ClassWeights:
    """Per-class loss weights (float64, shape ``(C,)``) and the counts they came from.

    ``zero_classes`` lists the classes with no pixels: their weight is the largest
    weight of the present classes (for ``enet``, the formula's own value at
    ``f = 0``, ``1 / ln(1.02)``, which is that maximum), so it is finite and treats an
    unseen class as the rarest one.
    """

    method: str
    weights: np.ndarray
    counts: ClassCounts
    zero_classes: tuple[int, ...]


def class_weights(counts: ClassCounts, method: str = "enet") -> ClassWeights:
    """Turn pixel counts into class-balancing loss weights.

    - ``enet`` (Paszke et al., 2016): ``w_c = 1 / ln(1.02 + f_c)``, ``f_c`` = class
      pixels / all labelled pixels; the numbers pytorch-deeplab-xception's
      ``calculate_weigths_labels`` computes.
    - ``median-frequency`` (Eigen & Fergus 2015, SegNet): ``freq_c`` = class pixels /
      labelled pixels of the images in which ``c`` appears; ``w_c = median(freq) / freq_c``
      with the median over the present classes.
    - ``inverse`` (``1 / f_c``) and ``inverse-sqrt`` (``1 / sqrt(f_c)``), scaled so that
      their mean over the present classes is 1.

    Classes with no pixels get a finite weight (see :class:`ClassWeights`).
    Raises :class:`~labeltools.errors.DatasetError` when no pixel is labelled at all.
    """
    if method not in METHODS:
        raise ValueError(f"class_weights: method must be one of {', '.join(METHODS)}, got {method!r}")
    pixels = counts.pixels.astype(np.float64)
    total = pixels.sum()
    if total == 0:
        raise DatasetError(
            f"no labelled pixels in {counts.num_images} label images "
            f"(all ignored or out of range): cannot compute class weights"
        )
    present = counts.pixels > 0
    zero = tuple(int(c) for c in np.flatnonzero(~present))
    if method == "enet":
        # Elementwise exactly as calculate_weigths_labels: frequency / total, then 1/ln.
        weights = 1 / np.log(ENET_C + pixels / total)
    else:
        weights = np.zeros(counts.num_classes, dtype=np.float64)
        if method == "median-frequency":
            freq = pixels[present] / counts.image_pixels[present]
            weights[present] = np.median(freq) / freq
        else:
            share = pixels[present] / total
            raw = 1 / share if method == "inverse" else 1 / np.sqrt(share)
            weights[present] = raw / raw.mean()
        if zero:
            weights[~present] = weights[present].max()
    return ClassWeights(method, weights, counts, zero)


# --------------------------------------------------------------------------- datasets

#: How many files an out-of-range message names per value.
MAX_LISTED_FILES = 3


def _out_of_range_message(counts: ClassCounts, ignore_index: int) -> str:
    parts = []
    for o in counts.out_of_range_values:
        names = ", ".join(Path(f).name for f in o.files[:MAX_LISTED_FILES])
        if len(o.files) > MAX_LISTED_FILES:
            names += f" and {len(o.files) - MAX_LISTED_FILES} more"
        parts.append(f"{o.value} ({o.pixels} px in {names})")
    files = {f for o in counts.out_of_range_values for f in o.files}
    return (
        f"{len(files)} of {counts.num_images} label files hold values >= {counts.num_classes} "
        f"(the number of classes) other than {ignore_index}: {'; '.join(parts)}; "
        f"fix the labels, give the right number of classes, or leave them out "
        f"(--ignore-out-of-range)"
    )


#: pytorch-deeplab-xception's ``train.py`` loads ``<db_root>/<dataset>_classes_weights.npy``
#: (``pascal_classes_weights.npy`` for ``--dataset pascal``) and, when it is missing,
#: silently recomputes weights from its augmented training crops.
WEIGHTS_SUFFIX = "_classes_weights.npy"


def weights_path(root: str | os.PathLike[str], dataset_name: str | None = None) -> Path:
    """``root / "<dataset_name>_classes_weights.npy"``: where a deeplab trainer looks.

    ``dataset_name`` is the trainer's dataset name (``pascal``, ``cityscapes``, ...);
    by default the folder name of ``root``.
    """
    root = Path(root)
    name = root.resolve().name if dataset_name is None else dataset_name
    if not name or name != name.strip() or any(c in name for c in "/\\") or name in (".", ".."):
        raise ValueError(f"dataset_name must be a plain name such as 'pascal', got {name!r}")
    return root / f"{name}{WEIGHTS_SUFFIX}"


@dataclass(frozen=True)
class DatasetWeights:
    """:func:`dataset_weights`' result: the labels used and their class weights."""

    labels: LabelFiles
    weights: ClassWeights

    def save(
        self, out: str | os.PathLike[str] | None = None, *, dataset_name: str | None = None
    ) -> Path:
        """Write the weights to ``out``, or to :func:`weights_path` in the dataset root."""
        if out is not None and dataset_name is not None:
            raise ValueError("give out or dataset_name, not both")
        target = Path(out) if out is not None else weights_path(self.labels.root, dataset_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        return save_weights(target, self.weights.weights)


def dataset_weights(
    path: str | os.PathLike[str],
    *,
    list_file: str | os.PathLike[str] | None = None,
    num_classes: int | None = None,
    method: str = "enet",
    ignore_out_of_range: bool = False,
    ignore_index: int = IGNORE_INDEX,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetWeights:
    """Class weights of a dataset's labels (see :func:`find_labels`, :func:`class_weights`).

    ``num_classes`` defaults to the length of ``class_names.txt`` in the dataset
    root. Values >= ``num_classes`` (other than the ignore index) raise
    :class:`~labeltools.errors.DatasetError` listing them with their files, unless
    ``ignore_out_of_range``, which leaves them out of every count.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    labels = find_labels(path, list_file)
    if num_classes is None:
        if labels.class_names is None:
            raise DatasetError(
                f"{labels.root}: no {CLASS_NAMES_FILE} to tell the number of classes; "
                f"give it (--num-classes N)"
            )
        num_classes = len(labels.class_names)
    counts = count_pixels(
        labels.paths, num_classes, ignore_index=ignore_index, workers=workers, backend=backend,
        progress=progress,
    )
    if counts.out_of_range and not ignore_out_of_range:
        raise DatasetError(_out_of_range_message(counts, ignore_index))
    return DatasetWeights(labels, class_weights(counts, method))


def save_weights(path: str | os.PathLike[str], weights: np.ndarray) -> Path:
    """Write float64 weights as ``.npy`` atomically (``np.load`` gives them back as saved)."""
    from .io.files import atomic_path

    target = Path(path)
    with atomic_path(target, suffix=".npy") as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(weights, dtype=np.float64))
    return target


def counts_to_json(result: ClassWeights, class_names: Sequence[str] | None = None) -> dict:
    """The raw counts and weights as a JSON-ready dict (``--counts counts.json``)."""
    c = result.counts
    return {
        "num_classes": c.num_classes,
        "num_images": c.num_images,
        "class_names": list(class_names) if class_names is not None else None,
        "pixels": c.pixels.tolist(),
        "images": c.images.tolist(),
        "image_pixels": c.image_pixels.tolist(),
        "ignored": c.ignored,
        "out_of_range": c.out_of_range,
        "out_of_range_values": {str(o.value): o.pixels for o in c.out_of_range_values},
        "method": result.method,
        "weights": result.weights.tolist(),
        "zero_classes": list(result.zero_classes),
    }


def save_counts(path: str | os.PathLike[str], result: DatasetWeights) -> Path:
    """Write :func:`counts_to_json` of ``result`` (with the dataset's class names) as JSON,
    atomically, creating the folder (``labeltools weights --counts``). Returns the path."""
    import json

    from .io.files import atomic_write_text

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = counts_to_json(result.weights, result.labels.class_names)
    atomic_write_text(target, json.dumps(doc, indent=2) + "\n")
    return target
