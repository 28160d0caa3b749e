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

import itertools
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


#: Coordinates further than this many canvas sizes outside the canvas are clipped first:
#: Pillow draws nothing at all for a polygon corner beyond 2**31 or a circle of radius
#: 1e9 (issue 10), where the shape covers the image. Nearer shapes are drawn as given,
#: so every ordinary label stays pixel-exact with labelme.
_FAR_CANVASES = 4


_CLIPPED_TYPES = ("circle", "rectangle", "polygon", "oriented_rectangle", "line", "linestrip",
                  "point")


def _clip_polygon(
    xy: Sequence[tuple[float, float]], box: tuple[float, float, float, float]
) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: ``xy`` clipped to ``box`` (x0, y0, x1, y1). The new corners lie
    on the box's edges, outside the canvas, so no pixel inside it changes."""
    x0, y0, x1, y1 = box
    edges = (
        (lambda p: p[0] >= x0, lambda p, q: (x0, p[1] + (q[1] - p[1]) * (x0 - p[0]) / (q[0] - p[0]))),
        (lambda p: p[0] <= x1, lambda p, q: (x1, p[1] + (q[1] - p[1]) * (x1 - p[0]) / (q[0] - p[0]))),
        (lambda p: p[1] >= y0, lambda p, q: (p[0] + (q[0] - p[0]) * (y0 - p[1]) / (q[1] - p[1]), y0)),
        (lambda p: p[1] <= y1, lambda p, q: (p[0] + (q[0] - p[0]) * (y1 - p[1]) / (q[1] - p[1]), y1)),
    )
    points = list(xy)
    for inside, cross in edges:
        if not points:
            break
        out = []
        for i, q in enumerate(points):
            p = points[i - 1]
            if inside(q):
                if not inside(p):
                    out.append(cross(p, q))
                out.append(q)
            elif inside(p):
                out.append(cross(p, q))
        points = out
    return points


def _clip_segment(
    p: tuple[float, float], q: tuple[float, float], box: tuple[float, float, float, float]
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Liang-Barsky: the part of segment ``pq`` inside ``box``, or None."""
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for den, num in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if den == 0:
            if num < 0:
                return None
            continue
        t = num / den
        if den < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (p[0] + t0 * dx, p[1] + t0 * dy), (p[0] + t1 * dx, p[1] + t1 * dy)


def _draw_far_shape(
    draw: ImageDraw.ImageDraw,
    shape_type: str,
    xy: Sequence[tuple[float, float]],
    value: int,
    line_width: int,
    point_size: int,
    size: tuple[int, int],
) -> bool:
    """Draw a shape that reaches far outside the canvas, clipped; False if it does not."""
    if shape_type not in _CLIPPED_TYPES:
        return False
    w, h = size
    reach = _FAR_CANVASES * max(w, h, 1)
    if not xy:
        return False
    # map(abs, chain(...)): the largest |coordinate| without a Python loop (every shape
    # is drawn through here, polygons of hundreds of points included).
    furthest = max(map(abs, itertools.chain.from_iterable(xy)))
    if shape_type == "circle":
        (cx, cy), (px, py) = xy
        furthest = max(furthest, math.hypot(cx - px, cy - py) + max(abs(cx), abs(cy)))
    if furthest <= reach:
        return False
    margin = float(line_width + point_size + 2)
    box = (-margin, -margin, w + margin, h + margin)
    if shape_type == "circle":
        # Pixel centres within the radius: at this size Pillow's ellipse is that disc.
        (cx, cy), (px, py) = xy
        r = math.hypot(cx - px, cy - py)
        ys, xs = np.mgrid[0:h, 0:w]
        inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r
        draw.bitmap((0, 0), Image.fromarray(inside.astype(np.uint8) * 255, "L"), fill=value)
    elif shape_type == "rectangle":
        (x0, y0), (x1, y1) = xy
        lo_x, hi_x = sorted((min(max(x0, box[0]), box[2]), min(max(x1, box[0]), box[2])))
        lo_y, hi_y = sorted((min(max(y0, box[1]), box[3]), min(max(y1, box[1]), box[3])))
        draw.rectangle(((lo_x, lo_y), (hi_x, hi_y)), outline=value, fill=value)
    elif shape_type in ("polygon", "oriented_rectangle"):
        clipped = _clip_polygon(xy, box)
        if len(clipped) >= 2:
            draw.polygon(clipped, outline=value, fill=value)
    elif shape_type in ("line", "linestrip"):
        for p, q in zip(xy, xy[1:]):
            piece = _clip_segment(p, q, box)
            if piece is not None:
                draw.line(list(piece), fill=value, width=line_width)
    # A far point (a disc of radius point_size) is entirely outside: nothing to draw.
    return True


def draw_shape(
    draw: ImageDraw.ImageDraw,
    shape_type: str,
    xy: Sequence[tuple[float, float]],
    value: int,
    line_width: int = LINE_WIDTH,
    point_size: int = POINT_SIZE,
) -> None:
    """Draw one non-mask shape with ``value``: labelme's ``shape_to_mask`` geometry.

    A shape reaching far outside the canvas (coordinates beyond 2**31, a circle of
    radius 1e9) is clipped to the canvas first, so what covers the image is drawn.
    """
    if _draw_far_shape(draw, shape_type, xy, value, line_width, point_size, draw.im.size):
        return
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
