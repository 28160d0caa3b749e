"""CLI: check, stats, split, weights (one success and one failure each, at least)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from labeltools import lblsave, stratified_split_ids
from labeltools.cli import app

from . import test_check, test_stats
from .conftest import run_cli
from .test_stats import _colours

runner = CliRunner()

# The datasets of the library's tests, as fixtures here too.
clean, broken, dataset = test_check.clean, test_check.broken, test_stats.dataset


def _invoke(*args: object):
    # Wide terminal: typer's usage-error box would wrap a long message.
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def test_cli_check_clean(clean):
    result = runner.invoke(app, ["check", str(clean)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{clean}: 3 labels, 3 images, lists: train 2, trainval 3, val 1; "
        "classes: 3 (from class_names.txt)\nOK: no problems found\n"
    )


def test_cli_check_problems_exit_1(broken):
    result = runner.invoke(app, ["check", str(broken), "--workers", "2"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    out = result.stdout
    assert "out of range" not in out  # kinds print as their summaries
    assert "values outside {0..2, 255}: 5, 7" in out
    assert "sz (label 6x4, image 7x4)" in out
    assert out.endswith("Found 9 kinds of error, 6 of warning, 3 of note.\n")


def test_cli_check_json(broken):
    result = runner.invoke(app, ["check", str(broken), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    by_kind = {p["kind"]: p for p in data["problems"]}
    assert by_kind["missing_image"] == {
        "kind": "missing_image",
        "severity": "error",
        "summary": "listed, but no image in JPEGImages/",
        "count": 1,
        "ids": ["m1"],
        "details": ["in train.txt, trainval.txt"],
    }
    assert by_kind["out_of_range"]["values"] == [5, 7]


def test_cli_check_not_a_dataset(tmp_path):
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {tmp_path}: expected a VOC dataset folder with SegmentationClass/, found none\n"
    )


def test_cli_stats_table_and_plot(dataset, tmp_path):
    plot = tmp_path / "charts" / "stats.png"
    args = ["stats", str(dataset), "--plot", str(plot), "--log"]
    result = runner.invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "│ 1 cat          │      7 │ 38.89 % │      2 │" in out
    assert "labelled 18 px; ignored (255) 3 px\n" in out
    assert "out of range (values 7): 1 px, in no class\n" in out
    assert out.endswith("label sizes: 4x2 (2), 2x3 (1)\n" f"Wrote {plot}\n")
    with Image.open(plot) as img:
        assert img.height == 33 + 3 * 22 + 33
        assert len(_colours(img)) > 10


def test_cli_stats_json(dataset):
    result = runner.invoke(app, ["stats", str(dataset), "--json", "--list", "train.txt"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [c["pixels"] for c in data["classes"]] == [9, 4, 2]
    assert data["num_images"] == 2


def test_cli_stats_missing_list(dataset):
    result = run_cli("stats", str(dataset), "--list", "nope.txt")
    assert result.returncode == 1
    missing = dataset / "ImageSets" / "Segmentation" / "nope.txt"
    assert result.stderr == f"Error: {missing}: no such list file\n"


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
    result = _invoke("split", root, "--val-ratio", "0.2", "--stratify", "--workers", "1")
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
    result = _invoke("split", root, "--val-ratio", "0.1")
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


def test_split_old_spellings_val_and_test(tmp_path):
    new = _voc(tmp_path / "new")
    old = _voc(tmp_path / "old")
    assert _invoke("split", new, "--val-ratio", "0.2", "--test-ratio", "0.2").exit_code == 0
    result = _invoke("split", old, "--val", "0.2", "--test=0.2")
    assert result.exit_code == 0, result.output
    for name in ("train", "val", "test", "trainval"):
        path = Path("ImageSets", "Segmentation", f"{name}.txt")
        assert (old / path).read_text() == (new / path).read_text(), name
