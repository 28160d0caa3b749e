"""labelme shapes -> class and instance label arrays, pixel-exact.

The rasteriser reproduces labelme's own ``shapes_to_label`` pixel for pixel. It
follows labelme's current self-contained reference helpers, ``examples/utils.py``
on labelme's main branch (commit 64954cd and the later revision that clips mask
patches), which supersede ``labelme/utils/shape.py`` of labelme 5.x (commit
c628c0e): Pillow ``ImageDraw`` with outline and fill, lines 10 px wide, points as
radius-5 discs, linestrips with rounded (``joint="curve"``) joints, rectangles
from their sorted corners, oriented rectangles as 4-point polygons, and mask
patches placed by their rounded 2-point box and clipped at the image edge
(labelme 5.x truncated the box and crashed on a patch crossing the edge). JSON
order is z-order: a later shape overwrites an earlier one.

Unlike labelme, each shape is drawn straight onto one shared canvas per output
(mode ``"I"`` images drawn with the class or instance value) instead of into a
full-size boolean mask that is then copied: the covered pixels are the same
(tests check it on many random shapes), without two full-size arrays per shape.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .errors import LabelmeFormatError, LabelNameError
from .formats.labelme import POINT_COUNTS, SHAPE_TYPES, Shape, check_point_count, mask_extent

__all__ = [
    "LINE_WIDTH",
    "MAX_INDEX_INSTANCES",
    "POINT_SIZE",
    "count_instances",
    "draw_shape",
    "index_canvas",
    "shapes_to_index",
    "shapes_to_label",
]

PathLike = str | os.PathLike[str]

#: labelme draws lines and linestrips this many pixels wide.
LINE_WIDTH = 10
#: labelme draws a point as a disc of this radius.
POINT_SIZE = 5
#: The range of the int32 label arrays.
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def draw_shape(
    draw: ImageDraw.ImageDraw,
    shape_type: str,
    xy: Sequence[tuple[float, float]],
    value: int,
    line_width: int = LINE_WIDTH,
    point_size: int = POINT_SIZE,
) -> None:
    """Draw one non-mask shape with ``value``: labelme's ``shape_to_mask`` geometry."""
    if shape_type == "circle":
        (cx, cy), (px, py) = xy
        d = math.sqrt((cx - px) ** 2 + (cy - py) ** 2)
        draw.ellipse(((cx - d, cy - d), (cx + d, cy + d)), outline=value, fill=value)
    elif shape_type == "rectangle":
        # Sorted corners: current labelme; Pillow refuses a rectangle given x1 < x0.
        (x0, y0), (x1, y1) = xy
        draw.rectangle(
            ((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))), outline=value, fill=value
        )
    elif shape_type == "line":
        draw.line(list(xy), fill=value, width=line_width)
    elif shape_type == "linestrip":
        # Rounded joints, so a wide line has no notch at its turns (labelme main,
        # examples/utils.py at 64954cd; older releases drew plain joints).
        draw.line(list(xy), fill=value, width=line_width, joint="curve")
    elif shape_type == "point":
        (cx, cy) = xy[0]
        r = point_size
        draw.ellipse(((cx - r, cy - r), (cx + r, cy + r)), outline=value, fill=value)
    elif shape_type in ("polygon", "oriented_rectangle"):
        draw.polygon(list(xy), outline=value, fill=value)
    else:
        raise ValueError(f"shape_type {shape_type!r} has no drawing rule")


def _paste_mask(canvases: Sequence[tuple[Image.Image, int]], shape: Shape) -> None:
    """Paste a mask patch's true pixels onto each canvas, clipped at the image edge."""
    assert shape.mask is not None
    x1, y1, height, width = mask_extent(shape)
    img_w, img_h = canvases[0][0].size
    xs, xe = max(x1, 0), min(x1 + width, img_w)
    ys, ye = max(y1, 0), min(y1 + height, img_h)
    if xs >= xe or ys >= ye:
        return
    patch = shape.mask[ys - y1 : ye - y1, xs - x1 : xe - x1]
    stencil = Image.fromarray(patch.astype(np.uint8) * 255)  # "L": 255 replaces, 0 keeps
    for canvas, value in canvases:
        canvas.paste(value, (xs, ys, xe, ye), stencil)


def _check_rasterise_args(
    caller: str,
    prefix: str,
    img_shape: Sequence[int],
    shapes: Sequence[Shape],
    label_name_to_value: Mapping[str, int],
) -> tuple[int, int]:
    """Check a rasteriser's arguments; return ``(height, width)``.

    Shapes built in code skipped read_labelme's checks: they fail here with a message,
    not with an unpacking error deep inside the drawing.
    """
    if len(img_shape) < 2 or not all(
        isinstance(v, (int, np.integer)) and v > 0 for v in img_shape[:2]
    ):
        raise ValueError(
            f"{caller}: img_shape must start with (height, width) > 0, got {img_shape}"
        )
    for i, shape in enumerate(shapes):
        where = f"{prefix}shape #{i} ({shape.shape_type})"
        if shape.shape_type not in POINT_COUNTS:
            raise LabelmeFormatError(
                f"{prefix}shape #{i}: unknown shape_type {shape.shape_type!r}; "
                f"expected one of {', '.join(SHAPE_TYPES)}"
            )
        check_point_count(where, shape.shape_type, len(shape.points))
        if shape.label not in label_name_to_value:
            known = ", ".join(repr(k) for k in label_name_to_value)
            raise LabelNameError(
                f"{where}: label {shape.label!r} is not in the label list ({known})"
            )
        value = label_name_to_value[shape.label]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
            _INT32_MIN <= value <= _INT32_MAX
        ):
            raise LabelNameError(
                f"the value of label {shape.label!r} must be a 32-bit integer, got {value!r}"
            )
    return int(img_shape[0]), int(img_shape[1])


def shapes_to_label(
    img_shape: Sequence[int],
    shapes: Sequence[Shape],
    label_name_to_value: Mapping[str, int],
    *,
    source: PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise ``shapes`` into int32 ``(class, instance)`` arrays of ``img_shape[:2]``.

    labelme's rules: JSON order is z-order; the class value of a shape is
    ``label_name_to_value[label]`` (``__ignore__`` is usually mapped to -1);
    instances are keyed by ``(label, group_id)``, every shape without a group_id is
    its own instance, and instance ids are 1, 2, ... in order of first appearance
    (0 = no shape). ``source`` (the JSON file) only prefixes error messages.

    An unknown label raises :class:`~labeltools.errors.LabelNameError` naming it.
    """
    prefix = f"{source}: " if source is not None else ""
    height, width = _check_rasterise_args(
        "shapes_to_label", prefix, img_shape, shapes, label_name_to_value
    )

    cls_img = Image.new("I", (width, height), 0)
    ins_img = Image.new("I", (width, height), 0)
    cls_draw = ImageDraw.Draw(cls_img)
    ins_draw = ImageDraw.Draw(ins_img)
    # (label, group_id) -> instance id; an ungrouped shape gets the key (index,), which
    # no 2-tuple equals: labelme gives it a fresh uuid for the same effect.
    instance_ids: dict[tuple[Any, ...], int] = {}
    for i, shape in enumerate(shapes):
        cls_id = int(label_name_to_value[shape.label])
        key = (i,) if shape.group_id is None else (shape.label, shape.group_id)
        ins_id = instance_ids.setdefault(key, len(instance_ids) + 1)
        if shape.shape_type == "mask":
            if shape.mask is None:
                raise LabelmeFormatError(f"{prefix}shape #{i} (mask) has no mask patch")
            try:
                _paste_mask(((cls_img, cls_id), (ins_img, ins_id)), shape)
            except ValueError as exc:
                raise LabelmeFormatError(f"{prefix}shape #{i} (mask): {exc}") from None
        else:
            draw_shape(cls_draw, shape.shape_type, shape.points, cls_id)
            draw_shape(ins_draw, shape.shape_type, shape.points, ins_id)
    return np.array(cls_img, dtype=np.int32), np.array(ins_img, dtype=np.int32)


#: Highest instance id an 8-bit instance map holds (255 is VOC's void).
MAX_INDEX_INSTANCES = 254


def count_instances(shapes: Sequence[Shape]) -> int:
    """How many instance ids :func:`shapes_to_label` gives ``shapes`` (its highest id)."""
    keys = {(i,) if s.group_id is None else (s.label, s.group_id) for i, s in enumerate(shapes)}
    return len(keys)


def shapes_to_index(
    img_shape: Sequence[int],
    shapes: Sequence[Shape],
    label_name_to_value: Mapping[str, int],
    *,
    source: PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shapes_to_label` drawn on 8-bit canvases: uint8 ``(class, instance)`` arrays.

    The same pixels as :func:`shapes_to_label` with ``-1`` stored as 255 (VOC's
    void), i.e. what a label PNG holds, at a quarter of the memory traffic: the
    fast path of json2voc. Class values must be in [-1, 254] and there may be at
    most :data:`MAX_INDEX_INSTANCES` instances; otherwise it raises ``ValueError``
    (use :func:`shapes_to_label`).
    """
    ins_img, class_of = index_canvas(img_shape, shapes, label_name_to_value, source=source)
    return np.array(ins_img.point(class_of)), np.array(ins_img)


def index_canvas(
    img_shape: Sequence[int],
    shapes: Sequence[Shape],
    label_name_to_value: Mapping[str, int],
    *,
    source: PathLike | None = None,
) -> tuple[Image.Image, list[int]]:
    """What :func:`shapes_to_index` draws, before it becomes arrays.

    Returns the instance map as an ``"L"`` image and the 256-entry table from
    instance id to class index (``ins_img.point(class_of)`` is the class map), so a
    caller that only counts or encodes pixels skips two full-size copies.
    """
    prefix = f"{source}: " if source is not None else ""
    height, width = _check_rasterise_args(
        "shapes_to_index", prefix, img_shape, shapes, label_name_to_value
    )
    for shape in shapes:
        value = label_name_to_value[shape.label]
        if not -1 <= value <= 254:
            raise ValueError(
                f"shapes_to_index: class value of {shape.label!r} must be in [-1, 254], got {value}"
            )
    n_instances = count_instances(shapes)
    if n_instances > MAX_INDEX_INSTANCES:
        raise ValueError(
            f"shapes_to_index: {n_instances} instances do not fit 8 bits "
            f"(at most {MAX_INDEX_INSTANCES}); use shapes_to_label"
        )

    # Only the instance map is drawn: both maps cover the same pixels shape by shape,
    # and an instance has one label, so each pixel's class follows from its instance
    # id through a lookup table (Pillow's point(), one pass in C).
    ins_img = Image.new("L", (width, height), 0)
    ins_draw = ImageDraw.Draw(ins_img)
    instance_ids: dict[tuple[Any, ...], int] = {}
    class_of = [0] * 256  # instance id -> class index; id 0 (no shape) is background
    for i, shape in enumerate(shapes):
        key = (i,) if shape.group_id is None else (shape.label, shape.group_id)
        ins_id = instance_ids.setdefault(key, len(instance_ids) + 1)
        class_of[ins_id] = int(label_name_to_value[shape.label]) & 0xFF  # -1 -> 255
        if shape.shape_type == "mask":
            if shape.mask is None:
                raise LabelmeFormatError(f"{prefix}shape #{i} (mask) has no mask patch")
            try:
                _paste_mask(((ins_img, ins_id),), shape)
            except ValueError as exc:
                raise LabelmeFormatError(f"{prefix}shape #{i} (mask): {exc}") from None
        else:
            draw_shape(ins_draw, shape.shape_type, shape.points, ins_id)
    return ins_img, class_of
