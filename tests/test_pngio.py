import os
import stat

import numpy as np
import pytest
from PIL import Image

from labeltools import (
    ImageReadError,
    LabelImageError,
    LabelValueError,
    exif_orientation,
    is_voc_palette,
    label_colormap,
    lblread,
    lblsave,
    open_image,
    read_image,
)


def test_lblsave_writes_p_mode_with_voc_palette(tmp_path):
    lbl = np.array([[0, 1, 15], [20, 254, 255]], dtype=np.uint8)
    out = lblsave(tmp_path / "a.png", lbl)
    assert out == tmp_path / "a.png"
    with Image.open(out) as img:
        assert img.mode == "P"
        assert img.getpalette("RGB") == label_colormap(256).ravel().tolist()
        assert np.array(img).tolist() == lbl.tolist()
        assert is_voc_palette(img)


def test_lblsave_palette_bytes_in_file(tmp_path):
    out = lblsave(tmp_path / "a.png", np.zeros((2, 2), np.uint8))
    data = out.read_bytes()
    i = data.index(b"PLTE")
    length = int.from_bytes(data[i - 4 : i], "big")
    assert length == 768
    assert data[i + 4 : i + 4 + 9] == bytes([0, 0, 0, 128, 0, 0, 0, 128, 0])
    assert data[i + 4 + 765 : i + 4 + 768] == bytes([224, 224, 192])


def test_lblsave_int32_minus_one_is_255(tmp_path):
    lbl = np.array([[-1, 0], [3, 254]], dtype=np.int32)
    out = lblsave(tmp_path / "a.png", lbl)
    assert lblread(out).tolist() == [[255, 0], [3, 254]]


def test_lblsave_appends_png(tmp_path):
    out = lblsave(tmp_path / "label", np.zeros((1, 1), np.uint8))
    assert out.name == "label.png"
    assert out.is_file()


def test_lblsave_round_trip_all_values(tmp_path):
    lbl = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(lblread(lblsave(tmp_path / "a.png", lbl)), lbl)


def test_lblsave_file_mode_follows_umask(tmp_path):
    out = lblsave(tmp_path / "a.png", np.zeros((1, 1), np.uint8))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize(
    ("lbl", "message"),
    [
        (np.array([[0, 255]], np.int32), r"int32 label values must be in \[-1, 254\] .* got min 0, max 255"),
        (np.array([[-2, 3]], np.int64), r"got min -2, max 3; save it as \.npy instead"),
        (np.array([[0, 300]], np.uint16), r"uint16 label values .* got min 0, max 300"),
        (np.zeros((2, 2), np.float32), r"must hold integers, got dtype float32 \(min 0.0, max 0.0\)"),
        (np.zeros((2, 2, 3), np.uint8), r"must be 2-D \(height, width\), got shape \(2, 2, 3\)"),
        (np.zeros((0, 3), np.uint8), r"must not be empty"),
    ],
)
def test_lblsave_refuses_without_writing(tmp_path, lbl, message):
    with pytest.raises(LabelValueError, match=message) as info:
        lblsave(tmp_path / "bad.png", lbl)
    assert str(info.value).startswith(f"{tmp_path / 'bad.png'}: ")
    assert os.listdir(tmp_path) == []


def test_lblsave_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        lblsave(tmp_path / "bad.png", np.array([[1000]]))


def test_lblsave_interrupted_write_keeps_old_file(tmp_path, monkeypatch):
    out = lblsave(tmp_path / "a.png", np.ones((2, 2), np.uint8))
    before = out.read_bytes()

    def boom(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        lblsave(out, np.zeros((2, 2), np.uint8))
    assert out.read_bytes() == before
    assert os.listdir(tmp_path) == ["a.png"]


def test_lblsave_no_deprecation_warnings(tmp_path, recwarn):
    lblsave(tmp_path / "a.png", np.zeros((3, 3), np.int32))
    assert len(recwarn) == 0


def test_lblread_l_mode(tmp_path):
    Image.fromarray(np.array([[0, 7]], np.uint8)).save(tmp_path / "l.png")
    out = lblread(tmp_path / "l.png")
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 7]]


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_lblread_rgb_points_to_rgb2index(tmp_path, mode):
    Image.new(mode, (2, 2)).save(tmp_path / "c.png")
    with pytest.raises(LabelImageError) as info:
        lblread(tmp_path / "c.png")
    assert str(info.value) == (
        f"{tmp_path / 'c.png'}: expected class indices (a P or L PNG), found {mode} colours; "
        "convert colour masks with `labeltools rgb2index`"
    )


def test_lblread_16_bit(tmp_path):
    Image.fromarray(np.array([[0, 1000]], np.uint16)).save(tmp_path / "d.png")
    with pytest.raises(LabelImageError, match=r"expected an 8-bit P or L label PNG, found mode I;16"):
        lblread(tmp_path / "d.png")


def test_lblread_missing_and_garbage(tmp_path):
    with pytest.raises(ImageReadError, match=r"nope\.png: no such file$"):
        lblread(tmp_path / "nope.png")
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match=r"x\.png: not a readable image file$"):
        lblread(tmp_path / "x.png")


def test_lblread_truncated(tmp_path):
    out = lblsave(tmp_path / "a.png", np.random.default_rng(0).integers(0, 21, (64, 64), dtype=np.uint8))
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"a\.png: cannot decode image: "):
        lblread(out)


def test_is_voc_palette_false_for_other_palette():
    img = Image.new("P", (1, 1))
    img.putpalette([255, 0, 0] * 256)
    assert not is_voc_palette(img)
    assert not is_voc_palette(Image.new("L", (1, 1)))


def _exif_jpeg(path, orientation):
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :10] = 255  # a white band on the left of the stored grid
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, exif=exif, quality=95)


def test_open_image_applies_exif_orientation(tmp_path):
    _exif_jpeg(tmp_path / "r.jpg", 6)  # 6 = rotate 90 degrees clockwise to view
    with Image.open(tmp_path / "r.jpg") as raw:
        assert raw.size == (40, 20)
        assert exif_orientation(raw) == 6
    up = open_image(tmp_path / "r.jpg")
    assert up.size == (20, 40)
    arr = read_image(tmp_path / "r.jpg")
    assert arr.shape == (40, 20, 3)
    assert arr[:8, :, 0].mean() > 200  # the band is now at the top
    assert arr[-8:, :, 0].mean() < 50
    assert exif_orientation(up) == 1


def test_read_image_without_exif(tmp_path):
    Image.new("RGB", (5, 3), (10, 20, 30)).save(tmp_path / "p.png")
    arr = read_image(tmp_path / "p.png")
    assert arr.shape == (3, 5, 3)
    assert arr[0, 0].tolist() == [10, 20, 30]


def test_lblread_cut_inside_header(tmp_path):
    out = lblsave(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    out.write_bytes(out.read_bytes()[:20])
    with pytest.raises(ImageReadError, match=r"a\.png: cannot read image header: Truncated File Read$"):
        lblread(out)
