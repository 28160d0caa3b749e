"""Segmentation scores from a confusion matrix: PA, class accuracy, IoU, mIoU, FWIoU.

The matrix follows PASCAL VOC's ``VOCevalseg.m``: rows are the ground truth,
columns the prediction, entries raw pixel counts. Ground-truth pixels equal to
the ignore index never enter it; nor do ground-truth values >= the number of
classes, which are counted apart so a caller can warn about them. A prediction
outside ``[0, C-1]`` is an error with VOCevalseg's own message, where
pytorch-deeplab-xception's ``Evaluator`` silently adds it to a neighbouring cell.

Matrices add: ``a + b`` is the matrix of both image sets, so per-image matrices
reduce in any grouping (across processes, or machines) to the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ._scratch import work_array
from .constants import ABSENT_POLICIES, IGNORE_INDEX, MAX_CLASSES
from .errors import EvaluationError

__all__ = [
    "ABSENT_POLICIES",
    "ConfusionMatrix",
    "SegmentationMetrics",
    "check_prediction_range",
]


Absent = Literal["nan", "zero"]

#: Number of distinct values of an 8-bit label.
_LEVELS = 256
#: Above this share of pixels starting a new run of equal (gt, pred) pairs, run-length
#: counting stops paying for itself and a plain bincount over every pixel is faster.
_RLE_MAX_RUN_SHARE = 0.25


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _scratch(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-thread uint16 and bool work arrays of ``n`` elements, reused from call to call.

    Fresh arrays of a few hundred kB come from mmap and page-fault on first touch:
    that cost as much as the histogram itself on a VOC-sized image.
    """
    return work_array("metrics.key", (n,), np.uint16), work_array("metrics.mask", (n,), np.bool_)


def _joint_histogram(
    gt: np.ndarray, pred: np.ndarray, num_pred_values: int = _LEVELS
) -> np.ndarray:
    """Count the ``(gt, pred)`` value pairs of two uint8 arrays: ``(256, num_pred_values)`` int64.

    Every ``pred`` value must be below ``num_pred_values`` (the caller checks its
    maximum): a narrow histogram is a small allocation, which matters at ~1 ms an image.
    Label images are runs of equal values, so the pairs are counted per run (one
    comparison pass, then a bincount over the run starts weighted by run length)
    instead of per pixel; fragmented images fall back to a per-pixel bincount.
    """
    n = gt.size
    key, starts_mask = _scratch(n)
    # Written through a view of gt's shape: strided inputs are read in place, never copied.
    key_nd = key.reshape(gt.shape)
    np.multiply(gt, np.uint16(num_pred_values), out=key_nd, dtype=np.uint16)
    np.add(key_nd, pred, out=key_nd, dtype=np.uint16)
    bins = _LEVELS * num_pred_values
    if n == 0:
        return np.zeros((_LEVELS, num_pred_values), np.int64)
    starts_mask[0] = True
    np.not_equal(key[1:], key[:-1], out=starts_mask[1:])
    starts = np.flatnonzero(starts_mask)
    if len(starts) > _RLE_MAX_RUN_SHARE * n:
        counts = np.bincount(key, minlength=bins)
    else:
        lengths = np.empty_like(starts)
        np.subtract(starts[1:], starts[:-1], out=lengths[:-1])
        lengths[-1] = n - starts[-1]
        # float64 weights are exact for any count below 2**53 pixels.
        counts = np.bincount(key[starts], weights=lengths, minlength=bins).astype(np.int64)
    return counts.reshape(_LEVELS, num_pred_values)


def check_prediction_range(
    pred: np.ndarray, num_classes: int, *, image_id: str | None = None
) -> np.ndarray:
    """``pred`` as uint8 if every value is in ``[0, num_classes - 1]``, else an error.

    VOCevalseg checks ``max(resim(:))``: every pixel, void ones included. The
    :class:`~labeltools.errors.EvaluationError` has its wording, naming ``image_id``.
    """
    if not pred.size:
        return pred.astype(np.uint8, copy=False)
    lo = 0 if pred.dtype == np.uint8 else int(pred.min())
    hi = int(pred.max())
    if hi >= num_classes or lo < 0:
        what = "the prediction" if image_id is None else f"Results image '{image_id}'"
        value = hi if hi >= num_classes else lo
        raise EvaluationError(
            f"{what} has out of range value {value} (the value should be <= {num_classes - 1})"
        )
    return pred.astype(np.uint8, copy=False)


@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Pixel counts of (ground truth, prediction) class pairs, plus what was left out.

    ``counts[i, j]`` is the number of pixels of ground-truth class ``i`` predicted
    as ``j`` (uint64, read-only). ``ignored`` counts ground-truth pixels equal to
    the ignore index; ``gt_out_of_range`` ground-truth values >= the number of
    classes (or negative) other than the ignore index. Neither is in ``counts``.
    """

    counts: np.ndarray
    ignored: int = 0
    gt_out_of_range: int = 0

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] < 1:
            raise ValueError(
                f"ConfusionMatrix: counts must be a square (C, C) array, got shape {counts.shape}"
            )
        if not np.issubdtype(counts.dtype, np.integer):
            raise ValueError(f"ConfusionMatrix: counts must be integers, got dtype {counts.dtype}")
        if counts.size and int(counts.min()) < 0:
            raise ValueError(f"ConfusionMatrix: counts must be >= 0, got {int(counts.min())}")
        object.__setattr__(self, "counts", _readonly(counts.astype(np.uint64, copy=True)))
        object.__setattr__(self, "ignored", int(self.ignored))
        object.__setattr__(self, "gt_out_of_range", int(self.gt_out_of_range))

    @classmethod
    def _unchecked(cls, counts: np.ndarray, ignored: int, gt_out_of_range: int) -> ConfusionMatrix:
        # For counts this module built itself (uint64, square, >= 0): skips
        # __post_init__'s checks and copy, which add up over thousands of images.
        self = object.__new__(cls)
        object.__setattr__(self, "counts", _readonly(counts))
        object.__setattr__(self, "ignored", ignored)
        object.__setattr__(self, "gt_out_of_range", gt_out_of_range)
        return self

    @property
    def num_classes(self) -> int:
        return int(self.counts.shape[0])

    @classmethod
    def zeros(cls, num_classes: int) -> ConfusionMatrix:
        """The empty matrix: the neutral element of ``+``."""
        _check_num_classes(num_classes)
        return cls(np.zeros((num_classes, num_classes), np.uint64))

    @classmethod
    def from_labels(
        cls,
        gt: np.ndarray,
        pred: np.ndarray,
        num_classes: int,
        *,
        ignore_index: int | None = IGNORE_INDEX,
        image_id: str | None = None,
    ) -> ConfusionMatrix:
        """The matrix of one ground-truth / prediction pair of integer label arrays.

        Raises :class:`~labeltools.errors.EvaluationError` when the shapes differ or
        a prediction value is outside ``[0, num_classes - 1]`` (checked over every
        pixel, ignored ones included, as VOCevalseg does). ``image_id`` names the
        image in that message (VOCevalseg's wording).
        """
        _check_num_classes(num_classes)
        gt = np.asarray(gt)
        pred = np.asarray(pred)
        where = "the prediction" if image_id is None else f"Results image '{image_id}'"
        for name, a in (("ground truth", gt), ("prediction", pred)):
            if not np.issubdtype(a.dtype, np.integer):
                raise EvaluationError(
                    f"{where}: the {name} must hold integer labels, got dtype {a.dtype}"
                )
        # VOCevalseg's order: the values, then the size.
        pred = check_prediction_range(pred, num_classes, image_id=image_id)
        if gt.shape != pred.shape:
            raise EvaluationError(
                f"{where} has shape {pred.shape}, the ground truth {gt.shape}; they must match"
            )
        if gt.dtype != np.uint8 and gt.size:
            lo, hi = int(gt.min()), int(gt.max())
            if lo < 0 or hi >= _LEVELS:
                return cls._from_wide_labels(gt, pred, num_classes, ignore_index)
            gt = gt.astype(np.uint8)
        hist = _joint_histogram(gt, pred, num_classes)
        return cls._from_joint_histogram(hist, ignore_index=ignore_index)

    @classmethod
    def _from_joint_histogram(
        cls, hist: np.ndarray, *, ignore_index: int | None = IGNORE_INDEX
    ) -> ConfusionMatrix:
        """Fold a ``(256, C)`` histogram from :func:`_joint_histogram` into a C-class matrix."""
        c = hist.shape[1]
        _check_num_classes(c)
        counts = hist[:c].astype(np.uint64)
        ignored = 0
        out_of_range = int(hist[c:].sum())
        if ignore_index is not None and 0 <= ignore_index < _LEVELS:
            ignored = int(hist[ignore_index].sum())
            if ignore_index < c:
                counts[ignore_index] = 0
            else:
                out_of_range -= ignored
        return cls._unchecked(counts, ignored, out_of_range)

    @classmethod
    def _from_wide_labels(
        cls, gt: np.ndarray, pred: np.ndarray, num_classes: int, ignore_index: int | None
    ) -> ConfusionMatrix:
        # Ground truth beyond 8 bits (int32 with -1 = ignore, say): the general path.
        c = num_classes
        is_ignored = gt == ignore_index if ignore_index is not None else np.zeros(gt.shape, bool)
        valid = (gt >= 0) & (gt < c) & ~is_ignored
        flat = gt[valid].astype(np.int64) * c + pred[valid]
        counts = np.bincount(flat, minlength=c * c).reshape(c, c)
        ignored = int(np.count_nonzero(is_ignored))
        return cls(counts, ignored, int(gt.size - np.count_nonzero(valid) - ignored))

    def __add__(self, other: object) -> ConfusionMatrix:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        if other.num_classes != self.num_classes:
            raise ValueError(
                f"cannot add a {self.num_classes}-class and a {other.num_classes}-class "
                "confusion matrix"
            )
        return ConfusionMatrix._unchecked(
            self.counts + other.counts,
            self.ignored + other.ignored,
            self.gt_out_of_range + other.gt_out_of_range,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        return (
            np.array_equal(self.counts, other.counts)
            and self.ignored == other.ignored
            and self.gt_out_of_range == other.gt_out_of_range
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking array payload: not hashable

    def metrics(self, absent: Absent = "nan") -> SegmentationMetrics:
        """All the scores of this matrix; see :class:`SegmentationMetrics`."""
        return SegmentationMetrics.from_counts(self.counts, absent=absent)


def _check_num_classes(num_classes: int) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an integer, got {num_classes!r}")
    if not 1 <= num_classes <= MAX_CLASSES:
        raise ValueError(f"num_classes must be in [1, {MAX_CLASSES}], got {num_classes}")


def _ratio(num: np.ndarray, den: np.ndarray, fill: float) -> np.ndarray:
    out = np.full(np.shape(num), fill, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _mean(values: np.ndarray) -> float:
    # np.nanmean warns on an all-NaN input; an all-absent mean is simply undefined.
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else float("nan")


@dataclass(frozen=True, eq=False)
class SegmentationMetrics:
    """Scores of a confusion matrix, as fractions in [0, 1].

    Per class (arrays of length C): ``accuracy`` = TP / GT pixels (recall),
    ``iou`` = TP / (GT + predicted - TP), ``precision`` = TP / predicted pixels,
    ``dice`` = 2 TP / (GT + predicted); ``gt_pixels`` and ``pred_pixels`` are the row
    and column sums. Overall: ``pixel_accuracy`` = trace / total, the ``mean_*`` of
    the per-class arrays, and ``fw_iou`` = sum over classes of (GT share x IoU).

    A 0/0 score (a class absent from the ground truth has no accuracy; one absent
    from both has no IoU) is NaN and left out of the means when ``absent="nan"``,
    and 0 and averaged in when ``absent="zero"``.
    """

    pixel_accuracy: float
    mean_accuracy: float
    mean_iou: float
    fw_iou: float
    mean_precision: float
    mean_dice: float
    accuracy: np.ndarray
    iou: np.ndarray
    precision: np.ndarray
    dice: np.ndarray
    gt_pixels: np.ndarray
    pred_pixels: np.ndarray
    absent: str = field(default="nan")

    @classmethod
    def from_counts(cls, counts: np.ndarray, *, absent: Absent = "nan") -> SegmentationMetrics:
        if absent not in ABSENT_POLICIES:
            raise ValueError(f"absent must be one of {ABSENT_POLICIES}, got {absent!r}")
        fill = float("nan") if absent == "nan" else 0.0
        cm = np.asarray(counts, dtype=np.float64)
        tp = np.diag(cm)
        gt = cm.sum(axis=1)
        pr = cm.sum(axis=0)
        total = gt.sum()
        union = gt + pr - tp
        accuracy = _ratio(tp, gt, fill)
        iou = _ratio(tp, union, fill)
        freq = _ratio(gt, np.full_like(gt, total), fill)
        present = gt > 0
        fw_iou = float((freq[present] * iou[present]).sum()) if total > 0 else fill
        pixel_accuracy = float(tp.sum() / total) if total > 0 else fill
        precision = _ratio(tp, pr, fill)
        dice = _ratio(2 * tp, gt + pr, fill)
        return cls(
            pixel_accuracy=pixel_accuracy,
            mean_accuracy=_mean(accuracy),
            mean_iou=_mean(iou),
            fw_iou=fw_iou,
            mean_precision=_mean(precision),
            mean_dice=_mean(dice),
            accuracy=_readonly(accuracy),
            iou=_readonly(iou),
            precision=_readonly(precision),
            dice=_readonly(dice),
            gt_pixels=_readonly(np.asarray(counts, dtype=np.uint64).sum(axis=1)),
            pred_pixels=_readonly(np.asarray(counts, dtype=np.uint64).sum(axis=0)),
            absent=absent,
        )
