"""`labeltools eval`: the table, --json-file / --csv / --plot, and failures with exact messages."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from labeltools.cli import app
from labeltools.viz import confusion_matrix_image

from .conftest import run_cli
from .test_evaluation import NAMES, make_pairs, make_voc_root
from .test_metrics import CM_A

runner = CliRunner()


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("│")[1:-1]]


def row_of(output: str, index: int) -> list[str]:
    return next(cells(line) for line in output.splitlines() if cells(line)[:1] == [str(index)])


def test_eval_table_and_summary(tmp_path):
    dataset, pred = make_voc_root(tmp_path)
    result = runner.invoke(app, ["eval", str(dataset), str(pred)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].strip() == "2 images, 3 classes"
    # IoU 4/7, accuracy 4/5, precision 2/3; 2 images of 5 GT / 6 predicted pixels.
    assert row_of(result.stdout, 0) == ["0", "_background_", "57.14", "80.00", "66.67", "10", "12"]
    assert row_of(result.stdout, 2) == ["2", "dog", "66.67", "66.67", "100.00", "6", "4"]
    # PA 8/12, mAcc 59/90, mIoU 11/21, FWIoU 65/126.
    assert lines[-1] == "PA 66.67  mAcc 65.56  mIoU 52.38  FWIoU 51.59"


def test_eval_class_names_are_not_markup(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=1)
    names = tmp_path / "names.txt"
    names.write_text("bg\n[crowd]\n[bold]x\n")
    result = runner.invoke(app, ["eval", str(gt), str(pred), "--classes", str(names)])
    assert result.exit_code == 0, result.output
    assert row_of(result.stdout, 1)[1] == "[crowd]"
    assert row_of(result.stdout, 2)[1] == "[bold]x"


def test_eval_absent_class_shows_n_a(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=1)
    result = runner.invoke(app, ["eval", str(gt), str(pred), "--num-classes", "4"])
    assert result.exit_code == 0, result.output
    assert row_of(result.stdout, 3) == ["3", "3", "n/a", "n/a", "n/a", "0", "0"]
    zero = runner.invoke(
        app, ["eval", str(gt), str(pred), "--num-classes", "4", "--absent", "zero"]
    )
    assert row_of(zero.stdout, 3) == ["3", "3", "0.00", "0.00", "0.00", "0", "0"]


def test_eval_list_json_csv_plot(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    listing = tmp_path / "ids.txt"
    listing.write_text("img2\nimg1\n")
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES) + "\n")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "eval",
            str(gt),
            str(pred),
            "--list",
            str(listing),
            "--classes",
            str(names),
            "--json-file",
            str(out / "r.json"),
            "--csv",
            str(out / "cm.csv"),
            "--plot",
            str(out / "cm.png"),
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "r.json").read_text())
    assert report["ids"] == ["img2", "img1"]
    assert report["class_names"] == list(NAMES)
    assert report["confusion_matrix"] == (2 * np.array(CM_A)).tolist()
    assert abs(report["mean_iou"] - 11 / 21) < 1e-15
    assert report["per_class"]["gt_pixels"] == [10, 8, 6]
    assert report["settings"]["ignore_index"] == 255
    assert report["ignored_pixels"] == 6
    assert (out / "cm.csv").read_text() == (
        "gt \\ pred,_background_,cat,dog\n_background_,8,2,0\ncat,4,4,0\ndog,0,2,4\n"
    )
    with Image.open(out / "cm.png") as img:
        assert img.mode == "RGB"
        assert img.size == confusion_matrix_image(np.array(CM_A), NAMES).size
        pixels = np.asarray(img)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # not blank: cells, text, shades
    assert f"Wrote {out / 'cm.png'} ({img.width}x{img.height})" in result.stdout
    assert not [p.name for p in out.iterdir() if p.name.startswith(".labeltools-tmp-")]


def test_eval_missing_predictions_exit_1(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    (pred / "img1.png").unlink()
    result = run_cli(
        "eval", str(gt), str(pred), "--num-classes", "3", "--json-file", str(tmp_path / "r.json")
    )
    assert result.returncode == 1
    assert result.stderr == f"Error: {pred}: no prediction for 1 of 3 ids: img1\n"
    assert result.stdout == ""
    assert not (tmp_path / "r.json").exists()


def test_eval_out_of_range_prediction_exit_1(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    lblsave_bad = np.full((3, 5), 3, np.uint8)
    Image.fromarray(lblsave_bad).save(pred / "img0.png")
    result = runner.invoke(app, ["eval", str(gt), str(pred), "--num-classes", "3"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: Results image 'img0' has out of range value 3 (the value should be <= 2)\n"
    )


def test_eval_gt_out_of_range_warns_on_stderr(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=1)
    Image.fromarray(np.full((3, 5), 7, np.uint8)).save(gt / "img0.png")
    result = runner.invoke(app, ["eval", str(gt), str(pred), "--num-classes", "3"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "Warning: 15 ground-truth pixels in 1 images have values outside [0, 2] other than "
        "the ignore index 255 and were not scored: img0"
    )


def test_eval_bad_absent_is_usage_error(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=1)
    result = runner.invoke(
        app, ["eval", str(gt), str(pred), "--num-classes", "3", "--absent", "skip"]
    )
    assert result.exit_code == 2


def test_eval_old_json_spelling_writes_the_file(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    new = runner.invoke(app, ["eval", str(gt), str(pred), "--num-classes", "3", "--json-file", str(tmp_path / "new.json")])
    old = runner.invoke(app, ["eval", str(gt), str(pred), "--num-classes", "3", "--json", str(tmp_path / "old.json")])
    assert new.exit_code == old.exit_code == 0, old.output
    assert (tmp_path / "old.json").read_bytes() == (tmp_path / "new.json").read_bytes()
    assert old.stdout.replace("old.json", "new.json") == new.stdout
