"""formats.voc: the VOC layout, id lists, and the VocWriter's dataset-level files."""

import pytest

from labeltools import DatasetError, read_id_list
from labeltools.formats.voc import LIST_DIR, read_id_lines


def test_ids_first_word_bom_and_blank_lines(tmp_path):
    p = tmp_path / "aeroplane_val.txt"
    p.write_bytes("\ufeff2008_000002 -1\n\n2008_000003  1\r\n".encode())
    assert read_id_list(p) == ("2008_000002", "2008_000003")
    assert read_id_lines(p) == ((1, "2008_000002"), (3, "2008_000003"))


def test_repeated_id(tmp_path):
    p = tmp_path / "val.txt"
    p.write_text("a\nb\na\n")
    with pytest.raises(DatasetError) as info:
        read_id_list(p)
    assert str(info.value) == f"{p}: line 3: id 'a' already listed on line 1"
    assert read_id_list(p, unique=False) == ("a", "b", "a")


def test_empty_missing_and_folder(tmp_path):
    p = tmp_path / "val.txt"
    p.write_text("\n \n")
    with pytest.raises(DatasetError, match=r"val\.txt: expected one image id per line, found none$"):
        read_id_list(p)
    assert read_id_list(p, allow_empty=True) == ()
    with pytest.raises(DatasetError, match=r"nope\.txt: no such list file$"):
        read_id_list(tmp_path / "nope.txt")
    with pytest.raises(DatasetError, match=r": expected an id list \(one id per line\), found a directory$"):
        read_id_list(tmp_path)


def test_not_utf8(tmp_path):
    p = tmp_path / "val.txt"
    p.write_bytes(b"a\n\xff\n")
    with pytest.raises(DatasetError, match=r"val\.txt: expected UTF-8 text, invalid start byte at byte 2$"):
        read_id_list(p)


def test_list_dir_is_voc_layout():
    assert LIST_DIR.as_posix() == "ImageSets/Segmentation"


# --------------------------------------------------------------------------- the writer


def test_writer_layout_follows_its_options():
    from labeltools.formats.voc import VocWriter
    from labeltools.labels import label_set

    plain = VocWriter().bind(label_set(["cat"], "x"))
    assert plain.outputs("a") == {
        "jpeg": "JPEGImages/a.jpg", "class": "SegmentationClass/a.png", "object": "SegmentationObject/a.png"
    }
    assert plain.folders() == ("JPEGImages", "SegmentationClass", "SegmentationObject",
                               "ImageSets/Segmentation")
    full = VocWriter(objects=False, npy=True, viz=True).bind(label_set(["cat"], "x"))
    assert sorted(full.outputs("a")) == ["class", "class_npy", "jpeg", "viz"]
    assert set(full.folders()) <= set(VocWriter.all_folders)


def test_writer_item_outputs_drop_an_overflowing_object_png():
    from labeltools.formats.voc import MAX_INSTANCES, VocWriter
    from labeltools.labels import label_set
    from labeltools.raster import MAX_INDEX_INSTANCES

    assert MAX_INSTANCES == MAX_INDEX_INSTANCES == 254
    writer = VocWriter(npy=True).bind(label_set(["cat"], "x"))
    assert "object" in writer.item_outputs("a", {"instances": 254})
    assert "object" not in writer.item_outputs("a", {"instances": 255})
    with pytest.raises(KeyError):
        writer.item_outputs("a", {})  # a damaged record: out of date


def test_writer_refuses_classes_it_cannot_store():
    from labeltools import LabelValueError
    from labeltools.formats.voc import VocWriter
    from labeltools.labels import label_set

    many = label_set([f"c{i}" for i in range(300)], "big.txt")
    with pytest.raises(LabelValueError, match=r"^big\.txt: 301 classes do not fit an 8-bit"):
        VocWriter().bind(many)
    with pytest.raises(LabelValueError, match=r"^big\.txt: 301 classes are more than the 255"):
        VocWriter(npy=True, viz=True).bind(many)
    assert VocWriter(npy=True).bind(many).class_png is False


def test_labelmap_text_uses_the_voc_palette_and_declares_void_last():
    from labeltools.palettes import labelmap_text

    assert labelmap_text(["_background_", "cat"]) == (
        "# label:color_rgb:parts:actions\n_background_:0,0,0::\ncat:128,0,0::\n"
        "__ignore__:224,224,192::\n"
    )


def test_registry_resolves_writers_on_first_use():
    from labeltools.formats import WRITERS, get_writer
    from labeltools.formats.coco import CocoWriter
    from labeltools.formats.voc import VocWriter
    from labeltools.formats.yolo import YoloWriter

    assert WRITERS == {"voc": VocWriter, "coco": CocoWriter, "yolo": YoloWriter}
    assert get_writer("voc") is VocWriter
    with pytest.raises(ValueError, match=r"^format must be one of coco, voc, yolo, got 'tiff'$"):
        get_writer("tiff")
