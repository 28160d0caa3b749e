from pathlib import Path

import numpy as np
import pytest

from labeltools import ClassCounts, LabelImageError, OutOfRange, count_pixels, lblsave
from labeltools.weights import pixel_histogram


def _write(tmp_path: Path, name: str, arr) -> Path:
    return lblsave(tmp_path / f"{name}.png", np.asarray(arr, dtype=np.uint8))


@pytest.fixture
def three_labels(tmp_path):
    # a: 3 px of class 0, 1 px of class 1, 2 ignored   (labelled 4)
    # b: 2 px of class 2, 1 px of class 1, 1 px of 7    (labelled 3, 7 out of range for C=3)
    # c: 4 px of class 0, 1 px of class 9               (labelled 4)
    a = _write(tmp_path, "a", [[0, 0, 0], [1, 255, 255]])
    b = _write(tmp_path, "b", [[2, 2], [1, 7]])
    c = _write(tmp_path, "c", [[0, 0, 0, 0, 9]])
    return [a, b, c]


def test_count_pixels_hand_computed(three_labels):
    counts = count_pixels(three_labels, 3)
    assert isinstance(counts, ClassCounts)
    assert counts.pixels.dtype == np.int64 and counts.pixels.shape == (3,)
    assert counts.pixels.tolist() == [7, 2, 2]
    assert counts.images.tolist() == [2, 2, 1]
    # class 0 appears in a (4 labelled) and c (4); class 1 in a (4) and b (3); class 2 in b (3)
    assert counts.image_pixels.tolist() == [8, 7, 3]
    assert counts.ignored == 2
    assert counts.out_of_range == 2
    a, b, c = (str(p) for p in three_labels)
    assert counts.out_of_range_values == (OutOfRange(7, 1, (b,)), OutOfRange(9, 1, (c,)))
    assert counts.num_images == 3
    assert counts.num_classes == 3
    assert counts.labelled == 11
    np.testing.assert_allclose(counts.shares(), [7 / 11, 2 / 11, 2 / 11])


def test_count_pixels_same_for_any_workers_and_reports_progress(three_labels):
    calls = []
    serial = count_pixels(three_labels, 3, workers=1)
    pooled = count_pixels(three_labels, 3, workers=2, progress=lambda d, t: calls.append((d, t)))
    for field in ("pixels", "images", "image_pixels"):
        assert getattr(serial, field).tolist() == getattr(pooled, field).tolist()
    assert serial.out_of_range_values == pooled.out_of_range_values
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_count_pixels_custom_ignore_index(three_labels):
    counts = count_pixels(three_labels, 10, ignore_index=9)
    assert counts.pixels.tolist() == [7, 2, 2, 0, 0, 0, 0, 1, 0, 0]
    assert counts.ignored == 1
    # 255 is not the ignore index here and is >= 10: out of range
    assert counts.out_of_range_values == (OutOfRange(255, 2, (str(three_labels[0]),)),)


def test_count_pixels_rejects_colour_masks(tmp_path):
    from PIL import Image

    rgb = tmp_path / "rgb.png"
    Image.new("RGB", (2, 2), (128, 0, 0)).save(rgb)
    with pytest.raises(LabelImageError, match=r"rgb\.png: expected class indices .* found RGB colours"):
        count_pixels([rgb], 21)


def test_count_pixels_bad_num_classes(three_labels):
    with pytest.raises(ValueError, match=r"num_classes must be in \[1, 256\], got 0"):
        count_pixels(three_labels, 0)


def test_pixel_histogram_exact():
    h = pixel_histogram(np.array([[0, 1, 1], [255, 4, 2]], dtype=np.uint8), 3)
    assert h.counts.tolist() == [1, 2, 1]
    assert (h.ignored, h.out_of_range) == (1, 1)
