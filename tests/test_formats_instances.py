"""formats.instances: what an object instance is, shared by COCO and YOLO."""

from __future__ import annotations

import numpy as np
import pytest

from labeltools.formats.instances import drawn_pixels, object_instances, shape_polygon
from labeltools.formats.labelme import Shape
from labeltools.raster import shapes_to_label

VALUES = {"__ignore__": -1, "_background_": 0, "cat": 1, "dog": 2}


def rect(label, x0, y0, x1, y1, group_id=None):
    return Shape(label, "rectangle", ((x0, y0), (x1, y1)), group_id)


def test_grouped_shapes_are_one_instance_ungrouped_their_own():
    shapes = [rect("cat", 0, 0, 4, 4, 1), rect("cat", 10, 0, 14, 4, 1), rect("cat", 0, 10, 4, 14),
              rect("cat", 10, 10, 14, 14)]
    found, hidden = object_instances(shapes, VALUES, 20, 20)
    assert [i.shapes for i in found] == [(0, 1), (2,), (3,)]
    assert hidden == 0
    first = found[0]
    # Pillow's rectangle covers both end columns: 5 x 5 pixels per rectangle.
    assert first.area == 50 and first.bbox == (0, 0, 15, 5) and first.exact
    assert first.crop.dtype == bool and first.crop.shape == (5, 15)
    assert not first.crop.flags.writeable


def test_same_group_id_different_labels_are_different_instances():
    found, _ = object_instances([rect("cat", 0, 0, 4, 4, 1), rect("dog", 6, 0, 9, 4, 1)], VALUES, 10, 10)
    assert [(i.label, i.value, i.shapes) for i in found] == [("cat", 1, (0,)), ("dog", 2, (1,))]


def test_a_later_shape_hides_pixels_and_makes_the_instance_inexact():
    shapes = [rect("cat", 0, 0, 9, 9), rect("dog", 5, 0, 9, 9)]
    cat, dog = object_instances(shapes, VALUES, 10, 10)[0]
    assert (cat.area, cat.bbox, cat.exact) == (50, (0, 0, 5, 10), False)
    assert (dog.area, dog.exact) == (50, True)


def test_ignore_and_background_cut_but_are_not_instances():
    shapes = [rect("cat", 0, 0, 9, 9), rect("__ignore__", 0, 0, 9, 1), rect("_background_", 0, 8, 9, 9)]
    found, hidden = object_instances(shapes, VALUES, 10, 10)
    assert len(found) == 1 and found[0].area == 60 and found[0].bbox == (0, 2, 10, 6)


def test_fully_hidden_object_is_counted_not_returned():
    found, hidden = object_instances([rect("cat", 2, 2, 4, 4), rect("dog", 0, 0, 9, 9)], VALUES, 10, 10)
    assert [i.label for i in found] == ["dog"] and hidden == 1


def test_masks_match_the_rasteriser_instance_map():
    rng = np.random.default_rng(3)
    shapes = []
    for i in range(12):
        kind = ["polygon", "circle", "line", "point", "rectangle"][i % 5]
        n = {"polygon": 6, "circle": 2, "line": 2, "point": 1, "rectangle": 2}[kind]
        pts = tuple((float(x), float(y)) for x, y in rng.uniform(0, 40, (n, 2)))
        shapes.append(Shape(["cat", "dog", "__ignore__"][i % 3], kind, pts, 1 if i % 4 == 0 else None))
    cls, ins = shapes_to_label((40, 40), shapes, VALUES)
    found, _ = object_instances(shapes, VALUES, 40, 40)
    assert found
    for inst in found:
        ins_id = sorted({ins[y, x] for y, x in zip(*np.nonzero(inst.mask(40, 40)))})
        assert len(ins_id) == 1
        assert np.array_equal(inst.mask(40, 40), ins == ins_id[0])


def test_more_instances_than_an_8_bit_canvas_holds():
    shapes = [rect("cat", i % 30, i // 30, i % 30, i // 30) for i in range(300)]
    found, _ = object_instances(shapes, VALUES, 10, 30)
    assert len(found) == 300 and all(i.area == 1 for i in found)


def test_shape_polygon():
    assert shape_polygon(rect("cat", 5, 6, 1, 2)) == [1, 2, 5, 2, 5, 6, 1, 6]
    tri = Shape("cat", "polygon", ((0.5, 0), (4, 0), (4, 3)))
    assert shape_polygon(tri) == [0.5, 0, 4, 0, 4, 3]
    with pytest.raises(ValueError, match="a circle shape has no vertices"):
        shape_polygon(Shape("cat", "circle", ((0, 0), (3, 0))))


def test_drawn_pixels_is_the_union():
    assert drawn_pixels([rect("cat", 0, 0, 4, 4), rect("cat", 2, 2, 6, 6)], 10, 10) == 25 + 25 - 9


def test_a_wide_line_that_only_nears_a_polygon_still_counts_as_hiding_it():
    # The line's points stay 3 px away from the rectangle, its 10 px width does not.
    shapes = [rect("cat", 0, 0, 9, 9), Shape("dog", "line", ((12, 0), (12, 9)))]
    cat = object_instances(shapes, VALUES, 20, 20)[0][0]
    assert not cat.exact and cat.area < 100
    far = [rect("cat", 0, 0, 9, 9), Shape("dog", "line", ((30, 0), (30, 9)))]
    assert object_instances(far, VALUES, 20, 40)[0][0].exact


def test_a_window_that_misses_pixels_falls_back_to_the_whole_image(monkeypatch):
    from labeltools.formats import instances

    shapes = [rect("cat", 2, 2, 8, 8), Shape("dog", "circle", ((14.0, 5.0), (17.0, 5.0)))]
    expected = object_instances(shapes, VALUES, 12, 20)[0]
    # Extents one pixel wide: every window misses most of its instance.
    monkeypatch.setattr(instances, "_extent", lambda s: (s.points[0][0], s.points[0][1]) * 2)
    found = object_instances(shapes, VALUES, 12, 20)[0]
    assert [(i.bbox, i.area) for i in found] == [(i.bbox, i.area) for i in expected]
    assert [(2, 2, 7, 7), (11, 2, 7, 7)] == [i.bbox for i in found]
    assert all(np.array_equal(a.crop, b.crop) for a, b in zip(found, expected))
