"""evaluate(): folders and VOC roots, id lists, every error with its exact message, workers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeltools import lblsave
from labeltools.errors import DatasetError, EvaluationError, LabelImageError
from labeltools.evaluation import evaluate, read_id_list
from labeltools.metrics import ConfusionMatrix

from .test_metrics import CM_A, GT_A, PRED_A

NAMES = ("_background_", "cat", "dog")


def make_pairs(root: Path, n: int = 3) -> tuple[Path, Path, list[str]]:
    """``n`` copies of the hand-made pair (image k shifted by k rows) in gt/ and pred/."""
    gt_dir, pred_dir = root / "gt", root / "pred"
    gt_dir.mkdir(parents=True)
    pred_dir.mkdir(parents=True)
    ids = [f"img{k}" for k in range(n)]
    for k, image_id in enumerate(ids):
        lblsave(gt_dir / f"{image_id}.png", np.roll(GT_A, k, axis=0))
        lblsave(pred_dir / f"{image_id}.png", np.roll(PRED_A, k, axis=0))
    return gt_dir, pred_dir, ids


def make_voc_root(root: Path) -> tuple[Path, Path]:
    """A VOC dataset root: SegmentationClass/, val.txt (img0, img2), class_names.txt."""
    gt_dir, pred_dir, _ = make_pairs(root)
    dataset = root / "dataset"
    dataset.mkdir()
    gt_dir.rename(dataset / "SegmentationClass")
    (dataset / "ImageSets" / "Segmentation").mkdir(parents=True)
    (dataset / "ImageSets" / "Segmentation" / "val.txt").write_text("img0\nimg2\n")
    (dataset / "class_names.txt").write_text("\n".join(NAMES) + "\n")
    return dataset, pred_dir


def test_folder_every_png_scored(tmp_path):
    gt, pred, ids = make_pairs(tmp_path)
    result = evaluate(gt, pred, num_classes=3)
    assert result.ids == tuple(ids)
    assert result.confusion.counts.tolist() == (3 * np.array(CM_A)).tolist()
    assert result.confusion.ignored == 9
    assert result.class_names == ("0", "1", "2")
    assert math.isclose(result.metrics.mean_iou, 11 / 21, abs_tol=1e-15)
    assert result.warnings == ()


def test_voc_root_uses_val_list_and_class_names(tmp_path):
    dataset, pred = make_voc_root(tmp_path)
    result = evaluate(dataset, pred)
    assert result.ids == ("img0", "img2")
    assert result.class_names == NAMES
    assert result.num_classes == 3
    assert result.confusion.counts.tolist() == (2 * np.array(CM_A)).tolist()


def test_segmentation_class_folder_finds_names_one_level_up(tmp_path):
    dataset, pred = make_voc_root(tmp_path)
    result = evaluate(dataset / "SegmentationClass", pred)
    assert result.class_names == NAMES
    assert result.ids == ("img0", "img1", "img2")


def test_id_list_file_and_sequence(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    listing = tmp_path / "ids.txt"
    listing.write_text("img1 1\n\nimg2\n")
    assert evaluate(gt, pred, ids=listing, num_classes=3).ids == ("img1", "img2")
    assert evaluate(gt, pred, ids=["img2"], num_classes=3).ids == ("img2",)


def test_repeated_ids_are_refused(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    with pytest.raises(DatasetError, match=r"^ids lists img0, img2 more than once$"):
        evaluate(gt, pred, ids=["img2", "img0", "img2", "img0", "img1"], num_classes=3)


def test_class_names_file_given(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    names = tmp_path / "names.txt"
    names.write_text("bg\na\nb\n")
    assert evaluate(gt, pred, class_names=names).class_names == ("bg", "a", "b")


def test_workers_1_and_2_identical(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=6)
    one = evaluate(gt, pred, num_classes=3, workers=1)
    two = evaluate(gt, pred, num_classes=3, workers=2)
    assert one.confusion == two.confusion
    assert one.to_dict() == two.to_dict()


def test_progress_callback(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    calls = []
    evaluate(gt, pred, num_classes=3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_gt_out_of_range_warns(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    bad = GT_A.copy()
    bad[0, :2] = 9
    lblsave(gt / "img1.png", bad)
    result = evaluate(gt, pred, num_classes=3)
    assert result.confusion.gt_out_of_range == 2
    assert result.gt_out_of_range_ids == ("img1",)
    assert result.warnings == (
        "2 ground-truth pixels in 1 images have values outside [0, 2] other than "
        "the ignore index 255 and were not scored: img1",
    )


def test_missing_predictions_lists_every_id(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    (pred / "img0.png").unlink()
    (pred / "img2.png").unlink()
    with pytest.raises(EvaluationError) as info:
        evaluate(gt, pred, num_classes=3)
    assert str(info.value) == f"{pred}: no prediction for 2 of 3 ids: img0, img2"


def test_prediction_out_of_range_message_is_vocevalseg(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    bad = PRED_A.copy()
    bad[1, 1] = 5
    lblsave(pred / "img1.png", bad)
    with pytest.raises(EvaluationError) as info:
        evaluate(gt, pred, num_classes=3, workers=2)
    assert (
        str(info.value)
        == "Results image 'img1' has out of range value 5 (the value should be <= 2)"
    )


def test_size_mismatch_gives_both_sizes(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    lblsave(pred / "img2.png", np.zeros((4, 6), np.uint8))
    with pytest.raises(EvaluationError) as info:
        evaluate(gt, pred, num_classes=3)
    assert str(info.value) == (
        f"{pred / 'img2.png'}: Results image 'img2' is the wrong size, was 4 x 6, "
        f"should be 3 x 5 (height x width of the ground truth)"
    )


def test_out_of_range_is_reported_before_wrong_size(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=1)
    lblsave(pred / "img0.png", np.full((4, 6), 9, np.uint8))
    with pytest.raises(EvaluationError, match=r"^Results image 'img0' has out of range value 9 "):
        evaluate(gt, pred, num_classes=3)


@pytest.mark.parametrize("side", ["gt", "pred"])
def test_rgb_label_points_to_rgb2index(tmp_path, side):
    gt, pred, _ = make_pairs(tmp_path)
    path = (gt if side == "gt" else pred) / "img0.png"
    Image.new("RGB", (5, 3), (128, 0, 0)).save(path)
    with pytest.raises(LabelImageError) as info:
        evaluate(gt, pred, num_classes=3)
    assert str(info.value) == (
        f"{path}: expected class indices (a P or L PNG), found RGB colours; "
        f"convert colour masks with `labeltools rgb2index`"
    )


def test_greyscale_prediction_is_fine(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=1)
    Image.fromarray(PRED_A).save(pred / "img0.png")  # an L-mode PNG
    assert evaluate(gt, pred, num_classes=3).confusion.counts.tolist() == CM_A


def test_missing_ground_truth(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    with pytest.raises(DatasetError) as info:
        evaluate(gt, pred, ids=["img0", "nope", "gone"], num_classes=3)
    assert str(info.value) == f"{gt}: no ground truth for 2 of 3 ids: nope, gone"


def test_voc_root_without_val_list(tmp_path):
    dataset, pred = make_voc_root(tmp_path)
    val = dataset / "ImageSets" / "Segmentation" / "val.txt"
    val.unlink()
    with pytest.raises(DatasetError) as info:
        evaluate(dataset, pred)
    assert str(info.value) == f"{val}: no such split list; give the ids to score (--list ids.txt)"


def test_number_of_classes_unknown(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    with pytest.raises(EvaluationError) as info:
        evaluate(gt, pred)
    assert str(info.value) == (
        f"{gt}: cannot tell the number of classes; give the class names "
        f"(--classes class_names.txt) or their number (--num-classes N)"
    )


def test_names_disagree_with_num_classes(tmp_path):
    dataset, pred = make_voc_root(tmp_path)
    with pytest.raises(EvaluationError) as info:
        evaluate(dataset, pred, num_classes=4)
    assert (
        str(info.value)
        == f"{dataset / 'class_names.txt'}: has 3 class names but the number of classes is 4"
    )


def test_gt_and_pred_must_be_folders(tmp_path):
    gt, pred, _ = make_pairs(tmp_path)
    with pytest.raises(
        DatasetError,
        match=r"nowhere: expected a folder of label PNGs or a VOC dataset root, "
        r"found no such folder$",
    ):
        evaluate(tmp_path / "nowhere", pred, num_classes=3)
    with pytest.raises(
        EvaluationError,
        match=r"img0\.png: expected a folder of predicted label PNGs, found a file$",
    ):
        evaluate(gt, pred / "img0.png", num_classes=3)


def test_read_id_list_refuses_duplicates(tmp_path):
    listing = tmp_path / "val.txt"
    listing.write_text("a\nb\na\n")
    with pytest.raises(DatasetError) as info:
        read_id_list(listing)
    assert str(info.value) == f"{listing}: line 3: id 'a' already listed on line 1"


def test_result_to_dict_nan_is_none(tmp_path):
    gt, pred, _ = make_pairs(tmp_path, n=1)
    result = evaluate(gt, pred, num_classes=4)  # class 3 absent from both
    d = result.to_dict()
    assert d["per_class"]["iou"][3] is None
    assert d["confusion_matrix"][0] == [4, 1, 0, 0]
    assert d["settings"] == {
        "gt": str(gt),
        "pred": str(pred),
        "num_classes": 4,
        "ignore_index": 255,
        "absent": "nan",
    }
    assert isinstance(result.confusion, ConfusionMatrix)


# --------------------------------------------------------------------------- saving a result


def test_confusion_csv_and_saves(tmp_path):
    from labeltools.evaluation import confusion_csv, save_confusion_csv, save_eval_json

    dataset, pred = make_voc_root(tmp_path)
    result = evaluate(dataset, pred, workers=1)
    text = confusion_csv(result)
    rows = text.splitlines()
    assert rows[0] == "gt \\ pred,_background_,cat,dog"
    assert rows[1:] == [",".join([n, *map(str, r)]) for n, r in zip(NAMES, result.confusion.counts.tolist())]
    assert text.endswith("\n") and "\r" not in text

    csv_path = save_confusion_csv(result, tmp_path / "new" / "cm.csv")
    assert csv_path == tmp_path / "new" / "cm.csv" and csv_path.read_text() == text
    json_path = save_eval_json(result, tmp_path / "new" / "eval.json")
    import json

    doc = json.loads(json_path.read_text())
    assert doc["class_names"] == list(NAMES) and json_path.read_text().endswith("}\n")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["cm.csv", "eval.json"]


def test_save_eval_json_refuses_a_folder(tmp_path):
    from labeltools.evaluation import save_eval_json

    dataset, pred = make_voc_root(tmp_path)
    result = evaluate(dataset, pred, workers=1)
    (tmp_path / "taken").mkdir()
    with pytest.raises(OSError):
        save_eval_json(result, tmp_path / "taken")
