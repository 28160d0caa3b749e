from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeltools import (
    ImageReadError,
    OutputError,
    PaletteError,
    index2rgb,
    label_colormap,
    lblread,
    lblsave,
    rgb2index,
    rgb2index_files,
)
from labeltools.masks import index2rgb_files, match_colors
from labeltools.palettes import read_color_csv, read_labelmap, read_palette, voc_palette

CMAP = label_colormap()


def test_voc_round_trip_all_256_values():
    index = np.arange(256, dtype=np.uint8).reshape(16, 16)
    rgb = index2rgb(index)
    assert rgb.dtype == np.uint8 and rgb.shape == (16, 16, 3)
    assert rgb[0, 15].tolist() == [192, 128, 128]
    assert rgb[15, 15].tolist() == [224, 224, 192]
    back = rgb2index(rgb)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, index)


def test_index2rgb_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"index values must be in \[0, 255\], got min -1, max 3"):
        index2rgb(np.array([[-1, 3]], dtype=np.int32))


def _mask(rows):
    return CMAP[np.asarray(rows, dtype=np.uint8)]


def test_unknown_colours_error_lists_count_and_first_position():
    rgb = _mask([[0, 1, 1], [15, 0, 0]])
    rgb[0, 2] = (10, 20, 30)
    rgb[1, 1] = (10, 20, 30)
    rgb[1, 2] = (255, 255, 255)
    with pytest.raises(PaletteError) as exc:
        rgb2index(rgb)
    assert str(exc.value) == (
        "image: 2 colours not in the VOC palette: (10,20,30) 2 px at (x=2, y=0), "
        "(255,255,255) 1 px at (x=2, y=1)"
    )


def test_unknown_ignore_writes_255_and_reports():
    rgb = _mask([[0, 1], [15, 0]])
    rgb[1, 1] = (1, 2, 3)
    assert rgb2index(rgb, unknown="ignore").tolist() == [[0, 1], [15, 255]]
    match = match_colors(rgb)
    assert [(u.color, u.pixels, u.x, u.y) for u in match.unknown] == [((1, 2, 3), 1, 1, 1)]
    assert match.unknown_pixels == 1 and not match.bgr_swapped


def test_bgr_swapped_mask_is_named():
    # Classes 8 (64,0,0) and 3 (128,128,0): swapped they are (0,0,64) and (0,128,128);
    # with 21 classes (0,0,64) is index 32, unknown, while (0,128,128) is class 6.
    rgb = _mask([[8, 8], [3, 0]])[..., ::-1]
    with pytest.raises(PaletteError) as exc:
        rgb2index(rgb, voc_palette(21))
    assert str(exc.value) == (
        "image: 1 colour not in the VOC palette's first 21 colours: (0,0,64) 2 px at (x=0, y=0); "
        "all of them are palette colours with red and blue swapped: the mask was probably "
        "written by OpenCV in BGR order (convert it with cv2.cvtColor(mask, cv2.COLOR_BGR2RGB) "
        "before saving)"
    )


def test_bgr_hint_only_when_every_unknown_colour_swaps_into_the_palette():
    rgb = _mask([[8, 0]])[..., ::-1].copy()
    rgb[0, 1] = (1, 2, 3)
    match = match_colors(rgb, voc_palette(21))
    assert len(match.unknown) == 2 and not match.bgr_swapped


def test_many_unknown_colours_are_summarised():
    rgb = np.zeros((1, 25, 3), dtype=np.uint8)
    rgb[0, :, 0] = np.arange(1, 26)  # 25 distinct unknown reds, 1 px each
    with pytest.raises(PaletteError, match=r"25 colours not in the VOC palette: \(1,0,0\) 1 px at "
                       r"\(x=0, y=0\), .*\(20,0,0\) 1 px at \(x=19, y=0\), and 5 more colours \(5 px\)$"):
        rgb2index(rgb)


def test_rgba_alpha_is_ignored():
    rgb = _mask([[0, 15], [1, 255]])
    alpha = np.array([[0, 255], [128, 0]], dtype=np.uint8)[..., None]
    rgba = np.concatenate([rgb, alpha], axis=2)
    assert rgb2index(rgba).tolist() == [[0, 15], [1, 255]]


def test_rgb2index_rejects_bad_arrays():
    with pytest.raises(ValueError, match=r"expected an \(H, W, 3\) RGB or \(H, W, 4\) RGBA array, got shape \(2, 2\)"):
        rgb2index(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="unknown must be one of error, ignore, got 'zero'"):
        rgb2index(np.zeros((2, 2, 3), dtype=np.uint8), unknown="zero")


# ----------------------------------------------------------------- palette files


def test_labelmap_palette(tmp_path):
    p = tmp_path / "labelmap.txt"
    p.write_text(
        "# label:color_rgb:parts:actions\n"
        "background:0,0,0::\n"
        "road:128,64,128::\n"
        "\n"
        "car:0, 0,142:wheel,door:\n"
        "sky::\n",
        encoding="utf-8",
    )
    pal = read_labelmap(p)
    assert pal.indices.tolist() == [0, 1, 2, 3, 255]
    # sky has no colour: it gets the VOC colour of its index, 3 -> (128,128,0), as Datumaro does
    assert pal.colors.tolist() == [[0, 0, 0], [128, 64, 128], [0, 0, 142], [128, 128, 0], [224, 224, 192]]
    assert pal.names == ("background", "road", "car", "sky", "__ignore__")
    rgb = np.array([[[128, 64, 128], [0, 0, 142]], [[128, 128, 0], [224, 224, 192]]], dtype=np.uint8)
    assert rgb2index(rgb, pal).tolist() == [[1, 2], [3, 255]]
    with pytest.raises(PaletteError, match=r"colours? not in palette .*labelmap\.txt: \(128,0,0\) 1 px"):
        rgb2index(np.array([[[128, 0, 0]]], dtype=np.uint8), pal)


def test_labelmap_ignore_entry_is_255(tmp_path):
    p = tmp_path / "labelmap.txt"
    p.write_text("__ignore__:255,255,255::\n_background_:0,0,0::\ncat:10,10,10::\n", encoding="utf-8")
    pal = read_labelmap(p)
    assert dict(zip(pal.names, pal.indices.tolist())) == {"__ignore__": 255, "_background_": 0, "cat": 1}


def test_labelmap_datumaro_voc_ignored_is_255(tmp_path):
    # Datumaro's VOC label map: 21 classes, then "ignored" in the void colour (VOC's 255).
    voc = ["background", "aeroplane", "bicycle"]
    cmap = voc_palette().colors
    lines = [f"{n}:{','.join(str(int(c)) for c in cmap[i])}::" for i, n in enumerate(voc)]
    p = tmp_path / "labelmap.txt"
    p.write_text("\n".join(["# label:color_rgb:parts:actions", *lines, "ignored:224,224,192::"]))
    pal = read_labelmap(p)
    assert pal.indices.tolist() == [0, 1, 2, 255]
    assert rgb2index(np.array([[[224, 224, 192], [0, 128, 0]]], dtype=np.uint8), pal).tolist() == [[255, 2]]
    # in another colour, "ignored" is just a class name
    p.write_text("background:0,0,0::\nignored:1,2,3::\n")
    assert read_labelmap(p).indices.tolist() == [0, 1, 255]


def test_json2voc_labelmap_reads_back(tmp_path):
    from labeltools import json2voc

    from .conftest import ROOT

    out = tmp_path / "voc"
    json2voc(ROOT / "sample_data", out, ROOT / "sample_data" / "labels.txt", workers=1, objects=False)
    pal = read_labelmap(out / "labelmap.txt")
    names = (out / "class_names.txt").read_text().split()
    assert pal.names == (*names, "__ignore__")
    assert pal.indices.tolist() == [*range(len(names)), 255]
    np.testing.assert_array_equal(pal.colors, voc_palette().colors[[*range(len(names)), 255]])


def test_labelmap_text_round_trips(tmp_path):
    from labeltools.palettes import labelmap_text

    text = labelmap_text(["_background_", "potted plant", "tv/monitor"])
    assert text == (
        "# label:color_rgb:parts:actions\n_background_:0,0,0::\npotted plant:128,0,0::\n"
        "tv/monitor:0,128,0::\n__ignore__:224,224,192::\n"
    )
    (tmp_path / "labelmap.txt").write_text(text)
    pal = read_labelmap(tmp_path / "labelmap.txt")
    assert pal.names == ("_background_", "potted plant", "tv/monitor", "__ignore__")
    assert pal.indices.tolist() == [0, 1, 2, 255]
    assert labelmap_text(["_background_", "cat:tabby"]) is None  # ':' has no escape


@pytest.mark.parametrize(
    ("name", "ok"),
    [("car", True), ("tv/monitor", True), ("potted plant", True), ("a:b", False), (" car", False),
     ("#car", False), ("", False), ("a\nb", False)],
)
def test_labelmap_name_ok(name, ok):
    from labeltools.palettes import labelmap_name_ok

    assert labelmap_name_ok(name) is ok


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("background:0,0,0::\nroad\n", "line 2: expected name:r,g,b:parts:actions, found 'road'"),
        ("background:0,0,0::\nroad:1,2::\n", "line 2: expected a colour r,g,b with values in 0..255, found '1,2'"),
        ("background:0,0,0::\nroad:1,2,300::\n", "line 2: expected a colour r,g,b with values in 0..255, found '1,2,300'"),
        ("a:1,1,1::\nb:2,2,2::\na:3,3,3::\n", "line 3: label 'a' already defined on line 1"),
        ("a:1,1,1::\nb:1,1,1::\n", "line 2: colour (1, 1, 1) of 'b' is already the colour of 'a' on line 1; a colour must name one class"),
        ("# only a header\n", "expected name:r,g,b:parts:actions lines, found none"),
    ],
)
def test_labelmap_errors(tmp_path, text, message):
    p = tmp_path / "labelmap.txt"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(PaletteError) as exc:
        read_labelmap(p)
    assert str(exc.value) == f"{p}: {message}"


def test_csv_palette(tmp_path):
    p = tmp_path / "colors.csv"
    p.write_text("index,name,r,g,b\n0,background,0,0,0\n7,building,70,70,70\n255,void,255,255,255\n", encoding="utf-8")
    pal = read_palette(p)
    assert pal.indices.tolist() == [0, 7, 255]
    assert pal.names == ("background", "building", "void")
    rgb = np.array([[[70, 70, 70], [255, 255, 255], [0, 0, 0]]], dtype=np.uint8)
    assert rgb2index(rgb, pal).tolist() == [[7, 255, 0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,background,0,0\n", "line 1: expected 5 fields index,name,r,g,b, found 4: '0,background,0,0'"),
        ("x,background,0,0,0\n", "line 1: expected a class index in 0..255, found 'x'"),
        ("0,a,0,0,0\n0,b,1,1,1\n", "line 2: index 0 already defined on line 1"),
        ("0,a,0,0,0\n1,b,0,0,-1\n", "line 2: expected a colour r,g,b with values in 0..255, found '0,0,-1'"),
        ("index,name,r,g,b\n", "expected index,name,r,g,b rows, found none"),
    ],
)
def test_csv_palette_errors(tmp_path, text, message):
    p = tmp_path / "colors.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(PaletteError) as exc:
        read_color_csv(p)
    assert str(exc.value) == f"{p}: {message}"


def test_missing_palette_file(tmp_path):
    with pytest.raises(PaletteError, match=r"nope\.txt: no such palette file"):
        read_palette(tmp_path / "nope.txt")


# ----------------------------------------------------------------- files


def test_files_rgb_rgba_p_and_l(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    index = np.array([[0, 1, 15], [255, 2, 0]], dtype=np.uint8)
    Image.fromarray(CMAP[index]).save(src / "a_rgb.png")
    Image.fromarray(CMAP[index]).convert("RGBA").save(src / "b_rgba.png")
    lblsave(src / "c_voc.png", index)
    other = Image.fromarray(index)
    other.putpalette([255 - v for v in CMAP.tobytes()])  # a palette that is not VOC's
    other.save(src / "d_p_other.png")
    report = rgb2index_files(src, tmp_path / "out")
    assert [Path(r.src).name for r in report.files] == ["a_rgb.png", "b_rgba.png", "c_voc.png", "d_p_other.png"]
    assert [r.mode for r in report.files] == ["RGB", "RGBA", "P", "P"]
    assert [r.note for r in report.files] == ["", "", "", "P input with a non-VOC palette: indices kept"]
    for r in report.files:
        with Image.open(r.dst) as out:
            assert out.mode == "P"
        np.testing.assert_array_equal(lblread(r.dst), index)
    assert report.written == 4 and report.unknown_pixels == 0


def test_grey_input_needs_a_palette(tmp_path):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.array([[0, 255]], dtype=np.uint8), mode="L").save(grey)
    with pytest.raises(PaletteError) as exc:
        rgb2index_files(grey, tmp_path / "out.png")
    assert str(exc.value) == (
        f"{grey}: a grey (L) image holds values, not colours: if they are class indices use "
        f"the file as it is; to map grey colours (v,v,v) to classes pass a palette"
    )
    csv = tmp_path / "bw.csv"
    csv.write_text("0,background,0,0,0\n1,road,255,255,255\n", encoding="utf-8")
    rgb2index_files(grey, tmp_path / "out.png", palette=csv)
    assert lblread(tmp_path / "out.png").tolist() == [[0, 1]]


def test_folder_with_unknown_colours_fails_and_names_the_other_files(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a", "b", "c"):
        rgb = _mask([[0, 1]])
        if name != "a":
            rgb[0, 1] = (9, 9, 9)
        Image.fromarray(rgb).save(src / f"{name}.png")
    with pytest.raises(PaletteError) as exc:
        rgb2index_files(src, tmp_path / "out", workers=1)
    assert str(exc.value) == (
        f"{src / 'b.png'}: 1 colour not in the VOC palette: (9,9,9) 1 px at (x=1, y=0) "
        f"(and 1 more file with unknown colours: c.png)"
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]
    report = rgb2index_files(src, tmp_path / "out2", unknown="ignore", workers=2)
    assert report.written == 3 and report.unknown_pixels == 2
    assert lblread(tmp_path / "out2" / "c.png").tolist() == [[0, 255]]


def test_refuses_writing_over_the_input_folder(tmp_path):
    Image.fromarray(_mask([[0]])).save(tmp_path / "a.png")
    with pytest.raises(OutputError, match="OUT is the input folder"):
        rgb2index_files(tmp_path, tmp_path)


def test_index2rgb_files_and_overlay(tmp_path):
    labels = tmp_path / "SegmentationClass"
    photos = tmp_path / "JPEGImages"
    labels.mkdir()
    photos.mkdir()
    lblsave(labels / "x.png", np.array([[0, 15], [255, 1]], dtype=np.uint8))
    Image.new("RGB", (2, 2), (100, 100, 100)).save(photos / "x.jpg", quality=100)
    index2rgb_files(labels, tmp_path / "rgb")
    with Image.open(tmp_path / "rgb" / "x.png") as im:
        rgb = np.asarray(im)
    assert rgb.tolist() == [
        [[0, 0, 0], [192, 128, 128]], [[224, 224, 192], [128, 0, 0]]
    ]
    index2rgb_files(labels, tmp_path / "ov", images=photos, alpha=0.5, names=["bg", "plane"])
    with Image.open(tmp_path / "ov" / "x.png") as im, Image.open(photos / "x.jpg") as ph:
        ov = np.asarray(im)
        photo = np.asarray(ph).astype(int)
    # background untouched; class 1 blended half and half with (128, 0, 0)
    assert ov[0, 0].tolist() == photo[0, 0].tolist()
    assert ov[1, 1].tolist() == np.rint((photo[1, 1] + [128, 0, 0]) / 2).astype(int).tolist()
    assert ov.shape[0] >= 2 and ov.shape[1] > 2  # the legend is beside the picture


def test_index2rgb_overlay_size_mismatch(tmp_path):
    lblsave(tmp_path / "x.png", np.zeros((2, 3), dtype=np.uint8))
    photos = tmp_path / "img"
    photos.mkdir()
    Image.new("RGB", (4, 4)).save(photos / "x.jpg")
    with pytest.raises(ImageReadError, match=r"x\.jpg: image is 4x4 but label .*x\.png is 3x2"):
        index2rgb_files(tmp_path / "x.png", tmp_path / "o.png", images=photos)


def test_pack_pixels_matches_channel_packing():
    from labeltools.palettes import pack_pixels, pack_rgb, unpack_key

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    expected = pack_rgb(rgb[..., 0], rgb[..., 1], rgb[..., 2])
    np.testing.assert_array_equal(pack_pixels(rgb), expected)  # contiguous, one read per pixel
    rgba = np.concatenate([rgb, rng.integers(0, 256, size=(5, 7, 1), dtype=np.uint8)], axis=2)
    np.testing.assert_array_equal(pack_pixels(rgba), expected)  # alpha dropped
    np.testing.assert_array_equal(pack_pixels(rgb[:, ::2]), expected[:, ::2])  # strided
    np.testing.assert_array_equal(pack_pixels(rgb[:1, :1]), expected[:1, :1])  # one pixel
    assert unpack_key(int(expected[2, 3])) == tuple(int(v) for v in rgb[2, 3])


@pytest.mark.parametrize("shape", [(9, 13), (301, 217)], ids=["one-piece", "many-pieces"])
def test_image_keys_equal_pack_pixels_for_rgb_and_rgba(shape):
    from labeltools.masks import _image_keys
    from labeltools.palettes import pack_pixels

    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, size=(*shape, 4), dtype=np.uint8)
    rgb = np.ascontiguousarray(rgba[..., :3])
    for arr in (rgb, rgba):
        img = Image.fromarray(arr)
        keys = _image_keys(img)
        assert keys.dtype == np.uint32 and keys.shape == shape
        np.testing.assert_array_equal(keys, pack_pixels(arr))


def test_truncated_colour_mask_is_an_image_read_error(tmp_path):
    index = np.random.default_rng(6).integers(0, 21, size=(200, 300)).astype(np.uint8)
    Image.fromarray(CMAP[index]).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"cut\.png: cannot decode image: "):
        rgb2index_files(tmp_path / "cut.png", tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


def _slow_match(rgb, palette):
    """Per-colour reference: each pixel's class, 255 for void and for unknown colours."""
    index = np.full(rgb.shape[:2], 255, dtype=np.uint8)
    known = np.zeros(rgb.shape[:2], dtype=bool)
    for color, cls in zip(palette.colors, palette.indices):
        hit = np.all(rgb[..., :3] == color, axis=-1)
        index[hit] = cls
        known |= hit
    return index, int((~known).sum())


@pytest.mark.parametrize("void", [0, 1, 40])
@pytest.mark.parametrize("unknown", [0, 1, 7])
def test_match_with_void_and_unknown_colours_equals_per_colour_loop(void, unknown):
    # Void pixels and unknown colours both come out of the table as 255: the one-pass
    # void count must never pass an unknown colour off as void.
    rng = np.random.default_rng(void * 10 + unknown)
    index = rng.integers(0, 21, size=(30, 40)).astype(np.uint8)
    flat = index.reshape(-1)
    flat[rng.choice(flat.size, void, replace=False)] = 255
    rgb = CMAP[index]
    spots = rng.choice(flat.size, unknown, replace=False)
    rgb.reshape(-1, 3)[spots] = (1, 2, 3)
    pal = voc_palette(21)
    expected, n_unknown = _slow_match(rgb, pal)
    match = match_colors(rgb, pal)
    np.testing.assert_array_equal(match.index, expected)
    assert match.unknown_pixels == n_unknown == unknown


def test_match_with_two_void_colours():
    # Two colours meaning 255: the void check takes the general path (not one count).
    from labeltools.palettes import Palette

    colors = np.array([[0, 0, 0], [9, 9, 9], [224, 224, 192], [200, 0, 0]], dtype=np.uint8)
    pal = Palette(colors, np.array([0, 255, 255, 1], dtype=np.uint8), ("",) * 4, "test")
    assert len(pal.ignore_keys()) == 2
    rgb = np.array([[[0, 0, 0], [9, 9, 9], [224, 224, 192], [200, 0, 0], [5, 5, 5]]], dtype=np.uint8)
    match = match_colors(rgb, pal)
    assert match.index.tolist() == [[0, 255, 255, 1, 255]]
    assert [(u.color, u.pixels, u.x) for u in match.unknown] == [((5, 5, 5), 1, 4)]
    rgb[0, 4] = (9, 9, 9)
    assert match_colors(rgb, pal).unknown == ()


def test_rgb2index_files_writes_lblsave_pixels_and_palette(tmp_path):
    # The files come from write_label, not lblsave: same pixels, P mode, VOC palette.
    from labeltools import is_voc_palette

    index = np.random.default_rng(5).integers(0, 21, size=(50, 70)).astype(np.uint8)
    index[::7] = 255
    Image.fromarray(CMAP[index]).save(tmp_path / "m.png")
    rgb2index_files(tmp_path / "m.png", tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as img:
        assert img.mode == "P" and img.size == (70, 50) and is_voc_palette(img)
        np.testing.assert_array_equal(np.asarray(img), index)
