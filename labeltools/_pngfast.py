"""A fast reader and writer for the common label PNG: 8-bit palette or greyscale, unfiltered rows.

Label PNGs from Pillow (``lblsave``), labelme and libpng (MATLAB's VOC tools) store
palette images without row filters, so their pixels are just the inflated IDAT
stream with one zero byte in front of each row. Reading that with ``zlib``
directly skips Pillow's chunked decode and its ``tobytes`` copy, which is most of
the cost of ``np.array(Image.open(path))`` on a VOC-sized label.

Anything else (other bit depths or colour types, interlacing, filtered rows, a
damaged file) goes to :func:`labeltools.pngio.lblread`, which decodes it or raises
the usual error: both readers return the same indices for every file.

:func:`write_label` writes what ``lblsave(path, lbl, **FAST_LABEL_PNG)`` writes (the
same bytes, given the same zlib) without Pillow's image, plugin and chunked-encoder
machinery, and through one file descriptor: ~0.6x lblsave's time on a VOC-sized label.
"""

from __future__ import annotations

import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

from ._files import atomic_write_bytes
from ._scratch import work_array
from .colormap import label_colormap

# Pillow (via .pngio) is imported only when a file leaves the fast path: a worker that
# only counts or reads plain label PNGs never pays its ~15 ms import.

__all__ = ["encode_label", "read_label", "read_label_counts", "value_counts", "write_label"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR = struct.Struct(
    ">I4sIIBBBBB"
)  # length, type, width, height, depth, colour, compression, filter, interlace
_CHUNK = struct.Struct(">I4s")
_GREY, _PALETTE = 0, 3  # PNG colour types that hold one 8-bit index per pixel
#: Deflate cannot expand data by more than about 1032:1.
_DEFLATE_MAX_RATIO = 1032
#: What Pillow's PNG writer uses: bit depth 8, palette colour, deflate, adaptive filters
#: (none chosen for palette rows), no interlace; zlib's default level, memLevel 9, and
#: image data split into IDAT chunks of 64 KiB. Matching it keeps the bytes identical.
_BIT_DEPTH = 8
_ZLIB_WBITS = 15
_ZLIB_MEMLEVEL = 9
_IDAT_MAX = 1 << 16
_VOC_PLTE = label_colormap(256).tobytes()
#: Pillow's default decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``), which holds
#: as long as Pillow has not been imported (and so cannot have been changed).
_PIL_DEFAULT_MAX_PIXELS = int(1024 * 1024 * 1024 // 4 // 3)
#: Above this share of pixels starting a new run of equal values, counting runs stops
#: paying for itself and a plain bincount is faster (as in metrics._joint_histogram).
_RLE_MAX_RUN_SHARE = 0.25
_LEVELS = 256


def read_label(path: str | os.PathLike[str]) -> np.ndarray:
    """Class indices of a label PNG as an ``(H, W)`` uint8 array (possibly a read-only view).

    Same values and errors as :func:`~labeltools.pngio.lblread`, faster on the usual files.
    """
    rows = _read_rows(path)
    if rows is not None:
        return rows[:, 1:]
    from .pngio import lblread

    return lblread(path)  # decodes the file, or raises its one-line error


def read_label_counts(path: str | os.PathLike[str]) -> np.ndarray | None:
    """Pixels per value 0..255 of a plain label PNG (int64, shape ``(256,)``), or ``None``.

    ``None`` when the file is not an unfiltered 8-bit P or L PNG (or cannot be read):
    the caller decodes it the usual way, which also raises the usual errors.
    """
    rows = _read_rows(path)
    if rows is None:
        return None
    # Counted over the whole inflated stream, in place: the filter byte in front of
    # each row is a 0 that is no pixel.
    counts = value_counts(rows.reshape(-1))
    counts[0] -= rows.shape[0]
    return counts


def value_counts(values: np.ndarray) -> np.ndarray:
    """``np.bincount(values, minlength=256)`` of a 1-D uint8 array, as int64, faster on labels.

    Label maps are runs of equal values: counting the runs (one comparison pass, then a
    bincount of the run starts weighted by their lengths) beats widening every pixel to
    an index for bincount, ~3x on a VOC-sized label.
    """
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype != np.uint8:
        raise ValueError(f"value_counts: expected a 1-D uint8 array, got {values.dtype} {values.shape}")
    n = values.size
    if n == 0:
        return np.zeros(_LEVELS, np.int64)
    changes = work_array("pngfast.changes", (n - 1,), np.bool_)
    # The last index of every run but the last.
    ends = np.flatnonzero(np.not_equal(values[1:], values[:-1], out=changes))
    if ends.size > _RLE_MAX_RUN_SHARE * n:
        return np.bincount(values, minlength=_LEVELS).astype(np.int64, copy=False)
    starts = np.empty(ends.size + 1, np.intp)
    starts[0] = 0
    np.add(ends, 1, out=starts[1:])
    lengths = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=lengths[:-1])
    lengths[-1] = n - starts[-1]
    # float64 weights are exact for any count below 2**53 pixels.
    return np.bincount(values[starts], weights=lengths, minlength=_LEVELS).astype(np.int64)


def _read_rows(path: str | os.PathLike[str]) -> np.ndarray | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return _inflate_plain(data)


def _decode_plain(data: bytes) -> np.ndarray | None:
    """The pixels of an 8-bit, non-interlaced, unfiltered P or L PNG; ``None`` for anything else."""
    rows = _inflate_plain(data)
    return None if rows is None else rows[:, 1:]


def _max_image_pixels() -> int | None:
    image = sys.modules.get("PIL.Image")
    if image is None:
        return _PIL_DEFAULT_MAX_PIXELS
    return image.MAX_IMAGE_PIXELS  # type: ignore[no-any-return]


def _inflate_plain(data: bytes) -> np.ndarray | None:
    """The ``(H, W + 1)`` inflated rows (filter byte first, always 0) of an 8-bit,
    non-interlaced, unfiltered P or L PNG; ``None`` for anything else."""
    if len(data) < len(_SIGNATURE) + _IHDR.size + 4 or not data.startswith(_SIGNATURE):
        return None
    length, kind, width, height, depth, colour, compression, filtering, interlace = (
        _IHDR.unpack_from(data, len(_SIGNATURE))
    )
    if (
        kind != b"IHDR"
        or length != 13
        or depth != 8
        or colour not in (_GREY, _PALETTE)
        or compression
        or filtering
        or interlace
        or not width
        or not height
    ):
        return None
    view = memoryview(data)
    pos = len(_SIGNATURE) + 12 + length
    idat: list[memoryview] = []
    while True:
        if pos + _CHUNK.size > len(data):
            return None  # no IEND: truncated
        length, kind = _CHUNK.unpack_from(data, pos)
        start = pos + _CHUNK.size
        end = start + length
        if end + 4 > len(data):
            return None
        if kind == b"IDAT":
            idat.append(view[start:end])
        elif kind == b"IEND":
            break
        pos = end + 4  # skip the CRC; zlib's own checksum guards the pixels
    if not idat:
        return None
    limit = _max_image_pixels()
    if limit is not None and width * height > limit:
        return None  # Pillow's decompression-bomb guard decides
    row = width + 1  # each row starts with its filter-type byte
    stream = idat[0] if len(idat) == 1 else b"".join(idat)
    expected = height * row
    # Preallocate the whole output, but never more than the stream can inflate to.
    bufsize = min(expected, len(stream) * _DEFLATE_MAX_RATIO + 1024)
    try:
        raw = zlib.decompress(stream, bufsize=bufsize)
    except zlib.error:
        return None
    if len(raw) != expected:
        return None
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, row)
    if rows[:, 0].any():
        return None  # filtered rows: undoing Paeth/Average filters is Pillow's job
    return rows


def _chunk(kind: bytes, data: bytes | memoryview) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return _CHUNK.pack(len(data), kind) + bytes(data) + crc.to_bytes(4, "big")


def encode_label(lbl: np.ndarray) -> bytes:
    """An (H, W) uint8 label array as a VOC palette PNG (zlib ``Z_RLE``), in memory.

    The bytes of ``lblsave(path, lbl, **FAST_LABEL_PNG)`` when Pillow and Python use
    the same zlib; in any case the same pixels and palette, readable by
    :func:`read_label`'s fast path.
    """
    lbl = np.asarray(lbl)
    if lbl.ndim != 2 or lbl.dtype != np.uint8 or lbl.size == 0:
        raise ValueError(
            f"encode_label: expected a non-empty 2-D uint8 array, got {lbl.dtype} {lbl.shape}"
        )
    height, width = lbl.shape
    rows = work_array("pngfast.rows", (height, width + 1), np.uint8)
    rows[:, 0] = 0  # filter type None on every row
    rows[:, 1:] = lbl
    z = zlib.compressobj(
        zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, _ZLIB_WBITS, _ZLIB_MEMLEVEL, zlib.Z_RLE
    )
    stream = memoryview(z.compress(rows) + z.flush())
    header = struct.pack(">IIBBBBB", width, height, _BIT_DEPTH, _PALETTE, 0, 0, 0)
    parts = [_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"PLTE", _VOC_PLTE)]
    parts += [_chunk(b"IDAT", stream[i : i + _IDAT_MAX]) for i in range(0, len(stream), _IDAT_MAX)]
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


def write_label(path: str | os.PathLike[str], lbl: np.ndarray) -> Path:
    """Write :func:`encode_label`'s PNG atomically; like :func:`~labeltools.pngio.lblsave`,
    append ``.png`` when ``path`` lacks it. Returns the path written."""
    from .pngio import _png_path

    target = _png_path(path)
    atomic_write_bytes(target, encode_label(lbl))
    return target
