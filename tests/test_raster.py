"""raster: labelme shapes -> class / instance arrays, pixel-exact (labelme's rules)."""

import math
import uuid
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageDraw
import pytest

from labeltools import (
    LabelmeFormatError,
    LabelNameError,
    Shape,
    image_info,
    read_labelme,
    shapes_to_label,
)
from labeltools.formats.labelme import SHAPE_TYPES
from labeltools.raster import count_instances, index_canvas, shapes_to_index

from .test_formats_labelme import b64_png, labelme_doc, shape, write_json

# ----------------------------------------------------------------------------- helpers


def grid(rows: list[str]) -> np.ndarray:
    """'#' -> 1, '.' -> 0: small expected masks drawn as text."""
    return np.array([[c == "#" for c in r] for r in rows], dtype=np.int32)


def one(shape_type, points, hw, **kw):
    s = Shape("a", shape_type, tuple(tuple(map(float, p)) for p in points), **kw)
    cls, _ = shapes_to_label(hw, [s], {"a": 1})
    return cls


# ----------------------------------------------------------------------------- rasteriser


def test_fractional_mask_box_uses_patch_size(tmp_path):
    # A fractional box is placed by its rounded first corner and keeps the patch size.
    doc = labelme_doc(
        [shape(shape_type="mask", points=[[0.4, 0.6], [1.2, 1.4]], mask=b64_png(np.ones((3, 3), np.uint8)))]
    )
    ann = read_labelme(write_json(tmp_path, doc))
    cls, _ = shapes_to_label((5, 5), ann.shapes, {"cat": 1})
    assert cls.tolist() == grid([".....", "###..", "###..", "###..", "....."]).tolist()


def test_rectangle_corners_in_any_order():
    expected = grid(["......", ".###..", ".###..", "......"])
    assert one("rectangle", [(1, 1), (3, 2)], (4, 6)).tolist() == expected.tolist()
    assert one("rectangle", [(3, 2), (1, 1)], (4, 6)).tolist() == expected.tolist()


def test_polygon_includes_its_outline():
    assert one("polygon", [(1, 1), (5, 1), (1, 5)], (7, 7)).tolist() == grid(
        [".......", ".#####.", ".####..", ".###...", ".##....", ".#.....", "......."]
    ).tolist()


def test_oriented_rectangle_is_a_polygon():
    assert one("oriented_rectangle", [(3, 0), (6, 3), (3, 6), (0, 3)], (7, 7)).tolist() == grid(
        ["...#...", "..###..", ".#####.", "#######", ".#####.", "..###..", "...#..."]
    ).tolist()


def test_circle_radius_is_the_distance_between_its_points():
    assert one("circle", [(3, 3), (5, 3)], (7, 7)).tolist() == grid(
        [".......", "..###..", ".#####.", ".#####.", ".#####.", "..###..", "......."]
    ).tolist()


def test_point_is_a_radius_5_disc():
    cls = one("point", [(6, 6)], (13, 13))
    assert cls.tolist() == grid(
        [
            ".............",
            "....#####....",
            "...#######...",
            "..#########..",
            ".###########.",
            ".###########.",
            ".###########.",
            ".###########.",
            ".###########.",
            "..#########..",
            "...#######...",
            "....#####....",
            ".............",
        ]
    ).tolist()


def test_line_is_10_pixels_wide():
    cls = one("line", [(2, 10), (17, 10)], (20, 20))
    expected = np.zeros((20, 20), np.int32)
    expected[6:16, 2:18] = 1  # rows 10-4 .. 10+5, columns 2 .. 17
    assert cls.tolist() == expected.tolist()


def test_linestrip_has_rounded_joints():
    cls = one("linestrip", [(3, 3), (16, 3), (16, 16)], (20, 20))
    expected = np.zeros((20, 20), np.int32)
    expected[0:9, 3:20] = 1  # first leg, clipped at the top edge, plus the round joint
    expected[9:17, 12:20] = 1  # second leg down to y = 16
    assert cls.tolist() == expected.tolist()
    # Without the rounded joint the outer corner would stay empty.
    plain = PIL.Image.new("L", (20, 20))
    PIL.ImageDraw.Draw(plain).line([(3, 3), (16, 3), (16, 16)], fill=1, width=10)
    assert np.asarray(plain)[0, 19] == 0 and cls[0, 19] == 1


def test_z_order_later_shapes_win():
    shapes = [
        Shape("a", "rectangle", ((0.0, 0.0), (3.0, 3.0))),
        Shape("b", "rectangle", ((2.0, 2.0), (4.0, 4.0))),
    ]
    cls, ins = shapes_to_label((5, 5), shapes, {"a": 1, "b": 2})
    assert cls.tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 1, 0], [1, 1, 2, 2, 2], [1, 1, 2, 2, 2], [0, 0, 2, 2, 2]]
    assert ins.tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 1, 0], [1, 1, 2, 2, 2], [1, 1, 2, 2, 2], [0, 0, 2, 2, 2]]
    cls, _ = shapes_to_label((5, 5), shapes[::-1], {"a": 1, "b": 2})
    assert cls[2:4, 2:4].tolist() == [[1, 1], [1, 1]]


def test_group_id_instances():
    r = lambda x: ((float(x), 0.0), (float(x), 1.0))  # noqa: E731 - a 1-column rectangle
    shapes = [
        Shape("car", "rectangle", r(0), group_id=7),
        Shape("car", "rectangle", r(1)),
        Shape("car", "rectangle", r(2), group_id=7),  # same object as column 0
        Shape("person", "rectangle", r(3), group_id=7),  # same group id, other label: new
        Shape("car", "rectangle", r(4)),  # ungrouped: its own instance
        Shape("car", "rectangle", r(5), group_id=2),
    ]
    cls, ins = shapes_to_label((2, 6), shapes, {"car": 1, "person": 2})
    assert cls[0].tolist() == [1, 1, 1, 2, 1, 1]
    assert ins[0].tolist() == [1, 2, 1, 3, 4, 5]
    assert cls.dtype == ins.dtype == np.int32 and cls.shape == (2, 6)


def test_ignore_label_is_minus_one():
    shapes = [Shape("__ignore__", "rectangle", ((0.0, 0.0), (1.0, 0.0)))]
    cls, ins = shapes_to_label((2, 3), shapes, {"__ignore__": -1, "_background_": 0})
    assert cls.tolist() == [[-1, -1, 0], [0, 0, 0]]
    assert ins.tolist() == [[1, 1, 0], [0, 0, 0]]


def test_mask_patch_is_pasted_and_clipped():
    patch = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=bool)
    corner = Shape("a", "mask", ((-1.0, -1.0), (1.0, 1.0)), mask=patch)  # hangs off top-left
    edge = Shape("b", "mask", ((3.0, 2.0), (5.0, 4.0)), mask=patch)  # hangs off bottom-right
    cls, ins = shapes_to_label((4, 5), [corner, edge], {"a": 1, "b": 2})
    assert cls.tolist() == [[0, 1, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 0, 2, 2], [0, 0, 0, 2, 0]]
    assert ins.tolist() == [[0, 1, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 0, 2, 2], [0, 0, 0, 2, 0]]
    outside = Shape("a", "mask", ((9.0, 9.0), (11.0, 11.0)), mask=patch)
    assert shapes_to_label((4, 5), [outside], {"a": 1})[0].sum() == 0


def test_mask_patch_false_pixels_keep_what_is_below():
    below = Shape("a", "rectangle", ((0.0, 0.0), (2.0, 2.0)))
    patch = np.array([[1, 0], [0, 1]], dtype=bool)
    above = Shape("b", "mask", ((0.0, 0.0), (1.0, 1.0)), mask=patch)
    cls, _ = shapes_to_label((3, 3), [below, above], {"a": 1, "b": 2})
    assert cls.tolist() == [[2, 1, 1], [1, 2, 1], [1, 1, 1]]


def test_unknown_label():
    shapes = [Shape("cat", "point", ((1.0, 1.0),)), Shape("dgo", "point", ((1.0, 1.0),))]
    with pytest.raises(LabelNameError) as info:
        shapes_to_label((3, 3), shapes, {"_background_": 0, "cat": 1, "dog": 2}, source="x.json")
    assert str(info.value) == (
        "x.json: shape #1 (point): label 'dgo' is not in the label list "
        "('_background_', 'cat', 'dog')"
    )


def test_shapes_built_in_code_are_checked():
    with pytest.raises(LabelmeFormatError, match=r"^x.json: shape #0 \(circle\) needs 2 points, got 1$"):
        shapes_to_label((3, 3), [Shape("a", "circle", ((1.0, 1.0),))], {"a": 1}, source="x.json")
    with pytest.raises(LabelmeFormatError, match=r"^shape #0: unknown shape_type 'blob'; expected one of"):
        shapes_to_label((3, 3), [Shape("a", "blob", ((1.0, 1.0),))], {"a": 1})
    with pytest.raises(LabelNameError, match=r"^the value of label 'a' must be a 32-bit integer, got 1.5$"):
        shapes_to_label((3, 3), [Shape("a", "point", ((1.0, 1.0),))], {"a": 1.5})
    with pytest.raises(LabelNameError, match=r"^the value of label 'a' must be a 32-bit integer, got 2147483648$"):
        shapes_to_label((3, 3), [Shape("a", "point", ((1.0, 1.0),))], {"a": 2**31})


def test_empty_shapes_and_bad_image_shape():
    cls, ins = shapes_to_label((2, 3, 3), [], {})
    assert cls.tolist() == ins.tolist() == [[0, 0, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match=r"img_shape must start with \(height, width\) > 0, got \(0, 3\)"):
        shapes_to_label((0, 3), [], {})


# ------------------------------------------ shared canvas == labelme's per-shape masks


def labelme_shape_to_mask(img_shape, points, shape_type):
    """labelme's shape_to_mask (examples/utils.py, commit 64954cd), transcribed."""
    mask = PIL.Image.fromarray(np.zeros(img_shape[:2], dtype=np.uint8))
    draw = PIL.ImageDraw.Draw(mask)
    xy = [tuple(p) for p in points]
    if shape_type == "circle":
        (cx, cy), (px, py) = xy
        d = math.sqrt((cx - px) ** 2 + (cy - py) ** 2)
        draw.ellipse(((cx - d, cy - d), (cx + d, cy + d)), outline=1, fill=1)
    elif shape_type == "rectangle":
        (x0, y0), (x1, y1) = xy
        draw.rectangle(((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))), outline=1, fill=1)
    elif shape_type == "line":
        draw.line(xy=xy, fill=1, width=10)
    elif shape_type == "linestrip":
        draw.line(xy=xy, fill=1, width=10, joint="curve")
    elif shape_type == "point":
        cx, cy = xy[0]
        draw.ellipse(((cx - 5, cy - 5), (cx + 5, cy + 5)), outline=1, fill=1)
    else:  # polygon, oriented_rectangle
        draw.polygon(xy=xy, outline=1, fill=1)
    return np.array(mask, dtype=bool)


def labelme_shapes_to_label(img_shape, shapes, label_name_to_value):
    """labelme's shapes_to_label, transcribed: one full-size mask per shape, then copy."""
    cls = np.zeros(img_shape[:2], dtype=np.int32)
    ins = np.zeros_like(cls)
    instances = []
    for s in shapes:
        group_id = s.group_id if s.group_id is not None else uuid.uuid1()
        instance = (s.label, group_id)
        if instance not in instances:
            instances.append(instance)
        ins_id = instances.index(instance) + 1
        if s.shape_type == "mask":
            mask = np.zeros(img_shape[:2], dtype=bool)
            pts = np.asarray(s.points)
            (x1, y1), (x2, y2) = pts.round().astype(int)
            if np.array_equal(pts, np.trunc(pts)):
                ph, pw = y2 - y1 + 1, x2 - x1 + 1
            else:
                ph, pw = s.mask.shape
            h, w = img_shape[:2]
            ys, ye = max(y1, 0), min(y1 + ph, h)
            xs, xe = max(x1, 0), min(x1 + pw, w)
            if ys < ye and xs < xe:
                mask[ys:ye, xs:xe] = s.mask[ys - y1 : ye - y1, xs - x1 : xe - x1]
        else:
            mask = labelme_shape_to_mask(img_shape, s.points, s.shape_type)
        cls[mask] = label_name_to_value[s.label]
        ins[mask] = ins_id
    return cls, ins


def random_shape(rng, h, w):
    kind = SHAPE_TYPES[rng.integers(len(SHAPE_TYPES))]
    counts = {"polygon": rng.integers(3, 9), "linestrip": rng.integers(2, 7), "point": 1,
              "oriented_rectangle": 4}
    n = counts.get(kind, 2)
    # Points a little outside the image too; half of the shapes on integer coordinates.
    pts = rng.uniform([-8, -8], [w + 8, h + 8], size=(n, 2))
    if rng.random() < 0.5:
        pts = np.round(pts)
    mask = None
    if kind == "mask":
        ph, pw = rng.integers(1, 15, size=2)
        x1, y1 = rng.integers(-6, [w, h])
        if rng.random() < 0.5:
            pts = np.array([[x1, y1], [x1 + pw - 1, y1 + ph - 1]], dtype=float)
        else:
            pts = np.array([[x1 + 0.3, y1 - 0.2], [x1 + pw - 0.6, y1 + ph + 0.1]])
        mask = rng.random((ph, pw)) < 0.6
    group_id = None if rng.random() < 0.5 else int(rng.integers(0, 3))
    label = ["a", "b", "c", "__ignore__"][rng.integers(4)]
    return Shape(label, kind, tuple(map(tuple, pts.tolist())), group_id, mask=mask)


def test_shared_canvas_matches_labelme_per_shape_masks():
    rng = np.random.default_rng(20240601)
    mapping = {"__ignore__": -1, "a": 1, "b": 2, "c": 200}
    for _ in range(150):
        h, w = (int(v) for v in rng.integers(5, 40, size=2))
        shapes = [random_shape(rng, h, w) for _ in range(rng.integers(1, 8))]
        cls, ins = shapes_to_label((h, w), shapes, mapping)
        ref_cls, ref_ins = labelme_shapes_to_label((h, w), shapes, mapping)
        np.testing.assert_array_equal(cls, ref_cls, err_msg=repr(shapes))
        np.testing.assert_array_equal(ins, ref_ins, err_msg=repr(shapes))


# ----------------------------------------------------------------------------- parity

#: labelme's own converter run with today's Pillow differs from the PNG/NPY it shipped for
#: 2011_000006 by exactly one pixel (Pillow's polygon edge rule changed since). Accepted
#: tolerance: at most 0.01 % of an image's pixels; the measured counts are asserted exactly.
PARITY_TOLERANCE = 0.0001
MEASURED_DIFFERENCES = {"2011_000003": 0, "2011_000006": 1, "2011_000025": 0}


def fixture_label_map(root: Path) -> dict[str, int]:
    names = [line.strip() for line in (root / "labels.txt").read_text().splitlines() if line.strip()]
    return {name: i - 1 for i, name in enumerate(names)}  # __ignore__ -> -1, _background_ -> 0


@pytest.mark.parametrize("stem", sorted(MEASURED_DIFFERENCES))
def test_parity_with_labelme_fixture(labelme_fixture, stem):
    mapping = fixture_label_map(labelme_fixture)
    assert (mapping["__ignore__"], mapping["_background_"], mapping["person"]) == (-1, 0, 15)
    ann = read_labelme(labelme_fixture / "data_annotated" / f"{stem}.json")
    info = image_info(ann)
    cls, _ = shapes_to_label((info.height, info.width), ann.shapes, mapping, source=ann.path)

    expected_npy = np.load(labelme_fixture / "expected" / "SegmentationClassNpy" / f"{stem}.npy")
    with PIL.Image.open(labelme_fixture / "expected" / "SegmentationClass" / f"{stem}.png") as png:
        assert png.mode == "P"
        expected_png = np.array(png)
    assert cls.dtype == expected_npy.dtype == np.int32
    assert cls.shape == expected_npy.shape == expected_png.shape
    npy_diff = int((cls != expected_npy).sum())
    png_diff = int((cls.astype(np.uint8) != expected_png).sum())  # -1 is stored as 255
    assert npy_diff == png_diff == MEASURED_DIFFERENCES[stem]
    assert npy_diff <= PARITY_TOLERANCE * cls.size
    assert set(np.unique(cls)) == set(np.unique(expected_npy))


# ----------------------------------------------------------------------------- 8-bit fast path


def _random_shapes(rng: np.random.Generator, n: int) -> list[Shape]:
    shapes = []
    for i in range(n):
        kind = ["polygon", "rectangle", "circle", "line", "linestrip", "point"][i % 6]
        count = {"polygon": 7, "rectangle": 2, "circle": 2, "line": 2, "linestrip": 4, "point": 1}[kind]
        pts = tuple((float(x), float(y)) for x, y in rng.uniform(-5, 65, size=(count, 2)))
        group = int(rng.integers(0, 2)) if i % 3 == 0 else None
        shapes.append(Shape(label=["a", "b", "__ignore__"][i % 3], shape_type=kind, points=pts,
                            group_id=group))
    return shapes


def test_same_pixels_as_shapes_to_label():
    rng = np.random.default_rng(7)
    values = {"__ignore__": -1, "_background_": 0, "a": 1, "b": 2}
    for _ in range(20):
        shapes = _random_shapes(rng, 9)
        cls, ins = shapes_to_label((50, 60), shapes, values)
        cls8, ins8 = shapes_to_index((50, 60), shapes, values)
        assert cls8.dtype == np.uint8 and cls8.shape == (50, 60)
        np.testing.assert_array_equal(cls8, cls.astype(np.uint8))
        np.testing.assert_array_equal(ins8, ins.astype(np.uint8))


def test_index_canvas_is_shapes_to_index_before_the_arrays():
    rng = np.random.default_rng(3)
    values = {"__ignore__": -1, "_background_": 0, "a": 1, "b": 2}
    shapes = _random_shapes(rng, 9)
    ins_img, class_of = index_canvas((50, 60), shapes, values)
    cls8, ins8 = shapes_to_index((50, 60), shapes, values)
    assert (ins_img.mode, ins_img.size, len(class_of)) == ("L", (60, 50), 256)
    np.testing.assert_array_equal(np.asarray(ins_img), ins8)
    np.testing.assert_array_equal(np.asarray(ins_img.point(class_of)), cls8)
    # Instances of a, b and __ignore__ (void: 255), in order of first appearance.
    assert class_of[:5] == [0, 1, 2, 255, 1]


def test_same_pixels_on_the_labelme_fixture(labelme_fixture):
    names = (labelme_fixture / "labels.txt").read_text().split("\n")
    values = {n: i - 1 for i, n in enumerate(n.strip() for n in names if n.strip())}
    for path in sorted((labelme_fixture / "data_annotated").glob("*.json")):
        ann = read_labelme(path)
        cls, ins = shapes_to_label((ann.image_height, ann.image_width), ann.shapes, values)
        cls8, ins8 = shapes_to_index((ann.image_height, ann.image_width), ann.shapes, values)
        np.testing.assert_array_equal(cls8, cls.astype(np.uint8))
        np.testing.assert_array_equal(ins8, ins.astype(np.uint8))


def test_count_instances_groups_by_label_and_group_id():
    shapes = [Shape("a", group_id=1), Shape("a", group_id=1), Shape("b", group_id=1), Shape("a")]
    assert count_instances(shapes) == 3


def test_too_many_instances_is_refused():
    shapes = [Shape("a", "point", ((1.0, 1.0),)) for _ in range(255)]
    with pytest.raises(ValueError, match=r"^shapes_to_index: 255 instances do not fit 8 bits \(at most 254\)"):
        shapes_to_index((4, 4), shapes, {"a": 1})


def test_class_value_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"class value of 'a' must be in \[-1, 254\], got 300"):
        shapes_to_index((4, 4), [Shape("a", "point", ((1.0, 1.0),))], {"a": 300})


def test_shapes_built_in_code_are_checked_like_shapes_to_label():
    bad = [Shape("a", "circle", ((1.0, 1.0),))]
    with pytest.raises(Exception) as ours:
        shapes_to_index((4, 4), bad, {"a": 1})
    with pytest.raises(Exception) as theirs:
        shapes_to_label((4, 4), bad, {"a": 1})
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)
    with pytest.raises(LabelNameError, match=r"^shape #0 \(circle\): label 'b' is not in the label list \('a'\)$"):
        shapes_to_index((4, 4), [Shape("b", "circle", ((1.0, 1.0), (2.0, 2.0)))], {"a": 1})
