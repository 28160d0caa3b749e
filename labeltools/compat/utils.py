"""``labelme.utils`` of labelme 4.x and 5.x, plus 3.x's drawing helpers.

``from labelme import utils`` becomes ``from labeltools.compat import utils``. Where
labelme 3.x differs (``shapes_to_label`` returned one array, ``lblsave`` wrote a
255-colour palette), :mod:`labeltools.compat.labelme3` has the 3.x behaviour.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ..constants import IGNORE_INDEX
from ..errors import LabelmeFormatError, LabelNameError, LabelValueError
from ..formats.labelme import POINT_COUNTS, Shape, check_point_count, decode_mask
from ..io.labelpng import lblsave as _lblsave
from ..raster import LINE_WIDTH, POINT_SIZE, draw_shape
from ._draw import draw_instances, draw_label, label2rgb, label_colormap
from ._image import (
    apply_exif_orientation,
    img_arr_to_b64,
    img_arr_to_data,
    img_b64_to_arr,
    img_data_to_arr,
    img_data_to_pil,
    img_data_to_png_data,
    img_pil_to_data,
)

__all__ = [
    "apply_exif_orientation",
    "draw_instances",
    "draw_label",
    "img_arr_to_b64",
    "img_arr_to_data",
    "img_b64_to_arr",
    "img_data_to_arr",
    "img_data_to_pil",
    "img_data_to_png_data",
    "img_pil_to_data",
    "label2rgb",
    "label_colormap",
    "labelme_shapes_to_label",
    "lblsave",
    "masks_to_bboxes",
    "polygons_to_mask",
    "shape_to_mask",
    "shapes_to_label",
]

#: labelme 3.x's ``shapes_to_label(..., type=...)`` values.
_LABEL_TYPES = ("class", "instance")


def lblsave(filename: str | os.PathLike[str], lbl: np.ndarray) -> None:
    """``labelme.utils.lblsave``: a VOC palette PNG of class indices in [-1, 254].

    ``-1`` (ignore) is stored as 255, ``.png`` is appended when missing, and any
    value outside [-1, 254] raises :class:`~labeltools.errors.LabelValueError`
    (a ``ValueError``, as labelme raised), uint8 255 included: that was labelme's
    contract. :func:`labeltools.lblsave` also accepts uint8 255. The bytes are
    labelme 4.x/5.x's (256-colour palette, Pillow's default compression).
    """
    arr = np.asarray(lbl)
    if arr.dtype == np.uint8 and arr.size and int(arr.max()) >= IGNORE_INDEX:
        raise LabelValueError(
            f"{filename}: label values must be in [-1, 254] (labelme's lblsave contract), got "
            f"min {int(arr.min())}, max {int(arr.max())}; labeltools.lblsave stores uint8 255"
        )
    _lblsave(filename, arr)


def _draw(draw: ImageDraw.ImageDraw, kind: str, xy, line_width: int, point_size: int) -> None:
    if kind == "linestrip":
        # labelme.utils (every release) draws plain joints; labeltools' own rasteriser
        # follows labelme's newer converter and rounds them.
        draw.line(xy, fill=1, width=line_width)
    else:
        draw_shape(draw, kind, xy, 1, line_width, point_size)


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
    _draw(ImageDraw.Draw(canvas), kind, xy, line_width, point_size)
    return np.array(canvas, dtype=bool)


def polygons_to_mask(
    img_shape: Sequence[int], polygons: Sequence[Sequence[float]], shape_type: str | None = None
) -> np.ndarray:
    """``labelme.utils.polygons_to_mask`` (deprecated there): :func:`shape_to_mask`."""
    return shape_to_mask(img_shape, polygons, shape_type)


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


def _shape_mask(img_shape: Sequence[int], i: int, shape: Shape) -> np.ndarray:
    if shape.shape_type != "mask":
        return shape_to_mask(img_shape, shape.points, shape.shape_type)
    # labelme 5.x: the patch fills the box of its two points, truncated to int.
    assert shape.mask is not None
    mask = np.zeros(tuple(int(v) for v in img_shape[:2]), dtype=bool)
    (x1, y1), (x2, y2) = np.asarray(shape.points).astype(int).tolist()
    try:
        mask[y1 : y2 + 1, x1 : x2 + 1] = shape.mask
    except ValueError:
        box = mask[y1 : y2 + 1, x1 : x2 + 1].shape
        raise LabelmeFormatError(
            f"shapes_to_label: shape #{i} (mask): the {shape.mask.shape[0]}x{shape.mask.shape[1]} "
            f"patch does not fit its {box[0]}x{box[1]} box ({x1}, {y1})-({x2}, {y2}) in the image"
        ) from None
    return mask


def _class_value(
    i: int, shape: Shape, name: str, label_name_to_value: Mapping[str, int]
) -> int:
    if name not in label_name_to_value:
        known = ", ".join(repr(k) for k in label_name_to_value)
        what = f"label {name!r}" if name == shape.label else f"class {name!r} of label {shape.label!r}"
        raise LabelNameError(
            f"shape #{i} ({shape.shape_type}): {what} is not in the label list ({known})"
        )
    return label_name_to_value[name]


def shapes_to_label(
    img_shape: Sequence[int],
    shapes: Sequence[Mapping[str, Any]],
    label_name_to_value: Mapping[str, int],
    type: str | None = None,  # noqa: A002 - labelme 3.x's parameter name
) -> Any:
    """``labelme.utils.shapes_to_label`` on labelme's shape dicts, shape by shape as labelme.

    Without ``type`` (labelme >= 4): int32 ``(cls, ins)``, instances keyed by
    ``(label, group_id)`` (every shape without a group_id its own), ids from 1 in
    order of first appearance. With labelme 3.x's ``type="class"``: ``cls`` alone;
    ``type="instance"``: ``(cls, ins)`` with 3.x's rule (label ``"cat-2"`` is class
    ``cat``, instance ``"cat-2"``). ``mask`` may be the decoded bool array
    (``labelme.LabelFile``) or the base64 PNG from the JSON. An unknown label raises
    :class:`~labeltools.errors.LabelNameError`.
    """
    if type is not None and type not in _LABEL_TYPES:
        raise ValueError(f"shapes_to_label: type must be 'class' or 'instance', got {type!r}")
    records = [_to_shape(i, s) for i, s in enumerate(shapes)]
    v3_instance = type == "instance"
    names = [r.label.split("-")[0] if v3_instance else r.label for r in records]
    values = [_class_value(i, r, n, label_name_to_value) for i, (r, n) in enumerate(zip(records, names))]
    cls = np.zeros(tuple(int(v) for v in img_shape[:2]), dtype=np.int32)
    ins = np.zeros_like(cls)
    # 3.x counted instance names after "_background_" (id 0); 4.x+ counts from 1.
    instances: dict[Any, int] = {"_background_": 0} if v3_instance else {}
    first = len(instances) == 0
    for i, (record, value) in enumerate(zip(records, values)):
        if v3_instance:
            key: Any = record.label
        else:
            key = (i,) if record.group_id is None else (record.label, record.group_id)
        ins_id = instances.setdefault(key, len(instances) + first)
        mask = _shape_mask(img_shape, i, record)
        cls[mask] = value
        ins[mask] = ins_id
    if type == "class":
        return cls
    return cls, ins


def labelme_shapes_to_label(
    img_shape: Sequence[int], shapes: Sequence[Mapping[str, Any]]
) -> tuple[np.ndarray, dict[str, int]]:
    """``labelme.utils.labelme_shapes_to_label`` (deprecated there): ``(cls, name -> value)``.

    Values are ``_background_`` = 0, then each label in order of first appearance.
    """
    label_name_to_value = {"_background_": 0}
    for i, shape in enumerate(shapes):
        if "label" not in shape:
            raise LabelmeFormatError(f"labelme_shapes_to_label: shape #{i}: missing key \"label\"")
        label_name_to_value.setdefault(shape["label"], len(label_name_to_value))
    cls, _ = shapes_to_label(img_shape, shapes, label_name_to_value)
    return cls, label_name_to_value


def masks_to_bboxes(masks: np.ndarray) -> np.ndarray:
    """``labelme.utils.masks_to_bboxes``: ``(N, H, W)`` bool -> float32 ``(N, 4)`` boxes.

    Each box is ``(y1, x1, y2, x2)``, ``y2``/``x2`` exclusive. An empty mask raises
    ``ValueError`` (labelme raised one from numpy).
    """
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"masks.ndim must be 3, but it is {masks.ndim}")
    if masks.dtype != bool:
        raise ValueError(f"masks.dtype must be bool type, but it is {masks.dtype}")
    bboxes = []
    for i, mask in enumerate(masks):
        where = np.argwhere(mask)
        if not len(where):
            raise ValueError(f"masks_to_bboxes: mask #{i} is empty: it has no box")
        (y1, x1), (y2, x2) = where.min(0), where.max(0) + 1
        bboxes.append((y1, x1, y2, x2))
    return np.asarray(bboxes, dtype=np.float32)
