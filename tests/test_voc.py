import pytest

from labeltools import DatasetError, LabelNameError, class_names_by_index, read_id_list
from labeltools.voc import LIST_DIR, read_id_lines


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


def test_list_dir_is_voc_layout():
    assert LIST_DIR.as_posix() == "ImageSets/Segmentation"
