"""Score a folder of predicted label PNGs against ground truth, the VOCevalseg way.

One picklable per-image function decodes the two PNGs and returns that image's
:class:`~labeltools.metrics.ConfusionMatrix`; the matrices are summed in id order,
so the result is identical for any number of workers.
"""

from __future__ import annotations

import functools
import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import engine
from .constants import IGNORE_INDEX, MAX_CLASSES
from .errors import DatasetError, EvaluationError, LabelNameError
from .formats.voc import CLASS_NAMES_FILE, LIST_DIR, label_folder, read_id_list
from .io.files import label_stems
from .io.labelpng import read_label
from .labels import class_names_by_index
from .metrics import (
    ABSENT_POLICIES,
    Absent,
    ConfusionMatrix,
    SegmentationMetrics,
    check_prediction_range,
)

__all__ = ["EvalResult", "confusion_csv", "evaluate", "save_confusion_csv", "save_eval_json"]

PathLike = str | os.PathLike[str]

#: The list json2voc and VOC score by default, relative to the dataset root.
VAL_LIST = LIST_DIR / "val.txt"
#: How many image ids a warning names before it says "and N more".
_MAX_IDS_IN_WARNING = 10


@dataclass(frozen=True, eq=False)
class EvalResult:
    """What :func:`evaluate` found: the summed matrix, its scores, and how they were made.

    ``metrics`` holds every score (see :class:`~labeltools.metrics.SegmentationMetrics`);
    ``gt_out_of_range_ids`` the images whose ground truth has values >= the number
    of classes other than the ignore index (those pixels are not scored).
    """

    gt: Path
    pred: Path
    ids: tuple[str, ...]
    class_names: tuple[str, ...]
    ignore_index: int | None
    absent: str
    confusion: ConfusionMatrix
    metrics: SegmentationMetrics
    gt_out_of_range_ids: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return self.confusion.num_classes

    @property
    def warnings(self) -> tuple[str, ...]:
        """Human-readable notes about data that was left out of the scores."""
        n = self.confusion.gt_out_of_range
        if not n:
            return ()
        ids = self.gt_out_of_range_ids
        shown = ", ".join(ids[:_MAX_IDS_IN_WARNING])
        more = (
            f" and {len(ids) - _MAX_IDS_IN_WARNING} more" if len(ids) > _MAX_IDS_IN_WARNING else ""
        )
        ignore = (
            f" other than the ignore index {self.ignore_index}"
            if self.ignore_index is not None
            else ""
        )
        return (
            f"{n} ground-truth pixels in {len(ids)} images have values outside "
            f"[0, {self.num_classes - 1}]{ignore} and were not scored: {shown}{more}",
        )

    def to_dict(self) -> dict[str, Any]:
        """Every score, the raw matrix, the ids and the settings, JSON-ready (NaN -> None)."""
        m = self.metrics
        return {
            "settings": {
                "gt": str(self.gt),
                "pred": str(self.pred),
                "num_classes": self.num_classes,
                "ignore_index": self.ignore_index,
                "absent": self.absent,
            },
            "pixel_accuracy": _json_float(m.pixel_accuracy),
            "mean_accuracy": _json_float(m.mean_accuracy),
            "mean_iou": _json_float(m.mean_iou),
            "fw_iou": _json_float(m.fw_iou),
            "mean_precision": _json_float(m.mean_precision),
            "mean_dice": _json_float(m.mean_dice),
            "class_names": list(self.class_names),
            "per_class": {
                "accuracy": [_json_float(v) for v in m.accuracy],
                "iou": [_json_float(v) for v in m.iou],
                "precision": [_json_float(v) for v in m.precision],
                "dice": [_json_float(v) for v in m.dice],
                "gt_pixels": [int(v) for v in m.gt_pixels],
                "pred_pixels": [int(v) for v in m.pred_pixels],
            },
            "confusion_matrix": [[int(v) for v in row] for row in self.confusion.counts],
            "ignored_pixels": self.confusion.ignored,
            "gt_out_of_range_pixels": self.confusion.gt_out_of_range,
            "gt_out_of_range_ids": list(self.gt_out_of_range_ids),
            "warnings": list(self.warnings),
            "ids": list(self.ids),
        }


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _score_image(
    files: tuple[str, str, str], *, num_classes: int, ignore_index: int | None
) -> tuple[ConfusionMatrix, tuple[str, ...]]:
    """One decode of each PNG, one histogram: everything the per-image step may cost.

    ``files`` is ``(image id, ground-truth PNG, predicted PNG)``. Returns the image's
    matrix and its id if its ground truth is out of range: the shape :func:`_add_scores`
    sums, in a worker per chunk and here per chunk.
    """
    image_id, gt_path, pred_path = files
    gt = read_label(gt_path)
    pred = read_label(pred_path)
    if gt.shape != pred.shape:
        # VOCevalseg's order (values, then size) and wording, plus the file.
        check_prediction_range(pred, num_classes, image_id=image_id)
        raise EvaluationError(
            f"{pred_path}: Results image '{image_id}' is the wrong size, was "
            f"{pred.shape[0]} x {pred.shape[1]}, should be {gt.shape[0]} x {gt.shape[1]} "
            f"(height x width of the ground truth)"
        )
    cm = ConfusionMatrix.from_labels(
        gt, pred, num_classes, ignore_index=ignore_index, image_id=image_id
    )
    return cm, ((image_id,) if cm.gt_out_of_range else ())


def _add_scores(
    a: tuple[ConfusionMatrix, tuple[str, ...]], b: tuple[ConfusionMatrix, tuple[str, ...]]
) -> tuple[ConfusionMatrix, tuple[str, ...]]:
    # Integer sums and concatenation: associative, so any chunking gives the same result.
    return a[0] + b[0], a[1] + b[1]


def _resolve_gt(gt: Path) -> tuple[Path, Path | None, Path | None]:
    """(label folder, default id list, class-names file) for a folder or a VOC root."""
    if not gt.is_dir():
        found = "a file" if gt.exists() else "no such folder"
        raise DatasetError(
            f"{gt}: expected a folder of label PNGs or a VOC dataset root, found {found}"
        )
    label_dir, root = label_folder(gt)
    if label_dir == gt == root:  # a plain folder of PNGs: no lists, no names
        return gt, None, None
    # A dataset root scores its val.txt; its SegmentationClass folder every PNG in it.
    return label_dir, (root / VAL_LIST if root == gt else None), root / CLASS_NAMES_FILE


def _resolve_classes(
    gt: Path,
    num_classes: int | None,
    class_names: Sequence[str] | PathLike | None,
    names_file: Path | None,
) -> tuple[int, tuple[str, ...]]:
    source: str
    names: tuple[str, ...] | None
    if isinstance(class_names, (str, os.PathLike)):
        names, source = class_names_by_index(class_names), str(class_names)
    elif class_names is not None:
        names, source = tuple(str(n) for n in class_names), "class_names"
        if not names:
            raise LabelNameError("class_names is empty: give one name per class")
    elif names_file is not None and names_file.is_file():
        names, source = class_names_by_index(names_file), str(names_file)
    else:
        names, source = None, ""
    if num_classes is None:
        if names is None:
            raise EvaluationError(
                f"{gt}: cannot tell the number of classes; give the class names "
                f"(--classes class_names.txt) or their number (--num-classes N)"
            )
        num_classes = len(names)
    if (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, int)
        or not 1 <= num_classes <= MAX_CLASSES
    ):
        raise EvaluationError(
            f"the number of classes must be in [1, {MAX_CLASSES}], got {num_classes!r}"
        )
    if names is None:
        names = tuple(str(i) for i in range(num_classes))
    elif len(names) != num_classes:
        raise EvaluationError(
            f"{source}: has {len(names)} class names but the number of classes is {num_classes}"
        )
    return num_classes, names


def evaluate(
    gt: PathLike,
    pred: PathLike,
    *,
    ids: Sequence[str] | PathLike | None = None,
    num_classes: int | None = None,
    class_names: Sequence[str] | PathLike | None = None,
    ignore_index: int | None = IGNORE_INDEX,
    absent: Absent = "nan",
    workers: int | None = None,
    backend: engine.BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Score the label PNGs in ``pred`` against the ground truth in ``gt``.

    ``gt`` is a folder of ``<id>.png`` label images, or a VOC dataset root (its
    ``SegmentationClass/``, ids from ``ImageSets/Segmentation/val.txt`` and names
    from ``class_names.txt``). ``pred`` is a folder of ``<id>.png`` index images.
    ``ids`` (a sequence or an id-list file) selects the images; by default every
    PNG of a plain GT folder. The class count comes from ``num_classes`` or the
    class names (a sequence, or a file with one name per line).

    Errors (:class:`~labeltools.errors.EvaluationError` unless said otherwise):
    predictions missing for any id (all of them listed), a prediction value
    outside ``[0, C-1]`` (VOCevalseg's message), a size mismatch, an RGB label
    image (:class:`~labeltools.errors.LabelImageError`), missing ground truth
    (:class:`~labeltools.errors.DatasetError`).
    ``workers`` / ``backend``: where the images are scored (see :mod:`labeltools.engine`).
    """
    if absent not in ABSENT_POLICIES:
        raise ValueError(f"absent must be one of {ABSENT_POLICIES}, got {absent!r}")
    if ignore_index is not None and not 0 <= ignore_index <= 255:
        raise EvaluationError(
            f"the ignore index must be in [0, 255] for 8-bit label PNGs, got {ignore_index}"
        )
    gt_path, pred_path = Path(gt), Path(pred)
    gt_dir, default_list, names_file = _resolve_gt(gt_path)
    n_classes, names = _resolve_classes(gt_path, num_classes, class_names, names_file)
    if not pred_path.is_dir():
        found = "a file" if pred_path.exists() else "no such folder"
        raise EvaluationError(
            f"{pred_path}: expected a folder of predicted label PNGs, found {found}"
        )

    gt_stems = label_stems(gt_dir)
    if isinstance(ids, (str, os.PathLike)):
        id_list = read_id_list(ids)
    elif ids is not None:
        id_list = tuple(ids)
        if not id_list:
            raise DatasetError("ids is empty: nothing to evaluate")
        repeated = sorted(i for i, n in Counter(id_list).items() if n > 1)
        if repeated:
            raise DatasetError(f"ids lists {', '.join(repeated)} more than once")
    elif default_list is not None:
        if not default_list.is_file():
            raise DatasetError(
                f"{default_list}: no such split list; give the ids to score (--list ids.txt)"
            )
        id_list = read_id_list(default_list)
    else:
        id_list = tuple(sorted(gt_stems))
        if not id_list:
            raise DatasetError(f"{gt_dir}: no label PNGs (<id>.png) to evaluate")

    missing_gt = [i for i in id_list if i not in gt_stems]
    if missing_gt:
        raise DatasetError(
            f"{gt_dir}: no ground truth for {len(missing_gt)} of {len(id_list)} ids: "
            + ", ".join(missing_gt)
        )
    pred_stems = label_stems(pred_path)
    missing = [i for i in id_list if i not in pred_stems]
    if missing:
        raise EvaluationError(
            f"{pred_path}: no prediction for {len(missing)} of {len(id_list)} ids: "
            + ", ".join(missing)
        )

    score = functools.partial(_score_image, num_classes=n_classes, ignore_index=ignore_index)
    files = [(i, str(gt_stems[i]), str(pred_stems[i])) for i in id_list]
    total, out_of_range_ids = engine.map_reduce(
        score, files, _add_scores, (ConfusionMatrix.zeros(n_classes), ()),
        workers=workers, backend=backend, progress=progress, reads=(gt_dir, pred_path),
    )
    return EvalResult(
        gt=gt_path,
        pred=pred_path,
        ids=id_list,
        class_names=names,
        ignore_index=ignore_index,
        absent=absent,
        confusion=total,
        metrics=total.metrics(absent),
        gt_out_of_range_ids=out_of_range_ids,
    )


# --------------------------------------------------------------------------- saving a result


def confusion_csv(result: EvalResult) -> str:
    """The raw confusion matrix as CSV: a header of class names, then one row per GT class."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["gt \\ pred", *result.class_names])
    for name, row in zip(result.class_names, result.confusion.counts, strict=True):
        writer.writerow([name, *(int(v) for v in row)])
    return buf.getvalue()


def save_confusion_csv(result: EvalResult, path: PathLike) -> Path:
    """Write :func:`confusion_csv` atomically (creating the folder); return the path."""
    return _save_text(path, confusion_csv(result))


def save_eval_json(result: EvalResult, path: PathLike) -> Path:
    """Write :meth:`EvalResult.to_dict` as JSON (NaN as ``null``) atomically; return the path."""
    import json

    return _save_text(path, json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")


def _save_text(path: PathLike, text: str) -> Path:
    from .io.files import atomic_write_text

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, text)
    return target
