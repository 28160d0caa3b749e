"""A fast reader for the common label PNG: 8-bit palette or greyscale, unfiltered rows.

Label PNGs from Pillow (``lblsave``), labelme and libpng (MATLAB's VOC tools) store
palette images without row filters, so their pixels are just the inflated IDAT
stream with one zero byte in front of each row. Reading that with ``zlib``
directly skips Pillow's chunked decode and its ``tobytes`` copy, which is most of
the cost of ``np.array(Image.open(path))`` on a VOC-sized label.

Anything else (other bit depths or colour types, interlacing, filtered rows, a
damaged file) goes to :func:`labeltools.pngio.lblread`, which decodes it or raises
the usual error: both readers return the same indices for every file.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
from PIL import Image

from .pngio import lblread

__all__ = ["read_label"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR = struct.Struct(
    ">I4sIIBBBBB"
)  # length, type, width, height, depth, colour, compression, filter, interlace
_CHUNK = struct.Struct(">I4s")
_GREY, _PALETTE = 0, 3  # PNG colour types that hold one 8-bit index per pixel
#: Deflate cannot expand data by more than about 1032:1.
_DEFLATE_MAX_RATIO = 1032


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
