"""CLI: rgb2index, index2rgb, split, weights (one success and one failure each, at least)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from labeltools import label_colormap, lblread, lblsave, stratified_split_ids
from labeltools.cli import app

from .conftest import run_cli

runner = CliRunner()
CMAP = label_colormap()


def _invoke(*args: object):
    # Wide terminal: typer's usage-error box would wrap a long message.
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def test_rgb2index_folder(tmp_path):
    src = tmp_path / "masks"
    src.mkdir()
    index = np.array([[0, 1], [15, 255]], dtype=np.uint8)
    Image.fromarray(CMAP[index]).save(src / "a.png")
    Image.fromarray(CMAP[index]).convert("RGBA").save(src / "b.png")
    out = tmp_path / "out"
    result = _invoke("rgb2index", src, out, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Wrote 2 index PNGs to {out} (1 RGB, 1 RGBA; the VOC palette); "
        f"unknown colours: 0 px in 0 files\n"
    )
    assert lblread(out / "a.png").tolist() == index.tolist()
    assert lblread(out / "b.png").tolist() == index.tolist()


def test_rgb2index_unknown_colours_exit_1(tmp_path):
    rgb = CMAP[np.zeros((2, 3), dtype=np.uint8)].copy()
    rgb[1, 2] = (1, 2, 3)
    mask = tmp_path / "m.png"
    Image.fromarray(rgb).save(mask)
    result = run_cli("rgb2index", str(mask), str(tmp_path / "o.png"))
    assert result.returncode == 1
    assert result.stderr == f"Error: {mask}: 1 colour not in the VOC palette: (1,2,3) 1 px at (x=2, y=1)\n"
    assert not (tmp_path / "o.png").exists()


def test_rgb2index_unknown_ignore_reports_counts(tmp_path):
    rgb = CMAP[np.zeros((2, 3), dtype=np.uint8)].copy()
    rgb[1, 2] = (1, 2, 3)
    mask = tmp_path / "m.png"
    Image.fromarray(rgb).save(mask)
    out = tmp_path / "o.png"
    result = _invoke("rgb2index", mask, out, "--unknown", "ignore")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Warning: {mask}: unknown colours written as 255: (1,2,3) 1 px at (x=2, y=1)\n"
    assert result.stdout.endswith("unknown colours: 1 px in 1 file\n")
    assert lblread(out).tolist() == [[0, 0, 0], [0, 0, 255]]


def test_rgb2index_bgr_with_num_classes(tmp_path):
    rgb = CMAP[np.array([[8, 0]], dtype=np.uint8)][..., ::-1]
    mask = tmp_path / "bgr.png"
    Image.fromarray(np.ascontiguousarray(rgb)).save(mask)
    result = _invoke("rgb2index", mask, tmp_path / "o.png", "--num-classes", "21")
    assert result.exit_code == 1
    assert "all of them are palette colours with red and blue swapped" in result.stderr


def test_rgb2index_bad_option_is_usage_error(tmp_path):
    result = _invoke("rgb2index", tmp_path, tmp_path / "o", "--unknown", "zero")
    assert result.exit_code == 2
    assert "must be one of error, ignore, got 'zero'" in result.output


def test_index2rgb_overlay(tmp_path):
    root = tmp_path / "voc"
    (root / "SegmentationClass").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    (root / "class_names.txt").write_text("_background_\naeroplane\n", encoding="utf-8")
    lblsave(root / "SegmentationClass" / "x.png", np.array([[0, 1]], dtype=np.uint8))
    Image.new("RGB", (2, 1), (50, 60, 70)).save(root / "JPEGImages" / "x.jpg")
    out = tmp_path / "viz"
    result = _invoke("index2rgb", root / "SegmentationClass", out, "--images", root / "JPEGImages", "--alpha", "0.6")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 1 overlay to {out}\n"
    with Image.open(out / "x.png") as img:
        assert img.mode == "RGB" and img.width > 2


def test_index2rgb_colour_mask_input_exit_1(tmp_path):
    mask = tmp_path / "rgb.png"
    Image.new("RGB", (2, 2)).save(mask)
    result = run_cli("index2rgb", str(mask), str(tmp_path / "o.png"))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {mask}: expected class indices (a P or L PNG), found RGB colours; "
        f"convert colour masks with `labeltools rgb2index`\n"
    )


def _voc(tmp_path, n=10):
    root = tmp_path / "voc"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    (root / "class_names.txt").write_text("_background_\ncat\ndog\n", encoding="utf-8")
    for i in range(n):
        lbl = np.zeros((2, 2), dtype=np.uint8)
        lbl[0, 0] = 1 if i % 2 else 2
        if i == 0:
            lbl[1, 1] = 255
        lblsave(root / "SegmentationClass" / f"im{i}.png", lbl)
        (root / "JPEGImages" / f"im{i}.jpg").write_bytes(b"")
    return root


def test_split_cli(tmp_path):
    root = _voc(tmp_path)
    result = _invoke("split", root, "--val", "0.2", "--stratify", "--workers", "1")
    assert result.exit_code == 0, result.output
    lists = root / "ImageSets" / "Segmentation"
    classes = {f"im{i}": {0, 1 if i % 2 else 2} for i in range(10)}
    expected = stratified_split_ids(classes, val=0.2, seed=0)
    assert (lists / "train.txt").read_text() == "".join(f"{i}\n" for i in expected.train)
    val = (lists / "val.txt").read_text().split()
    assert val == list(expected.val) and len(val) == 2
    # one cat image and one dog image in val: each class's share is exactly the dataset's
    assert sorted(int(i[2:]) % 2 for i in val) == [0, 1]
    assert "stratified split of 10 ids (seed 0)" in result.stdout
    assert f"Wrote {lists / 'trainval.txt'}" in result.stdout


def test_split_cli_refuses_existing_lists_exit_1(tmp_path):
    root = _voc(tmp_path)
    lists = root / "ImageSets" / "Segmentation"
    lists.mkdir(parents=True)
    (lists / "train.txt").write_text("old\n")
    result = run_cli("split", str(root))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {lists}: split lists already exist (train.txt); pass --overwrite to replace them\n"
    )
    assert (lists / "train.txt").read_text() == "old\n"


def test_split_cli_empty_split_exit_1(tmp_path):
    root = _voc(tmp_path, n=3)
    result = _invoke("split", root, "--val", "0.1")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: a val ratio of 0.1 leaves the val split empty with 3 ids; use a larger ratio or more data\n"
    )


def test_weights_cli(tmp_path):
    root = _voc(tmp_path)
    counts = tmp_path / "counts.json"
    result = _invoke("weights", root, "--counts", counts, "--workers", "1")
    assert result.exit_code == 0, result.output
    target = root / "voc_classes_weights.npy"
    assert result.stdout.endswith(f"Wrote {target} and {counts}\n")
    w = np.load(target)
    assert w.dtype == np.float64 and w.shape == (3,)
    # 40 px, 1 ignored: background 29, cat 5, dog 5 of 39
    expected = 1 / np.log(1.02 + np.array([29, 5, 5]) / 39)
    np.testing.assert_allclose(w, expected, rtol=0, atol=1e-12)
    data = json.loads(counts.read_text())
    assert data["pixels"] == [29, 5, 5] and data["ignored"] == 1 and data["images"] == [10, 5, 5]
    assert data["class_names"] == ["_background_", "cat", "dog"]
    assert "1 cat" in result.stdout and "12.82 %" in result.stdout


def test_weights_cli_zero_class_warning(tmp_path):
    root = _voc(tmp_path)
    out = tmp_path / "w.npy"
    result = _invoke("weights", root, "--num-classes", "4", "--method", "median-frequency", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == "Warning: class 3 has no pixels; weight set to 1.0526 (the largest)\n"
    # freq: background 29/39, cat 5/20 (its 5 images hold 20 labelled px), dog 5/19
    # (im0 has an ignored pixel); median 5/19
    freq = np.array([29 / 39, 5 / 20, 5 / 19])
    expected = (5 / 19) / freq
    np.testing.assert_allclose(np.load(out), [*expected, expected.max()], rtol=1e-15)


def test_weights_cli_out_of_range_exit_1(tmp_path):
    root = _voc(tmp_path)
    result = run_cli("weights", str(root), "--num-classes", "2", "--workers", "1")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: 5 of 10 label files hold values >= 2 (the number of classes) other than 255: "
        "2 (5 px in im0.png, im2.png, im4.png and 2 more); fix the labels, give the right number "
        "of classes, or leave them out (--ignore-out-of-range)\n"
    )
    assert not (root / "voc_classes_weights.npy").exists()


@pytest.mark.parametrize("method", ["focal"])
def test_weights_cli_bad_method_exit_2(tmp_path, method):
    result = _invoke("weights", tmp_path, "--method", method)
    assert result.exit_code == 2
    assert "must be one of enet, median-frequency, inverse, inverse-sqrt, got 'focal'" in result.output
