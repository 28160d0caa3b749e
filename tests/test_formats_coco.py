"""formats.coco: COCO instance segmentation, checked with pycocotools itself."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeltools import json2voc
from labeltools.formats.coco import (
    CocoWriter,
    coco_categories,
    coco_documents,
    crop_rle,
    instance_rle,
    polygon_iou,
    rle_encode,
)
from labeltools.formats.instances import object_instances
from labeltools.io.labelpng import lblread
from labeltools.labels import parse_labels

from ._exports import bench_corpus, iou, items, write_dataset
from .conftest import SAMPLE_DATA

pycocotools = pytest.importorskip("pycocotools")
from pycocotools import mask as mask_utils  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

#: Polygon annotations against our pixels, measured worst cases. pycocotools fills the
#: pixels whose area the polygon covers (pixel i spans [i, i + 1)); Pillow paints every
#: pixel the outline touches too, so small shapes differ most: a 1269-px rectangle of
#: the 60-file corpus has IoU 0.915 (Pillow's rectangle holds both end rows and
#: columns). On sample_data every disagreement is within 1.4 px of an edge; on the
#: corpus within 15.3 px, where polygons clipped to the image fold back along its
#: border (degenerate, self-touching edges the two fill rules treat differently).
SAMPLE_MIN_IOU, SAMPLE_MAX_EDGE = 0.947, 1.5
CORPUS_MIN_IOU, CORPUS_MAX_EDGE = 0.915, 15.3


def load(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints timings
        return COCO(str(path))


@pytest.fixture(scope="module")
def sample_coco(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("coco")
    write_dataset(CocoWriter(), SAMPLE_DATA,
                  out, parse_labels(str(SAMPLE_DATA / "labels.txt")))
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return bench_corpus(tmp_path_factory.mktemp("corpus"), 60)


def edge_distance(ours: np.ndarray, theirs: np.ndarray) -> float:
    """How far from our mask's edge the farthest pixel the two masks disagree on lies."""
    import cv2

    # Padded: beyond the image is outside the object (else a border row seems far from an edge).
    ours, theirs = np.pad(ours, 1), np.pad(theirs, 1)
    outside = cv2.distanceTransform((~ours).astype(np.uint8), cv2.DIST_L2, 3)
    inside = cv2.distanceTransform(ours.astype(np.uint8), cv2.DIST_L2, 3)
    d = np.maximum(outside, inside)[ours ^ theirs]
    return float(d.max()) if d.size else 0.0


def check_against_pycocotools(folder: Path, out: Path, labels) -> dict[str, float]:
    """Every annotation's annToMask against our pixels; returns the worst polygon figures."""
    ours_by_image = {}
    with items(folder, labels) as todo:
        for item in todo:
            h, w = item.image.height, item.image.width
            found, _ = object_instances(item.annotation.shapes, item.values, h, w)
            ours_by_image[f"{item.stem}.jpg"] = [inst.mask(h, w) for inst in found]
    worst = {"iou": 1.0, "edge": 0.0, "polygons": 0, "rle": 0}
    for split in ("train", "val"):
        coco = load(out / "annotations" / f"instances_{split}.json")
        for img in coco.dataset["images"]:
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
            ours = ours_by_image.pop(img["file_name"])
            assert len(anns) == len(ours)
            for ann, mask in zip(anns, ours):
                theirs = coco.annToMask(ann).astype(bool)
                assert ann["area"] == int(mask.sum()) and ann["iscrowd"] == 0
                ys, xs = np.nonzero(mask)
                assert ann["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                                       ys.max() - ys.min() + 1]
                if isinstance(ann["segmentation"], dict):
                    worst["rle"] += 1
                    assert np.array_equal(theirs, mask)
                else:
                    worst["polygons"] += 1
                    worst["iou"] = min(worst["iou"], iou(theirs, mask))
                    worst["edge"] = max(worst["edge"], edge_distance(mask, theirs))
    assert not ours_by_image  # every image is in exactly one split
    return worst


def test_sample_data_loads_and_matches_our_pixels(sample_coco):
    worst = check_against_pycocotools(SAMPLE_DATA, sample_coco,
                                      parse_labels(str(SAMPLE_DATA / "labels.txt")))
    assert worst["polygons"] == 5 and worst["rle"] == 12
    assert worst["iou"] >= SAMPLE_MIN_IOU and worst["edge"] <= SAMPLE_MAX_EDGE


def test_bench_corpus_matches_our_pixels(corpus, tmp_path):
    folder, labels = corpus
    write_dataset(CocoWriter(), folder, tmp_path, labels)
    worst = check_against_pycocotools(folder, tmp_path, labels)
    assert (worst["polygons"], worst["rle"]) == (117, 156)
    assert worst["iou"] >= CORPUS_MIN_IOU and worst["edge"] <= CORPUS_MAX_EDGE


def test_rle_everywhere_is_exact(corpus, tmp_path):
    folder, labels = corpus
    write_dataset(CocoWriter(rle=True), folder, tmp_path, labels)
    worst = check_against_pycocotools(folder, tmp_path, labels)
    assert worst["polygons"] == 0


@pytest.mark.parametrize("rle", [False, True])
def test_cocoeval_of_the_ground_truth_against_itself_is_perfect(sample_coco, corpus, tmp_path, rle):
    folder, labels = corpus
    write_dataset(CocoWriter(rle=rle), folder, tmp_path, labels)
    gt = load(tmp_path / "annotations" / "instances_train.json")
    dets = [{"image_id": a["image_id"], "category_id": a["category_id"],
             "segmentation": a["segmentation"] if rle else gt.annToRLE(a), "score": 1.0}
            for a in gt.dataset["annotations"]]
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, gt.loadRes(dets), "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)  # AP @ IoU 0.50:0.95


def test_categories_from_1_in_labels_order_all_listed_in_every_split(sample_coco):
    names = parse_labels(str(SAMPLE_DATA / "labels.txt")).names
    expected = [{"id": i, "name": n, "supercategory": n} for i, n in enumerate(names) if i]
    assert expected[0] == {"id": 1, "name": "car", "supercategory": "car"}
    for split in ("train", "val"):
        doc = json.loads((sample_coco / "annotations" / f"instances_{split}.json").read_text())
        assert doc["categories"] == expected
    val = json.loads((sample_coco / "annotations" / "instances_val.json").read_text())
    present = {a["category_id"] for a in val["annotations"]}
    assert present < {c["id"] for c in expected}  # absent classes listed all the same


def test_every_shape_type_and_group_id(sample_coco):
    docs = [json.loads((sample_coco / "annotations" / f"instances_{s}.json").read_text())
            for s in ("train", "val")]
    by_file = {}
    for doc in docs:
        names = {c["id"]: c["name"] for c in doc["categories"]}
        files = {i["id"]: i["file_name"] for i in doc["images"]}
        for a in doc["annotations"]:
            kind = "rle" if isinstance(a["segmentation"], dict) else len(a["segmentation"])
            by_file.setdefault(files[a["image_id"]], []).append((names[a["category_id"]], kind))
    assert by_file == {
        # __ignore__ (drawn first): no annotation; rectangle, oriented rectangle: a polygon each.
        "street_001.jpg": [("car", 1), ("car", 1), ("pole", "rle")],
        # tree = rectangle + polygon with group_id 1: one instance, two polygons.
        "park_002.jpg": [("tree", 2), ("person", 1), ("ball", "rle"), ("fence", "rle")],
        "portrait_004.jpg": [("person", "rle"), ("pole", "rle"), ("ball", "rle")],
        "garden_005.jpg": [("fence", "rle"), ("tree", "rle"), ("tree", 1), ("ball", "rle")],
        "yard_003.jpg": [("tree", "rle"), ("person", "rle"), ("ball", "rle")],
    }


def test_instances_are_json2voc_object_png(sample_coco, tmp_path):
    """The EXIF photo included: annotations are in upright coordinates, as the object PNG."""
    json2voc(SAMPLE_DATA, tmp_path / "voc", str(SAMPLE_DATA / "labels.txt"), workers=1)
    for split in ("train", "val"):
        coco = load(sample_coco / "annotations" / f"instances_{split}.json")
        for img in coco.dataset["images"]:
            stem = Path(img["file_name"]).stem
            obj = lblread(tmp_path / "voc" / "SegmentationObject" / f"{stem}.png")
            assert obj.shape == (img["height"], img["width"])
            with Image.open(sample_coco / "images" / img["file_name"]) as photo:
                assert photo.size == (img["width"], img["height"])
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]])):
                mask = coco.annToMask(ann).astype(bool)
                ids = np.unique(obj[mask])
                if isinstance(ann["segmentation"], dict):
                    assert len(ids) == 1 and np.array_equal(obj == ids[0], mask)
    info = json.loads((sample_coco / "annotations" / "instances_val.json").read_text())["images"]
    info += json.loads((sample_coco / "annotations" / "instances_train.json").read_text())["images"]
    assert {"id": 3, "file_name": "portrait_004.jpg", "width": 360, "height": 480} in info


def test_ids_are_stable_whatever_the_split():
    ann = {"category_id": 1, "segmentation": [], "area": 1, "bbox": [0, 0, 1, 1], "iscrowd": 0}
    summaries = [(s, {"file_name": f"{s}.jpg", "width": 4, "height": 4,
                      "annotations": [ann] * n}) for s, n in
                 (("a", 2), ("b", 0), ("c", 1))]
    from labeltools.splits import Split

    docs = coco_documents(summaries, ("_background_", "cat"), Split(("a",), ("c",)))
    assert [i["id"] for i in docs["train"]["images"]] == [1]
    assert [(a["id"], a["image_id"]) for a in docs["val"]["annotations"]] == [(3, 3)]
    assert coco_categories(("_background_", "cat")) == [{"id": 1, "name": "cat", "supercategory": "cat"}]


def test_rle_encode_is_pycocotools_compressed():
    mask = np.zeros((4, 5), dtype=bool)
    mask[1:3, 2:4] = True
    rle = rle_encode(mask)
    assert rle == {"size": [4, 5], "counts": "92203"}
    assert np.array_equal(mask_utils.decode({**rle, "counts": rle["counts"].encode()}), mask)
    with pytest.raises(ValueError, match=r"mask must be 2-D \(height, width\), got shape \(4,\)"):
        rle_encode(np.zeros(4, dtype=bool))


def test_crop_rle_is_rle_encode_of_the_placed_crop():
    crop = np.array([[1, 0], [1, 1]], dtype=bool)
    full = np.zeros((4, 5), dtype=bool)
    full[1:3, 2:4] = crop
    # Column-major runs: 9 zeros, 2 ones, 3 zeros, 1 one, 5 zeros.
    assert crop_rle(crop, 2, 1, 4, 5) == rle_encode(full) == {"size": [4, 5], "counts": "923O2"}
    # Edge cases: empty, the whole image (one run across every column), corners, one row.
    assert crop_rle(np.zeros((2, 2), bool), 0, 0, 3, 3) == rle_encode(np.zeros((3, 3), bool))
    assert crop_rle(np.ones((3, 4), bool), 0, 0, 3, 4) == rle_encode(np.ones((3, 4), bool))
    assert rle_encode(np.ones((3, 4), bool))["counts"] == "0<"  # [0, 12]: no run of 0s after
    assert crop_rle(np.ones((1, 1), bool), 3, 2, 3, 4) == rle_encode(np.eye(3, 4, 3, dtype=bool)[::-1])
    rng = np.random.default_rng(7)
    for _ in range(2000):
        height, width = (int(v) for v in rng.integers(1, 10, 2))
        h, w = int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1))
        x, y = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
        crop = rng.random((h, w)) < rng.choice([0.2, 0.5, 0.9, 1.0])
        full = np.zeros((height, width), dtype=bool)
        full[y : y + h, x : x + w] = crop
        assert crop_rle(crop, x, y, height, width) == rle_encode(full)
    with pytest.raises(ValueError, match=r"crop of shape \(2, 2\) at \(3, 0\) must lie inside 4x4"):
        crop_rle(np.ones((2, 2), bool), 3, 0, 4, 4)


def test_polygon_iou_is_the_iou_of_the_decoded_masks(corpus):
    from labeltools.formats.instances import shape_polygon

    folder, labels = corpus
    checked = 0
    with items(folder, labels) as todo:
        for item in todo:
            h, w = item.image.height, item.image.width
            shapes = item.annotation.shapes
            for inst in object_instances(shapes, item.values, h, w)[0]:
                assert instance_rle(inst, h, w) == rle_encode(inst.mask(h, w))
                if not inst.exact:
                    continue
                polygons = [shape_polygon(shapes[i]) for i in inst.shapes]
                theirs = mask_utils.decode(
                    mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))).astype(bool)
                assert polygon_iou(polygons, inst, h, w) == iou(theirs, inst.mask(h, w))
                checked += 1
    assert checked > 50


def test_polygons_coco_cannot_draw_become_rle():
    from labeltools.formats.coco import coco_annotation
    from labeltools.formats.labelme import Shape

    values = {"_background_": 0, "cat": 1}
    shapes = [
        Shape("cat", "rectangle", ((2, 2), (12, 12))),  # 11 x 11 px here, 10 x 10 for COCO
        Shape("cat", "polygon", ((20, 2), (25, 7), (30, 12))),  # collinear: a line to Pillow
        Shape("cat", "rectangle", ((2, 20), (3, 21))),  # 2 x 2 px here, 1 px for COCO
    ]
    found, _ = object_instances(shapes, values, 30, 40)
    kinds = [type(coco_annotation(i, shapes, 30, 40)["segmentation"]).__name__ for i in found]
    assert [i.exact for i in found] == [True, True, True]
    assert kinds == ["list", "dict", "dict"]


def test_finish_from_summaries_read_back_from_json_is_byte_identical(tmp_path):
    """What a resumed run does: the manifest's summaries (JSON) instead of fresh ones."""
    labels = parse_labels(str(SAMPLE_DATA / "labels.txt"))
    writer = CocoWriter().bind(labels)
    summaries = write_dataset(writer, SAMPLE_DATA, tmp_path / "a", labels)
    first = (tmp_path / "a" / "annotations" / "instances_train.json").read_bytes()
    # The records keep summaries as json.dumps(sort_keys=True) writes them.
    reread = [(s, json.loads(json.dumps(v, sort_keys=True))) for s, v in summaries]
    from labeltools.splits import split_ids

    writer.finish(tmp_path / "b", reread, split_ids([s for s, _ in summaries], val=0.2, seed=0))
    assert (tmp_path / "b" / "annotations" / "instances_train.json").read_bytes() == first


@pytest.mark.parametrize("split", [None, ((), ()), (("a",), ("c",)), (("c",), ("a",), ("b",))])
def test_streamed_documents_are_the_dumped_documents(tmp_path, split):
    """finish streams each document to disk: the bytes of _dump(coco_documents(...))."""
    from labeltools.formats.coco import _dump, write_coco_documents
    from labeltools.splits import Split

    ann = {"iscrowd": 0, "bbox": [0, 0, 1, 1], "area": 1, "segmentation": {"counts": "1", "size": [4, 4]},
           "category_id": 2}
    summaries = [(s, {"file_name": f"é{s}.jpg", "width": 4, "height": 3,
                      "annotations": [ann] * n}) for s, n in (("a", 2), ("b", 0), ("c", 1))]
    names = ("_background_", "cat", "chat é")
    split = None if split is None else Split(*split)
    written = write_coco_documents(tmp_path, summaries, names, split, name="x_{}.json")
    docs = coco_documents(summaries, names, split)
    assert written == [f"x_{name}.json" for name in docs]
    for name, doc in docs.items():
        assert (tmp_path / f"x_{name}.json").read_text(encoding="utf-8") == _dump(doc)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)  # no temporary left
