import base64
import io
import json

import numpy as np
import PIL.Image
import pytest

from labeltools import (
    ImageReadError,
    LabelmeFormatError,
    LabelNameError,
    LabelValueError,
    read_labelme,
)
from labeltools import label_colormap as voc_colormap
from labeltools import shapes_to_label as typed_shapes_to_label
from labeltools.compat import (
    img_b64_to_arr,
    label_colormap,
    lblsave,
    shape_to_mask,
    shapes_to_label,
)


def labelme_label_colormap(N=256):  # noqa: N803
    """labelme 3.16.7's labelme.utils.draw.label_colormap, transcribed."""

    def bitget(byteval, idx):
        return (byteval & (1 << idx)) != 0

    cmap = np.zeros((N, 3))
    for i in range(0, N):
        id_ = i
        r, g, b = 0, 0, 0
        for j in range(0, 8):
            r = np.bitwise_or(r, (bitget(id_, 0) << 7 - j))
            g = np.bitwise_or(g, (bitget(id_, 1) << 7 - j))
            b = np.bitwise_or(b, (bitget(id_, 2) << 7 - j))
            id_ = id_ >> 3
        cmap[i, 0], cmap[i, 1], cmap[i, 2] = r, g, b
    return cmap.astype(np.float32) / 255


def b64_png(arr):
    buf = io.BytesIO()
    PIL.Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


# ----------------------------------------------------------------------------- label_colormap


def test_label_colormap_float32_like_labelme():
    cmap = label_colormap()
    assert cmap.dtype == np.float32 and cmap.shape == (256, 3)
    assert cmap[1].tolist() == [np.float32(128) / 255, 0.0, 0.0]
    assert (cmap[255] * 255).round().tolist() == [224.0, 224.0, 192.0]
    np.testing.assert_array_equal(cmap, voc_colormap().astype(np.float32) / 255)


@pytest.mark.parametrize("n", [0, 1, 21, 255, 256, 300])
def test_label_colormap_any_n_is_bit_identical_to_labelme(n):
    np.testing.assert_array_equal(label_colormap(n), labelme_label_colormap(n))
    assert label_colormap(n).shape == (n, 3)


def test_label_colormap_beyond_256_continues_the_interleave():
    # 256 = 0b100_000_000: its third 3-bit group sets blue's third-highest bit (32).
    assert (label_colormap(257)[256] * 255).round().tolist() == [0.0, 0.0, 32.0]


def test_label_colormap_rejects_bad_n():
    with pytest.raises(ValueError, match=r"label_colormap: N must be an int >= 0, got -1"):
        label_colormap(-1)


# ----------------------------------------------------------------------------- lblsave


def test_lblsave_old_contract(tmp_path):
    lbl = np.array([[0, 1], [-1, 254]], dtype=np.int32)
    assert lblsave(tmp_path / "a", lbl) is None
    with PIL.Image.open(tmp_path / "a.png") as img:
        assert img.mode == "P"
        assert np.array(img).tolist() == [[0, 1], [255, 254]]
        assert img.getpalette()[3:6] == [128, 0, 0]


def test_lblsave_rejects_uint8_255_like_labelme(tmp_path):
    with pytest.raises(LabelValueError) as info:
        lblsave(tmp_path / "a.png", np.array([[0, 255]], dtype=np.uint8))
    assert str(info.value) == (
        f"{tmp_path}/a.png: label values must be in [-1, 254] (labelme's lblsave contract), "
        f"got min 0, max 255; labeltools.lblsave stores uint8 255"
    )
    assert isinstance(info.value, ValueError)  # old scripts catch ValueError
    assert not (tmp_path / "a.png").exists()


def test_lblsave_rejects_out_of_range_int(tmp_path):
    with pytest.raises(ValueError, match=r"int64 label values must be in \[-1, 254\].*got min -2, max 3"):
        lblsave(tmp_path / "a.png", np.array([[-2, 3]]))


# ----------------------------------------------------------------------------- img_b64_to_arr


def test_img_b64_to_arr_round_trip():
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = img_b64_to_arr(b64_png(arr))
    assert out.dtype == np.uint8 and out.tolist() == arr.tolist()
    assert img_b64_to_arr(b64_png(arr).encode()).tolist() == arr.tolist()


def test_img_b64_to_arr_errors():
    with pytest.raises(ImageReadError, match=r"^img_b64_to_arr: the base64 data is not a readable image$"):
        img_b64_to_arr(base64.b64encode(b"hello"))
    with pytest.raises(ImageReadError, match=r"^img_b64_to_arr: not valid base64 \(Incorrect padding\)$"):
        img_b64_to_arr("abc")


# ----------------------------------------------------------------------------- shape_to_mask


def test_shape_to_mask_defaults_to_polygon():
    mask = shape_to_mask((4, 5, 3), [[1, 1], [3, 1], [3, 2], [1, 2]])
    assert mask.dtype == bool and mask.shape == (4, 5)
    assert mask.astype(int).tolist() == [[0] * 5, [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0] * 5]


def test_shape_to_mask_line_width_and_point_size():
    assert shape_to_mask((5, 5), [[2, 2]], "point", point_size=1).astype(int).tolist() == [
        [0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]
    ]  # a radius-1 disc is a plus
    assert shape_to_mask((3, 5), [[0, 1], [4, 1]], "line", line_width=1).astype(int).tolist() == [
        [0] * 5, [1] * 5, [0] * 5
    ]


def test_shape_to_mask_errors():
    with pytest.raises(LabelmeFormatError, match=r"^shape_to_mask: circle needs 2 points, got 3$"):
        shape_to_mask((5, 5), [[0, 0], [1, 1], [2, 2]], "circle")
    with pytest.raises(LabelmeFormatError, match=r"^shape_to_mask: polygon needs at least 3 points, got 2$"):
        shape_to_mask((5, 5), [[0, 0], [1, 1]])
    with pytest.raises(LabelmeFormatError, match=r"^shape_to_mask: shape_type 'ellipse' is not supported$"):
        shape_to_mask((5, 5), [[0, 0], [1, 1]], "ellipse")


# ----------------------------------------------------------------------------- shapes_to_label


def test_shapes_to_label_on_labelme_dicts():
    patch = np.array([[1, 0], [1, 1]], dtype=bool)
    shapes = [
        {"label": "a", "points": [[0, 0], [2, 0], [2, 2], [0, 2]], "group_id": 1},
        {"label": "b", "points": [[3, 0], [4, 1]], "shape_type": "rectangle", "group_id": None},
        {"label": "a", "points": [[3, 3], [4, 4]], "shape_type": "mask", "mask": patch, "group_id": 1},
        {"label": "b", "points": [[0, 3], [1, 4]], "shape_type": "mask", "mask": b64_png(patch.astype(np.uint8))},
    ]
    cls, ins = shapes_to_label((5, 5, 3), shapes, {"_background_": 0, "a": 1, "b": 2})
    assert cls.tolist() == [[1, 1, 1, 2, 2], [1, 1, 1, 2, 2], [1, 1, 1, 0, 0], [2, 0, 0, 1, 0], [2, 2, 0, 1, 1]]
    assert ins.tolist() == [[1, 1, 1, 2, 2], [1, 1, 1, 2, 2], [1, 1, 1, 0, 0], [3, 0, 0, 1, 0], [3, 3, 0, 1, 1]]


def test_shapes_to_label_matches_typed_api(labelme_fixture):
    path = labelme_fixture / "data_annotated" / "2011_000003.json"
    names = (labelme_fixture / "labels.txt").read_text().split("\n")
    mapping = {name.strip(): i - 1 for i, name in enumerate(names) if name.strip()}
    raw_shapes = json.loads(path.read_text())["shapes"]
    ann = read_labelme(path)
    got = shapes_to_label((338, 500), raw_shapes, mapping)
    want = typed_shapes_to_label((338, 500), ann.shapes, mapping)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_shapes_to_label_errors():
    with pytest.raises(LabelNameError, match=r"^shape #0 \(polygon\): label 'x' is not in the label list \('a'\)$"):
        shapes_to_label((5, 5), [{"label": "x", "points": [[0, 0], [1, 0], [1, 1]]}], {"a": 0})
    with pytest.raises(LabelmeFormatError, match=r'^shapes_to_label: shape #0: missing key "points"$'):
        shapes_to_label((5, 5), [{"label": "a"}], {"a": 0})
    with pytest.raises(LabelmeFormatError, match=r"^shapes_to_label: shape #0 \(line\) needs 2 points, got 1$"):
        shapes_to_label((5, 5), [{"label": "a", "points": [[0, 0]], "shape_type": "line"}], {"a": 0})
    with pytest.raises(LabelmeFormatError, match=r"^shapes_to_label: shape #0: unknown shape_type 'blob'$"):
        shapes_to_label((5, 5), [{"label": "a", "points": [[0, 0]], "shape_type": "blob"}], {"a": 0})
    with pytest.raises(
        LabelmeFormatError,
        match=r'^shapes_to_label: shape #0 \(mask\): "mask" must be a 2-D array or a base64 PNG$',
    ):
        shapes_to_label((5, 5), [{"label": "a", "points": [[0, 0], [1, 1]], "shape_type": "mask"}], {"a": 0})


def test_readme_migration_line_imports():
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Migrating from labelme.utils", 1)[1]
    lines = [line for line in section.splitlines() if line.lstrip("# ").startswith("from ")]
    before, after = lines[:2]
    assert before.startswith("# from labelme.utils import ")
    assert after == before[2:].replace("labelme.utils", "labeltools.compat")
    namespace: dict = {}
    exec(after, namespace)
    assert namespace["label_colormap"] is label_colormap


# ----------------------------------------------------------------------------- the 3.x-5.x surface


def _jpeg(arr, orientation=None):
    buf = io.BytesIO()
    img = PIL.Image.fromarray(arr)
    if orientation is None:
        img.save(buf, format="JPEG")
    else:
        exif = PIL.Image.Exif()
        exif[0x0112] = orientation
        img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_image_bytes_round_trips():
    from labeltools.compat import (
        img_arr_to_b64,
        img_arr_to_data,
        img_data_to_arr,
        img_data_to_pil,
        img_data_to_png_data,
        img_pil_to_data,
    )

    arr = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    png = img_arr_to_data(arr)
    assert png.startswith(b"\x89PNG") and img_data_to_arr(png).tolist() == arr.tolist()
    assert img_pil_to_data(img_data_to_pil(png)) == png
    assert img_data_to_png_data(png) == png
    b64 = img_arr_to_b64(arr)  # labelme 3.x-5.2: base64.encodebytes, bytes ending in a newline
    assert isinstance(b64, bytes) and b64.endswith(b"\n")
    assert img_b64_to_arr(b64).tolist() == arr.tolist()
    with pytest.raises(ImageReadError, match=r"^img_data_to_arr: the data is not a readable image$"):
        img_data_to_arr(b"not an image")


def test_apply_exif_orientation():
    from labeltools.compat import apply_exif_orientation, img_data_to_pil

    arr = np.zeros((2, 4, 3), dtype=np.uint8)
    plain = img_data_to_pil(_jpeg(arr))
    assert apply_exif_orientation(plain) is plain
    turned = apply_exif_orientation(img_data_to_pil(_jpeg(arr, orientation=6)))
    assert turned.size == (2, 4)  # 6 = rotate 270: width and height swap


def test_masks_to_bboxes():
    from labeltools.compat import masks_to_bboxes

    masks = np.zeros((2, 4, 5), dtype=bool)
    masks[0, 1:3, 2:4] = True
    masks[1, 0, 0] = True
    boxes = masks_to_bboxes(masks)
    assert boxes.dtype == np.float32 and boxes.tolist() == [[1, 2, 3, 4], [0, 0, 1, 1]]
    with pytest.raises(ValueError, match=r"^masks.dtype must be bool type, but it is uint8$"):
        masks_to_bboxes(masks.astype(np.uint8))
    with pytest.raises(ValueError, match=r"^masks_to_bboxes: mask #0 is empty: it has no box$"):
        masks_to_bboxes(np.zeros((1, 2, 2), dtype=bool))


def test_polygons_to_mask_and_labelme_shapes_to_label():
    from labeltools.compat import labelme_shapes_to_label, polygons_to_mask

    square = [[1, 1], [3, 1], [3, 2], [1, 2]]
    np.testing.assert_array_equal(polygons_to_mask((4, 5), square), shape_to_mask((4, 5), square))
    shapes = [{"label": "b", "points": square}, {"label": "a", "points": [[0, 0], [1, 1]], "shape_type": "rectangle"}]
    cls, mapping = labelme_shapes_to_label((4, 5), shapes)
    assert mapping == {"_background_": 0, "b": 1, "a": 2}  # order of first appearance
    assert cls.dtype == np.int32 and cls[0, 0] == 2 and cls[2, 2] == 1


def test_shapes_to_label_3x_types():
    shapes = [
        {"label": "cat-1", "points": [[0, 0], [1, 0], [1, 1], [0, 1]]},
        {"label": "cat-2", "points": [[3, 3], [4, 3], [4, 4], [3, 4]]},
        {"label": "cat-1", "points": [[0, 3], [1, 3], [1, 4], [0, 4]]},
    ]
    cls, ins = shapes_to_label((5, 5), shapes, {"_background_": 0, "cat": 1}, type="instance")
    assert cls.dtype == np.int32 and cls[0, 0] == cls[4, 4] == 1 and cls[2, 2] == 0
    assert (ins[0, 0], ins[4, 4], ins[4, 0]) == (1, 2, 1)  # "cat-1" twice is one instance
    only = shapes_to_label((5, 5), shapes[:1], {"cat-1": 3}, type="class")
    assert isinstance(only, np.ndarray) and only[1, 1] == 3
    with pytest.raises(LabelNameError, match=r"^shape #0 \(polygon\): class 'cat' of label 'cat-1' is not"):
        shapes_to_label((5, 5), shapes, {"dog": 1}, type="instance")
    with pytest.raises(ValueError, match=r"^shapes_to_label: type must be 'class' or 'instance', got 'x'$"):
        shapes_to_label((5, 5), shapes, {}, type="x")


def test_linestrip_has_labelme_utils_plain_joints():
    # labelme.utils draws linestrips with plain joints; labeltools' converter rounds them.
    strip = {"label": "a", "points": [[5, 5], [30, 5], [5, 12]], "shape_type": "linestrip"}
    cls, _ = shapes_to_label((40, 40), [strip], {"a": 1})
    typed, _ = typed_shapes_to_label((40, 40), [read_shape(strip)], {"a": 1})
    assert cls.sum() < typed.sum()
    np.testing.assert_array_equal(cls, shape_to_mask((40, 40), strip["points"], "linestrip"))


def read_shape(raw):
    from labeltools import Shape

    return Shape(label=raw["label"], shape_type=raw["shape_type"], points=tuple(map(tuple, raw["points"])))


def test_label2rgb_like_labelme_3():
    from labeltools.compat import label2rgb

    lbl = np.array([[0, 1], [-1, 2]])
    viz = label2rgb(lbl, n_labels=3)
    assert viz.dtype == np.uint8 and viz.shape == (2, 2, 3)
    assert viz.tolist() == [[[0, 0, 0], [128, 0, 0]], [[0, 0, 0], [0, 128, 0]]]
    img = np.full((2, 2, 3), 100, dtype=np.uint8)
    assert label2rgb(lbl, img, n_labels=3)[0, 1].tolist() == [114, 50, 50]  # 0.5 * 128 + 0.5 * 100
    with pytest.raises(ValueError, match=r"^label2rgb: label values must be in \[-1, 2\] for 3 colours, got -1\.\.5$"):
        label2rgb(np.array([[5, -1]]), n_labels=3)


def test_labelme3_lblsave_and_shapes_to_label(tmp_path):
    from labeltools.compat import labelme3

    lbl = np.array([[0, 1], [-1, 254]], dtype=np.int32)
    labelme3.lblsave(str(tmp_path / "a"), lbl)
    with PIL.Image.open(tmp_path / "a.png") as img:
        assert img.mode == "P" and np.array(img).tolist() == [[0, 1], [255, 254]]
        assert len(img.getpalette()) == 255 * 3  # 3.x: label_colormap(255), no colour for void
    with pytest.raises(LabelValueError, match=r"label values must be in \[-1, 254\].*got min 0, max 255"):
        labelme3.lblsave(str(tmp_path / "b"), np.array([[0, 255]]))
    square = [{"label": "a", "points": [[0, 0], [1, 0], [1, 1], [0, 1]]}]
    assert isinstance(labelme3.shapes_to_label((2, 2), square, {"a": 1}), np.ndarray)
    assert labelme3.utils is labelme3


def test_import_compat_as_labelme():
    import labeltools.compat as labelme

    assert labelme.utils.img_data_to_arr is labelme.img_data_to_arr
    assert labelme.utils.lblsave is labelme.lblsave
    assert sorted(labelme.__all__) == labelme.__all__


def test_label_file_like_labelme(tmp_path):
    from labeltools.compat import LabelFile, LabelFileError, img_data_to_arr

    from .conftest import SAMPLE_DATA

    photo = LabelFile(filename=str(SAMPLE_DATA / "portrait_004.json"))  # EXIF orientation 6
    assert img_data_to_arr(photo.imageData).shape[:2] == (480, 360)  # re-encoded upright, as labelme
    assert photo.imageData[:2] == b"\xff\xd8" and photo.imagePath == "portrait_004.jpg"
    assert set(photo.shapes[0]) == {
        "label", "points", "shape_type", "flags", "description", "group_id", "mask", "other_data"
    }
    embedded = LabelFile(filename=str(SAMPLE_DATA / "yard_003.json"))
    raw = json.loads((SAMPLE_DATA / "yard_003.json").read_text())
    assert embedded.imageData == base64.b64decode(raw["imageData"])
    masks = [s["mask"] for s in embedded.shapes if s["shape_type"] == "mask"]
    assert masks and all(m.dtype == bool and m.ndim == 2 for m in masks)
    broken = tmp_path / "x.json"
    broken.write_text("{")
    with pytest.raises(LabelmeFormatError):
        LabelFile(filename=str(broken))
    assert issubclass(LabelFileError, LabelmeFormatError)


def test_draw_label_and_draw_instances_draw():
    pytest.importorskip("matplotlib", reason="draw_label/draw_instances draw with matplotlib, as labelme 3.x")
    from labeltools.compat import draw_instances, draw_label

    lbl = np.zeros((40, 60), dtype=np.int32)
    lbl[10:30, 10:30] = 1
    img = np.full((40, 60, 3), 200, dtype=np.uint8)
    viz = draw_label(lbl, img, ["_background_", "a"])
    assert viz.dtype == np.uint8 and viz.shape == (40, 60, 3)
    boxed = draw_instances(img, bboxes=[(5, 5, 20, 20)], labels=[1], captions=["a"])
    assert boxed.shape == img.shape and boxed[5, 12].tolist() == [128, 0, 0]
