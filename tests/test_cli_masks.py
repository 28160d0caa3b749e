"""CLI: rgb2index, index2rgb, colormap (one success and one failure each, at least)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from labeltools import label_colormap, lblread, lblsave
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


def test_colormap_writes_legend(tmp_path):
    names = tmp_path / "class_names.txt"
    names.write_text("_background_\naeroplane\nbicycle\n")
    out = tmp_path / "legend.png"
    result = runner.invoke(app, ["colormap", str(out), "--n", "3", "--classes", str(names)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out} (3 classes" in result.output
    with Image.open(out) as img:
        arr = np.asarray(img.convert("RGB"))
    colours = {tuple(c) for c in arr.reshape(-1, 3).tolist()}
    assert (128, 0, 0) in colours and (0, 128, 0) in colours


def test_colormap_library_error_is_one_line_exit_1(tmp_path):
    names = tmp_path / "class_names.txt"
    names.write_text("a\nb\na\n")
    result = run_cli("colormap", str(tmp_path / "x.png"), "--classes", str(names))
    assert result.returncode == 1
    assert result.stderr == f"Error: {names}: line 3: class name 'a' already given on line 1\n"
    assert not (tmp_path / "x.png").exists()


def test_colormap_and_index2rgb_accept_the_old_names_option(tmp_path):
    names = tmp_path / "class_names.txt"
    names.write_text("_background_\naeroplane\n")
    for option in ("--classes", "--names"):
        result = runner.invoke(app, ["colormap", str(tmp_path / f"{option}.png"), "--n", "2", option, str(names)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "--names.png").read_bytes() == (tmp_path / "--classes.png").read_bytes()

    (tmp_path / "lbl").mkdir()
    (tmp_path / "img").mkdir()
    lblsave(tmp_path / "lbl" / "x.png", np.array([[0, 1]], dtype=np.uint8))
    Image.new("RGB", (2, 1), (50, 60, 70)).save(tmp_path / "img" / "x.jpg")
    for option in ("--classes", "--names"):
        args = ["index2rgb", tmp_path / "lbl", tmp_path / option, "--images", tmp_path / "img", option, names]
        assert _invoke(*args).exit_code == 0
    assert (tmp_path / "--names" / "x.png").read_bytes() == (tmp_path / "--classes" / "x.png").read_bytes()


def test_rgb2index_unknown_choices_are_the_librarys():
    from labeltools.masks import UNKNOWN_MODES

    result = _invoke("rgb2index", "--help")
    assert f"<{'|'.join(UNKNOWN_MODES)}>" in result.output
