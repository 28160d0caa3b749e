"""Class and instance maps -> labelme shapes that json2voc redraws into the same maps.

The inverse of :mod:`labeltools`' rasteriser, for ``voc2json``. Pure functions on
NumPy arrays; the result is a list of JSON-ready labelme shape dicts.

* Every connected region (8-connected, as OpenCV traces contours) of an instance
  becomes one shape; the parts of one instance share its ``group_id`` (its id in the
  object map). Without an object map, every region of a class is its own shape.
* ``"mask"``: labelme's mask shape, a 2-point box (inclusive corners) and a base64
  PNG of the region inside it: exact by construction.
* ``"polygon"``: the outer contour (``cv2.findContours`` with a hierarchy, so holes
  are known), simplified by ``cv2.approxPolyDP`` with ``epsilon`` pixels. Holes are
  filled; what lies in a hole is drawn after the polygon around it.
* ``"auto"``: a polygon when the region has no hole and the polygon redraws it pixel
  for pixel (checked with the rasteriser's own rule, Pillow's ``polygon`` with outline
  and fill): the simplified one, else the unsimplified contour; otherwise a mask.

JSON order is z-order *and* instance numbering: json2voc numbers instances in order
of first appearance and zeroes void ones. So the shapes are emitted in instance-id
order, and an id the object map skips (a void shape or a covered one took it in the
original file) is taken again by an ``__ignore__`` shape: a void region when one is
left, else a one-pixel placeholder under the next instance, which then covers it.
With exact shapes no two shapes overlap, so that order redraws both maps exactly.
In polygon mode, when a hole forces an instance ahead of lower-numbered ones, each of
those is announced first by a one-pixel mask of itself, which its polygon paints again.
"""

from __future__ import annotations

import base64
import heapq
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .constants import BACKGROUND_NAME, IGNORE_INDEX, IGNORE_NAME
from .errors import LabeltoolsError

__all__ = [
    "DEFAULT_EPSILON",
    "MissingDependencyError",
    "SHAPE_MODES",
    "maps_to_shapes",
    "mask_shape",
    "region_shapes",
]

#: ``shape=`` choices.
SHAPE_MODES = ("auto", "polygon", "mask")
#: Default ``approxPolyDP`` tolerance in pixels, chosen by measurement (README): the largest
#: of 0.5, 1, 1.5, 2 whose worst image differs by under 0.5 % after a polygon round trip
#: on sample_data, labelme's example and json2voc's benchmark corpus (0.44 % there).
DEFAULT_EPSILON = 1.0


class MissingDependencyError(LabeltoolsError, ImportError):
    """An optional dependency a feature needs is not installed."""


def _cv2() -> Any:
    try:
        import cv2  # a large wheel and ~30 ms of import: only voc2json pays for it
    except ImportError:
        raise MissingDependencyError(
            'voc2json traces contours with OpenCV, which is not installed: '
            'pip install "labeltools[voc2json]" (or opencv-python-headless)'
        ) from None
    return cv2


# --------------------------------------------------------------------------- one region


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _b64png(patch: np.ndarray) -> str:
    """A 1-bit greyscale PNG of ``patch``, base64: what Pillow writes for a mode "1" image.

    Written with zlib directly: Pillow's encoder machinery was a sixth of voc2json's time.
    """
    h, w = patch.shape
    rows = np.packbits(patch.astype(bool), axis=1)  # MSB first, as PNG packs its bits
    raw = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()  # filter byte 0 per row
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    png = _PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 6))
    return base64.b64encode(png + _chunk(b"IEND", b"")).decode("ascii")


def _shape(label: str, kind: str, points: list[list[float]], group_id: int | None,
           mask: str | None = None) -> dict[str, Any]:
    return {
        "label": label,
        "points": points,
        "group_id": group_id,
        "description": "",
        "shape_type": kind,
        "flags": {},
        "mask": mask,
    }


def mask_shape(patch: np.ndarray, origin: tuple[int, int], label: str,
               group_id: int | None = None) -> dict[str, Any]:
    """labelme ``mask`` shape of a boolean ``patch`` whose top-left pixel is ``origin`` (x, y).

    The box corners are inclusive pixel coordinates, as labelme writes them.
    """
    if patch.ndim != 2 or patch.size == 0:
        raise ValueError(f"mask_shape: patch must be a non-empty 2-D array, got shape {patch.shape}")
    x, y = origin
    h, w = patch.shape
    points = [[float(x), float(y)], [float(x + w - 1), float(y + h - 1)]]
    return _shape(label, "mask", points, group_id, _b64png(patch))


def _draw_polygon(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """What json2voc paints for this polygon on a ``size`` (w, h) canvas: a bool array."""
    canvas = Image.new("L", size, 0)
    if len(points) < 3:
        points = np.concatenate([points, np.repeat(points[-1:], 3 - len(points), axis=0)])
    # A flat list of ints: Pillow's fastest argument form, the same vertices.
    ImageDraw.Draw(canvas).polygon(points.ravel().tolist(), outline=1, fill=1)
    return np.asarray(canvas, dtype=bool)


@dataclass(frozen=True)
class _Traced:
    outer: np.ndarray  # (N, 2) int contour points in the padded patch's coordinates
    holes: bool


def _trace(padded: np.ndarray) -> _Traced:
    cv2 = _cv2()
    contours, hierarchy = cv2.findContours(padded, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    parents = hierarchy[0][:, 3]
    outer_ids = np.flatnonzero(parents == -1)
    # One 8-connected region has one outer contour; keep the longest if a caller passed more.
    best = max(outer_ids, key=lambda i: len(contours[i]))
    return _Traced(contours[best].reshape(-1, 2), bool((parents != -1).any()))


def _simplify(outer: np.ndarray, epsilon: float) -> np.ndarray:
    if epsilon <= 0 or len(outer) <= 3:
        return outer
    return _cv2().approxPolyDP(outer.reshape(-1, 1, 2), epsilon, True).reshape(-1, 2)


def _polygon_points(pts: np.ndarray, origin: tuple[int, int]) -> list[list[float]]:
    shifted = (pts + (origin[0] - 1, origin[1] - 1)).astype(np.float64)  # the patch was padded
    out = shifted.tolist()
    while len(out) < 3:  # a one- or two-pixel region: labelme polygons need 3 points
        out.append(list(out[-1]))
    return out


@dataclass(frozen=True)
class _Emitted:
    shape: dict[str, Any]
    #: The holes the polygon fills, in the patch frame (polygon mode only): whoever owns
    #: those pixels must be drawn after it. ``None`` when it has none.
    spill: np.ndarray | None = None


def _component_shape(patch: np.ndarray, origin: tuple[int, int], label: str,
                     group_id: int | None, mode: str, epsilon: float) -> _Emitted:
    if mode == "mask":
        return _Emitted(mask_shape(patch, origin, label, group_id))
    padded = np.pad(patch, 1).astype(np.uint8)
    traced = _trace(padded)
    size = (padded.shape[1], padded.shape[0])
    target = padded.astype(bool)
    if mode == "auto":
        if not traced.holes:
            simple = _simplify(traced.outer, epsilon)
            candidates = [simple] if len(simple) == len(traced.outer) else [simple, traced.outer]
            for pts in candidates:
                # Fewer than 3 distinct vertices (a region a pixel or two wide): not a
                # polygon anyone could edit, so a mask.
                if len(pts) >= 3 and np.array_equal(_draw_polygon(pts, size), target):
                    return _Emitted(_shape(label, "polygon", _polygon_points(pts, origin), group_id))
        return _Emitted(mask_shape(patch, origin, label, group_id))
    pts = _simplify(traced.outer, epsilon)
    shape = _shape(label, "polygon", _polygon_points(pts, origin), group_id)
    if not traced.holes:
        return _Emitted(shape)
    # What the polygon fills besides its region: its holes (the simplification's own
    # few pixels of spill over the outline are not worth reordering for).
    spill = _draw_polygon(traced.outer, size) & ~target
    return _Emitted(shape, spill[1:-1, 1:-1] if spill.any() else None)


def _components(
    region: np.ndarray, origin: tuple[int, int] = (0, 0)
) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """The 8-connected parts of a boolean map: ``(patch, (x, y) of its top-left)``, scan order.

    ``origin`` is where ``region[0, 0]`` lies in the image.
    """
    if region.all():  # one rectangle (one pixel, often): nothing to label
        return [(region, origin)] if region.size else []
    n, labels, stats, _ = _cv2().connectedComponentsWithStats(region.view(np.uint8), connectivity=8)
    if n == 2:  # one part, already cropped
        x, y, w, h = (int(v) for v in stats[1, :4])
        if (w, h) == (region.shape[1], region.shape[0]):
            return [(region, origin)]
    out = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        out.append((labels[y : y + h, x : x + w] == i, (origin[0] + x, origin[1] + y)))
    return out


def region_shapes(region: np.ndarray, label: str, group_id: int | None = None, *,
                  shape: str = "auto", epsilon: float = DEFAULT_EPSILON) -> list[dict[str, Any]]:
    """labelme shapes for a boolean ``(H, W)`` map: one per 8-connected part, scan order.

    ``shape`` is one of :data:`SHAPE_MODES`; ``epsilon`` the polygon tolerance in pixels.
    """
    _check_mode(shape, epsilon)
    region = np.ascontiguousarray(region, dtype=bool)
    if region.ndim != 2:
        raise ValueError(f"region_shapes: region must be a 2-D array, got shape {region.shape}")
    if not region.any():
        return []
    return [
        _component_shape(patch, origin, label, group_id, shape, epsilon).shape
        for patch, origin in _components(*_crop(region))
    ]


def _check_mode(shape: str, epsilon: float) -> None:
    if shape not in SHAPE_MODES:
        raise ValueError(f"shape must be one of {', '.join(SHAPE_MODES)}, got {shape!r}")
    if not (isinstance(epsilon, (int, float)) and epsilon >= 0):
        raise ValueError(f"epsilon must be a number of pixels >= 0, got {epsilon!r}")


# --------------------------------------------------------------------------- one image


@dataclass(frozen=True)
class _Unit:
    """Pixels that become shapes with one label and one group_id, in emission order."""

    label: str
    group_id: int | None
    region: np.ndarray  # bool, cropped to its pixels' bounding box
    origin: tuple[int, int]  # (x, y) of region[0, 0] in the image
    #: A one-pixel placeholder: always a mask shape, whatever the mode.
    placeholder: bool = False


def _class_label(names: Sequence[str], value: int) -> str:
    if value == IGNORE_INDEX:
        return IGNORE_NAME
    if value == 0:
        return BACKGROUND_NAME
    if value >= len(names):
        raise ValueError(f"class value {value} has no name ({len(names)} class names, 0..{len(names) - 1})")
    return names[value]


def _crop(where: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """``where`` cut to the bounding box of its True pixels (which must exist), and its origin."""
    x, y, w, h = _cv2().boundingRect(where.view(np.uint8))
    return where[y : y + h, x : x + w], (x, y)


def _present(values: np.ndarray) -> list[int]:
    return np.flatnonzero(np.bincount(values.ravel(), minlength=1)).tolist()


def _units(cls: np.ndarray, obj: np.ndarray | None, names: Sequence[str]) -> list[_Unit]:
    void = cls == IGNORE_INDEX
    void_parts = _components(*_crop(void)) if void.any() else []
    if obj is None:
        units = []
        for c in _present(cls):
            if c not in (0, IGNORE_INDEX):
                units.append(_Unit(_class_label(names, c), None, *_crop(cls == c)))
        units += [_Unit(IGNORE_NAME, None, patch, origin) for patch, origin in void_parts]
        return units
    # 255 in a VOC object map is a void border: no instance there.
    inst = np.where(void | (obj == IGNORE_INDEX), 0, obj)
    ids = [k for k in _present(inst) if k]
    grouped: dict[int, list[_Unit]] = {}
    for k in ids:
        region, (x, y) = _crop(inst == k)
        h, w = region.shape
        cls_crop = cls[y : y + h, x : x + w]
        classes = _present(cls_crop[region])
        if len(classes) == 1:  # the rule: one instance, one class
            grouped[k] = [_Unit(_class_label(names, classes[0]), k, region, (x, y))]
            continue
        for c in classes:  # a foreign map: json2voc will number these parts apart
            part, (px, py) = _crop(region & (cls_crop == c))
            grouped.setdefault(k, []).append(_Unit(_class_label(names, c), k, part, (x + px, y + py)))
    # Gaps: ids json2voc must hand out without painting them (see the module docstring).
    top = ids[-1] if ids else 0
    gaps = [k for k in range(1, top + 1) if k not in grouped]
    for j, k in enumerate(gaps):
        if void_parts:
            take = void_parts if j == len(gaps) - 1 else void_parts[:1]
            void_parts = void_parts[len(take) :]
            grouped[k] = [_Unit(IGNORE_NAME, k, patch, origin) for patch, origin in take]
        else:  # the first pixel of the next instance, which then paints over it
            nxt = grouped[min(i for i in ids if i > k)][0]
            y, x = np.argwhere(nxt.region)[0].tolist()
            pixel = np.ones((1, 1), bool)
            origin = (nxt.origin[0] + x, nxt.origin[1] + y)
            grouped[k] = [_Unit(IGNORE_NAME, k, pixel, origin, placeholder=True)]
    units = [unit for k in range(1, top + 1) for unit in grouped[k]]
    # Labelled pixels outside every instance: json2voc will give them ids of their own.
    loose = (inst == 0) & ~void & (cls != 0)
    if loose.any():
        for c in _present(cls[loose]):
            units.append(_Unit(_class_label(names, c), None, *_crop(loose & (cls == c))))
    units += [_Unit(IGNORE_NAME, None, patch, origin) for patch, origin in void_parts]
    return units


def maps_to_shapes(
    class_map: np.ndarray,
    object_map: np.ndarray | None = None,
    names: Sequence[str] = (),
    *,
    shape: str = "auto",
    epsilon: float = DEFAULT_EPSILON,
) -> list[dict[str, Any]]:
    """labelme shapes, in JSON order, that json2voc redraws into ``class_map`` / ``object_map``.

    ``class_map``: ``(H, W)`` class indices, 255 = void (``__ignore__`` shapes);
    ``object_map``: instance ids of the same size (0 = none, 255 = void border) or
    ``None``; ``names[i]``: the label of class ``i`` (class 0 is ``_background_``).
    With ``shape="mask"`` or ``"auto"`` the round trip is exact; ``"polygon"`` is
    within ``epsilon`` of each region's outline and fills its holes.
    """
    _check_mode(shape, epsilon)
    cls = np.asarray(class_map)
    if cls.ndim != 2 or cls.dtype.kind not in "ui":
        raise ValueError(f"class_map must be a 2-D integer array, got {cls.dtype} {cls.shape}")
    obj = None
    if object_map is not None:
        obj = np.asarray(object_map)
        if obj.shape != cls.shape or obj.dtype.kind not in "ui":
            raise ValueError(
                f"object_map must be an integer array of the class map's shape {cls.shape}, "
                f"got {obj.dtype} {obj.shape}"
            )
    emitted: list[tuple[_Emitted, tuple[int, int], np.ndarray]] = []
    for unit in _units(cls, obj, names):
        for patch, origin in _components(unit.region, unit.origin):
            mode = "mask" if unit.placeholder else shape
            em = _component_shape(patch, origin, unit.label, unit.group_id, mode, epsilon)
            emitted.append((em, origin, patch))
    if shape != "polygon":
        return [em.shape for em, _, _ in emitted]
    return _keep_numbering([em.shape for em, _, _ in emitted], _covered_first(emitted, cls.shape))


def _keep_numbering(shapes: Sequence[dict[str, Any]], order: Sequence[int]) -> list[dict[str, Any]]:
    """``shapes`` in ``order``, plus what keeps json2voc's instance numbering unchanged.

    json2voc numbers instances by first appearance. When ``order`` brings an instance
    forward (it lies in a hole of a later one), every grouped instance it overtook is
    announced first by a one-pixel mask of itself, at its polygon's first vertex,
    which that polygon paints again later.
    """
    def key(i: int) -> tuple[Any, ...]:
        s = shapes[i]
        return (i,) if s["group_id"] is None else (s["label"], s["group_id"])

    expected = list(dict.fromkeys(key(i) for i in range(len(shapes))))
    first = {}
    for i in range(len(shapes)):
        first.setdefault(key(i), i)
    appeared: set[tuple[Any, ...]] = set()
    out: list[dict[str, Any]] = []
    pos = 0
    for i in order:
        k = key(i)
        if k not in appeared:
            while pos < len(expected) and expected[pos] in appeared:
                pos += 1
            while pos < len(expected) and expected[pos] != k:
                kk = expected[pos]
                if len(kk) == 2:  # grouped: a pixel of its own reserves its number
                    s = shapes[first[kk]]
                    x, y = (int(v) for v in s["points"][0])
                    out.append(mask_shape(np.ones((1, 1), bool), (x, y), s["label"], s["group_id"]))
                    appeared.add(kk)
                pos += 1
            appeared.add(k)
        out.append(shapes[i])
    return out


def _covered_first(
    emitted: Sequence[tuple[_Emitted, tuple[int, int], np.ndarray]], size: tuple[int, int]
) -> list[int]:
    """Emission order in which a polygon comes before every region it paints over.

    A polygon fills its region's holes (and, simplified, spills over its outline): the
    regions there must be drawn after it. Otherwise the order stays the emission
    order (instance ids), the smallest ready shape first.
    """
    n = len(emitted)
    owner = np.full(size, -1, dtype=np.int32)
    for i, (_, (x, y), patch) in enumerate(emitted):
        h, w = patch.shape
        owner[y : y + h, x : x + w][patch] = i
    after: list[set[int]] = [set() for _ in range(n)]
    indegree = [0] * n
    for i, (em, (x, y), patch) in enumerate(emitted):
        if em.spill is None:
            continue
        h, w = patch.shape
        for j in np.unique(owner[y : y + h, x : x + w][em.spill]).tolist():
            if j >= 0 and j != i and j not in after[i]:
                after[i].add(j)
                indegree[j] += 1
    ready = [i for i in range(n) if indegree[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in sorted(after[i]):
            indegree[j] -= 1
            if indegree[j] == 0:
                heapq.heappush(ready, j)
    if len(order) < n:  # polygons spilling onto each other (a cycle): the rest in id order
        placed = set(order)
        order += [i for i in range(n) if i not in placed]
    return order
