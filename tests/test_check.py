"""check_dataset / `labeltools check`: a clean dataset, and one with one of each problem."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from labeltools import lblsave
from labeltools.check import KINDS, check_dataset
from labeltools.errors import DatasetError

runner = CliRunner()

W, H = 6, 4
GOOD = np.array(
    [[0, 0, 1, 1, 0, 0], [0, 1, 1, 2, 2, 0], [0, 255, 255, 2, 2, 0], [0, 0, 0, 0, 0, 0]],
    dtype=np.uint8,
)


def _image(path, size=(W, H)):
    Image.new("RGB", size, (90, 120, 30)).save(path, quality=90)


def _lists(root, **lists):
    folder = root / "ImageSets" / "Segmentation"
    folder.mkdir(parents=True, exist_ok=True)
    for name, ids in lists.items():
        (folder / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids))


def _pair(root, i, label=GOOD, size=(W, H)):
    _image(root / "JPEGImages" / f"{i}.jpg", size)
    lblsave(root / "SegmentationClass" / f"{i}.png", label)


@pytest.fixture
def clean(tmp_path):
    root = tmp_path / "clean"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    (root / "class_names.txt").write_text("_background_\ncat\ndog\n")
    for i in ("a", "b", "c"):
        _pair(root, i)
    _lists(root, train=["a", "b"], val=["c"], trainval=["a", "b", "c"])
    return root


@pytest.fixture
def broken(clean):
    """The clean dataset plus exactly one id per problem kind."""
    root, seg, jpg = clean, clean / "SegmentationClass", clean / "JPEGImages"
    lblsave(seg / "m1.png", GOOD)  # listed, no image
    _image(jpg / "m2.jpg")  # listed, no label
    _pair(root, "t")  # in trainval only
    _pair(root, "ui")
    data = (jpg / "ui.jpg").read_bytes()
    (jpg / "ui.jpg").write_bytes(data[:-3])  # the end-of-image marker and a byte of scan
    _pair(root, "ul")
    data = (seg / "ul.png").read_bytes()
    (seg / "ul.png").write_bytes(data[:-20])
    _image(jpg / "rgb.jpg")
    Image.fromarray(np.zeros((H, W, 3), dtype=np.uint8)).save(seg / "rgb.png")
    _image(jpg / "i16.jpg")
    Image.fromarray(GOOD.astype(np.uint16)).save(seg / "i16.png")
    bad = GOOD.copy()
    bad[0, 0], bad[3, 5] = 7, 5
    _pair(root, "oor", bad)
    _pair(root, "sz")
    _image(jpg / "sz.jpg", size=(W + 1, H))
    _image(jpg / "pal.jpg")
    pal = Image.fromarray(GOOD)
    pal.putpalette([7, 7, 7] * 256)
    pal.save(seg / "pal.png")
    _pair(root, "empty", np.zeros((H, W), dtype=np.uint8))
    lblsave(seg / "lonely.png", GOOD)
    _image(jpg / "grey.jpg")
    Image.fromarray(GOOD).save(seg / "grey.png")
    _image(jpg / "photo.jpg")
    _image(jpg / "tst.jpg")
    _lists(
        root,
        train=["a", "b", "b", "m1"],
        val=["a", "c", "m2"],
        trainval=["a", "b", "c", "m1", "m2", "t"],
        test=["tst"],
    )
    (root / "ImageSets" / "Segmentation" / "aeroplane_val.txt").write_text("\n")
    return root


def test_clean_dataset(clean):
    report = check_dataset(clean)
    assert report.ok
    assert report.problems == ()
    assert (report.labels, report.images, report.num_classes) == (3, 3, 3)
    assert report.lists == (("train", 2), ("trainval", 3), ("val", 1))


EXPECTED = {
    "missing_image": (["m1"], ["in train.txt, trainval.txt"]),
    "missing_label": (["m2"], ["in trainval.txt, val.txt"]),
    "duplicate_across_splits": (["a"], ["train and val"]),
    "unreadable_image": (["ui"], ["truncated (JPEG end marker missing)"]),
    "unreadable_label": (["ul"], ["truncated (PNG end marker missing)"]),
    "rgb_label": (["rgb"], ["RGB"]),
    "bad_label_mode": (["i16"], ["mode I;16"]),
    "out_of_range": (["oor"], ["values 5, 7"]),
    "size_mismatch": (["sz"], ["label 6x4, image 7x4"]),
    "non_voc_palette": (["pal"], [""]),
    "empty_label": (["empty"], ["all background"]),
    "label_without_image": (["lonely"], [""]),
    "duplicate_in_list": (["b"], ["2 times in train.txt"]),
    "empty_list": (["aeroplane_val.txt"], ["no ids"]),
    "trainval_mismatch": (["t"], ["in trainval.txt only"]),
    "grey_label": (["grey"], [""]),
    "image_without_label": (["photo"], [""]),
    "test_without_label": (["tst"], ["in test.txt"]),
}


def test_one_of_each_problem(broken):
    assert set(EXPECTED) == set(KINDS)  # the fixture covers every kind
    report = check_dataset(broken)
    assert not report.ok
    got = {p.kind: (list(p.ids), list(p.details)) for p in report.problems}
    assert got == EXPECTED
    assert [p.severity for p in report.problems] == sorted(
        (p.severity for p in report.problems), key=["error", "warning", "note"].index
    )
    oor = report.problem("out_of_range")
    assert oor.values == (5, 7)
    assert oor.summary == "values outside {0..2, 255}"
    assert (report.count("error"), report.count("warning"), report.count("note")) == (9, 6, 3)


def test_workers_give_the_same_report(broken):
    assert check_dataset(broken, workers=2) == check_dataset(broken, workers=1)


def test_labelme_labels_file_ignore_line_is_not_a_class(clean):
    (clean / "class_names.txt").write_text("__ignore__\n_background_\ncat\ndog\n")
    assert check_dataset(clean).num_classes == 3


def test_num_classes_option_and_unknown(clean):
    assert not check_dataset(clean, num_classes=2).ok  # class 2 is now out of range
    (clean / "class_names.txt").unlink()
    report = check_dataset(clean)
    assert report.ok and report.num_classes is None and report.num_classes_source == "unknown"


def test_classes_from_a_datumaro_labelmap(clean):
    # Datumaro's VOC exporter writes labelmap.txt and no class_names.txt; its void line is no class.
    (clean / "class_names.txt").unlink()
    (clean / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\nbackground:0,0,0::\ncat:128,0,0::\nignored:224,224,192::\n"
    )
    report = check_dataset(clean)
    assert (report.num_classes, report.num_classes_source) == (2, "labelmap.txt")
    assert not report.ok  # dog (2) is now out of range
    (clean / "class_names.txt").write_text("_background_\ncat\ndog\n")
    assert check_dataset(clean).num_classes_source == "class_names.txt"  # it wins


def test_all_ignore_label_is_empty(clean):
    lblsave(clean / "SegmentationClass" / "c.png", np.full((H, W), 255, dtype=np.uint8))
    assert check_dataset(clean).problem("empty_label").details == ("all ignore",)


def test_image_cut_inside_its_header(clean):
    data = (clean / "JPEGImages" / "c.jpg").read_bytes()
    (clean / "JPEGImages" / "c.jpg").write_bytes(data[:100])
    problem = check_dataset(clean).problem("unreadable_image")
    assert (problem.ids, problem.details) == (("c",), ("cannot read image header: Truncated File Read",))


def test_corrupt_label_data(clean):
    seg = clean / "SegmentationClass"
    lblsave(seg / "c.png", np.random.default_rng(0).integers(0, 3, (H, W)).astype(np.uint8))
    data = bytearray((seg / "c.png").read_bytes())
    start = data.index(b"IDAT") + 4
    data[start : start + 12] = bytes(12)  # zeroed compressed data, the end marker intact
    (seg / "c.png").write_bytes(bytes(data))
    problem = check_dataset(clean).problem("unreadable_label")
    assert problem.ids == ("c",)
    assert problem.details[0].startswith("cannot decode: ")


def test_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError) as exc:
        check_dataset(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path}: expected a VOC dataset folder with SegmentationClass/, found none"
    )


def test_exif_rotated_photo_is_compared_upright(clean):
    # Stored 4 wide and 6 high, shown rotated by 90 degrees (orientation 6): 6x4 upright,
    # which is what the label was drawn on.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (H, W), (1, 2, 3)).save(clean / "JPEGImages" / "a.jpg", exif=exif.tobytes())
    assert check_dataset(clean).problems == ()
    Image.new("RGB", (H, W), (1, 2, 3)).save(clean / "JPEGImages" / "a.jpg")  # no tag
    assert check_dataset(clean).problem("size_mismatch").details == ("label 6x4, image 4x6",)
