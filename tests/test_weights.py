import math
from pathlib import Path

import numpy as np
import pytest

from labeltools import (
    ClassCounts,
    DatasetError,
    LabelImageError,
    OutOfRange,
    class_weights,
    count_pixels,
    dataset_weights,
    lblsave,
)
from labeltools.formats.voc import find_labels
from labeltools.weights import pixel_histogram, save_weights, weights_path


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


# ----------------------------------------------------------------- weighting schemes


def calculate_weigths_labels(labels, num_classes):
    """pytorch-deeplab-xception's utils/calculate_weights.py, transcribed (loader -> arrays)."""
    z = np.zeros((num_classes,))
    for y in labels:
        mask = (y >= 0) & (y < num_classes)
        labels_ = y[mask].astype(np.uint8)
        count_l = np.bincount(labels_, minlength=num_classes)
        z += count_l
    total_frequency = np.sum(z)
    class_weights = []
    for frequency in z:
        class_weight = 1 / (np.log(1.02 + (frequency / total_frequency)))
        class_weights.append(class_weight)
    return np.array(class_weights)


def _counts(pixels, images=None, image_pixels=None):
    pixels = np.asarray(pixels, dtype=np.int64)
    zeros = np.zeros_like(pixels)
    return ClassCounts(
        pixels,
        np.asarray(images, dtype=np.int64) if images is not None else zeros,
        np.asarray(image_pixels, dtype=np.int64) if image_pixels is not None else zeros,
        0, 0, (), 1,
    )


def test_enet_parity_with_calculate_weigths_labels_on_random_data(tmp_path):
    rng = np.random.default_rng(3)
    arrays, paths = [], []
    for i in range(6):
        # skewed classes, some ignore pixels
        lbl = rng.choice([0, 0, 0, 1, 2, 5, 7, 255], size=(37, 53)).astype(np.uint8)
        arrays.append(lbl)
        paths.append(_write(tmp_path, f"r{i}", lbl))
    expected = calculate_weigths_labels(arrays, 8)
    result = class_weights(count_pixels(paths, 8), "enet")
    assert result.weights.dtype == np.float64 and result.weights.shape == (8,)
    np.testing.assert_allclose(result.weights, expected, rtol=0, atol=1e-12)
    # classes 3, 4 and 6 never occur: 1 / ln(1.02), exactly as the reference gives
    assert result.zero_classes == (3, 4, 6)
    assert result.weights[3] == pytest.approx(1 / math.log(1.02), abs=1e-12)


def test_median_frequency_hand_computed():
    # class 0: 60 px over images totalling 100 labelled px -> freq 0.6
    # class 1: 10 px over images totalling 40               -> freq 0.25
    # class 2: 5 px over images totalling 20                -> freq 0.25
    # class 3: 30 px over images totalling 60               -> freq 0.5
    counts = _counts([60, 10, 5, 30], [2, 1, 1, 2], [100, 40, 20, 60])
    w = class_weights(counts, "median-frequency").weights
    # median of (0.6, 0.25, 0.25, 0.5) = 0.375
    np.testing.assert_allclose(w, [0.375 / 0.6, 1.5, 1.5, 0.75], rtol=0, atol=1e-15)


def test_median_frequency_from_files(three_labels):
    counts = count_pixels(three_labels, 3)
    # freq: class 0 = 7/8, class 1 = 2/7, class 2 = 2/3; median = 2/3
    w = class_weights(counts, "median-frequency").weights
    np.testing.assert_allclose(w, [(2 / 3) / (7 / 8), (2 / 3) / (2 / 7), 1.0], rtol=1e-15)


def test_inverse_and_inverse_sqrt_have_mean_one_over_present_classes():
    counts = _counts([50, 25, 0, 25])
    inv = class_weights(counts, "inverse")
    # shares 0.5, 0.25, 0.25 -> 1/f = 2, 4, 4 -> mean 10/3
    np.testing.assert_allclose(inv.weights, [0.6, 1.2, 1.2, 1.2], rtol=1e-15)
    assert inv.zero_classes == (2,)
    sq = class_weights(counts, "inverse-sqrt").weights
    raw = np.array([1 / math.sqrt(0.5), 2.0, 2.0])
    np.testing.assert_allclose(sq[[0, 1, 3]], raw / raw.mean(), rtol=1e-15)
    assert sq[2] == sq[[0, 1, 3]].max()  # zero-pixel class: the largest weight
    assert np.mean(sq[[0, 1, 3]]) == pytest.approx(1.0, abs=1e-15)


def test_zero_pixel_median_frequency_gets_the_largest_weight():
    result = class_weights(_counts([60, 0, 5], [2, 0, 1], [100, 0, 20]), "median-frequency")
    # freq 0.6, 0.25 -> median 0.425 -> weights 0.7083.., 1.7
    np.testing.assert_allclose(result.weights, [0.425 / 0.6, 1.7, 1.7], rtol=1e-15)
    assert result.zero_classes == (1,)


def test_no_labelled_pixels_is_an_error():
    with pytest.raises(DatasetError, match=r"no labelled pixels in 1 label images \(all ignored or out of range\)"):
        class_weights(_counts([0, 0]), "enet")


def test_unknown_method():
    with pytest.raises(ValueError, match="method must be one of enet, median-frequency, inverse, inverse-sqrt, got 'focal'"):
        class_weights(_counts([1]), "focal")


def _dataset(tmp_path):
    root = tmp_path / "voc"
    (root / "SegmentationClass").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "class_names.txt").write_text("_background_\ncat\ndog\n", encoding="utf-8")
    lblsave(root / "SegmentationClass" / "a.png", np.array([[0, 1], [1, 255]], dtype=np.uint8))
    lblsave(root / "SegmentationClass" / "b.png", np.array([[0, 0], [2, 2]], dtype=np.uint8))
    (root / "ImageSets" / "Segmentation" / "train.txt").write_text("a\n", encoding="utf-8")
    return root


def test_dataset_weights_uses_class_names_and_lists(tmp_path):
    root = _dataset(tmp_path)
    result = dataset_weights(root)
    assert result.labels.class_names == ("_background_", "cat", "dog")
    assert result.weights.counts.pixels.tolist() == [3, 2, 2]
    only_a = dataset_weights(root, list_file="train.txt", method="inverse")
    assert only_a.weights.counts.pixels.tolist() == [1, 2, 0]
    assert only_a.weights.zero_classes == (2,)
    same = find_labels(root / "SegmentationClass")
    assert same.root == root and len(same.paths) == 2


def test_dataset_weights_out_of_range_error(tmp_path):
    root = _dataset(tmp_path)
    lblsave(root / "SegmentationClass" / "c.png", np.array([[0, 3], [7, 7]], dtype=np.uint8))
    with pytest.raises(DatasetError) as exc:
        dataset_weights(root)
    assert str(exc.value) == (
        f"{root / 'SegmentationClass'}: "
        "1 of 3 label files hold values >= 3 (the number of classes) other than 255: "
        "3 (1 px in c.png); 7 (2 px in c.png); fix the labels, give the right number of "
        "classes, or leave them out (--ignore-out-of-range)"
    )
    ok = dataset_weights(root, ignore_out_of_range=True)
    assert ok.weights.counts.pixels.tolist() == [4, 2, 2]


def test_dataset_weights_list_with_missing_label(tmp_path):
    root = _dataset(tmp_path)
    lst = root / "ImageSets" / "Segmentation" / "val.txt"
    lst.write_text("a\n\nzz\n", encoding="utf-8")
    with pytest.raises(DatasetError) as exc:
        dataset_weights(root, list_file="val.txt")
    assert str(exc.value) == f"{lst}: line 3: id 'zz' has no label {root / 'SegmentationClass' / 'zz.png'}"


def test_dataset_weights_needs_num_classes(tmp_path):
    root = _dataset(tmp_path)
    (root / "class_names.txt").unlink()
    with pytest.raises(DatasetError, match=r"voc: no class_names\.txt to tell the number of classes; give it \(--num-classes N\)"):
        dataset_weights(root)


def test_save_weights_round_trip(tmp_path):
    w = np.array([1.5, 2.25])
    path = save_weights(tmp_path / "w.npy", w)
    back = np.load(path)
    assert back.dtype == np.float64 and back.tolist() == [1.5, 2.25]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npy"]


def test_weights_path_names_the_file_a_deeplab_trainer_loads(tmp_path):
    # pytorch-deeplab-xception: os.path.join(db_root_dir(dataset), dataset + '_classes_weights.npy')
    assert weights_path(tmp_path / "VOC2012", "pascal") == tmp_path / "VOC2012" / "pascal_classes_weights.npy"
    assert weights_path(tmp_path / "VOC2012") == tmp_path / "VOC2012" / "VOC2012_classes_weights.npy"
    with pytest.raises(ValueError, match=r"^dataset_name must be a plain name such as 'pascal', got 'a/b'$"):
        weights_path(tmp_path, "a/b")


def test_dataset_weights_save(tmp_path):
    root = _dataset(tmp_path)
    result = dataset_weights(root)
    assert result.save(dataset_name="pascal") == root / "pascal_classes_weights.npy"
    assert result.save() == root / "voc_classes_weights.npy"
    np.testing.assert_array_equal(np.load(root / "pascal_classes_weights.npy"), result.weights.weights)
    with pytest.raises(ValueError, match=r"^give out or dataset_name, not both$"):
        result.save(tmp_path / "w.npy", dataset_name="pascal")


def test_cli_weights_dataset_name(tmp_path):
    from .conftest import run_cli

    root = _dataset(tmp_path)
    done = run_cli("weights", str(root), "--dataset-name", "pascal")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"Wrote {root / 'pascal_classes_weights.npy'}"
    bad = run_cli("weights", str(root), "--dataset-name", "pascal", "--out", str(tmp_path / "w.npy"))
    assert bad.returncode == 2 and "give --out or --dataset-name, not both" in bad.stderr


def test_label_value_counts_p_l_and_1(tmp_path):
    from PIL import Image

    from labeltools.weights import label_value_counts

    arr = np.array([[0, 3, 3], [255, 3, 0]], dtype=np.uint8)
    p = _write(tmp_path, "p", arr)
    Image.fromarray(arr, mode="L").save(tmp_path / "l.png")
    Image.fromarray(np.array([[True, False]])).save(tmp_path / "b.png")  # mode "1"
    for path in (p, tmp_path / "l.png"):
        full = label_value_counts(path)
        assert full.dtype == np.int64 and full.shape == (256,)
        assert {int(v): int(full[v]) for v in np.flatnonzero(full)} == {0: 2, 3: 3, 255: 1}
    assert label_value_counts(tmp_path / "b.png")[:2].tolist() == [1, 1]


def test_weights_path_names_the_dataset():
    from labeltools.weights import weights_path

    assert weights_path(Path("data/voc")) == Path("data/voc/voc_classes_weights.npy")
    assert weights_path("data/voc", "pascal") == Path("data/voc/pascal_classes_weights.npy")
    with pytest.raises(ValueError, match="dataset_name must be a plain name such as 'pascal', got 'a/b'"):
        weights_path("data/voc", "a/b")


def test_save_default_path_and_counts(tmp_path):
    import json

    from labeltools.weights import save_counts

    root = _dataset(tmp_path)
    result = dataset_weights(root)
    target = result.save()
    assert target == root / "voc_classes_weights.npy"
    assert np.load(target).tolist() == result.weights.weights.tolist()
    counts = save_counts(tmp_path / "out" / "counts.json", result)
    doc = json.loads(counts.read_text())
    assert doc["class_names"] == ["_background_", "cat", "dog"] and doc["pixels"] == [3, 2, 2]
    assert counts.read_text().endswith("}\n")
    other = result.save(tmp_path / "deep" / "w.npy")
    assert other == tmp_path / "deep" / "w.npy" and other.is_file()
