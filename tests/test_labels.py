"""labels: labels.txt lists, discovery, class-name files."""

import pytest

from labeltools import LabelNameError, LabelSet, class_names_by_index, read_class_names
from labeltools.labels import discover_labels, label_set, parse_labels

# --------------------------------------------------------------------------- labels


def test_labels_file_in_labelme_convention(tmp_path):
    f = tmp_path / "labels.txt"
    f.write_text("__ignore__\n_background_\n cat \n\ndog\n")
    labels = parse_labels(f)
    assert labels.names == ("_background_", "cat", "dog")
    assert labels.values() == {"__ignore__": -1, "_background_": 0, "cat": 1, "dog": 2}
    assert parse_labels(str(f)).names == labels.names


def test_labels_file_without_ignore_and_comma_list():
    assert label_set(["_background_", "cat"], "x").names == ("_background_", "cat")
    assert parse_labels("cat, dog,,").names == ("_background_", "cat", "dog")
    assert parse_labels(["dog"]).names == ("_background_", "dog")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["cat", "cat"], "x: label 'cat' is given twice"),
        (["_background_", "__ignore__"], "x: __ignore__ must be the first label, found it at position 2"),
        (["__ignore__", "cat", "_background_"],
         "x: _background_ (class 0) must come after __ignore__, found it after 'cat'"),
    ],
)
def test_bad_label_lists(names, message):
    with pytest.raises(LabelNameError) as exc:
        label_set(names, "x")
    assert str(exc.value) == message


def test_missing_labels_file():
    with pytest.raises(LabelNameError, match=r"^nope\.txt: no such labels file$"):
        parse_labels("nope.txt")
    with pytest.raises(LabelNameError, match=r"^data/classes: no such labels file$"):
        parse_labels("data/classes")
    assert parse_labels("person,tv/monitor").names == ("_background_", "person", "tv/monitor")


def test_discovered_labels_background_first_then_sorted():
    labels = discover_labels(["zebra", "__ignore__", "ant", "_background_", "ant"])
    assert labels.names == ("_background_", "ant", "zebra")
    assert labels.source == "discovered"


def test_class_names_by_index_drops_labelme_ignore(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("__ignore__\n_background_\ncat\n")
    names = tmp_path / "class_names.txt"
    names.write_text("_background_\ncat\n")
    assert class_names_by_index(labels) == ("_background_", "cat")
    assert class_names_by_index(names) == ("_background_", "cat")


def test_class_names_by_index_errors(tmp_path):
    with pytest.raises(LabelNameError, match=r"none\.txt: no such class-names file$"):
        class_names_by_index(tmp_path / "none.txt")


def test_read_class_names_lines_and_duplicates(tmp_path):
    f = tmp_path / "class_names.txt"
    f.write_bytes("\ufeff_background_\n\n cat \r\n".encode())
    assert read_class_names(f) == ("_background_", "cat")
    f.write_text("a\nb\na\n")
    with pytest.raises(LabelNameError) as info:
        read_class_names(f)
    assert str(info.value) == f"{f}: line 3: class name 'a' already given on line 1"


def test_label_set_values_put_ignore_first():
    assert LabelSet(("_background_", "cat"), "x").values() == {
        "__ignore__": -1, "_background_": 0, "cat": 1
    }
