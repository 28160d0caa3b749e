"""Drop-in replacements for the helpers labelme removed or made private.

An old script changes one import line and keeps working::

    # from labelme.utils import label_colormap, lblsave, shapes_to_label, img_b64_to_arr
    from labeltools.compat import label_colormap, lblsave, shapes_to_label, img_b64_to_arr

Each function keeps the old signature and return value. What changes: invalid
input raises a :class:`~labeltools.errors.LabeltoolsError` with a one-line message
instead of an ``AssertionError`` or a ``KeyError``, and ``lblsave`` writes
atomically. New code should use :mod:`labeltools` itself (``label_colormap``
returning uint8, ``lblsave`` accepting uint8 255, typed labelme records).
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .constants import IGNORE_INDEX
from .errors import ImageReadError, LabelmeFormatError, LabelValueError
from .formats.labelme import POINT_COUNTS, Shape, check_point_count, decode_mask
from .io.errors import pillow_errors
from .io.labelpng import lblsave as _lblsave
from .raster import LINE_WIDTH, POINT_SIZE, draw_shape
from .raster import shapes_to_label as _shapes_to_label

__all__ = ["img_b64_to_arr", "label_colormap", "lblsave", "shape_to_mask", "shapes_to_label"]

#: The colour map interleaves 3 bits of the index per step over 8 steps: 24 bits.
_COLORMAP_STEPS = 8


def label_colormap(N: int = 256) -> np.ndarray:  # noqa: N803 - labelme's parameter name
    """``labelme.utils.draw.label_colormap`` (labelme <= 3.16.7): ``(N, 3)`` float32 in [0, 1].

    The VOC palette divided by 255, for any ``N`` (indices above 255 continue the
    bit interleave, as labelme's loop did).
    """
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 0:
        raise ValueError(f"label_colormap: N must be an int >= 0, got {N!r}")
    index = np.arange(int(N), dtype=np.int64)
    cmap = np.zeros((int(N), 3), dtype=np.int64)
    for j in range(_COLORMAP_STEPS):
        for channel in range(3):
            cmap[:, channel] |= ((index >> (3 * j + channel)) & 1) << (7 - j)
    return cmap.astype(np.float32) / 255


def lblsave(filename: str | os.PathLike[str], lbl: np.ndarray) -> None:
    """``labelme.utils.lblsave``: a VOC palette PNG of class indices in [-1, 254].

    ``-1`` (ignore) is stored as 255, ``.png`` is appended when missing, and any
    value outside [-1, 254] raises :class:`~labeltools.errors.LabelValueError`
    (a ``ValueError``, as labelme raised), uint8 255 included: that was labelme's
    contract. :func:`labeltools.lblsave` also accepts uint8 255.
    """
    arr = np.asarray(lbl)
    if arr.dtype == np.uint8 and arr.size and int(arr.max()) >= IGNORE_INDEX:
        raise LabelValueError(
            f"{filename}: label values must be in [-1, 254] (labelme's lblsave contract), got "
            f"min {int(arr.min())}, max {int(arr.max())}; labeltools.lblsave stores uint8 255"
        )
    _lblsave(filename, arr)


def img_b64_to_arr(img_b64: str | bytes) -> np.ndarray:
    """``labelme.utils.img_b64_to_arr``: a base64 image file -> its pixel array.

    As in labelme, the EXIF orientation is not applied (see
    :func:`labeltools.load_image` for the upright image).
    """
    try:
        raw = base64.b64decode(img_b64, validate=False)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ImageReadError(f"img_b64_to_arr: not valid base64 ({exc})") from None
    with pillow_errors("img_b64_to_arr", "data", what="the base64 data"):
        with Image.open(io.BytesIO(raw)) as img:
            return np.array(img)


def shape_to_mask(
    img_shape: Sequence[int],
    points: Sequence[Sequence[float]],
    shape_type: str | None = None,
    line_width: int = LINE_WIDTH,
    point_size: int = POINT_SIZE,
) -> np.ndarray:
    """``labelme.utils.shape_to_mask``: one shape as an ``img_shape[:2]`` bool mask.

    ``shape_type=None`` means polygon. ``"mask"`` shapes have no points-only form
    (labelme raised too); use :func:`shapes_to_label` for them.
    """
    kind = "polygon" if shape_type is None else shape_type
    if kind not in POINT_COUNTS or kind == "mask":
        raise LabelmeFormatError(f"shape_to_mask: shape_type {shape_type!r} is not supported")
    xy = [(float(p[0]), float(p[1])) for p in points]
    check_point_count(f"shape_to_mask: {kind}", kind, len(xy))
    canvas = Image.new("L", (int(img_shape[1]), int(img_shape[0])), 0)
    draw_shape(ImageDraw.Draw(canvas), kind, xy, 1, line_width, point_size)
    return np.array(canvas, dtype=bool)


def _to_shape(i: int, raw: Mapping[str, Any]) -> Shape:
    for key in ("label", "points"):
        if key not in raw:
            raise LabelmeFormatError(f"shapes_to_label: shape #{i}: missing key \"{key}\"")
    kind = raw.get("shape_type") or "polygon"
    if kind not in POINT_COUNTS:
        raise LabelmeFormatError(f"shapes_to_label: shape #{i}: unknown shape_type {kind!r}")
    check_point_count(f"shapes_to_label: shape #{i} ({kind})", kind, len(raw["points"]))
    mask = raw.get("mask")
    if kind == "mask":
        if isinstance(mask, str):  # a shape dict straight from the JSON file
            mask = decode_mask(f"shapes_to_label: shape #{i} (mask)", mask)
        elif not isinstance(mask, np.ndarray) or mask.ndim != 2:
            raise LabelmeFormatError(
                f"shapes_to_label: shape #{i} (mask): \"mask\" must be a 2-D array or a base64 PNG"
            )
        else:
            mask = mask.astype(bool)
    else:
        mask = None
    return Shape(
        label=raw["label"],
        shape_type=kind,
        points=tuple((float(p[0]), float(p[1])) for p in raw["points"]),
        group_id=raw.get("group_id"),
        mask=mask,
    )


def shapes_to_label(
    img_shape: Sequence[int],
    shapes: Sequence[Mapping[str, Any]],
    label_name_to_value: Mapping[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """``labelme.utils.shapes_to_label`` on labelme's shape dicts: int32 ``(cls, ins)``.

    Same pixels as labelme (see :func:`labeltools.shapes_to_label`). ``mask`` may be
    the decoded bool array (``labelme.LabelFile``) or the base64 PNG from the JSON.
    An unknown label raises :class:`~labeltools.errors.LabelNameError`.
    """
    records = [_to_shape(i, s) for i, s in enumerate(shapes)]
    return _shapes_to_label(img_shape, records, label_name_to_value)
