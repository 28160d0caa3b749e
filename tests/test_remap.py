"""remap: --map SRC=DST and --map-file."""

from __future__ import annotations

import re

import pytest

from labeltools.errors import LabelNameError
from labeltools.formats.instances import object_instances
from labeltools.formats.labelme import Shape, read_labelme
from labeltools.remap import DROP, LabelMap, label_map, parse_map_file, parse_map_rules

from .conftest import SAMPLE_DATA


def rect(label, x0, y0, x1, y1, group_id=None):
    return Shape(label, "rectangle", ((x0, y0), (x1, y1)), group_id)


def test_parse_rules():
    m = parse_map_rules(["car=vehicle", " truck = vehicle ", "tree=__ignore__", "sky=_background_",
                         "junk=-"])
    assert m.rules == (("car", "vehicle"), ("truck", "vehicle"), ("tree", "__ignore__"),
                       ("sky", "_background_"), ("junk", DROP))
    assert bool(m) and not LabelMap()


@pytest.mark.parametrize(("rule", "message"), [
    ("car", "--map: a label rule must be SRC=DST (DST a label, __ignore__, _background_ or - to "
            "drop), got 'car'"),
    ("=car", "got '=car'"),
    ("car=", "got 'car='"),
    ("car=car", "--map: rule 'car=car' maps 'car' to itself"),
    ("__ignore__=car", "__ignore__ is void, not a label to remap"),
])
def test_bad_rules(rule, message):
    with pytest.raises(LabelNameError, match=re.escape(message)):
        parse_map_rules([rule])


def test_a_label_given_two_rules():
    with pytest.raises(LabelNameError, match="^--map: 'car' has two rules: car=a and car=b$"):
        parse_map_rules(["car=a", "car=b"])


def test_map_file(tmp_path):
    f = tmp_path / "map.txt"
    f.write_text("# merge vehicles\ncar=vehicle\n\ntruck=vehicle\n")
    assert parse_map_file(f).rules == (("car", "vehicle"), ("truck", "vehicle"))
    assert label_map(["bus=vehicle"], f).rules[-1] == ("bus", "vehicle")
    with pytest.raises(LabelNameError, match=rf"^{f} and --map: 'car' has two rules"):
        label_map(["car=auto"], f)
    f.write_text("car=vehicle\nbroken\n")
    with pytest.raises(LabelNameError, match=rf"^{f}:2: a label rule must be SRC=DST"):
        parse_map_file(f)
    with pytest.raises(LabelNameError, match=rf"^{tmp_path / 'nope.txt'}: no such label map file$"):
        parse_map_file(tmp_path / "nope.txt")


def test_rules_apply_once_and_all_at_once():
    m = parse_map_rules(["a=b", "b=c"])
    assert m.map_labels(["a", "b", "x"]) == (["b", "c", "x"], {"a=b": 1, "b=c": 1})


def test_merge_ignore_drop_and_counts():
    values = {"__ignore__": -1, "_background_": 0, "vehicle": 1}
    shapes = [rect("car", 0, 0, 9, 9), rect("truck", 20, 0, 29, 9), rect("tree", 5, 0, 9, 9),
              rect("junk", 0, 0, 29, 9)]
    m = parse_map_rules(["car=vehicle", "truck=vehicle", "tree=__ignore__", "junk=-"])
    mapped, counts = m.apply(shapes)
    assert [s.label for s in mapped] == ["vehicle", "vehicle", "__ignore__"]
    assert counts == {"car=vehicle": 1, "truck=vehicle": 1, "tree=__ignore__": 1, "junk=-": 1}
    found, _ = object_instances(mapped, values, 10, 30)
    # junk (drawn last, covering everything) is gone; tree's pixels became void.
    assert [(i.label, i.area) for i in found] == [("vehicle", 50), ("vehicle", 100)]


def test_merged_classes_keep_their_instances_apart():
    values = {"_background_": 0, "vehicle": 1}
    shapes = [rect("car", 0, 0, 4, 4, 1), rect("truck", 10, 0, 14, 4, 1), rect("car", 20, 0, 24, 4, 1)]
    mapped, _ = parse_map_rules(["car=vehicle", "truck=vehicle"]).apply(shapes)
    found, _ = object_instances(mapped, values, 5, 25)
    assert [i.shapes for i in found] == [(0, 2), (1,)]
    assert [s.group_id for s in mapped] == [1, 2, 1]


def test_untouched_shapes_come_back_as_they_are():
    shapes = (rect("cat", 0, 0, 1, 1, 7),)
    out, counts = parse_map_rules(["dog=cat"]).apply(shapes)
    assert out[0] is shapes[0] and counts == {}


def test_apply_annotation_and_unused_rules():
    ann = read_labelme(SAMPLE_DATA / "park_002.json")
    m = parse_map_rules(["tree=plant", "ball=-", "horse=animal"])
    new, counts = m.apply_annotation(ann)
    assert [s.label for s in new.shapes] == ["plant", "plant", "person", "fence"]
    assert counts == {"tree=plant": 2, "ball=-": 1}
    assert new.path == ann.path and new.image_path == ann.image_path
    found = {s.label for s in ann.shapes}
    assert m.unused(found) == ["--map horse=animal: no shape is labelled 'horse'"]
    same, none = parse_map_rules(["horse=animal"]).apply_annotation(ann)
    assert same is ann and none == {}
