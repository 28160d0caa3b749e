"""labelme JSON files -> typed, frozen records (the image each names: :mod:`.labelme_images`).

Reading only validates and types what the JSON says (shapes, points, flags, the
embedded image); turning shapes into label arrays is :mod:`labeltools.raster`.
Every problem raises :class:`~labeltools.errors.LabelmeFormatError` (the JSON) or
:class:`~labeltools.errors.ImageReadError` (its image) with a one-line message naming
the file, the shape and what was expected and found.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import LabelmeFormatError
from ..io.errors import bomb_reason

__all__ = [
    "POINT_COUNTS",
    "SHAPE_TYPES",
    "Annotation",
    "FrozenMapping",
    "Shape",
    "check_point_count",
    "decode_mask",
    "mask_extent",
    "parse_labelme",
    "read_labelme",
]

PathLike = str | os.PathLike[str]

#: Every ``shape_type`` labelme writes.
SHAPE_TYPES = (
    "polygon",
    "rectangle",
    "circle",
    "line",
    "linestrip",
    "point",
    "oriented_rectangle",
    "mask",
)

#: Shape type -> (minimum, maximum) number of points; ``None`` = no upper bound.
POINT_COUNTS: dict[str, tuple[int, int | None]] = {
    "polygon": (3, None),
    "rectangle": (2, 2),
    "circle": (2, 2),
    "line": (2, 2),
    "linestrip": (2, None),
    "point": (1, 1),
    "oriented_rectangle": (4, 4),
    "mask": (2, 2),
}


#: Longest excerpt of an offending value quoted in an error message.
_MAX_SHOWN = 40


class FrozenMapping(Mapping[str, Any]):
    """A read-only, picklable view of a JSON object (``flags``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMapping, (self._data,))


@dataclass(frozen=True)
class Shape:
    """One labelme shape.

    ``mask`` is the boolean patch of a ``"mask"`` shape (read-only), placed with its
    top-left pixel at the first point; ``None`` for every other shape type. It takes
    no part in ``==`` (arrays have no single truth value).
    """

    label: str
    shape_type: str = "polygon"
    points: tuple[tuple[float, float], ...] = ()
    group_id: int | None = None
    flags: Mapping[str, Any] = field(default_factory=FrozenMapping)
    description: str = ""
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Annotation:
    """One labelme JSON file, validated; the photo's pixels are not decoded.

    ``image_path`` is ``imagePath`` as written in the JSON (see :func:`image_source`
    for the file it names); ``image_data`` the bytes of the embedded image file, or
    ``None`` when there is none.
    """

    path: Path
    version: str | None
    flags: Mapping[str, Any]
    shapes: tuple[Shape, ...]
    image_path: str | None
    image_data: bytes | None = field(repr=False)
    image_height: int | None
    image_width: int | None


# --------------------------------------------------------------------------- reading


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__  # pragma: no cover - json only makes the types above


def _show(value: Any) -> str:
    """A short JSON rendering of an offending value for an error message."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):  # pragma: no cover - json.loads output always dumps
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _found(value: Any) -> str:
    """How an error message shows an offending value: scalars as JSON, containers by type."""
    return _json_type(value) if isinstance(value, (list, dict)) else _show(value)


def _field(
    where: str, data: dict[str, Any], key: str, kinds: type | tuple[type, ...], what: str,
    *, required: bool = False,
) -> Any:
    """``data[key]`` if it is one of ``kinds`` (null/absent -> None unless required)."""
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise LabelmeFormatError(f"{where}: \"{key}\" must be {what}, got {_found(value)}")
    return value


#: The exact types JSON numbers decode to (bool is an int subclass, and excluded).
_NUMBER_TYPES = (int, float)


def _b64decode(text: str) -> bytes:
    # labelme writes one unbroken line; tolerate wrapped base64 but nothing else.
    return base64.b64decode("".join(text.split()), validate=True)


def decode_mask(where: str, text: Any) -> np.ndarray:
    if not isinstance(text, str) or not text:
        raise LabelmeFormatError(
            f"{where}: \"mask\" must be a base64 PNG string, got {_found(text)}"
        )
    try:
        raw = _b64decode(text)
    except (binascii.Error, ValueError) as exc:
        raise LabelmeFormatError(f"{where}: \"mask\" is not valid base64 ({exc})") from None
    try:
        with Image.open(io.BytesIO(raw)) as img:
            arr = np.array(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise LabelmeFormatError(f"{where}: \"mask\" is base64 but not a readable image") from None
    except Image.DecompressionBombError as exc:
        raise LabelmeFormatError(f"{where}: the \"mask\" patch {bomb_reason(exc)}") from None
    if arr.ndim != 2:
        raise LabelmeFormatError(
            f"{where}: \"mask\" must be a single-channel image, got shape {arr.shape}"
        )
    # labelme: img_b64_to_arr(mask).astype(bool), i.e. any non-zero pixel is inside.
    patch = arr.astype(bool)
    patch.flags.writeable = False
    return patch


def mask_extent(shape: Shape) -> tuple[int, int, int, int]:
    """Top-left corner and (height, width) a mask patch covers, as labelme computes them.

    labelme rounds the box corners; integer boxes keep its legacy behaviour (the
    box's inclusive extent, cropping a larger patch), fractional boxes use the
    patch's own size so independently rounded corners cannot resize it.
    Raises ``ValueError`` (message without a file) when the patch does not fill
    its integer box, where labelme itself would crash.
    """
    assert shape.mask is not None  # callers check the shape type first
    pts = np.asarray(shape.points, dtype=np.float64)
    (x1, y1), (x2, y2) = pts.round().astype(np.int64).tolist()
    if np.array_equal(pts, np.trunc(pts)):
        height, width = y2 - y1 + 1, x2 - x1 + 1
        ph, pw = shape.mask.shape
        if height < 1 or width < 1 or ph < height or pw < width:
            raise ValueError(
                f"mask patch is {ph}x{pw} (height x width) but its box "
                f"({x1}, {y1})-({x2}, {y2}) needs {height}x{width}"
            )
    else:
        height, width = shape.mask.shape
    return x1, y1, height, width


def check_point_count(where: str, kind: str, n: int) -> None:
    lo, hi = POINT_COUNTS[kind]
    if lo == hi and n != lo:
        raise LabelmeFormatError(f"{where} needs {lo} point{'s' if lo > 1 else ''}, got {n}")
    if n < lo:
        raise LabelmeFormatError(f"{where} needs at least {lo} points, got {n}")


def _read_points(where: str, raw_points: list[Any]) -> list[tuple[float, float]]:
    # The hottest loop of json2voc (tens of thousands of coordinates per second): exact
    # type tests instead of isinstance (JSON gives int, float, bool, str, ...; bool is
    # an int subclass but not a coordinate), and one finiteness test per point.
    points: list[tuple[float, float]] = []
    append = points.append
    for j, pt in enumerate(raw_points):
        if type(pt) is list and len(pt) == 2:
            x, y = pt
            if type(x) in _NUMBER_TYPES and type(y) in _NUMBER_TYPES:
                fx, fy = float(x), float(y)
                # x + y is finite iff both are, unless the sum overflows: look again then.
                if not math.isfinite(fx + fy) and not (math.isfinite(fx) and math.isfinite(fy)):
                    raise LabelmeFormatError(f"{where}: point #{j} is not finite: {_show(pt)}")
                append((fx, fy))
                continue
        raise LabelmeFormatError(f"{where}: point #{j} must be [x, y] numbers, got {_show(pt)}")
    return points


def _read_shape(p: Path, i: int, raw: Any) -> Shape:
    where = f"{p}: shape #{i}"
    if not isinstance(raw, dict):
        raise LabelmeFormatError(f"{where}: expected an object, got {_json_type(raw)}")
    for key in ("label", "points"):
        if key not in raw:
            raise LabelmeFormatError(f"{where}: missing key \"{key}\"")
    label = _field(where, raw, "label", str, "a string", required=True)
    # labelme < 3 wrote no shape_type: everything was a polygon.
    kind = _field(where, raw, "shape_type", str, "a string or null") or "polygon"
    if kind not in POINT_COUNTS:
        raise LabelmeFormatError(
            f"{where}: unknown shape_type {kind!r}; expected one of {', '.join(SHAPE_TYPES)}"
        )
    where = f"{p}: shape #{i} ({kind})"
    raw_points = _field(where, raw, "points", list, "an array of [x, y]", required=True)
    points = _read_points(where, raw_points)
    check_point_count(where, kind, len(points))
    group_id = _field(where, raw, "group_id", int, "an integer or null")
    flags = _field(where, raw, "flags", dict, "an object or null")
    description = _field(where, raw, "description", str, "a string or null")
    mask = None
    if kind == "mask":
        # Other shape types carry "mask": null in labelme's files; their mask is unused.
        if raw.get("mask") is None:
            raise LabelmeFormatError(f"{where}: missing \"mask\" data")
        mask = decode_mask(where, raw["mask"])
    shape = Shape(
        label=label,
        shape_type=kind,
        points=tuple(points),
        group_id=group_id,
        flags=FrozenMapping(flags),
        description=description or "",
        mask=mask,
    )
    if mask is not None:
        try:
            mask_extent(shape)
        except ValueError as exc:
            raise LabelmeFormatError(f"{where}: {exc}") from None
    return shape


def _optional_size(p: Path, data: dict[str, Any], key: str) -> int | None:
    what = "a positive integer or null"
    value = _field(str(p), data, key, int, what)
    if value is not None and value <= 0:
        raise LabelmeFormatError(f"{p}: \"{key}\" must be {what}, got {value}")
    return value


def read_labelme(path: PathLike) -> Annotation:
    """Read and validate a labelme JSON file (the photo itself is not decoded).

    Every problem raises :class:`~labeltools.errors.LabelmeFormatError` with a
    one-line message naming the file, the shape (``shape #i``, counted from 0 as
    in the JSON array) and what was expected and found.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise LabelmeFormatError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise LabelmeFormatError(f"{p}: expected a labelme JSON file, found a directory") from None
    return parse_labelme(p, raw)


def parse_labelme(path: PathLike, raw: bytes) -> Annotation:
    """:func:`read_labelme` on the bytes of ``path``, already read (json2voc hashes them too).

    ``path`` names the file in messages and locates a relative ``imagePath``.
    """
    p = Path(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabelmeFormatError(
            f"{p}: expected UTF-8 JSON, {exc.reason} at byte {exc.start}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelmeFormatError(
            f"{p}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        # json's decoder recurses once per nesting level; no labelme file nests beyond ~5.
        raise LabelmeFormatError(f"{p}: not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise LabelmeFormatError(
            f"{p}: expected a labelme JSON object, got a JSON {_json_type(data)}"
        )
    if "shapes" not in data:
        raise LabelmeFormatError(f"{p}: not a labelme file: no \"shapes\" list")
    where = str(p)
    raw_shapes = _field(where, data, "shapes", list, "an array", required=True)
    version = _field(where, data, "version", str, "a string or null")
    flags = _field(where, data, "flags", dict, "an object or null")
    image_path = _field(where, data, "imagePath", str, "a string or null")
    image_b64 = _field(where, data, "imageData", str, "a base64 string or null")
    image_data = None
    if image_b64:
        try:
            image_data = _b64decode(image_b64)
        except (binascii.Error, ValueError) as exc:
            raise LabelmeFormatError(f"{p}: \"imageData\" is not valid base64 ({exc})") from None
    if image_data is None and not image_path:
        raise LabelmeFormatError(
            f"{p}: no image: \"imageData\" is empty and \"imagePath\" is "
            f"{'missing' if 'imagePath' not in data else _show(image_path)}"
        )
    shapes = tuple(_read_shape(p, i, s) for i, s in enumerate(raw_shapes))
    return Annotation(
        path=p,
        version=version,
        flags=FrozenMapping(flags),
        shapes=shapes,
        image_path=image_path,
        image_data=image_data,
        image_height=_optional_size(p, data, "imageHeight"),
        image_width=_optional_size(p, data, "imageWidth"),
    )
