"""sample_data/ is a real labelme project: it reads cleanly and covers what it promises."""

import importlib.util
import json
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from labeltools import image_info, load_image, read_class_names, read_labelme, shapes_to_label
from labeltools.formats.labelme import SHAPE_TYPES

from .conftest import SAMPLE_DATA

JSONS = sorted(SAMPLE_DATA.glob("*.json"))
BALL_COLOR = (250, 220, 20)


def label_map() -> dict[str, int]:
    names = (SAMPLE_DATA / "labels.txt").read_text(encoding="utf-8").split()
    return {name: i - 1 for i, name in enumerate(names)}


def test_labels_and_class_names():
    names = (SAMPLE_DATA / "labels.txt").read_text(encoding="utf-8").split()
    assert names[:2] == ["__ignore__", "_background_"]
    assert len(names) == len(set(names)) == 8
    assert read_class_names(SAMPLE_DATA / "class_names.txt") == tuple(names[1:])


@pytest.mark.parametrize("path", JSONS, ids=lambda p: p.stem)
def test_every_sample_reads_and_rasterises(path):
    ann = read_labelme(path)
    assert ann.version.startswith("5.") and ann.image_path == f"{path.stem}.jpg"
    info = image_info(ann)
    assert (info.format, info.height, info.width) == ("JPEG", ann.image_height, ann.image_width)
    assert 240 <= min(info.width, info.height) and max(info.width, info.height) <= 640
    assert (SAMPLE_DATA / ann.image_path).stat().st_size < 20_000  # small files
    mapping = label_map()
    cls, ins = shapes_to_label((info.height, info.width), ann.shapes, mapping, source=path)
    # Every instance keeps some pixels: nothing is fully hidden or off the image.
    n_instances = len({(s.label, s.group_id if s.group_id is not None else i)
                       for i, s in enumerate(ann.shapes)})
    assert set(np.unique(ins)) == set(range(n_instances + 1))
    assert set(np.unique(cls)) - {0} == {mapping[s.label] for s in ann.shapes}


def test_samples_cover_what_the_issue_asks():
    anns = [read_labelme(p) for p in JSONS]
    assert 4 <= len(anns) <= 6
    types = Counter(s.shape_type for a in anns for s in a.shapes)
    assert set(types) == set(SHAPE_TYPES)
    embedded = [a for a in anns if a.image_data is not None]
    assert [a.path.stem for a in embedded] == ["yard_003"]
    # Embedded data is the image file itself, and imagePath still names it.
    assert embedded[0].image_data == (SAMPLE_DATA / embedded[0].image_path).read_bytes()
    rotated = [(a.path.stem, image_info(a).orientation) for a in anns if image_info(a).orientation != 1]
    assert rotated == [("portrait_004", 6)]
    grouped = Counter((a.path.stem, s.label, s.group_id) for a in anns for s in a.shapes if s.group_id is not None)
    assert grouped == {("park_002", "tree", 1): 2, ("yard_003", "person", 1): 2, ("portrait_004", "person", 7): 2}
    assert [a.path.stem for a in anns if any(s.label == "__ignore__" for s in a.shapes)] == ["street_001"]


def test_json_is_labelme_5_layout():
    doc = json.loads((SAMPLE_DATA / "street_001.json").read_text(encoding="utf-8"))
    assert list(doc) == ["version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth"]
    assert list(doc["shapes"][0]) == ["label", "points", "group_id", "description", "shape_type", "flags", "mask"]


def test_rotated_sample_is_annotated_upright():
    ann = read_labelme(SAMPLE_DATA / "portrait_004.json")
    ball = next(s for s in ann.shapes if s.label == "ball")
    region, _ = shapes_to_label((480, 360), [ball], {"ball": 1})
    upright = np.asarray(load_image(ann))
    assert upright.shape == (480, 360, 3)
    assert np.abs(upright[region == 1].mean(axis=0) - BALL_COLOR).max() < 12
    with Image.open(SAMPLE_DATA / "portrait_004.jpg") as raw:  # the stored, sideways grid
        assert raw.size == (480, 360)


@pytest.mark.parametrize("stem", ["park_002", "yard_003", "garden_005"])
def test_ball_labels_sit_on_the_ball(stem):
    ann = read_labelme(SAMPLE_DATA / f"{stem}.json")
    ball = [s for s in ann.shapes if s.label == "ball"]
    info = image_info(ann)
    region, _ = shapes_to_label((info.height, info.width), ball, {"ball": 1})
    pixels = np.asarray(load_image(ann))[region == 1].astype(float)
    assert np.abs(pixels.mean(axis=0) - BALL_COLOR).max() < 25


def test_generator_is_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sample_data", SAMPLE_DATA / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in SAMPLE_DATA.iterdir() if p.suffix in {".jpg", ".json", ".txt"})
    for name in made:
        assert (tmp_path / name).read_bytes() == (SAMPLE_DATA / name).read_bytes(), name
