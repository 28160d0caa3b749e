"""shapes_to_index: the 8-bit fast path of shapes_to_label draws the same pixels."""

from __future__ import annotations

import numpy as np
import pytest

from labeltools.errors import LabelNameError
from labeltools.labelme import (
    Shape,
    count_instances,
    index_canvas,
    read_labelme,
    shapes_to_index,
    shapes_to_label,
)


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
