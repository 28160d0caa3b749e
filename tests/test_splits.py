import random

import numpy as np
import pytest

from labeltools import (
    DatasetError,
    OutputError,
    lblsave,
    split_balance,
    split_dataset,
    split_ids,
    stratified_split_ids,
)


def test_sizes_and_disjoint():
    ids = [f"img{i:03d}" for i in range(10)]
    s = split_ids(ids, val=0.2, seed=0)
    assert len(s.train) == 8 and len(s.val) == 2 and s.test == ()
    assert set(s.train) | set(s.val) == set(ids)
    assert not set(s.train) & set(s.val)
    assert list(s.train) == sorted(s.train)
    assert s.trainval == tuple(sorted(ids))


def test_deterministic_regardless_of_order_and_global_rng():
    ids = [f"img{i:03d}" for i in range(50)]
    a = split_ids(ids, val=0.3, test=0.1, seed=7)
    shuffled = ids[:]
    random.Random(1).shuffle(shuffled)
    before = shuffled[:]
    b = split_ids(shuffled, val=0.3, test=0.1, seed=7)
    assert a == b
    assert shuffled == before  # the caller's list is not reordered
    assert split_ids(ids, val=0.3, test=0.1, seed=8) != a


def test_empty_split_is_an_error():
    with pytest.raises(DatasetError, match="a val ratio of 0.1 leaves the val split empty with 3 ids"):
        split_ids(["a", "b", "c"], val=0.1)


def test_bad_ratio():
    with pytest.raises(ValueError, match=r"val ratio must be in \[0, 1\), got 1.5"):
        split_ids(["a"], val=1.5)


# ----------------------------------------------------------------- stratified splits


def _skewed(n=200, seed=42):
    """Class 0 everywhere; classes 1..5 in about 50, 20, 8, 4 and 2.5 % of the images."""
    rng = np.random.default_rng(seed)
    probs = {1: 0.5, 2: 0.2, 3: 0.08, 4: 0.04, 5: 0.025}
    return {
        f"img{i:03d}": {0} | {c for c, p in probs.items() if rng.random() < p} for i in range(n)
    }


def _worst(split, classes):
    return max(b.deviation for b in split_balance(split, classes))


def test_stratified_beats_random_on_a_skewed_dataset():
    classes = _skewed()
    strat, plain = [], []
    for seed in range(10):
        s = stratified_split_ids(classes, val=0.2, test=0.1, seed=seed)
        r = split_ids(classes, val=0.2, test=0.1, seed=seed)
        assert (len(s.train), len(s.val), len(s.test)) == (len(r.train), len(r.val), len(r.test)) == (140, 40, 20)
        strat.append(_worst(s, classes))
        plain.append(_worst(r, classes))
    # Every stratified split is better than every random one here, by a wide margin.
    assert max(strat) < min(plain)
    assert max(strat) <= 0.03 and np.mean(plain) > 0.09


def test_stratified_balance_numbers_for_seed_0():
    classes = _skewed()
    bal = split_balance(stratified_split_ids(classes, val=0.2, test=0.1, seed=0), classes)
    # class 1 is in 102 of 200 images (51 %): 72 of train's 140 (51.43 %), 20 of val's 40;
    # class 4 is in 5 images (2.5 %): test's 20 can hold 0 or 1 of them, 0.025 off either way
    assert [(b.name, b.size, b.worst_class, round(b.deviation, 4)) for b in bal] == [
        ("train", 140, 1, 0.0043),
        ("val", 40, 1, 0.01),
        ("test", 20, 4, 0.025),
    ]


def test_stratified_deterministic_regardless_of_order():
    classes = _skewed(60, seed=1)
    items = list(classes.items())
    random.Random(5).shuffle(items)
    a = stratified_split_ids(classes, val=0.25, seed=3)
    b = stratified_split_ids(dict(items), val=0.25, seed=3)
    assert a == b
    assert stratified_split_ids(classes, val=0.25, seed=4) != a


def test_stratified_handles_images_without_classes_and_rejects_empty_splits():
    s = stratified_split_ids({"a": {1}, "b": set(), "c": {1}, "d": set()}, val=0.5)
    assert len(s.train) == 2 and len(s.val) == 2
    with pytest.raises(DatasetError, match="a val ratio of 0.1 leaves the val split empty with 4 ids"):
        stratified_split_ids({"a": {1}, "b": set(), "c": {1}, "d": set()}, val=0.1)


def _voc(tmp_path, classes):
    root = tmp_path / "voc"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    for i, present in classes.items():
        lbl = np.zeros((2, 4), dtype=np.uint8)
        for k, c in enumerate(sorted(present)):
            lbl[1, k] = c
        lblsave(root / "SegmentationClass" / f"{i}.png", lbl)
        (root / "JPEGImages" / f"{i}.jpg").write_bytes(b"")  # only the name matters here
    return root


def test_split_dataset_writes_lists_and_refuses_to_overwrite(tmp_path):
    classes = _skewed(40, seed=2)
    root = _voc(tmp_path, classes)
    (root / "JPEGImages" / "extra.jpg").write_bytes(b"")  # image without label: not an id
    report = split_dataset(root, val=0.25, test=0.1, seed=0, stratify=True)
    lists = root / "ImageSets" / "Segmentation"
    assert sorted(p.name for p in lists.iterdir()) == ["test.txt", "train.txt", "trainval.txt", "val.txt"]
    train = (lists / "train.txt").read_text().split()
    assert train == list(report.split.train) and len(train) == 26
    assert len((lists / "val.txt").read_text().split()) == 10
    assert report.split == stratified_split_ids(classes, val=0.25, test=0.1, seed=0)
    with pytest.raises(OutputError) as exc:
        split_dataset(root, val=0.25)
    assert str(exc.value) == (
        f"{lists}: split lists already exist (train.txt, val.txt, test.txt, trainval.txt); "
        f"pass --overwrite to replace them"
    )
    again = split_dataset(root, val=0.25, overwrite=True)
    assert again.removed == (lists / "test.txt",)
    assert sorted(p.name for p in lists.iterdir()) == ["train.txt", "trainval.txt", "val.txt"]


def test_split_dataset_needs_a_voc_layout(tmp_path):
    with pytest.raises(DatasetError, match="expected a VOC dataset with JPEGImages/, found none"):
        split_dataset(tmp_path)


def test_split_dataset_same_for_shuffled_directory_listings(tmp_path, monkeypatch):
    import pathlib

    classes = _skewed(30, seed=3)
    root = _voc(tmp_path, classes)
    first = split_dataset(root, val=0.3, seed=1, stratify=True).split
    real_iterdir = pathlib.Path.iterdir

    def shuffled_iterdir(self):
        entries = list(real_iterdir(self))
        random.Random(len(entries)).shuffle(entries)
        return iter(entries[::-1])

    monkeypatch.setattr(pathlib.Path, "iterdir", shuffled_iterdir)
    second = split_dataset(root, val=0.3, seed=1, stratify=True, overwrite=True).split
    assert first == second
