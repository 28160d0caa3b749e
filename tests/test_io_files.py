"""Atomic writes (the file appears whole or not at all) and the one rule for label PNGs."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from labeltools.io.files import (
    TMP_PREFIX,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    label_files,
    label_stems,
)


def test_atomic_write_bytes_writes_and_replaces(tmp_path):
    target = tmp_path / "a.png"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(str(target), b"x" * 300_000)  # str paths too; larger than one write may take
    assert target.read_bytes() == b"x" * 300_000
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_atomic_write_bytes_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"1")
        with open(tmp_path / "b.bin", "wb") as f:
            f.write(b"1")
    finally:
        os.umask(old)
    assert (tmp_path / "a.bin").stat().st_mode == (tmp_path / "b.bin").stat().st_mode


def test_atomic_write_bytes_failure_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.png"
    target.write_bytes(b"old")

    def broken_write(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", broken_write)
    with pytest.raises(OSError, match="No space left on device"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_atomic_write_bytes_onto_a_folder_fails_cleanly(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        atomic_write_bytes(tmp_path / "d", b"x")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_atomic_path_and_text(tmp_path):
    with atomic_path(tmp_path / "t.txt") as tmp:
        assert tmp.name.startswith(TMP_PREFIX) and tmp.suffix == ".txt" and tmp.exists()
        tmp.write_text("a")
    atomic_write_text(tmp_path / "u.txt", "é\n")
    assert (tmp_path / "t.txt").read_text() == "a"
    assert (tmp_path / "u.txt").read_bytes() == "é\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt", "u.txt"]


# ----------------------------------------------------------------- label_files


def _label_folder(folder):
    """a.png, b.PNG, .hidden.png, sub/c.png and a folder named d.png: the labels are a and b."""
    from labeltools import lblsave

    folder.mkdir(parents=True)
    lbl = np.array([[0, 1], [1, 1]], np.uint8)
    lblsave(folder / "a.png", lbl)
    lblsave(folder / "b.PNG", lbl)
    lblsave(folder / ".hidden.png", lbl)
    (folder / "sub").mkdir()
    lblsave(folder / "sub" / "c.png", lbl)
    (folder / "d.png").mkdir()
    (folder / "notes.txt").write_text("not a label\n")
    return folder


def test_label_files_rule(tmp_path):
    folder = _label_folder(tmp_path / "labels")
    assert label_files(folder) == (folder / "a.png", folder / "b.PNG")
    assert label_stems(str(folder)) == {"a": folder / "a.png", "b": folder / "b.PNG"}
    assert label_files(folder / "sub") == (folder / "sub" / "c.png",)


def test_label_files_one_file_per_id_and_links(tmp_path):
    (tmp_path / "x.PNG").write_bytes(b"")
    (tmp_path / "x.png").write_bytes(b"")
    (tmp_path / "x.Png").write_bytes(b"")
    (tmp_path / f"{TMP_PREFIX}0123.png").write_bytes(b"")  # a crashed run's leftover
    os.symlink(tmp_path / "x.png", tmp_path / "y.png")
    os.symlink(tmp_path / "gone.png", tmp_path / "z.png")  # dangling: no file
    assert [p.name for p in label_files(tmp_path)] == ["x.png", "y.png"]


def test_label_files_of_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        label_files(tmp_path / "nope")


def test_every_command_lists_the_same_labels(tmp_path):
    """check, stats, weights, split, eval, rgb2index and index2rgb agree: a and b."""
    from labeltools import check_dataset, dataset_stats, evaluate, index2rgb_files, rgb2index_files
    from labeltools.splits import split_dataset
    from labeltools.weights import dataset_weights

    root = tmp_path / "voc"
    labels = _label_folder(root / "SegmentationClass")
    (root / "JPEGImages").mkdir()
    for name in ("a", "b", ".hidden"):
        Image.new("RGB", (2, 2)).save(root / "JPEGImages" / f"{name}.jpg")

    report = check_dataset(root)
    assert report.labels == 2
    assert report.problem("image_without_label").ids == (".hidden",)
    assert dataset_stats(root).num_images == 2
    assert dataset_weights(root, num_classes=2).labels.paths == label_files(labels)
    split = split_dataset(root, val=0.5).split
    assert sorted(split.train + split.val) == ["a", "b"]
    assert dataset_stats(root, list_file="trainval.txt").num_images == 2
    assert evaluate(labels, labels, num_classes=2).ids == ("a", "b")

    colours = index2rgb_files(labels, tmp_path / "rgb")
    assert [os.path.basename(f) for f in colours.files] == ["a.png", "b.png"]
    masks = tmp_path / "masks"
    masks.mkdir()
    for f in colours.files:
        os.replace(f, masks / os.path.basename(f).replace("b.png", "b.PNG"))
    (masks / ".hidden.png").write_bytes((masks / "a.png").read_bytes())
    back = rgb2index_files(masks, tmp_path / "index")
    assert [os.path.basename(r.src) for r in back.files] == ["a.png", "b.PNG"]
