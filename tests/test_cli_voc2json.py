"""labeltools voc2json: label masks -> labelme JSON, and back through json2voc pixel for pixel."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeltools import json2voc, lblread, lblsave, read_labelme, voc2json
from labeltools.colormap import label_colormap
from labeltools.errors import (
    DatasetError,
    ImageReadError,
    LabelImageError,
    LabelNameError,
    PaletteError,
)

from .conftest import ROOT, SAMPLE_DATA, run_cli

#: Widest per-image pixel difference --shape polygon may leave at the default epsilon.
POLYGON_TOLERANCE = 0.005


@pytest.fixture(scope="module")
def sample_voc(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "voc"
    json2voc(SAMPLE_DATA, out, SAMPLE_DATA / "labels.txt", workers=1)
    return out


def round_trip(voc: Path, tmp: Path, **kwargs) -> tuple[Path, Path]:
    labelme = tmp / f"labelme-{kwargs.get('shape', 'auto')}"
    voc2json(voc, labelme, workers=1, **kwargs)
    back = tmp / f"back-{kwargs.get('shape', 'auto')}"
    json2voc(labelme, back, labelme / "labels.txt", workers=1)
    return labelme, back


def differences(a: Path, b: Path) -> dict[str, float]:
    """Worst per-image share of differing pixels, per map kind."""
    worst = {}
    for kind in ("SegmentationClass", "SegmentationObject"):
        shares = [
            float((lblread(p) != lblread(b / kind / p.name)).mean())
            for p in sorted((a / kind).glob("*.png"))
        ]
        assert shares, kind
        worst[kind] = max(shares)
    return worst


def _bench_voc(tmp: Path, n: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_json2voc import make_corpus
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    src = make_corpus(tmp / "bench-src", n)
    out = tmp / "bench-voc"
    json2voc(src, out, src / "labels.txt", workers=1)
    return out


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("shape", ["mask", "auto"])
def test_sample_data_round_trip_is_exact(sample_voc, tmp_path, shape):
    _, back = round_trip(sample_voc, tmp_path, shape=shape)
    assert differences(sample_voc, back) == {"SegmentationClass": 0.0, "SegmentationObject": 0.0}


@pytest.mark.parametrize("shape", ["mask", "auto"])
def test_labelme_fixture_round_trip_is_exact(labelme_fixture, tmp_path, shape):
    voc = tmp_path / "voc"
    json2voc(labelme_fixture / "data_annotated", voc, labelme_fixture / "labels.txt", workers=1)
    _, back = round_trip(voc, tmp_path, shape=shape)
    assert differences(voc, back) == {"SegmentationClass": 0.0, "SegmentationObject": 0.0}


def test_labelme_fixture_polygon_round_trip_stays_under_half_a_percent(labelme_fixture, tmp_path):
    voc = tmp_path / "voc"
    json2voc(labelme_fixture / "data_annotated", voc, labelme_fixture / "labels.txt", workers=1)
    _, back = round_trip(voc, tmp_path, shape="polygon")
    worst = differences(voc, back)
    assert 0 < max(worst.values()) < POLYGON_TOLERANCE, worst


def test_bench_corpus_round_trip(tmp_path):
    voc = _bench_voc(tmp_path, 24)
    for shape in ("mask", "auto"):
        _, back = round_trip(voc, tmp_path, shape=shape)
        assert differences(voc, back) == {"SegmentationClass": 0.0, "SegmentationObject": 0.0}, shape
    _, back = round_trip(voc, tmp_path, shape="polygon")
    worst = differences(voc, back)
    assert 0 < worst["SegmentationClass"] < POLYGON_TOLERANCE, worst
    assert 0 < worst["SegmentationObject"] < POLYGON_TOLERANCE, worst


def test_polygon_mode_stays_under_half_a_percent(sample_voc, tmp_path):
    _, back = round_trip(sample_voc, tmp_path, shape="polygon")
    worst = differences(sample_voc, back)
    assert max(worst.values()) < POLYGON_TOLERANCE, worst


def test_without_objects_the_class_map_round_trips(sample_voc, tmp_path):
    report = voc2json(sample_voc, tmp_path / "lm", objects=False, workers=1)
    assert not report.objects
    json2voc(tmp_path / "lm", tmp_path / "back", tmp_path / "lm" / "labels.txt", workers=1)
    for p in sorted((sample_voc / "SegmentationClass").glob("*.png")):
        assert np.array_equal(lblread(p), lblread(tmp_path / "back" / "SegmentationClass" / p.name))


# --------------------------------------------------------------------------- the files


def test_json_is_labelme_5_and_reads_without_warning(sample_voc, tmp_path):
    report = voc2json(sample_voc, tmp_path / "lm", workers=2)
    assert [f.stem for f in report.files] == [
        "garden_005", "park_002", "portrait_004", "street_001", "yard_003",
    ]
    doc = json.loads((tmp_path / "lm" / "park_002.json").read_text())
    assert list(doc) == [
        "version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth",
    ]
    assert doc["version"] == "5.5.0" and doc["imageData"] is None and doc["flags"] == {}
    assert (doc["imagePath"], doc["imageHeight"], doc["imageWidth"]) == ("park_002.jpg", 300, 400)
    assert (tmp_path / "lm" / "park_002.jpg").read_bytes() == (
        sample_voc / "JPEGImages" / "park_002.jpg"
    ).read_bytes()
    ann = read_labelme(tmp_path / "lm" / "park_002.json")  # pytest turns warnings into errors
    assert [(s.label, s.group_id, s.shape_type) for s in ann.shapes] == [
        ("tree", 1, "polygon"), ("person", 2, "polygon"), ("ball", 3, "polygon"),
        ("fence", 4, "polygon"),
    ]
    assert (tmp_path / "lm" / "labels.txt").read_text() == (
        "__ignore__\n_background_\ncar\nperson\ntree\nball\nfence\npole\n"
    )
    assert report.shapes == {"polygon": 20}


def test_no_copy_points_at_the_original_image(sample_voc, tmp_path):
    voc2json(sample_voc, tmp_path / "lm", copy_images=False, workers=1)
    doc = json.loads((tmp_path / "lm" / "yard_003.json").read_text())
    assert not (tmp_path / "lm" / "yard_003.jpg").exists()
    target = (tmp_path / "lm" / doc["imagePath"]).resolve()
    assert target == (sample_voc / "JPEGImages" / "yard_003.jpg").resolve()
    assert doc["imagePath"].startswith("../")


def test_label_folder_with_images_and_names(sample_voc, tmp_path):
    labels = tmp_path / "preds"
    shutil.copytree(sample_voc / "SegmentationClass", labels)
    with pytest.raises(LabelNameError, match=re.escape(
        f"{labels}: no class_names.txt or labelmap.txt to name the classes; pass --names"
    )):
        voc2json(labels, tmp_path / "lm", images=sample_voc / "JPEGImages")
    report = voc2json(labels, tmp_path / "lm", images=sample_voc / "JPEGImages",
                      names=SAMPLE_DATA / "labels.txt", workers=1)
    assert not report.objects and len(report.files) == 5
    assert report.names == ("_background_", "car", "person", "tree", "ball", "fence", "pole")


def test_colour_masks_are_read_through_the_palette(sample_voc, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    cmap = label_colormap(256)
    index = lblread(sample_voc / "SegmentationClass" / "street_001.png")
    Image.fromarray(cmap[index]).save(masks / "street_001.png")
    shutil.copy(sample_voc / "class_names.txt", masks)
    voc2json(masks, tmp_path / "lm", images=sample_voc / "JPEGImages", workers=1)
    json2voc(tmp_path / "lm", tmp_path / "back", tmp_path / "lm" / "labels.txt", workers=1)
    assert np.array_equal(lblread(tmp_path / "back" / "SegmentationClass" / "street_001.png"), index)


def test_unknown_colour_is_an_error(sample_voc, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    rgb = np.zeros((300, 400, 3), np.uint8)
    rgb[0, 0] = (1, 2, 3)
    Image.fromarray(rgb).save(masks / "street_001.png")
    shutil.copy(sample_voc / "class_names.txt", masks)
    with pytest.raises(PaletteError, match=re.escape(
        f"{masks / 'street_001.png'}: 1 colour not in the VOC palette: (1,2,3) 1 px at (x=0, y=0)"
    )):
        voc2json(masks, tmp_path / "lm", images=sample_voc / "JPEGImages", workers=1)


def test_missing_image(sample_voc, tmp_path):
    labels = tmp_path / "preds"
    labels.mkdir()
    shutil.copy(sample_voc / "SegmentationClass" / "park_002.png", labels / "nophoto.png")
    with pytest.raises(ImageReadError, match=re.escape(
        f"{labels / 'nophoto.png'}: no image nophoto.jpg (or .jpeg, .png, ...) in "
        f"{sample_voc / 'JPEGImages'}; labelme needs the photo"
    )):
        voc2json(labels, tmp_path / "lm", images=sample_voc / "JPEGImages", names=["a", "b"])


def test_label_and_image_sizes_differ(sample_voc, tmp_path):
    labels = tmp_path / "preds"
    labels.mkdir()
    lblsave(labels / "park_002.png", np.zeros((10, 20), np.uint8))
    with pytest.raises(ImageReadError, match=re.escape(
        f"{labels / 'park_002.png'}: label is 10x20 but its image "
        f"{sample_voc / 'JPEGImages' / 'park_002.jpg'} is 300x400 (height x width, upright)"
    )):
        voc2json(labels, tmp_path / "lm", images=sample_voc / "JPEGImages", names=["a"], workers=1)


def test_class_value_without_a_name(sample_voc, tmp_path):
    labels = tmp_path / "preds"
    labels.mkdir()
    lblsave(labels / "park_002.png", np.full((300, 400), 3, np.uint8))
    with pytest.raises(LabelImageError, match=re.escape(
        f"{labels / 'park_002.png'}: class value 3 has no name: 2 class names (0..1); "
        f"pass --names with a longer list"
    )):
        voc2json(labels, tmp_path / "lm", images=sample_voc / "JPEGImages", names=["bg", "a"],
                 workers=1)


def test_label_folder_without_images(sample_voc, tmp_path):
    labels = tmp_path / "preds"
    shutil.copytree(sample_voc / "SegmentationClass", labels)
    with pytest.raises(DatasetError, match=re.escape(
        f"{labels / 'JPEGImages'}: no such image folder (a label folder needs --images DIR)"
    )):
        voc2json(labels, tmp_path / "lm", names=["a"])


# --------------------------------------------------------------------------- the command


def test_cli_success_summary_and_labelme_hint(sample_voc, tmp_path):
    out = tmp_path / "lm"
    result = run_cli("voc2json", str(sample_voc), str(out), "-j", "2")
    assert result.returncode == 0, result.stderr
    lines = re.sub(r"in \d+\.\d\d s", "in T s", result.stdout).splitlines()
    assert lines == [
        f"voc2json: 5 labelme files in {out} (20 polygon; instances from SegmentationObject; "
        f"7 classes from {sample_voc / 'class_names.txt'}) in T s",
        f"open them with: labelme {out} --labels {out / 'labels.txt'}",
    ]


def test_cli_json_summary(sample_voc, tmp_path):
    result = run_cli("voc2json", str(sample_voc), str(tmp_path / "lm"), "--shape", "mask", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["images"], summary["shapes"], summary["shape"]) == (5, {"mask": 20}, "mask")


def test_cli_refuses_a_non_empty_output_folder(sample_voc, tmp_path):
    out = tmp_path / "lm"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_cli("voc2json", str(sample_voc), str(out))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {out}: the folder is not empty; choose a new or empty folder or pass --overwrite\n"
    )
    assert run_cli("voc2json", str(sample_voc), str(out), "--overwrite").returncode == 0


def test_cli_bad_shape_is_a_usage_error(sample_voc, tmp_path):
    result = run_cli("voc2json", str(sample_voc), str(tmp_path / "lm"), "--shape", "spline")
    assert result.returncode == 2
    assert "Invalid value for '--shape'" in result.stderr


def test_readme_example_runs_as_written(tmp_path):
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- voc2json-example.*?-->\n```console\n(.*?)```", readme, re.S).group(1)
    sessions: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        else:
            sessions[-1][1].append(line)
    shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data")
    first = run_cli("json2voc", "sample_data", "out/voc", "--labels", "sample_data/labels.txt",
                    cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    for command, expected in sessions:
        result = run_cli(*shlex.split(command)[1:], cwd=tmp_path)
        shown = result.stdout + result.stderr
        if expected:
            norm = lambda text: re.sub(r"in \d+\.\d\d s", "in T s", text)  # noqa: E731
            assert norm(shown).splitlines() == [norm(line) for line in expected], command
    assert differences(tmp_path / "out" / "voc", tmp_path / "out" / "voc2") == {
        "SegmentationClass": 0.0, "SegmentationObject": 0.0,
    }


def test_exif_rotated_photo_is_copied_as_is_and_sized_upright(sample_voc, tmp_path):
    labels = tmp_path / "preds"
    labels.mkdir()
    shutil.copy(sample_voc / "SegmentationClass" / "portrait_004.png", labels)
    lm = tmp_path / "lm"
    # The original phone picture: stored 480x360 with EXIF orientation 6, upright 360x480.
    voc2json(labels, lm, images=SAMPLE_DATA, names=SAMPLE_DATA / "labels.txt", workers=1)
    assert (lm / "portrait_004.jpg").read_bytes() == (SAMPLE_DATA / "portrait_004.jpg").read_bytes()
    doc = json.loads((lm / "portrait_004.json").read_text())
    assert (doc["imageHeight"], doc["imageWidth"]) == (480, 360)
    json2voc(lm, tmp_path / "back", lm / "labels.txt", workers=1)
    assert np.array_equal(
        lblread(tmp_path / "back" / "SegmentationClass" / "portrait_004.png"),
        lblread(labels / "portrait_004.png"),
    )


def test_voc_void_borders_in_the_object_map_become_ignore_shapes(tmp_path):
    voc = tmp_path / "voc"
    for sub in ("SegmentationClass", "SegmentationObject", "JPEGImages"):
        (voc / sub).mkdir(parents=True)
    cls = np.zeros((6, 8), np.uint8)
    cls[1:5, 1:5] = 255  # VOC2012: a void border around the object...
    cls[2:4, 2:4] = 1
    obj = np.where(cls == 1, 1, np.where(cls == 255, 255, 0)).astype(np.uint8)  # ...in both maps
    lblsave(voc / "SegmentationClass" / "a.png", cls)
    lblsave(voc / "SegmentationObject" / "a.png", obj)
    Image.new("RGB", (8, 6)).save(voc / "JPEGImages" / "a.jpg")
    (voc / "class_names.txt").write_text("background\naeroplane\n")
    voc2json(voc, tmp_path / "lm", workers=1)
    doc = json.loads((tmp_path / "lm" / "a.json").read_text())
    assert [(s["label"], s["group_id"], s["shape_type"]) for s in doc["shapes"]] == [
        ("aeroplane", 1, "polygon"), ("__ignore__", None, "mask"),
    ]
    assert (tmp_path / "lm" / "labels.txt").read_text() == "__ignore__\n_background_\naeroplane\n"
    json2voc(tmp_path / "lm", tmp_path / "back", tmp_path / "lm" / "labels.txt", workers=1)
    assert np.array_equal(lblread(tmp_path / "back" / "SegmentationClass" / "a.png"), cls)
    # json2voc's object maps carry no void: 0 where VOC wrote 255.
    assert np.array_equal(lblread(tmp_path / "back" / "SegmentationObject" / "a.png"),
                          np.where(obj == 255, 0, obj))


def test_cli_epsilon_default_is_the_librarys():
    import inspect

    from labeltools.cli import app
    from labeltools.vectorize import DEFAULT_EPSILON

    (command,) = [c for c in app.registered_commands if c.name == "voc2json"]
    assert inspect.signature(command.callback).parameters["epsilon"].default == DEFAULT_EPSILON


def test_cli_label_folder_needs_names_then_converts(sample_voc, tmp_path):
    labels = tmp_path / "preds"
    shutil.copytree(sample_voc / "SegmentationClass", labels)
    images = sample_voc / "JPEGImages"
    failed = run_cli("voc2json", str(labels), str(tmp_path / "lm"), "--images", str(images))
    assert failed.returncode == 1
    assert failed.stderr == (
        f"Error: {labels}: no class_names.txt or labelmap.txt to name the classes; pass --names\n"
    )
    ok = run_cli("voc2json", str(labels), str(tmp_path / "lm"), "--images", str(images),
                 "--names", str(SAMPLE_DATA / "labels.txt"), "--no-copy", "--shape", "mask")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(
        f"voc2json: 5 labelme files in {tmp_path / 'lm'} (20 mask; instances from class regions; "
        f"7 classes from {SAMPLE_DATA / 'labels.txt'}) in "
    )
    assert sorted(p.name for p in (tmp_path / "lm").iterdir())[:2] == ["garden_005.json", "labels.txt"]


def test_cli_colour_masks_with_a_labelmap_palette(sample_voc, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    index = lblread(sample_voc / "SegmentationClass" / "park_002.png")
    Image.fromarray(label_colormap(256)[index]).save(masks / "park_002.png")
    images = sample_voc / "JPEGImages"
    # labelmap.txt names the classes and gives their colours (VOC's, as json2voc writes it).
    ok = run_cli("voc2json", str(masks), str(tmp_path / "lm"), "--images", str(images),
                 "--names", str(sample_voc / "labelmap.txt"),
                 "--palette", str(sample_voc / "labelmap.txt"))
    assert ok.returncode == 0, ok.stderr
    json2voc(tmp_path / "lm", tmp_path / "back", tmp_path / "lm" / "labels.txt", workers=1)
    assert np.array_equal(lblread(tmp_path / "back" / "SegmentationClass" / "park_002.png"), index)
    bad = run_cli("voc2json", str(masks), str(tmp_path / "lm2"), "--images", str(images),
                  "--names", str(sample_voc / "labelmap.txt"), "--palette", "voc:3")
    assert bad.returncode == 1
    assert bad.stderr == "Error: voc:3: no such palette file\n"


def test_unreadable_image(sample_voc, tmp_path):
    labels, images = tmp_path / "preds", tmp_path / "photos"
    labels.mkdir()
    images.mkdir()
    shutil.copy(sample_voc / "SegmentationClass" / "park_002.png", labels)
    (images / "park_002.jpg").write_text("not a photo")
    with pytest.raises(ImageReadError, match=re.escape(
        f"{images / 'park_002.jpg'}: not a readable image file"
    )):
        voc2json(labels, tmp_path / "lm", images=images, names=SAMPLE_DATA / "labels.txt", workers=1)


def test_list_restricts_the_ids(sample_voc, tmp_path):
    val = (sample_voc / "ImageSets" / "Segmentation" / "val.txt").read_text().split()
    report = voc2json(sample_voc, tmp_path / "lm", list_file="val.txt", workers=1)
    assert [f.stem for f in report.files] == val
    assert sorted(p.stem for p in (tmp_path / "lm").glob("*.json")) == sorted(val)


def test_backend_runs_the_files_where_it_says(sample_voc, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        report = voc2json(sample_voc, tmp_path / "lm", backend=pool)
    assert [f.stem for f in report.files] == [
        "garden_005", "park_002", "portrait_004", "street_001", "yard_003",
    ]
