"""labeltools.vectorize: maps -> labelme shapes that labeltools' rasteriser redraws exactly."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from labeltools.formats.labelme import parse_labelme
from labeltools.raster import shapes_to_index
from labeltools.vectorize import DEFAULT_EPSILON, maps_to_shapes, mask_shape, region_shapes

NAMES = ("_background_", "car", "person", "tree")


def redraw(shapes, size, names=NAMES):
    """What json2voc draws for ``shapes``: (class map, object map), void instances zeroed."""
    h, w = size
    doc = {"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": "x.jpg",
           "imageData": None, "imageHeight": h, "imageWidth": w}
    ann = parse_labelme(Path("x.json"), json.dumps(doc).encode())  # through the real reader
    values = {"__ignore__": -1, **{n: i for i, n in enumerate(names)}}
    cls, obj = shapes_to_index((h, w), ann.shapes, values)
    return cls, np.where(cls == 255, 0, obj)


def decode(text):
    return np.array(Image.open(io.BytesIO(base64.b64decode(text))))


# --------------------------------------------------------------------------- one region


def test_mask_shape_box_is_inclusive_and_patch_exact():
    patch = np.array([[1, 0, 1], [0, 1, 0]], bool)
    s = mask_shape(patch, (4, 7), "car", 3)
    assert s["shape_type"] == "mask" and s["label"] == "car" and s["group_id"] == 3
    assert s["points"] == [[4.0, 7.0], [6.0, 8.0]]
    got = decode(s["mask"])
    assert got.dtype == bool and got.shape == (2, 3)
    assert np.array_equal(got, patch)
    assert set(s) == {"label", "points", "group_id", "description", "shape_type", "flags", "mask"}


def test_mask_shape_rejects_an_empty_patch():
    with pytest.raises(ValueError, match=r"mask_shape: patch must be a non-empty 2-D array, got shape \(0, 3\)"):
        mask_shape(np.zeros((0, 3), bool), (0, 0), "car")


def test_rectangle_region_is_a_four_corner_polygon():
    r = np.zeros((6, 8), bool)
    r[1:4, 2:6] = True
    (s,) = region_shapes(r, "car")
    assert s["shape_type"] == "polygon"
    assert s["points"] == [[2.0, 1.0], [2.0, 3.0], [5.0, 3.0], [5.0, 1.0]]
    assert s["mask"] is None and s["group_id"] is None


def test_region_with_a_hole_is_a_mask_in_auto_and_its_outline_in_polygon_mode():
    ring = np.zeros((7, 7), bool)
    ring[1:6, 1:6] = True
    ring[3, 3] = False
    (auto,) = region_shapes(ring, "car")
    assert auto["shape_type"] == "mask" and auto["points"] == [[1.0, 1.0], [5.0, 5.0]]
    assert np.array_equal(decode(auto["mask"]), ring[1:6, 1:6])
    (poly,) = region_shapes(ring, "car", shape="polygon")
    assert poly["points"] == [[1.0, 1.0], [1.0, 5.0], [5.0, 5.0], [5.0, 1.0]]


def test_each_connected_part_is_a_shape_in_scan_order():
    two = np.zeros((4, 9), bool)
    two[0:2, 0:2] = True
    two[2:4, 6:9] = True
    got = [s["points"] for s in region_shapes(two, "car", 5)]
    assert got == [
        [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]],
        [[6.0, 2.0], [6.0, 3.0], [8.0, 3.0], [8.0, 2.0]],
    ]


def test_diagonal_neighbours_are_one_region():
    diag = np.eye(4, dtype=bool)
    shapes = region_shapes(diag, "car", shape="mask")
    assert len(shapes) == 1 and shapes[0]["points"] == [[0.0, 0.0], [3.0, 3.0]]


def test_tiny_regions_are_masks_in_auto_mode():
    dot = np.zeros((3, 3), bool)
    dot[1, 1] = True
    (s,) = region_shapes(dot, "car")
    assert s["shape_type"] == "mask" and s["points"] == [[1.0, 1.0], [1.0, 1.0]]
    (p,) = region_shapes(dot, "car", shape="polygon")
    assert p["points"] == [[1.0, 1.0]] * 3  # labelme polygons need 3 points


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shape": "spline"}, "shape must be one of auto, polygon, mask, got 'spline'"),
        ({"epsilon": -1}, "epsilon must be a number of pixels >= 0, got -1"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        region_shapes(np.ones((2, 2), bool), "car", **kwargs)


# --------------------------------------------------------------------------- one image


def test_skipped_instance_id_is_taken_by_the_void_region():
    cls = np.zeros((4, 6), np.uint8)
    obj = np.zeros_like(cls)
    cls[0:2, 0:2], obj[0:2, 0:2] = 1, 2
    cls[3, 4:6] = 255
    shapes = maps_to_shapes(cls, obj, NAMES)
    assert [(s["label"], s["group_id"]) for s in shapes] == [("__ignore__", 1), ("car", 2)]
    got_cls, got_obj = redraw(shapes, cls.shape)
    assert np.array_equal(got_cls, cls) and np.array_equal(got_obj, obj)


def test_skipped_instance_id_without_void_is_a_pixel_under_the_next_instance():
    cls = np.zeros((4, 6), np.uint8)
    obj = np.zeros_like(cls)
    cls[1:3, 2:5], obj[1:3, 2:5] = 2, 3
    shapes = maps_to_shapes(cls, obj, NAMES)
    assert [(s["label"], s["group_id"], s["shape_type"], s["points"]) for s in shapes[:2]] == [
        ("__ignore__", 1, "mask", [[2.0, 1.0], [2.0, 1.0]]),
        ("__ignore__", 2, "mask", [[2.0, 1.0], [2.0, 1.0]]),
    ]
    got_cls, got_obj = redraw(shapes, cls.shape)
    assert np.array_equal(got_cls, cls) and np.array_equal(got_obj, obj)


def test_without_an_object_map_each_class_region_is_ungrouped():
    cls = np.array([[1, 1, 0, 2], [0, 0, 0, 2], [1, 0, 0, 0]], np.uint8)
    shapes = maps_to_shapes(cls, None, NAMES, shape="mask")
    assert [(s["label"], s["group_id"], s["points"]) for s in shapes] == [
        ("car", None, [[0.0, 0.0], [1.0, 0.0]]),
        ("car", None, [[0.0, 2.0], [0.0, 2.0]]),
        ("person", None, [[3.0, 0.0], [3.0, 1.0]]),
    ]
    assert np.array_equal(redraw(shapes, cls.shape)[0], cls)


def test_polygon_mode_draws_what_lies_in_a_hole_after_the_polygon_around_it():
    cls = np.zeros((9, 9), np.uint8)
    obj = np.zeros_like(cls)
    cls[3:6, 3:6], obj[3:6, 3:6] = 2, 1  # instance 1 inside...
    cls[1:8, 1:8][np.pad(np.zeros((3, 3), bool), 2, constant_values=True)] = 1
    obj[(cls == 1)] = 2  # ...the ring of instance 2
    shapes = maps_to_shapes(cls, obj, NAMES, shape="polygon", epsilon=0)
    # The ring first (it covers the hole), with a pixel of instance 1 before it to keep
    # instance 1 numbered 1.
    assert [(s["label"], s["group_id"], s["shape_type"]) for s in shapes] == [
        ("person", 1, "mask"), ("car", 2, "polygon"), ("person", 1, "polygon"),
    ]
    got_cls, got_obj = redraw(shapes, cls.shape)
    assert np.array_equal(got_cls, cls) and np.array_equal(got_obj, obj)


def test_class_value_without_a_name():
    with pytest.raises(ValueError, match=r"class value 5 has no name \(4 class names, 0\.\.3\)"):
        maps_to_shapes(np.full((2, 2), 5, np.uint8), None, NAMES)


def test_object_map_of_another_size():
    with pytest.raises(ValueError, match=r"object_map must be an integer array of the class map's shape \(2, 2\), got uint8 \(3, 2\)"):
        maps_to_shapes(np.zeros((2, 2), np.uint8), np.zeros((3, 2), np.uint8), NAMES)


def test_default_epsilon_is_one_pixel():
    assert DEFAULT_EPSILON == 1.0


# --------------------------------------------------------------------------- properties


def _random_maps(seed: int, h: int, w: int, objects: bool):
    """Fragmented maps: diagonal contacts, holes, islands, void, skipped instance ids."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 7, size=(max(1, h // 2), max(1, w // 2)))
    obj = np.kron(blocks, np.ones((2, 2), np.int64))[:h, :w]
    obj = np.pad(obj, ((0, h - obj.shape[0]), (0, w - obj.shape[1])), mode="edge")
    noise = rng.random((h, w)) < 0.15
    obj = np.where(noise, rng.integers(0, 7, size=(h, w)), obj)
    class_of = np.concatenate([[0], rng.integers(1, 4, size=6)])
    cls = class_of[obj]
    void = rng.random((h, w)) < 0.05
    cls = np.where(void, 255, cls).astype(np.uint8)
    obj = np.where(void | (cls == 0), 0, obj).astype(np.uint8)
    return cls, (obj if objects else None)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    mode=st.sampled_from(["auto", "mask"]),
    objects=st.booleans(),
)
def test_round_trip_is_exact(seed, h, w, mode, objects):
    cls, obj = _random_maps(seed, h, w, objects)
    shapes = maps_to_shapes(cls, obj, NAMES, shape=mode)
    got_cls, got_obj = redraw(shapes, cls.shape)
    assert np.array_equal(got_cls, cls)
    if obj is not None:
        assert np.array_equal(got_obj, obj)


def test_missing_opencv_says_how_to_install_it(monkeypatch):
    import sys

    from labeltools.errors import LabeltoolsError
    from labeltools.vectorize import MissingDependencyError

    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ImportError
    with pytest.raises(MissingDependencyError, match=re.escape(
        'voc2json traces contours with OpenCV, which is not installed: '
        'pip install "labeltools[voc2json]" (or opencv-python-headless)'
    )) as info:
        region_shapes(np.ones((2, 2), bool), "car")
    assert isinstance(info.value, LabeltoolsError) and isinstance(info.value, ImportError)


def test_labelme_json_is_the_document_one_shape_per_line():
    from labeltools.voc2labelme import labelme_json

    doc = {"version": "5.5.0", "flags": {}, "shapes": [mask_shape(np.ones((1, 2), bool), (3, 4), "é")],
           "imagePath": "a.jpg", "imageData": None, "imageHeight": 5, "imageWidth": 6}
    text = labelme_json(doc)
    assert json.loads(text) == doc
    assert text.splitlines()[4].startswith('    {"label": "é", "points": [[3.0, 4.0], [4.0, 4.0]]')
    assert len(text.splitlines()) == 11
