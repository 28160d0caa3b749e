"""formats.base: the writer seam's helpers (write_image, write_outputs) and Item."""

import io

import pytest
from PIL import Image

from labeltools import read_labelme
from labeltools.errors import ImageReadError
from labeltools.formats.base import JPEG_QUALITY, Item, write_image, write_outputs
from labeltools.formats.labelme_images import image_info

from .test_pipeline import jpeg_bytes, photo, write_labelme


def item_for(json_path, source=None):
    ann = read_labelme(json_path)
    return Item(json_path.stem, ann, image_info(ann), source, {}, ("_background_",))


def test_write_image_copies_an_upright_jpeg_byte_for_byte(tmp_path):
    data = jpeg_bytes(photo())
    path = write_labelme(tmp_path / "in", "a", [], image=data)
    target = tmp_path / "a.jpg"
    with open(tmp_path / "in" / "a.jpg", "rb") as source:
        write_image(item_for(path, source), str(target))
    assert target.read_bytes() == data
    embedded = write_labelme(tmp_path / "in", "e", [], image=data, embed=True)
    write_image(item_for(embedded), str(tmp_path / "e.jpg"))
    assert (tmp_path / "e.jpg").read_bytes() == data


def test_write_image_re_encodes_a_png_at_the_documented_quality(tmp_path):
    buf = io.BytesIO()
    photo().convert("RGBA").save(buf, format="PNG")
    path = write_labelme(tmp_path / "in", "p", [], image=buf.getvalue(), ext="png")
    target = tmp_path / "p.jpg"
    write_image(item_for(path), str(target))
    with Image.open(target) as img:
        assert (img.format, img.mode, img.size) == ("JPEG", "RGB", photo().size)
    assert JPEG_QUALITY == 95


def test_write_outputs_makes_missing_folders_once(tmp_path):
    targets = {"a": str(tmp_path / "x" / "a.txt"), "b": str(tmp_path / "y" / "b.txt")}
    calls = []

    def write():
        calls.append(1)
        for t in targets.values():
            with open(t, "w") as f:
                f.write("ok")

    write_outputs(write, targets)
    assert len(calls) == 2 and (tmp_path / "y" / "b.txt").read_text() == "ok"
    write_outputs(write, targets)
    assert len(calls) == 3  # folders exist now: one call


def test_write_outputs_lets_other_errors_through(tmp_path):
    def write():
        raise PermissionError("read-only")

    with pytest.raises(PermissionError, match="read-only"):
        write_outputs(write, {"a": str(tmp_path / "a")})


def test_write_image_refuses_a_truncated_jpeg_and_leaves_nothing(tmp_path):
    data = jpeg_bytes(photo())
    path = write_labelme(tmp_path / "in", "a", [], image=data)
    (tmp_path / "in" / "a.jpg").write_bytes(data[:-2])  # the end marker cut off
    target = tmp_path / "out" / "a.jpg"
    target.parent.mkdir()
    with open(tmp_path / "in" / "a.jpg", "rb") as source:
        with pytest.raises(ImageReadError, match=r"a\.jpg is truncated \(JPEG end marker missing\)"):
            write_image(item_for(path, source), str(target))
    assert list(target.parent.iterdir()) == []
