"""pillow_errors: the one translation of Pillow / OS errors into labeltools errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from labeltools.errors import ImageReadError, LabelImageError, PaletteError
from labeltools.io.errors import pillow_errors


def _open(path):
    with pillow_errors(path, "header"):
        return Image.open(path)


def test_header_errors(tmp_path):
    with pytest.raises(ImageReadError) as info:
        _open(tmp_path / "nope.png")
    assert str(info.value) == f"{tmp_path / 'nope.png'}: no such file"
    assert info.value.__cause__ is None
    with pytest.raises(ImageReadError) as info:
        _open(tmp_path)
    assert str(info.value) == f"{tmp_path}: expected an image file, found a directory"
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(ImageReadError) as info:
        _open(tmp_path / "x.png")
    assert str(info.value) == f"{tmp_path / 'x.png'}: not a readable image file"


def test_header_cut_short_keeps_pillows_reason(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ImageReadError) as info:
        _open(path)
    assert str(info.value) == f"{path}: cannot read image header: Truncated File Read"
    assert isinstance(info.value.__cause__, OSError)


def test_decompression_bomb_is_a_read_error(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (30, 30)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 900 pixels > 2 x the limit
    with pytest.raises(ImageReadError, match=r"big\.png: too large to decode safely: Image size"):
        _open(path)


def test_pixels_errors_use_the_error_asked_for(tmp_path):
    with pytest.raises(LabelImageError) as info:
        with pillow_errors("a.png", "pixels", error=LabelImageError):
            raise OSError("image file is truncated")
    assert str(info.value) == "a.png: cannot decode image: image file is truncated"


def test_data_errors_have_one_message():
    for raw in (b"junk", b"\x89PNG\r\n\x1a\n" + b"\0" * 40):
        with pytest.raises(ImageReadError) as info:
            with pillow_errors("where", "data", what="the base64 data"):
                Image.open(io.BytesIO(raw)).load()
        assert str(info.value) == "where: the base64 data is not a readable image"


def test_other_errors_pass_through():
    with pytest.raises(PaletteError, match="^ours$"):
        with pillow_errors("a.png", "pixels"):
            raise PaletteError("ours")
    with pytest.raises(ValueError, match="^a bug$"):
        with pillow_errors("a.png", "header"):
            raise ValueError("a bug")
    with pytest.raises(KeyError):
        with pillow_errors("a.png", "pixels"):
            raise KeyError("x")


def test_unknown_kind():
    with pytest.raises(ValueError, match=r"pillow_errors: kind must be one of \('header', 'pixels', 'data'\), got 'body'"):
        with pillow_errors("a.png", "body"):
            pass


def test_reason_replaces_the_wording_not_the_rules():
    with pytest.raises(LabelImageError) as info:
        with pillow_errors("{a}.png", "pixels", error=LabelImageError, reason="cut: {exc}"):
            raise OSError("image file is truncated")
    assert str(info.value) == "{a}.png: cut: image file is truncated"
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(ValueError, match="^not ours$"):  # still not translated
        with pillow_errors("a.png", "pixels", reason="cut: {exc}"):
            raise ValueError("not ours")
