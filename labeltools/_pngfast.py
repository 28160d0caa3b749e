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
machinery, and through one file descriptor: half the cost of a VOC-sized label.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from ._files import atomic_write_bytes
from .colormap import label_colormap
from .pngio import _png_path, lblread

__all__ = ["encode_label", "read_label", "write_label"]

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


def read_label(path: str | os.PathLike[str]) -> np.ndarray:
    """Class indices of a label PNG as an ``(H, W)`` uint8 array (possibly a read-only view).

    Same values and errors as :func:`~labeltools.pngio.lblread`, faster on the usual files.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return lblread(path)  # raises its one-line error for a missing file or a folder
    fast = _decode_plain(data)
    if fast is not None:
        return fast
    return lblread(path)


def _decode_plain(data: bytes) -> np.ndarray | None:
    """The pixels of an 8-bit, non-interlaced, unfiltered P or L PNG; ``None`` for anything else."""
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
    if width * height > Image.MAX_IMAGE_PIXELS:
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
    return rows[:, 1:]


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
    rows = np.empty((height, width + 1), dtype=np.uint8)
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
    target = _png_path(path)
    atomic_write_bytes(target, encode_label(lbl))
    return target
