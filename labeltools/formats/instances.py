"""The object instances of one labelme annotation, as the rasteriser draws them.

COCO and YOLO both describe an image as a list of object instances. This module
is their one definition of what an instance is, so the two formats (and VOC's
``SegmentationObject`` PNG) can never disagree:

* shapes sharing ``(label, group_id)`` form one instance, every shape without a
  ``group_id`` is its own (labelme's rule, the rasteriser's);
* an instance's pixels are the ones the rasteriser gives its id, i.e. JSON order is
  z-order and a later shape (of any label, ``_background_`` and ``__ignore__``
  included) hides what it covers, exactly as in the VOC object PNG;
* only object classes (class value >= 1) are instances; ``_background_`` (0) and
  void (-1: ``__ignore__`` and ``--unknown ignore``) shapes only cut into others;
* an object whose pixels are all hidden (or off the image) has no instance.

``Instance.exact`` says whether the annotated vertices describe the pixels: every
shape is a polygon, a rectangle or an oriented rectangle and no pixel of it is
hidden by a later shape. Formats write vertices for exact instances and fall back
to the pixels (COCO's RLE, YOLO's mask contour) for every other one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..raster import (
    LINE_WIDTH,
    MAX_INDEX_INSTANCES,
    POINT_SIZE,
    count_instances,
    index_canvas,
    shapes_to_label,
)
from .labelme import Shape

__all__ = [
    "POLYGONAL_TYPES",
    "Instance",
    "drawn_pixels",
    "object_instances",
    "shape_polygon",
]

#: Shape types whose points are the vertices of the polygon the rasteriser fills.
POLYGONAL_TYPES = frozenset({"polygon", "rectangle", "oriented_rectangle"})
#: Pixels the rasteriser may paint beyond a shape's points (wide lines, point discs), plus
#: a margin for Pillow's outline and rounding.
_EXTENT_PAD = {"line": LINE_WIDTH / 2 + 2, "linestrip": LINE_WIDTH / 2 + 2, "point": POINT_SIZE + 2}
#: Highest class value an 8-bit canvas holds (255 stands for void, -1).
_MAX_INDEX_VALUE = 254


@dataclass(frozen=True)
class Instance:
    """One object instance: its shapes, class and visible pixels.

    ``bbox`` is ``(x, y, width, height)`` of the visible pixels, tight, in pixels;
    ``crop`` the read-only boolean mask of those pixels inside ``bbox``; ``area``
    their number. ``shapes`` are indices into the annotation's shapes, in z-order.
    """

    label: str
    value: int
    shapes: tuple[int, ...]
    bbox: tuple[int, int, int, int]
    area: int
    exact: bool
    crop: np.ndarray = field(compare=False, repr=False)

    def mask(self, height: int, width: int, order: str = "C") -> np.ndarray:
        """The instance's pixels as a full-size ``(height, width)`` bool array (``order``: numpy's)."""
        out = np.zeros((height, width), dtype=bool, order=order)
        x, y, w, h = self.bbox
        out[y : y + h, x : x + w] = self.crop
        return out


def shape_polygon(shape: Shape) -> list[float]:
    """A polygonal shape's vertices, flat ``[x1, y1, x2, y2, ...]``, as annotated.

    A rectangle becomes its 4 corners from its sorted 2 points (the rasteriser's
    rule), clockwise in image coordinates from the top-left. Raises ``ValueError``
    for shape types without vertices (circle, line, point, linestrip, mask).
    """
    if shape.shape_type == "rectangle":
        (xa, ya), (xb, yb) = shape.points
        x0, x1 = min(xa, xb), max(xa, xb)
        y0, y1 = min(ya, yb), max(ya, yb)
        return [x0, y0, x1, y0, x1, y1, x0, y1]
    if shape.shape_type in POLYGONAL_TYPES:
        return [c for point in shape.points for c in point]
    raise ValueError(
        f"shape_polygon: a {shape.shape_type} shape has no vertices; "
        f"expected one of {', '.join(sorted(POLYGONAL_TYPES))}"
    )


def drawn_pixels(shapes: Sequence[Shape], height: int, width: int) -> int:
    """How many pixels ``shapes`` cover when drawn alone (their union), as the rasteriser does."""
    # The full image, not a canvas around the shapes: Pillow's polygon fill can differ
    # by a pixel when the same polygon is drawn moved on a smaller canvas. Only the
    # counting is cut down, to the drawing's own bounding box.
    img, _ = index_canvas((height, width), shapes, {s.label: 1 for s in shapes})
    box = img.getbbox()  # every shape has an id > 0
    if box is None:
        return 0
    left, top, right, bottom = box
    return (right - left) * (bottom - top) - img.crop(box).histogram()[0]


class _InstanceMap:
    """The rasteriser's instance ids (0 = no shape): an 8-bit canvas when they fit, else int32."""

    def __init__(self, shapes: Sequence[Shape], values: Mapping[str, int], height: int,
                 width: int, source: object = None) -> None:
        fits = count_instances(shapes) <= MAX_INDEX_INSTANCES and all(
            -1 <= values[s.label] <= _MAX_INDEX_VALUE for s in shapes
        )
        if fits:
            self.ids = np.asarray(index_canvas((height, width), shapes, values, source=source)[0])
        else:
            self.ids = shapes_to_label((height, width), shapes, values, source=source)[1]

    def pixels(
        self, windows: Sequence[tuple[int, int, int, int]]
    ) -> list[tuple[int, int, np.ndarray]]:
        """``(x0, y0, mask)`` of instance id ``i + 1``'s pixels for each window ``i``.

        Each id is looked for in its window only (``(x0, y0, x1, y1)``, where its shapes
        may paint: full-size passes per instance cost more than the rest of its work).
        Every id is listed, so the windows hold all the pixels iff the masks count every
        painted pixel; if they do not (a window too small), the whole image is searched.
        """
        found = [(x0, y0, self.ids[y0:y1, x0:x1] == ins_id)
                 for ins_id, (x0, y0, x1, y1) in enumerate(windows, start=1)]
        if sum(int(np.count_nonzero(m)) for _, _, m in found) != np.count_nonzero(self.ids):
            found = [(0, 0, self.ids == ins_id) for ins_id in range(1, len(windows) + 1)]
        return found


def _tight(x0: int, y0: int, mask: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """``(x, y, w, h)`` of a non-empty mask placed at ``(x0, y0)``, and the mask cut to it."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    left, right = int(cols[0]), int(cols[-1]) + 1
    crop = np.ascontiguousarray(mask[top:bottom, left:right])
    return (x0 + left, y0 + top, right - left, bottom - top), crop


def _window(
    extents: Sequence[tuple[float, float, float, float]], idx: Sequence[int], height: int,
    width: int,
) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: the part of the image that holds every pixel shapes ``idx`` may paint."""
    x0 = min(extents[i][0] for i in idx)
    y0 = min(extents[i][1] for i in idx)
    x1 = max(extents[i][2] for i in idx)
    y1 = max(extents[i][3] for i in idx)
    if not all(map(math.isfinite, (x0, y0, x1, y1))):
        return 0, 0, width, height  # a mask patch, or coordinates no box can hold
    return (
        min(max(math.floor(x0), 0), width),
        min(max(math.floor(y0), 0), height),
        min(max(math.ceil(x1) + 1, 0), width),
        min(max(math.ceil(y1) + 1, 0), height),
    )


def _extent(shape: Shape) -> tuple[float, float, float, float]:
    """A box that holds every pixel the rasteriser may paint for ``shape`` (generous)."""
    if shape.shape_type == "mask":
        return (-math.inf, -math.inf, math.inf, math.inf)  # its patch size is not in its points
    xs = [x for x, _ in shape.points]
    ys = [y for _, y in shape.points]
    if shape.shape_type == "circle":
        (cx, cy), (px, py) = shape.points
        r = math.hypot(cx - px, cy - py)
        xs, ys = [cx - r, cx + r], [cy - r, cy + r]
    pad = _EXTENT_PAD.get(shape.shape_type, 2.0)
    return (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)


def _may_overlap(
    shapes: Sequence[Shape], idx: Sequence[int], extents: Sequence[tuple[float, ...]]
) -> bool:
    """Whether a shape drawn after one of ``idx`` (and not in it) may touch its pixels."""
    mine = set(idx)
    for i in idx:
        ax0, ay0, ax1, ay1 = extents[i]
        for j in range(i + 1, len(shapes)):
            if j in mine:
                continue
            bx0, by0, bx1, by1 = extents[j]
            if bx0 <= ax1 and ax0 <= bx1 and by0 <= ay1 and ay0 <= by1:
                return True
    return False


def object_instances(
    shapes: Sequence[Shape],
    values: Mapping[str, int],
    height: int,
    width: int,
    *,
    source: object = None,
) -> tuple[list[Instance], int]:
    """The object instances of ``shapes`` on a ``height`` x ``width`` image.

    ``values`` maps every label to its class value (-1 void, 0 background, >= 1 an
    object class), as :class:`labeltools.formats.base.Item` carries it. Returns the
    instances in order of first appearance (the object PNG's ids) and the number of
    object instances left out because none of their pixels is visible. ``source``
    (the JSON file) only prefixes error messages.
    """
    canvas = _InstanceMap(shapes, values, height, width, source=source)
    members: dict[tuple[object, ...], list[int]] = {}
    for i, s in enumerate(shapes):
        members.setdefault((i,) if s.group_id is None else (s.label, s.group_id), []).append(i)
    extents = [_extent(s) for s in shapes]
    groups = list(members.values())
    found = canvas.pixels([_window(extents, idx, height, width) for idx in groups])
    out: list[Instance] = []
    hidden = 0
    for idx, (x0, y0, mask) in zip(groups, found):
        label = shapes[idx[0]].label
        value = int(values[label])
        if value < 1:
            continue
        area = int(np.count_nonzero(mask))
        if area == 0:
            hidden += 1
            continue
        bbox, crop = _tight(x0, y0, mask)
        crop.flags.writeable = False
        own = [shapes[i] for i in idx]
        exact = all(s.shape_type in POLYGONAL_TYPES for s in own) and (
            # Nothing can hide it when no later shape of another instance comes near it;
            # else nothing hides it iff the instance alone covers no more than it shows.
            not _may_overlap(shapes, idx, extents)
            or drawn_pixels(own, height, width) == area
        )
        out.append(
            Instance(
                label=label,
                value=value,
                shapes=tuple(idx),
                bbox=bbox,
                area=area,
                exact=exact,
                crop=crop,
            )
        )
    return out, hidden
