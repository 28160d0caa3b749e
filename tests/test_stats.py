"""dataset_stats / `labeltools stats` / the class-share chart, on a hand-counted dataset."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from labeltools import lblsave
from labeltools.errors import DatasetError
from labeltools.stats import dataset_stats
from labeltools.viz import class_share_chart

# a: 0 x3, 1 x4, 255 x1 | b: 0 x6, 2 x2 | c (2 wide, 3 high): 1 x3, 7 x1 (out of range), 255 x2
LABELS = {
    "a": [[0, 0, 1, 1], [0, 255, 1, 1]],
    "b": [[2, 2, 0, 0], [0, 0, 0, 0]],
    "c": [[1, 1], [1, 7], [255, 255]],
}


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "ds"
    (root / "SegmentationClass").mkdir(parents=True)
    for i, lbl in LABELS.items():
        lblsave(root / "SegmentationClass" / f"{i}.png", np.array(lbl, dtype=np.uint8))
    (root / "class_names.txt").write_text("_background_\ncat\ndog\n")
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation" / "train.txt").write_text("a\nb\n")
    return root


def test_hand_counted(dataset):
    s = dataset_stats(dataset)
    c = s.counts
    assert c.pixels.tolist() == [9, 7, 2]
    assert c.images.tolist() == [2, 2, 1]
    assert (c.labelled, c.ignored, c.out_of_range, c.num_images) == (18, 3, 1, 3)
    assert [o.value for o in c.out_of_range_values] == [7]
    assert c.shares().tolist() == [0.5, 7 / 18, 2 / 18]
    assert s.class_names == ("_background_", "cat", "dog")
    assert s.num_classes_source == "class_names.txt"
    assert s.sizes == (((4, 2), 2), ((2, 3), 1))


def test_list_workers_and_json(dataset):
    s = dataset_stats(dataset, list_file="train.txt", workers=2)
    assert s.counts.pixels.tolist() == [9, 4, 2]
    assert s.sizes == (((4, 2), 2),)
    d = s.to_dict()
    assert d["classes"][1] == {"index": 1, "name": "cat", "pixels": 4, "share": 4 / 15, "images": 1}
    assert d["sizes"] == [{"width": 4, "height": 2, "images": 2}]


def test_num_classes_inferred_without_names(dataset):
    (dataset / "class_names.txt").unlink()
    s = dataset_stats(dataset)
    # 7 is now the largest value below 255: 8 classes, 3..6 empty.
    assert s.counts.pixels.tolist() == [9, 7, 2, 0, 0, 0, 0, 1]
    assert s.num_classes_source == "largest value"
    assert s.class_names == ("",) * 8
    assert dataset_stats(dataset, num_classes=2).counts.out_of_range == 3  # 2 and 7


def test_all_ignore_without_names_is_an_error(tmp_path):
    lblsave(tmp_path / "x.png", np.full((2, 2), 255, dtype=np.uint8))
    with pytest.raises(DatasetError) as exc:
        dataset_stats(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path}: every label pixel is 255 (ignore); "
        "give the number of classes (--num-classes N)"
    )


def _colours(img: Image.Image) -> set[tuple[int, int, int]]:
    return {tuple(c) for c in np.asarray(img.convert("RGB")).reshape(-1, 3).tolist()}


@pytest.mark.parametrize("log", [False, True])
def test_chart(log):
    img = class_share_chart(["bg", "cat", "dog"], [0.5, 0.4, 0.1], log=log, title="t")
    # title (13 + 2 * 10) + 3 rows of 22 + axis (13 + 2 * 10)
    assert img.height == 33 + 3 * 22 + 33
    assert img.width > 520
    colours = _colours(img)
    assert {(128, 0, 0), (0, 128, 0), (0, 0, 0)} <= colours  # the cat and dog bars, text
    # The bars' lengths: cat's (0.4) is longer than dog's (0.1).
    arr = np.asarray(img)
    assert (arr == (128, 0, 0)).all(axis=2).sum() > (arr == (0, 128, 0)).all(axis=2).sum()


def test_chart_errors():
    with pytest.raises(ValueError, match="class_share_chart: 2 names but 1 shares"):
        class_share_chart(["a", "b"], [1.0])
    with pytest.raises(ValueError, match=r"expected one share in \[0, 1\] per class"):
        class_share_chart(["a"], [1.5])


@pytest.mark.parametrize("log", [False, True])
def test_share_chart_of_a_dataset(dataset, log):
    from labeltools.stats import share_chart

    stats = dataset_stats(dataset)
    img = share_chart(stats, log=log)
    expected = class_share_chart(
        stats.class_names, stats.counts.shares().tolist(), log=log,
        title=f"{dataset.name}: share of labelled pixels per class (3 labels{', log scale' if log else ''})",
    )
    assert img.size == expected.size and img.tobytes() == expected.tobytes()
