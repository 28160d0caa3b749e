"""formats.labelme: reading and validating labelme JSON, and the image it names."""

import base64
import io
import json
import pickle
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from labeltools import (
    ImageInfo,
    ImageReadError,
    LabelmeFormatError,
    Shape,
    image_info,
    load_image,
    read_labelme,
)
from labeltools.formats.labelme import parse_labelme
from labeltools.formats.labelme_images import image_header, image_source

# ----------------------------------------------------------------------------- helpers


def b64_png(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    PIL.Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def jpeg_bytes(width: int, height: int, orientation: int | None = None) -> bytes:
    img = PIL.Image.new("RGB", (width, height), (10, 200, 30))
    buf = io.BytesIO()
    if orientation is None:
        img.save(buf, format="JPEG")
    else:
        exif = PIL.Image.Exif()
        exif[0x0112] = orientation
        img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def shape(label="cat", points=((1, 1), (5, 1), (1, 5)), **extra):
    return {
        "label": label,
        "points": [list(p) for p in points] if isinstance(points, (list, tuple)) else points,
        "group_id": None,
        "description": "",
        "shape_type": "polygon",
        "flags": {},
        "mask": None,
        **extra,
    }


def labelme_doc(shapes=(), **extra):
    doc = {
        "version": "5.5.0",
        "flags": {},
        "shapes": list(shapes),
        "imagePath": "img.jpg",
        "imageData": None,
        "imageHeight": 6,
        "imageWidth": 8,
    }
    doc.update(extra)
    return doc


def write_json(folder: Path, doc, name: str = "a.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- reader


def test_read_labelme_records(tmp_path):
    mask = np.zeros((2, 3), dtype=np.uint8)
    mask[1, 2] = 255
    doc = labelme_doc(
        [
            shape(label="dog", group_id=3, flags={"occluded": True}, description="left"),
            {"label": "cat", "points": [[0, 0], [2, 2.5], [0, 4]]},  # labelme 3: no shape_type
            shape(label="cat", shape_type="mask", points=[[1, 1], [3, 2]], mask=b64_png(mask)),
        ],
        flags={"night": False},
    )
    ann = read_labelme(write_json(tmp_path, doc))
    assert ann.path == tmp_path / "a.json"
    assert (ann.version, ann.image_path, ann.image_data) == ("5.5.0", "img.jpg", None)
    assert (ann.image_height, ann.image_width) == (6, 8)
    assert dict(ann.flags) == {"night": False}
    first, second, third = ann.shapes
    assert first == Shape(
        "dog", "polygon", ((1.0, 1.0), (5.0, 1.0), (1.0, 5.0)), 3, {"occluded": True}, "left"
    )
    assert (second.shape_type, second.group_id, second.description, dict(second.flags)) == (
        "polygon", None, "", {}
    )
    assert second.points == ((0.0, 0.0), (2.0, 2.5), (0.0, 4.0))
    assert third.mask.dtype == bool and third.mask.tolist() == [[False] * 3, [False, False, True]]
    assert first.mask is None
    with pytest.raises(TypeError):
        first.flags["occluded"] = False
    with pytest.raises(ValueError):
        third.mask[0, 0] = True
    with pytest.raises(AttributeError):
        first.label = "x"


def test_annotation_pickles(tmp_path):
    # json2voc hands annotations to worker processes.
    ann = read_labelme(write_json(tmp_path, labelme_doc([shape(flags={"a": 1})])))
    again = pickle.loads(pickle.dumps(ann))
    assert again == ann and dict(again.shapes[0].flags) == {"a": 1}


def test_embedded_image_data_wins(tmp_path):
    data = jpeg_bytes(8, 6)
    doc = labelme_doc(imageData=base64.b64encode(data).decode(), imagePath="missing.jpg")
    ann = read_labelme(write_json(tmp_path, doc))
    assert ann.image_data == data
    assert image_source(ann) is None
    info = image_info(ann)
    assert info == ImageInfo(None, data, "JPEG", 8, 6, 1)
    assert load_image(ann).size == (8, 6)


@pytest.mark.parametrize("value", [None, ""])
def test_empty_image_data_is_none(tmp_path, value):
    ann = read_labelme(write_json(tmp_path, labelme_doc(imageData=value)))
    assert ann.image_data is None
    assert image_source(ann) == tmp_path / "img.jpg"


def test_windows_separators(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "img.jpg").write_bytes(jpeg_bytes(8, 6))
    (tmp_path / "ann").mkdir()
    doc = labelme_doc(imagePath="..\\images\\img.jpg")
    ann = read_labelme(write_json(tmp_path / "ann", doc))
    assert image_source(ann) == tmp_path / "ann" / ".." / "images" / "img.jpg"
    assert image_info(ann).source == image_source(ann)


BAD_INPUTS = [
    ("{", "a.json: invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes"),
    ("[1, 2]", "a.json: expected a labelme JSON object, got a JSON array"),
    ('{"version": "5.5.0"}', 'a.json: not a labelme file: no "shapes" list'),
    ('{"shapes": {}}', 'a.json: "shapes" must be an array, got object'),
    (labelme_doc(version=5), 'a.json: "version" must be a string or null, got 5'),
    (labelme_doc(flags=[]), 'a.json: "flags" must be an object or null, got array'),
    (labelme_doc(imagePath=7), 'a.json: "imagePath" must be a string or null, got 7'),
    (labelme_doc(imageData=1), 'a.json: "imageData" must be a base64 string or null, got 1'),
    (
        labelme_doc(imageData="abc"),
        'a.json: "imageData" is not valid base64 (Incorrect padding)',
    ),
    (
        labelme_doc(imagePath=None),
        'a.json: no image: "imageData" is empty and "imagePath" is null',
    ),
    (
        {k: v for k, v in labelme_doc().items() if k != "imagePath"},
        'a.json: no image: "imageData" is empty and "imagePath" is missing',
    ),
    (labelme_doc(imageHeight=0), 'a.json: "imageHeight" must be a positive integer or null, got 0'),
    (labelme_doc(imageWidth="8"), 'a.json: "imageWidth" must be a positive integer or null, got "8"'),
    (labelme_doc([[1, 2]]), "a.json: shape #0: expected an object, got array"),
    (labelme_doc([{"points": []}]), 'a.json: shape #0: missing key "label"'),
    (labelme_doc([{"label": "a"}]), 'a.json: shape #0: missing key "points"'),
    (labelme_doc([shape(label=None)]), 'a.json: shape #0: "label" must be a string, got null'),
    (
        labelme_doc([shape(), shape(shape_type="ellipse")]),
        "a.json: shape #1: unknown shape_type 'ellipse'; expected one of polygon, rectangle, "
        "circle, line, linestrip, point, oriented_rectangle, mask",
    ),
    (labelme_doc([shape(shape_type=3)]), 'a.json: shape #0: "shape_type" must be a string or null, got 3'),
    (
        labelme_doc([shape(points="1,2")]),
        'a.json: shape #0 (polygon): "points" must be an array of [x, y], got "1,2"',
    ),
    (
        labelme_doc([shape(points=[[1, 2], [3], [4, 5]])]),
        "a.json: shape #0 (polygon): point #1 must be [x, y] numbers, got [3]",
    ),
    (
        labelme_doc([shape(points=[[1, 2], [3, True], [4, 5]])]),
        "a.json: shape #0 (polygon): point #1 must be [x, y] numbers, got [3, true]",
    ),
    (
        '{"shapes": [{"label": "a", "points": [[0, 0], [1, NaN], [2, 2]]}], "imagePath": "i.jpg"}',
        "a.json: shape #0 (polygon): point #1 is not finite: [1, NaN]",
    ),
    (
        '{"shapes": [{"label": "a", "points": [[0, 0], [1, 1e999], [2, 2]]}], "imagePath": "i.jpg"}',
        "a.json: shape #0 (polygon): point #1 is not finite: [1, Infinity]",
    ),
    (labelme_doc([shape(points=[[0, 0], [1, 1]])]), "a.json: shape #0 (polygon) needs at least 3 points, got 2"),
    (
        labelme_doc([shape(shape_type="circle", points=[[0, 0], [1, 1], [2, 2]])]),
        "a.json: shape #0 (circle) needs 2 points, got 3",
    ),
    (
        labelme_doc([shape(shape_type="rectangle", points=[[0, 0]])]),
        "a.json: shape #0 (rectangle) needs 2 points, got 1",
    ),
    (
        labelme_doc([shape(shape_type="line", points=[[0, 0], [1, 1], [2, 2]])]),
        "a.json: shape #0 (line) needs 2 points, got 3",
    ),
    (
        labelme_doc([shape(shape_type="point", points=[[0, 0], [1, 1]])]),
        "a.json: shape #0 (point) needs 1 point, got 2",
    ),
    (
        labelme_doc([shape(shape_type="linestrip", points=[[0, 0]])]),
        "a.json: shape #0 (linestrip) needs at least 2 points, got 1",
    ),
    (
        labelme_doc([shape(shape_type="oriented_rectangle", points=[[0, 0], [1, 1], [2, 2]])]),
        "a.json: shape #0 (oriented_rectangle) needs 4 points, got 3",
    ),
    (
        labelme_doc([shape(shape_type="mask", points=[[0, 0]], mask=b64_png(np.ones((1, 1), np.uint8)))]),
        "a.json: shape #0 (mask) needs 2 points, got 1",
    ),
    (
        labelme_doc([shape(group_id=1.5)]),
        'a.json: shape #0 (polygon): "group_id" must be an integer or null, got 1.5',
    ),
    (labelme_doc([shape(flags=[])]), 'a.json: shape #0 (polygon): "flags" must be an object or null, got array'),
    (
        labelme_doc([shape(description=3)]),
        'a.json: shape #0 (polygon): "description" must be a string or null, got 3',
    ),
    (
        labelme_doc([shape(shape_type="mask", points=[[0, 0], [1, 1]])]),
        'a.json: shape #0 (mask): missing "mask" data',
    ),
    (
        labelme_doc([shape(shape_type="mask", points=[[0, 0], [1, 1]], mask=5)]),
        'a.json: shape #0 (mask): "mask" must be a base64 PNG string, got 5',
    ),
    (
        labelme_doc([shape(shape_type="mask", points=[[0, 0], [1, 1]], mask="!!!")]),
        'a.json: shape #0 (mask): "mask" is not valid base64 (Only base64 data is allowed)',
    ),
    (
        labelme_doc([shape(shape_type="mask", points=[[0, 0], [1, 1]], mask="aGVsbG8=")]),
        'a.json: shape #0 (mask): "mask" is base64 but not a readable image',
    ),
    (
        labelme_doc(
            [shape(shape_type="mask", points=[[0, 0], [1, 1]], mask=b64_png(np.ones((2, 2, 3), np.uint8)))]
        ),
        'a.json: shape #0 (mask): "mask" must be a single-channel image, got shape (2, 2, 3)',
    ),
    (
        labelme_doc(
            [shape(shape_type="mask", points=[[0, 0], [3, 1]], mask=b64_png(np.ones((2, 3), np.uint8)))]
        ),
        "a.json: shape #0 (mask): mask patch is 2x3 (height x width) but its box (0, 0)-(3, 1) "
        "needs 2x4",
    ),
]


@pytest.mark.parametrize("doc, message", BAD_INPUTS)
def test_read_labelme_errors(tmp_path, doc, message):
    path = write_json(tmp_path, doc)
    with pytest.raises(LabelmeFormatError) as info:
        read_labelme(path)
    assert str(info.value) == f"{tmp_path}/{message}"


def test_read_labelme_file_errors(tmp_path):
    with pytest.raises(LabelmeFormatError) as info:
        read_labelme(tmp_path / "nope.json")
    assert str(info.value) == f"{tmp_path / 'nope.json'}: no such file"
    with pytest.raises(LabelmeFormatError) as info:
        read_labelme(tmp_path)
    assert str(info.value) == f"{tmp_path}: expected a labelme JSON file, found a directory"
    bad = tmp_path / "latin.json"
    bad.write_bytes(b'{"shapes": [], "imagePath": "caf\xe9.jpg"}')
    with pytest.raises(LabelmeFormatError) as info:
        read_labelme(bad)
    assert str(info.value) == f"{bad}: expected UTF-8 JSON, invalid continuation byte at byte 32"


def test_parse_labelme_is_read_labelme_on_bytes(tmp_path):
    path = write_json(tmp_path, labelme_doc([shape(label="dog", group_id=3)]))
    assert parse_labelme(path, path.read_bytes()) == read_labelme(path)
    with pytest.raises(LabelmeFormatError) as info:
        parse_labelme(tmp_path / "b.json", b'{"shapes": 3}')
    assert str(info.value) == f'{tmp_path}/b.json: "shapes" must be an array, got 3'


# ----------------------------------------------------------------------------- images


def test_image_info_exif_orientation(tmp_path):
    # Stored 8 wide x 6 high, orientation 6 (turn 90 degrees clockwise): upright 6 x 8.
    (tmp_path / "img.jpg").write_bytes(jpeg_bytes(8, 6, orientation=6))
    ann = read_labelme(write_json(tmp_path, labelme_doc(imageHeight=8, imageWidth=6)))
    info = image_info(ann)
    assert info == ImageInfo(tmp_path / "img.jpg", None, "JPEG", 6, 8, 6)
    img = load_image(ann)
    assert img.size == (6, 8) and img.mode == "RGB"


def test_load_image_turns_pixels_upright(tmp_path):
    raw = PIL.Image.new("L", (4, 2), 0)
    raw.putpixel((0, 0), 255)  # stored top-left
    exif = PIL.Image.Exif()
    exif[0x0112] = 6
    raw.save(tmp_path / "img.png", exif=exif.tobytes())
    ann = read_labelme(write_json(tmp_path, labelme_doc(imagePath="img.png", imageHeight=4, imageWidth=2)))
    assert image_info(ann).orientation == 6
    # Orientation 6 = the camera was turned clockwise: stored top-left is upright top-right.
    assert np.asarray(load_image(ann)).tolist() == [[0, 255], [0, 0], [0, 0], [0, 0]]


def test_image_info_size_mismatch(tmp_path):
    (tmp_path / "img.jpg").write_bytes(jpeg_bytes(8, 6))
    ann = read_labelme(write_json(tmp_path, labelme_doc(imageHeight=7)))
    with pytest.raises(ImageReadError) as info:
        image_info(ann)
    assert str(info.value) == (
        f"{tmp_path}/a.json: imageHeight x imageWidth is 7x8 but the image {tmp_path}/img.jpg is 6x8"
    )
    with pytest.raises(ImageReadError, match="is 7x8 but the image"):
        load_image(ann)


def test_image_info_size_mismatch_names_exif(tmp_path):
    # A JSON written against the stored (not upright) pixel grid.
    (tmp_path / "img.jpg").write_bytes(jpeg_bytes(8, 6, orientation=6))
    ann = read_labelme(write_json(tmp_path, labelme_doc()))
    with pytest.raises(ImageReadError) as info:
        image_info(ann)
    assert str(info.value) == (
        f"{tmp_path}/a.json: imageHeight x imageWidth is 6x8 but the image {tmp_path}/img.jpg is "
        f"8x6 upright (EXIF orientation 6; 6x8 as stored)"
    )


def test_image_info_without_sizes_in_json(tmp_path):
    (tmp_path / "img.jpg").write_bytes(jpeg_bytes(8, 6))
    ann = read_labelme(write_json(tmp_path, labelme_doc(imageHeight=None, imageWidth=None)))
    assert (image_info(ann).width, image_info(ann).height) == (8, 6)


def test_image_info_missing_and_unreadable(tmp_path):
    ann = read_labelme(write_json(tmp_path, labelme_doc(imagePath="sub\\img.jpg")))
    with pytest.raises(ImageReadError) as info:
        image_info(ann)
    assert str(info.value) == (
        f"{tmp_path}/a.json: image file not found: {tmp_path}/sub/img.jpg (imagePath 'sub\\\\img.jpg')"
    )
    (tmp_path / "img.jpg").write_bytes(b"not a jpeg")
    ann = read_labelme(write_json(tmp_path, labelme_doc()))
    with pytest.raises(ImageReadError) as info:
        load_image(ann)
    assert str(info.value) == f"{tmp_path}/a.json: the image {tmp_path}/img.jpg is not a readable image"
    doc = labelme_doc(imageData=base64.b64encode(b"not an image").decode())
    ann = read_labelme(write_json(tmp_path, doc))
    with pytest.raises(ImageReadError) as info:
        image_info(ann)
    assert str(info.value) == f"{tmp_path}/a.json: its embedded imageData is not a readable image"


def test_image_header_from_an_open_file(tmp_path):
    (tmp_path / "img.jpg").write_bytes(jpeg_bytes(8, 6, orientation=6))
    ann = read_labelme(write_json(tmp_path, labelme_doc(imageHeight=8, imageWidth=6)))
    src = image_source(ann)
    with open(src, "rb") as f:
        assert image_header(ann, src, f) == image_info(ann)
        assert not f.closed  # the caller copies the bytes next
    (tmp_path / "img.jpg").write_bytes(b"not a jpeg")
    with open(src, "rb") as f, pytest.raises(ImageReadError) as info:
        image_header(ann, src, f)
    assert str(info.value) == f"{tmp_path}/a.json: the image {tmp_path}/img.jpg is not a readable image"


def test_image_info_does_not_decode_pixels(tmp_path):
    # A truncated JPEG has a valid header: image_info reads it, decoding would fail.
    noise = np.random.default_rng(0).integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    PIL.Image.fromarray(noise).save(buf, format="JPEG")
    (tmp_path / "img.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    ann = read_labelme(write_json(tmp_path, labelme_doc(imageHeight=48, imageWidth=64)))
    assert image_info(ann).format == "JPEG"
    with pytest.raises(ImageReadError, match="cannot decode image"):
        load_image(ann)


def test_huge_but_finite_coordinates_are_points(tmp_path):
    # 1e308 + 1e308 overflows: the fast finiteness test must not reject the point.
    doc = labelme_doc([shape(points=[[0, 0], [1e308, 1e308], [2, 2]])])
    ann = read_labelme(write_json(tmp_path, doc))
    assert ann.shapes[0].points == ((0.0, 0.0), (1e308, 1e308), (2.0, 2.0))
    assert all(type(v) is float for pt in ann.shapes[0].points for v in pt)
