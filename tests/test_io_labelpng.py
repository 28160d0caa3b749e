"""Label PNGs: lblsave / lblread, and the zlib fast path that gives exactly what Pillow gives."""

from __future__ import annotations

import os
import stat
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from labeltools import (
    ImageReadError,
    LabelImageError,
    LabelValueError,
    is_voc_palette,
    label_colormap,
    lblread,
    lblsave,
)
from labeltools.io.labelpng import _decode_plain, read_label


def labels(shape=(37, 53), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lbl = np.repeat(rng.integers(0, 21, (shape[0], shape[1] // 8 + 1)), 8, axis=1)[:, : shape[1]]
    lbl[:, ::11] = 255
    return lbl.astype(np.uint8)


def test_lblsave_png_takes_the_fast_path(tmp_path):
    lbl = labels()
    path = lblsave(tmp_path / "a.png", lbl)
    fast = _decode_plain(path.read_bytes())
    assert fast is not None
    assert fast.dtype == np.uint8 and fast.shape == (37, 53)
    assert np.array_equal(fast, lbl)
    assert np.array_equal(read_label(path), lblread(path))


def test_several_idat_chunks(tmp_path):
    # Noise does not compress: Pillow splits the stream over several 64 kB IDAT chunks.
    lbl = np.random.default_rng(1).integers(0, 256, (400, 500)).astype(np.uint8)
    path = lblsave(tmp_path / "big.png", lbl)
    assert path.read_bytes().count(b"IDAT") > 1
    assert _decode_plain(path.read_bytes()) is not None
    assert np.array_equal(read_label(path), lbl)


@pytest.mark.parametrize(
    "save",
    [
        lambda img, p: img.convert("L").save(p),  # Pillow filters greyscale rows
        lambda img, p: img.save(p, bits=4),  # 4-bit palette
        lambda img, p: img.save(p, optimize=True),
    ],
    ids=["L-filtered", "P-4bit", "P-optimized"],
)
def test_other_pngs_equal_lblread(tmp_path, save):
    lbl = labels() % 16
    path = tmp_path / "x.png"
    img = Image.fromarray(lbl)
    img.putpalette(bytes(range(48)) * 16)
    save(img.convert("P") if img.mode != "P" else img, path)
    assert np.array_equal(read_label(path), lblread(path))


def test_filtered_rows_defer_to_pillow(tmp_path):
    gradient = np.tile(np.arange(200, dtype=np.uint8), (30, 1))
    path = tmp_path / "g.png"
    Image.fromarray(gradient).save(path)  # L mode: Pillow picks Sub/Paeth filters here
    assert _decode_plain(path.read_bytes()) is None
    assert np.array_equal(read_label(path), gradient)


def test_rgb_and_broken_files_raise_lblread_errors(tmp_path):
    rgb = tmp_path / "rgb.png"
    Image.new("RGB", (4, 3)).save(rgb)
    with pytest.raises(
        LabelImageError,
        match=r"found RGB colours; convert colour masks with `labeltools rgb2index`",
    ):
        read_label(rgb)
    good = lblsave(tmp_path / "t.png", labels()).read_bytes()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good[:-30])  # inside the pixel data: the header still reads
    assert _decode_plain(truncated.read_bytes()) is None
    with pytest.raises(ImageReadError, match="truncated.png"):
        read_label(truncated)
    with pytest.raises(ImageReadError, match=r"missing.png: no such file$"):
        read_label(tmp_path / "missing.png")


def test_file_cut_inside_its_header_is_a_read_error(tmp_path):
    good = lblsave(tmp_path / "t.png", labels()).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(good[:100])  # inside the palette chunk
    with pytest.raises(ImageReadError) as info:
        read_label(cut)
    assert str(info.value) == f"{cut}: cannot read image header: Truncated File Read"


def test_header_larger_than_its_pixel_stream_is_left_to_pillow():
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", 3000, 3000, 8, 3, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    assert _decode_plain(data) is None


# ----------------------------------------------------------------- writer


def _lblsave_fast_bytes(tmp_path, lbl) -> bytes:
    from labeltools.io.labelpng import FAST_LABEL_PNG

    return lblsave(tmp_path / "pillow.png", lbl, **FAST_LABEL_PNG).read_bytes()


@pytest.mark.parametrize(
    "lbl",
    [
        labels(),
        labels((1, 1)),
        # Noise: over 64 KiB of compressed data, which Pillow splits into several IDAT chunks.
        np.random.default_rng(2).integers(0, 256, (400, 500)).astype(np.uint8),
    ],
    ids=["labels", "one-pixel", "several-idat"],
)
def test_encode_label_decodes_like_lblsave(tmp_path, lbl):
    from labeltools.io.labelpng import encode_label

    data = encode_label(lbl)
    path = tmp_path / "ours.png"
    path.write_bytes(data)
    with Image.open(path) as img:
        assert img.mode == "P" and img.size == (lbl.shape[1], lbl.shape[0])
        assert is_voc_palette(img)
        assert len(img.getpalette()) == 768
    assert np.array_equal(lblread(path), lbl)
    assert _decode_plain(data) is not None  # the reader's fast path takes it
    assert data.count(b"IDAT") == _lblsave_fast_bytes(tmp_path, lbl).count(b"IDAT")


@pytest.mark.skipif(
    Image.core.zlib_version != zlib.ZLIB_RUNTIME_VERSION,
    reason="Pillow and Python link different zlib builds: same pixels, other bytes",
)
def test_encode_label_bytes_equal_lblsave_fast(tmp_path):
    from labeltools.io.labelpng import encode_label

    for lbl in (labels(), np.random.default_rng(2).integers(0, 256, (400, 500)).astype(np.uint8)):
        assert encode_label(lbl) == _lblsave_fast_bytes(tmp_path, lbl)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 3), np.int32), r"got int32 \(2, 3\)"),
        (np.zeros((2, 3, 1), np.uint8), r"got uint8 \(2, 3, 1\)"),
        (np.zeros((0, 3), np.uint8), r"got uint8 \(0, 3\)"),
    ],
)
def test_encode_label_rejects(bad, message):
    from labeltools.io.labelpng import encode_label

    with pytest.raises(ValueError, match=r"encode_label: expected a non-empty 2-D uint8 array, " + message):
        encode_label(bad)


def test_write_label_appends_png_and_leaves_no_temporary(tmp_path):
    from labeltools.io.labelpng import write_label

    lbl = labels()
    assert write_label(tmp_path / "a", lbl) == tmp_path / "a.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]
    assert np.array_equal(lblread(tmp_path / "a.png"), lbl)


# ----------------------------------------------------------------- counting


@pytest.mark.parametrize(
    "values",
    [
        labels((375, 500)).reshape(-1),  # runs: counted per run
        np.random.default_rng(4).integers(0, 256, 5000).astype(np.uint8),  # noise: plain bincount
        np.array([7], np.uint8),
        np.full(1000, 255, np.uint8),
        np.array([], np.uint8),
    ],
    ids=["runs", "noise", "one", "constant", "empty"],
)
def test_value_counts_equals_bincount(values):
    from labeltools.io.labelpng import value_counts

    counts = value_counts(values)
    assert counts.dtype == np.int64 and counts.shape == (256,)
    assert counts.tolist() == np.bincount(values, minlength=256).tolist()


def test_value_counts_rejects_other_arrays():
    from labeltools.io.labelpng import value_counts

    with pytest.raises(ValueError, match=r"value_counts: expected a 1-D uint8 array, got int64 \(3,\)"):
        value_counts(np.arange(3))


def test_read_label_counts_on_plain_and_other_pngs(tmp_path):
    from labeltools.io.labelpng import read_label_counts

    lbl = labels()
    path = lblsave(tmp_path / "a.png", lbl)
    counts = read_label_counts(path)
    assert counts.tolist() == np.bincount(lbl.ravel(), minlength=256).tolist()
    assert counts[0] == np.count_nonzero(lbl == 0)  # the rows' filter bytes are not pixels
    Image.fromarray(lbl).save(tmp_path / "l.png")  # Pillow filters greyscale rows
    assert read_label_counts(tmp_path / "l.png") is None
    assert read_label_counts(tmp_path / "missing.png") is None


def test_fast_path_respects_pillows_pixel_limit(tmp_path, monkeypatch):
    from labeltools.io.labelpng import read_label_counts

    path = lblsave(tmp_path / "a.png", labels())
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 37 * 53 - 1)
    assert _decode_plain(path.read_bytes()) is None
    assert read_label_counts(path) is None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # the guard switched off
    assert _decode_plain(path.read_bytes()) is not None


def test_pillow_default_limit_is_pillows():
    from labeltools.io.labelpng import _PIL_DEFAULT_MAX_PIXELS

    assert _PIL_DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS


def test_counting_plain_labels_does_not_import_pillow(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = lblsave(tmp_path / "a.png", labels())
    code = (
        "import sys; from labeltools.weights import label_value_counts; "
        f"c = label_value_counts({str(path)!r}); "
        "assert int(c.sum()) == 37 * 53, c.sum(); "
        "assert 'PIL' not in sys.modules, 'PIL imported'"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, cwd=root)


# ----------------------------------------------------------------- lblsave / lblread


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


def test_lblread_cut_inside_header(tmp_path):
    out = lblsave(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    out.write_bytes(out.read_bytes()[:20])
    with pytest.raises(ImageReadError, match=r"a\.png: cannot read image header: Truncated File Read$"):
        lblread(out)


# ----------------------------------------------------------------- the one pair


def test_lblread_is_read_label_and_writable(tmp_path):
    path = lblsave(tmp_path / "a.png", labels())
    fast = read_label(path)
    assert not fast.flags.writeable  # the fast path's view of the inflated rows
    ours = lblread(path)
    assert ours.flags.writeable and ours.flags.c_contiguous and ours.dtype == np.uint8
    assert np.array_equal(ours, fast)


def test_write_label_takes_what_lblsave_takes(tmp_path):
    from labeltools.io.labelpng import write_label

    lbl = np.array([[-1, 0], [3, 254]], dtype=np.int32)
    path = write_label(tmp_path / "a.png", lbl)
    assert lblread(path).tolist() == [[255, 0], [3, 254]]
    with pytest.raises(LabelValueError, match=r"b\.png: int32 label values must be in \[-1, 254\]"):
        write_label(tmp_path / "b.png", np.array([[300]], np.int32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_lblsave_fast_settings_are_write_label(tmp_path):
    from labeltools.io.labelpng import FAST_LABEL_PNG, encode_label

    lbl = labels()
    path = lblsave(tmp_path / "a.png", lbl, **FAST_LABEL_PNG)
    assert path.read_bytes() == encode_label(lbl)


@pytest.mark.skipif(
    Image.core.zlib_version != zlib.ZLIB_RUNTIME_VERSION,
    reason="Pillow and Python link different zlib builds: same pixels, other bytes",
)
def test_encode_label_bytes_equal_pillow_on_wide_labels(tmp_path):
    # Wider than 16384 pixels, Pillow's encoder buffer (and so its IDAT chunk) is 4 bytes
    # per pixel of a row, not 64 KiB.
    from labeltools.io.labelpng import encode_label

    lbl = np.random.default_rng(5).integers(0, 256, (6, 20000)).astype(np.uint8)
    img = Image.fromarray(lbl)
    img.putpalette(label_colormap(256).tobytes())
    img.save(tmp_path / "pillow.png", format="PNG", compress_type=zlib.Z_RLE)
    assert encode_label(lbl) == (tmp_path / "pillow.png").read_bytes()
