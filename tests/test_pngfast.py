"""The zlib fast path for label PNGs gives exactly what lblread gives, or defers to it."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from labeltools import lblread, lblsave
from labeltools._pngfast import _decode_plain, read_label
from labeltools.errors import ImageReadError, LabelImageError


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
    from labeltools.pngio import FAST_LABEL_PNG

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
    from labeltools._pngfast import encode_label
    from labeltools.pngio import is_voc_palette

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
    from labeltools._pngfast import encode_label

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
    from labeltools._pngfast import encode_label

    with pytest.raises(ValueError, match=r"encode_label: expected a non-empty 2-D uint8 array, " + message):
        encode_label(bad)


def test_write_label_appends_png_and_leaves_no_temporary(tmp_path):
    from labeltools._pngfast import write_label

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
    from labeltools._pngfast import value_counts

    counts = value_counts(values)
    assert counts.dtype == np.int64 and counts.shape == (256,)
    assert counts.tolist() == np.bincount(values, minlength=256).tolist()


def test_value_counts_rejects_other_arrays():
    from labeltools._pngfast import value_counts

    with pytest.raises(ValueError, match=r"value_counts: expected a 1-D uint8 array, got int64 \(3,\)"):
        value_counts(np.arange(3))


def test_read_label_counts_on_plain_and_other_pngs(tmp_path):
    from labeltools._pngfast import read_label_counts

    lbl = labels()
    path = lblsave(tmp_path / "a.png", lbl)
    counts = read_label_counts(path)
    assert counts.tolist() == np.bincount(lbl.ravel(), minlength=256).tolist()
    assert counts[0] == np.count_nonzero(lbl == 0)  # the rows' filter bytes are not pixels
    Image.fromarray(lbl).save(tmp_path / "l.png")  # Pillow filters greyscale rows
    assert read_label_counts(tmp_path / "l.png") is None
    assert read_label_counts(tmp_path / "missing.png") is None


def test_fast_path_respects_pillows_pixel_limit(tmp_path, monkeypatch):
    from labeltools._pngfast import read_label_counts

    path = lblsave(tmp_path / "a.png", labels())
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 37 * 53 - 1)
    assert _decode_plain(path.read_bytes()) is None
    assert read_label_counts(path) is None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # the guard switched off
    assert _decode_plain(path.read_bytes()) is not None


def test_pillow_default_limit_is_pillows():
    from labeltools._pngfast import _PIL_DEFAULT_MAX_PIXELS

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
