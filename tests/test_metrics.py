"""ConfusionMatrix and its scores: hand-made matrices, absent classes, deeplab Evaluator parity."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from labeltools.errors import EvaluationError
from labeltools.metrics import ConfusionMatrix, SegmentationMetrics, _joint_histogram

IGNORE = 255

# Hand-made pair whose matrix (rows = GT, cols = prediction) is
#   [[4, 1, 0],
#    [2, 2, 0],
#    [0, 1, 2]]
# plus three ignored pixels (GT 255) whose predictions must not count.
GT_A = np.array(
    [
        [0, 0, 0, 0, 0],
        [1, 1, 1, 1, 2],
        [2, 2, IGNORE, IGNORE, IGNORE],
    ],
    dtype=np.uint8,
)
PRED_A = np.array(
    [
        [0, 0, 0, 0, 1],
        [0, 0, 1, 1, 1],
        [2, 2, 0, 1, 2],
    ],
    dtype=np.uint8,
)
CM_A = [[4, 1, 0], [2, 2, 0], [0, 1, 2]]


def close(value: float, expected: Fraction | float) -> bool:
    return math.isclose(value, float(expected), rel_tol=0, abs_tol=1e-15)


def all_close(values: np.ndarray, expected: list[Fraction | float]) -> bool:
    return len(values) == len(expected) and all(map(close, values, expected))


def test_from_labels_counts_dtype_and_ignored():
    cm = ConfusionMatrix.from_labels(GT_A, PRED_A, 3)
    assert cm.counts.dtype == np.uint64
    assert cm.counts.shape == (3, 3)
    assert cm.counts.tolist() == CM_A
    assert cm.ignored == 3
    assert cm.gt_out_of_range == 0
    assert not cm.counts.flags.writeable


def test_hand_computed_scores():
    m = ConfusionMatrix.from_labels(GT_A, PRED_A, 3).metrics()
    f = Fraction
    # tp = 4, 2, 2; GT rows 5, 4, 3; predicted columns 6, 4, 2; 12 scored pixels.
    assert close(m.pixel_accuracy, f(8, 12))
    assert all_close(m.accuracy, [f(4, 5), f(1, 2), f(2, 3)])
    assert close(m.mean_accuracy, f(59, 90))
    assert all_close(m.iou, [f(4, 7), f(1, 3), f(2, 3)])
    assert close(m.mean_iou, f(11, 21))
    # 5/12 * 4/7 + 4/12 * 1/3 + 3/12 * 2/3
    assert close(m.fw_iou, f(65, 126))
    assert all_close(m.precision, [f(2, 3), f(1, 2), 1])
    assert close(m.mean_precision, f(13, 18))
    assert all_close(m.dice, [f(8, 11), f(1, 2), f(4, 5)])
    assert close(m.mean_dice, (f(8, 11) + f(1, 2) + f(4, 5)) / 3)
    assert m.gt_pixels.tolist() == [5, 4, 3]
    assert m.pred_pixels.tolist() == [6, 4, 2]
    assert m.gt_pixels.dtype == np.uint64


def test_class_absent_from_both_is_nan_and_left_out_of_means():
    gt = np.array([[0, 0, 1, 1]], dtype=np.uint8)
    pred = np.array([[0, 1, 1, 1]], dtype=np.uint8)
    cm = ConfusionMatrix.from_labels(gt, pred, 3)
    assert cm.counts.tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    m = cm.metrics()
    assert np.isnan(m.iou[2]) and np.isnan(m.accuracy[2])
    assert np.isnan(m.precision[2]) and np.isnan(m.dice[2])
    assert close(m.mean_iou, (Fraction(1, 2) + Fraction(2, 3)) / 2)
    assert close(m.mean_accuracy, (Fraction(1, 2) + 1) / 2)
    assert close(m.mean_precision, (1 + Fraction(2, 3)) / 2)


def test_class_absent_from_both_is_zero_and_averaged_in_with_absent_zero():
    gt = np.array([[0, 0, 1, 1]], dtype=np.uint8)
    pred = np.array([[0, 1, 1, 1]], dtype=np.uint8)
    m = ConfusionMatrix.from_labels(gt, pred, 3).metrics(absent="zero")
    assert m.iou.tolist()[2] == 0.0 and m.accuracy.tolist()[2] == 0.0
    assert close(m.mean_iou, (Fraction(1, 2) + Fraction(2, 3)) / 3)
    assert close(m.mean_accuracy, (Fraction(1, 2) + 1) / 3)
    assert m.absent == "zero"


def test_class_predicted_but_absent_from_gt():
    # Class 2 has no GT pixel but one false positive: IoU 0 (defined), accuracy 0/0.
    gt = np.array([[0, 0, 1, 1]], dtype=np.uint8)
    pred = np.array([[0, 2, 1, 1]], dtype=np.uint8)
    m = ConfusionMatrix.from_labels(gt, pred, 3).metrics()
    assert m.iou[2] == 0.0 and m.precision[2] == 0.0
    assert np.isnan(m.accuracy[2])
    assert close(m.mean_iou, (Fraction(1, 2) + 1 + 0) / 3)
    assert close(m.mean_accuracy, (Fraction(1, 2) + 1) / 2)
    assert close(m.mean_accuracy, Fraction(3, 4))
    zero = ConfusionMatrix.from_labels(gt, pred, 3).metrics(absent="zero")
    assert close(zero.mean_accuracy, Fraction(1, 2))


def test_empty_matrix_scores_are_nan_or_zero():
    m = ConfusionMatrix.zeros(3).metrics()
    assert all(np.isnan([m.pixel_accuracy, m.mean_iou, m.mean_accuracy, m.fw_iou]))
    z = ConfusionMatrix.zeros(3).metrics(absent="zero")
    assert [z.pixel_accuracy, z.mean_iou, z.mean_accuracy, z.fw_iou] == [0.0, 0.0, 0.0, 0.0]


def test_bad_absent_policy():
    with pytest.raises(ValueError, match=r"absent must be one of \('nan', 'zero'\), got 'skip'"):
        ConfusionMatrix.zeros(2).metrics(absent="skip")  # type: ignore[arg-type]


def test_gt_out_of_range_is_counted_not_scored():
    gt = np.array([[0, 3, 7, IGNORE]], dtype=np.uint8)
    pred = np.array([[0, 1, 2, 2]], dtype=np.uint8)
    cm = ConfusionMatrix.from_labels(gt, pred, 3)
    assert cm.counts.tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert (cm.ignored, cm.gt_out_of_range) == (1, 2)


def test_prediction_out_of_range_is_voc_error():
    pred = PRED_A.copy()
    pred[0, 0] = 7
    with pytest.raises(EvaluationError) as info:
        ConfusionMatrix.from_labels(GT_A, pred, 3, image_id="2007_000032")
    assert (
        str(info.value)
        == "Results image '2007_000032' has out of range value 7 (the value should be <= 2)"
    )


def test_prediction_out_of_range_under_ignored_gt_is_still_an_error():
    # VOCevalseg checks max(resim(:)) over the whole image, void pixels included.
    pred = PRED_A.copy()
    pred[2, 4] = 255
    with pytest.raises(
        EvaluationError,
        match=r"^the prediction has out of range value 255 \(the value should be <= 2\)$",
    ):
        ConfusionMatrix.from_labels(GT_A, pred, 3)


def test_wide_prediction_negative_is_an_error():
    with pytest.raises(
        EvaluationError,
        match=r"^Results image 'a' has out of range value -1 \(the value should be <= 2\)$",
    ):
        ConfusionMatrix.from_labels(GT_A, PRED_A.astype(np.int64) - 1, 3, image_id="a")


def test_shape_mismatch():
    with pytest.raises(
        EvaluationError,
        match=r"^Results image 'a' has shape \(3, 4\), the ground truth \(3, 5\); they must match$",
    ):
        ConfusionMatrix.from_labels(GT_A, PRED_A[:, :4], 3, image_id="a")


def test_float_labels_are_refused():
    with pytest.raises(
        EvaluationError, match=r"the prediction must hold integer labels, got dtype float32"
    ):
        ConfusionMatrix.from_labels(GT_A, PRED_A.astype(np.float32), 3)


def test_int_arrays_equal_uint8_and_labelme_minus_one_ignore():
    same = ConfusionMatrix.from_labels(GT_A.astype(np.int32), PRED_A.astype(np.int64), 3)
    assert same == ConfusionMatrix.from_labels(GT_A, PRED_A, 3)
    labelme = GT_A.astype(np.int32)
    labelme[labelme == IGNORE] = -1
    wide = ConfusionMatrix.from_labels(labelme, PRED_A.astype(np.int32), 3, ignore_index=-1)
    assert wide.counts.tolist() == CM_A
    assert (wide.ignored, wide.gt_out_of_range) == (3, 0)


def test_num_classes_range():
    with pytest.raises(ValueError, match=r"num_classes must be in \[1, 255\], got 0"):
        ConfusionMatrix.from_labels(GT_A, PRED_A, 0)


def test_merge_is_associative_with_zero_as_neutral():
    rng = np.random.default_rng(3)
    parts = []
    for _ in range(3):
        gt = rng.integers(0, 5, (20, 30)).astype(np.uint8)
        gt[gt == 4] = IGNORE
        parts.append(
            ConfusionMatrix.from_labels(gt, rng.integers(0, 4, (20, 30)).astype(np.uint8), 4)
        )
    a, b, c = parts
    assert (a + b) + c == a + (b + c)
    assert a + ConfusionMatrix.zeros(4) == a
    assert (a + b).counts.tolist() == (a.counts + b.counts).tolist()
    assert (a + b).ignored == a.ignored + b.ignored


def test_merge_refuses_other_class_count():
    with pytest.raises(ValueError, match="cannot add a 3-class and a 4-class confusion matrix"):
        ConfusionMatrix.zeros(3) + ConfusionMatrix.zeros(4)


def test_joint_histogram_run_length_and_per_pixel_paths_agree():
    rng = np.random.default_rng(0)
    blocky = np.repeat(rng.integers(0, 256, (40, 10)), 16, axis=1).astype(np.uint8)
    noisy = rng.integers(0, 256, (40, 160)).astype(np.uint8)
    for gt, pred in ((blocky, blocky[::-1].copy()), (noisy, blocky), (blocky, noisy)):
        hist = _joint_histogram(gt, pred)
        expected = np.zeros((256, 256), np.int64)
        np.add.at(expected, (gt.ravel(), pred.ravel()), 1)
        assert hist.dtype == np.int64
        assert np.array_equal(hist, expected)


# --- parity with pytorch-deeplab-xception's Evaluator, transcribed from the seed ---------


class ReferenceEvaluator:
    """utils/metrics.py of pytorch-deeplab-xception, as quoted in the seed."""

    def __init__(self, num_class):
        self.num_class = num_class
        self.confusion_matrix = np.zeros((self.num_class,) * 2)

    def Pixel_Accuracy(self):
        Acc = np.diag(self.confusion_matrix).sum() / self.confusion_matrix.sum()
        return Acc

    def Pixel_Accuracy_Class(self):
        Acc = np.diag(self.confusion_matrix) / self.confusion_matrix.sum(axis=1)
        Acc = np.nanmean(Acc)
        return Acc

    def Mean_Intersection_over_Union(self):
        MIoU = np.diag(self.confusion_matrix) / (
            np.sum(self.confusion_matrix, axis=1)
            + np.sum(self.confusion_matrix, axis=0)
            - np.diag(self.confusion_matrix)
        )
        MIoU = np.nanmean(MIoU)
        return MIoU

    def Frequency_Weighted_Intersection_over_Union(self):
        freq = np.sum(self.confusion_matrix, axis=1) / np.sum(self.confusion_matrix)
        iu = np.diag(self.confusion_matrix) / (
            np.sum(self.confusion_matrix, axis=1)
            + np.sum(self.confusion_matrix, axis=0)
            - np.diag(self.confusion_matrix)
        )
        FWIoU = (freq[freq > 0] * iu[freq > 0]).sum()
        return FWIoU

    def _generate_matrix(self, gt_image, pre_image):
        mask = (gt_image >= 0) & (gt_image < self.num_class)
        label = self.num_class * gt_image[mask].astype("int") + pre_image[mask]
        count = np.bincount(label, minlength=self.num_class**2)
        confusion_matrix = count.reshape(self.num_class, self.num_class)
        return confusion_matrix

    def add_batch(self, gt_image, pre_image):
        assert gt_image.shape == pre_image.shape
        self.confusion_matrix += self._generate_matrix(gt_image, pre_image)


@pytest.mark.parametrize("num_classes, absent_classes", [(21, ()), (6, (2, 4))])
def test_parity_with_reference_evaluator(num_classes, absent_classes):
    rng = np.random.default_rng(num_classes)
    ref = ReferenceEvaluator(num_classes)
    ours = ConfusionMatrix.zeros(num_classes)
    present = [c for c in range(num_classes) if c not in absent_classes]
    for _ in range(6):
        shape = tuple(int(s) for s in rng.integers(20, 60, 2))
        gt = rng.choice(present, shape).astype(np.uint8)
        gt[rng.random(shape) < 0.1] = IGNORE
        gt[rng.random(shape) < 0.02] = num_classes + 3  # out of range: both leave it out
        pred = np.where(rng.random(shape) < 0.7, gt, rng.choice(present, shape)).astype(np.uint8)
        pred[gt >= num_classes] = rng.choice(present)
        ref.add_batch(gt, pred)
        ours = ours + ConfusionMatrix.from_labels(gt, pred, num_classes)
    assert np.array_equal(ours.counts, ref.confusion_matrix.astype(np.uint64))
    assert ours.gt_out_of_range > 0 and ours.ignored > 0
    m = ours.metrics()
    with np.errstate(invalid="ignore", divide="ignore"):  # the reference divides 0 by 0
        expected = [
            ref.Pixel_Accuracy(),
            ref.Pixel_Accuracy_Class(),
            ref.Mean_Intersection_over_Union(),
            ref.Frequency_Weighted_Intersection_over_Union(),
        ]
    got = [m.pixel_accuracy, m.mean_accuracy, m.mean_iou, m.fw_iou]
    assert np.allclose(got, expected, rtol=0, atol=1e-12), (got, expected)
    assert isinstance(m, SegmentationMetrics)


def test_joint_histogram_beyond_scratch_size(monkeypatch):
    import labeltools._scratch as scratch

    monkeypatch.setattr(scratch, "MAX_KEPT_BYTES", 10)
    assert ConfusionMatrix.from_labels(GT_A, PRED_A, 3).counts.tolist() == CM_A
