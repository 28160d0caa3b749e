"""Ultralytics YOLO segmentation: layout, pure conversions and :class:`YoloWriter`.

Layout (Ultralytics' own)::

    OUTPUT_DIR/images/{train,val}/<stem>.jpg
    OUTPUT_DIR/labels/{train,val}/<stem>.txt
    OUTPUT_DIR/data.yaml          path, train, val, names (index -> name)

Class ids are from 0 in labels order without ``_background_`` (class value - 1),
the same in every run. One row per object instance (:mod:`.instances`):
``class x1 y1 ... xn yn``, coordinates normalised by the upright image size and
clipped to [0, 1] (Ultralytics' checker refuses anything outside), at least 3
points; an image without instances gets an empty file (a background image).

* An *exact* instance (polygons / rectangles / oriented rectangles, none of it
  hidden by a later shape) keeps its annotated vertices (a rectangle its 4 corners).
* Every other instance (circles, lines, points, line strips, masks, or cut by a
  later shape) becomes the contour of its rasterised pixels: OpenCV's
  ``findContours`` with a two-level hierarchy (outer boundaries and their holes),
  ``CHAIN_APPROX_SIMPLE`` (straight runs stored by their end points: the filled
  polygon is the same).
* Several parts (a grouped instance, a mask in pieces, an outer boundary and its
  holes) are joined into one row the way Ultralytics' COCO converter joins a
  multi-polygon annotation (``merge_multi_segment``): consecutive parts are linked
  at their closest pair of vertices and the path goes out along the links and back,
  so each link is a zero-width slit. Filled with OpenCV (even-odd), a hole joined
  this way stays a hole. Exact parts that overlap each other would cancel out
  under even-odd filling, so such an instance is written from its contour instead.
* ``parts="split"`` (``--parts split``) writes one row per piece instead: each
  polygon of the instance, or each outer boundary of its pixels with its holes. No
  links are painted, so every row fills back to its piece; Ultralytics then reads
  each piece as an object of its own. An instance in one piece gets the same row
  either way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..constants import YOLO_PARTS
from ..io.files import atomic_write_text
from .instances import Instance, drawn_pixels, object_instances, shape_polygon

if TYPE_CHECKING:
    from ..labels import LabelSet
    from ..splits import Split
    from .base import Finished, Item

__all__ = [
    "DATA_YAML",
    "IMAGES_DIR",
    "LABELS_DIR",
    "PARTS",
    "YoloWriter",
    "chain_order",
    "check_parts",
    "contour_groups",
    "data_yaml",
    "fill_iou",
    "fill_polygon",
    "format_millionths",
    "instance_polygon",
    "instance_polygons",
    "join_parts",
    "mask_contours",
    "yolo_row",
]

IMAGES_DIR = "images"
LABELS_DIR = "labels"
DATA_YAML = "data.yaml"
#: Bump when the bytes written for the same inputs change: old resume records go stale.
OUTPUT_FORMAT = 1
#: Split folders under images/ and labels/ (``test`` only when a split has one).
SPLITS = ("train", "val", "test")
#: How an instance in several pieces becomes rows: joined into one (Ultralytics'
#: merge_multi_segment, the default) or one row per piece.
PARTS = YOLO_PARTS
#: YOLO rows need a polygon of at least this many points.
MIN_POINTS = 3
#: Where a pixel's centre is, from its top-left corner, in labelme's and COCO's coordinates.
PIXEL_CENTRE = 0.5
#: Normalised coordinates are written in millionths (see yolo_row).
_MILLION = 1_000_000
#: Vertices are kept when their filled polygon matches the instance's pixels this well.
VERTEX_MIN_IOU = 0.98
#: More parts than this are joined in the order found (ordering costs k^2 searches).
_MAX_ORDERED = 64
#: Rows of the distance matrix computed at once when looking for the closest vertices.
_CHUNK = 1024
#: Entries of the distance matrix computed at once when ordering the parts.
_BLOCK = 1 << 20


def contour_groups(crop: np.ndarray, offset: tuple[int, int] = (0, 0)) -> list[list[np.ndarray]]:
    """The boundaries of a bool mask, a list per outer boundary: it, then its holes.

    Each boundary is an ``(n, 2)`` float array of pixel coordinates (OpenCV's
    ``RETR_CCOMP`` order); ``offset`` (x, y) is added to every point (the crop's place
    in the image). A piece inside a hole is an outer boundary of its own.
    """
    import cv2

    contours, hierarchy = cv2.findContours(
        np.ascontiguousarray(crop, dtype=np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE,
        offset=(int(offset[0]), int(offset[1])),
    )
    if not contours:
        return []
    tree = hierarchy[0]  # [next, previous, first child, parent] per contour
    groups: list[list[np.ndarray]] = []
    for i in range(len(contours)):
        if tree[i][3] != -1:
            continue  # a hole: listed after its outer boundary
        group = [contours[i].reshape(-1, 2).astype(np.float64)]
        child = tree[i][2]
        while child != -1:
            group.append(contours[child].reshape(-1, 2).astype(np.float64))
            child = tree[child][0]
        groups.append(group)
    return groups


def mask_contours(crop: np.ndarray, offset: tuple[int, int] = (0, 0)) -> list[np.ndarray]:
    """:func:`contour_groups` in one list: each outer boundary followed by its holes."""
    return [c for group in contour_groups(crop, offset) for c in group]


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))``: ``dx ** 2 + dy ** 2`` between every point of ``a`` and of ``b``."""
    # Per coordinate, not ((a - b) ** 2).sum(-1): a sum over an axis of length 2 is
    # NumPy's slowest reduction. The arithmetic (and so every value) is the same.
    dx = a[:, None, 0] - b[None, :, 0]
    dy = a[:, None, 1] - b[None, :, 1]
    dx *= dx
    dy *= dy
    dx += dy
    return dx


def _closest(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """Indices of the closest pair of points between ``a`` and ``b`` (first such pair)."""
    best, best_i, best_j = np.inf, 0, 0
    for start in range(0, len(a), _CHUNK):
        d = _squared_distances(a[start : start + _CHUNK], b)
        k = int(np.argmin(d))
        i, j = divmod(k, d.shape[1])
        if d[i, j] < best:
            best, best_i, best_j = float(d[i, j]), start + i, j
    return best_i, best_j


def _part_distances(parts: Sequence[np.ndarray]) -> np.ndarray:
    """``(k, k)``: the smallest squared distance between a point of part i and one of part j.

    Each part against all the points of the parts after it, then the minimum per part
    (``reduceat``): one search per part rather than one per pair (an instance cut by
    later shapes comes in dozens of small pieces). The values are :func:`_closest`'s.
    """
    k = len(parts)
    ends = np.cumsum([len(p) for p in parts])
    points = np.concatenate(parts)
    dist = np.full((k, k), np.inf)
    for i in range(k - 1):
        later = points[ends[i] :]
        starts = ends[i:-1] - ends[i]  # where each later part begins in ``later``
        best = dist[i, i + 1 :]
        rows = max(1, _BLOCK // len(later))
        for start in range(0, len(parts[i]), rows):
            d = _squared_distances(parts[i][start : start + rows], later)
            np.minimum(best, np.minimum.reduceat(d.min(axis=0), starts), out=best)
    return np.minimum(dist, dist.T)


def chain_order(parts: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``parts`` reordered so each is followed by the closest one left (greedy, from the first).

    Shorter links: each link adds its pixels when the row is filled, and
    Ultralytics' own order (as listed) can criss-cross the image.
    """
    if len(parts) <= 2 or len(parts) > _MAX_ORDERED:
        return list(parts)
    k = len(parts)
    dist = _part_distances(parts).tolist()  # Python floats: k^2 look-ups below
    order = [0]
    left = set(range(1, k))
    while left:
        last = order[-1]
        nxt = min(left, key=lambda j: (dist[last][j], j))
        order.append(nxt)
        left.remove(nxt)
    return [parts[i] for i in order]


def join_parts(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Join polygons into one closed path through zero-width links (Ultralytics' rule).

    Part ``i`` is linked to part ``i + 1`` at their closest vertices; the path walks
    part 0 all the way round, goes out along the links, round the last part, and back
    along the links completing each middle part on the way. Every link is walked once
    each way, so it encloses no area.
    """
    if not parts:
        raise ValueError("join_parts: no parts to join")
    parts = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in parts]
    if len(parts) == 1:
        return parts[0]
    n = len(parts)
    entry = [0] * n  # where the link from the previous part arrives
    exit_ = [0] * n  # where the link to the next part leaves
    for i in range(1, n):
        exit_[i - 1], entry[i] = _closest(parts[i - 1], parts[i])
    forward: list[np.ndarray] = []
    backward: list[np.ndarray] = []
    for i, part in enumerate(parts):
        # Vertex indices counted from the arrival vertex, modulo the ring (mode="wrap").
        start, m = (exit_[0] if i == 0 else entry[i]), len(part)
        if i in (0, n - 1):
            # All the way round, back to the arrival vertex.
            forward.append(part.take(np.arange(start, start + m + 1), axis=0, mode="wrap"))
            continue
        pos = (exit_[i] - start) % m  # the departure vertex
        forward.append(part.take(np.arange(start, start + pos + 1), axis=0, mode="wrap"))
        backward.append(part.take(np.arange(start + pos, start + m + 1), axis=0, mode="wrap"))
    return np.concatenate(forward + backward[::-1])


def _vertex_parts(
    instance: Instance, shapes: Sequence[Any], height: int, width: int
) -> list[np.ndarray] | None:
    """The annotated polygons of an exact instance whose shapes do not overlap, else None."""
    if not instance.exact:
        return None
    own = [shapes[i] for i in instance.shapes]
    # Overlapping parts would cancel out under even-odd filling: use the pixels then.
    if len(own) > 1 and sum(drawn_pixels([s], height, width) for s in own) != instance.area:
        return None
    return [np.asarray(shape_polygon(s), dtype=np.float64).reshape(-1, 2) for s in own]


def _pixel_groups(instance: Instance) -> list[list[np.ndarray]]:
    """:func:`contour_groups` of the instance's pixels, in labelme's coordinates."""
    x, y, _, _ = instance.bbox
    # + 0.5: a contour runs through pixel centres, and in labelme's (and COCO's)
    # coordinates pixel i spans [i, i + 1), so its centre is i + 0.5.
    return [[c + PIXEL_CENTRE for c in group] for group in contour_groups(instance.crop, (x, y))]


def _three_points(path: np.ndarray) -> np.ndarray:
    if len(path) < MIN_POINTS:
        # A one- or two-pixel contour: repeat its points, the filled polygon is the same.
        path = np.concatenate([path] * MIN_POINTS)[:MIN_POINTS]
    return path


def check_parts(parts: str) -> None:
    """Raise ``ValueError`` unless ``parts`` is one of :data:`PARTS`."""
    if parts not in PARTS:
        raise ValueError(f"parts must be one of {', '.join(PARTS)}, got {parts!r}")


def _one_polygon(instance: Instance, vertices: list[np.ndarray] | None, height: int,
                 width: int) -> np.ndarray:
    """The merged row's polygon, from the instance's :func:`_vertex_parts`."""
    parts = vertices
    if parts is not None and fill_iou(join_parts(parts), instance, height, width) < VERTEX_MIN_IOU:
        parts = None  # small or thin: Pillow's and OpenCV's edge pixels differ too much
    if parts is None:
        parts = [c for group in _pixel_groups(instance) for c in group]
    return _three_points(join_parts(chain_order(parts)))


def instance_polygon(
    instance: Instance, shapes: Sequence[Any], height: int, width: int
) -> np.ndarray:
    """The one polygon (``(n, 2)``, pixel coordinates) a YOLO row gives ``instance``."""
    return _one_polygon(instance, _vertex_parts(instance, shapes, height, width), height, width)


def instance_polygons(
    instance: Instance, shapes: Sequence[Any], height: int, width: int, parts: str = "merge"
) -> list[np.ndarray]:
    """The polygons of ``instance``'s rows: ``[instance_polygon(...)]`` for ``"merge"``;
    for ``"split"``, one per piece (an annotated polygon, or an outer boundary of the
    instance's pixels joined with its holes)."""
    check_parts(parts)
    pieces = _vertex_parts(instance, shapes, height, width)
    if parts == "merge" or (pieces is not None and len(pieces) == 1):
        return [_one_polygon(instance, pieces, height, width)]  # one polygon: merge's row
    if pieces is not None and fill_iou(pieces, instance, height, width) < VERTEX_MIN_IOU:
        pieces = None
    if pieces is None:
        pieces = [join_parts(chain_order(group)) for group in _pixel_groups(instance)]
    return [_three_points(p) for p in pieces]


def _filled(polygon: np.ndarray | Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    """:func:`fill_polygon` as a uint8 array (1 inside); a list of polygons: each filled
    on its own (rows are separate objects), 1 inside any."""
    import cv2

    mask = np.zeros((height, width), dtype=np.uint8)
    for one in [polygon] if isinstance(polygon, np.ndarray) else polygon:
        pts = np.asarray(one, dtype=np.float64).reshape(1, -1, 2)
        cv2.fillPoly(mask, pts.astype(np.int32), color=1)
    return mask


def fill_polygon(polygon: np.ndarray | Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    """A polygon filled as Ultralytics fills a row (``polygon2mask``: coordinates truncated
    to int32, ``cv2.fillPoly``): a ``(height, width)`` bool mask. A list of polygons gives
    the union of their fills."""
    return _filled(polygon, height, width).view(bool)


def fill_iou(polygon: np.ndarray | Sequence[np.ndarray], instance: Instance, height: int,
             width: int) -> float:
    """IoU of :func:`fill_polygon` of ``polygon`` (or of the union of several) with the
    instance's pixels."""
    filled = _filled(polygon, height, width)
    x, y, w, h = instance.bbox
    # One full-size count; the intersection only where the instance is.
    inside = int(np.count_nonzero(filled[y : y + h, x : x + w][instance.crop]))
    union = int(np.count_nonzero(filled)) + instance.area - inside
    return inside / union if union else 1.0


def _three_digit_tables() -> tuple[np.ndarray, np.ndarray]:
    """``"%03d" % i`` as ASCII codes, and how many of its digits are left once its
    trailing zeros are stripped (0 for 0), for i in 0..999."""
    i = np.arange(1000)
    digits = (np.stack([i // 100, i // 10 % 10, i % 10], axis=1) + ord("0")).astype(np.uint8)
    kept = 3 - (i % 10 == 0) - (i % 100 == 0) - (i % 1000 == 0)
    return digits, kept.astype(np.int64)


_DIGITS3, _KEPT3 = _three_digit_tables()
#: Which of the 9 characters "I.dddddd " a number writes, by how many digits it keeps:
#: none ("0" or "1" and its space) or 1..6 ("0." and that many digits, and its space).
_WRITTEN = np.zeros((7, 9), dtype=bool)
_WRITTEN[:, 0] = _WRITTEN[:, 8] = True
_WRITTEN[1:, 1] = True
for _n in range(1, 7):
    _WRITTEN[_n, 2 : 2 + _n] = True


def format_millionths(units: np.ndarray) -> str:
    """Integers in [0, 1e6] as the decimals they are millionths of, space-separated.

    ``0`` -> ``"0"``, ``1000000`` -> ``"1"``, ``135000`` -> ``"0.135"``, ``5`` ->
    ``"0.000005"``: 6 decimals at most, no trailing zeros (``"%.6f"`` less its zeros),
    for a whole row at once (one Python call per coordinate was most of a row's cost).
    """
    u = np.asarray(units, dtype=np.int64).ravel()
    if u.size and (u.min() < 0 or u.max() > _MILLION):
        raise ValueError(
            f"format_millionths: units must be in [0, {_MILLION}], got {u.min()}..{u.max()}"
        )
    one = u == _MILLION
    high, low = np.divmod(u, 1000)
    high[one] = 0
    # Each number is laid out as "I.dddddd " (two tables of three digits), and the
    # characters it does not write are left out.
    chars = np.empty((len(u), 9), dtype=np.uint8)
    chars[:, 0] = ord("0") + one
    chars[:, 1] = ord(".")
    chars[:, 2:5] = _DIGITS3[high]
    chars[:, 5:8] = _DIGITS3[low]
    chars[:, 8] = ord(" ")
    kept = np.where(low != 0, 3 + _KEPT3[low], _KEPT3[high])
    return chars[_WRITTEN[kept]].tobytes()[:-1].decode("ascii")


def yolo_row(class_id: int, polygon: np.ndarray, height: int, width: int) -> str:
    """``class x1 y1 ... xn yn``: normalised by the image size, clipped to [0, 1], 6 decimals.

    Each coordinate is the nearest millionth, moved by one millionth where needed so that
    Ultralytics, which truncates coordinates to int32 when it fills a row, lands on the
    same pixel as the vertex itself (a vertex on a pixel border, x = 37 on a 480 px wide
    image, must not come back as 36.99998 -> 36).
    """
    size = np.array([width, height], dtype=np.float64)
    # np.minimum / np.maximum: np.clip's values, at a fraction of its call overhead.
    xy = np.minimum(np.maximum(np.asarray(polygon, dtype=np.float64).reshape(-1, 2), 0.0), size)
    units = np.round(xy / size * _MILLION)
    back = np.trunc(units / _MILLION * size)
    want = np.trunc(xy)
    units += back < want  # at most one of the two holds
    units -= back > want
    np.maximum(units, 0, out=units)
    np.minimum(units, _MILLION, out=units)
    return f"{int(class_id)} {format_millionths(units.astype(np.int64))}"


def data_yaml(output_dir: Path, names: Sequence[str], splits: Sequence[str]) -> str:
    """Ultralytics' dataset file. Strings are JSON-quoted (valid YAML for any name)."""
    lines = [
        "# Ultralytics dataset, written by labeltools json2yolo",
        f"path: {json.dumps(str(Path(output_dir).resolve()), ensure_ascii=False)}",
    ]
    lines += [f"{s}: {IMAGES_DIR}/{s}" for s in splits]
    lines.append("names:")
    lines += [f"  {i - 1}: {json.dumps(n, ensure_ascii=False)}" for i, n in enumerate(names) if i > 0]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class YoloWriter:
    """json2yolo's writer (:class:`labeltools.formats.base.Writer`): images, label rows, data.yaml.

    ``split_of``: stem -> ``"train"`` / ``"val"`` as the split is expected to come out
    (set by :meth:`expect`, which the pipeline calls with the split of every input); a
    stem not in it goes to ``train``. The split is final only at :meth:`finish`, which moves the
    files of any image that landed elsewhere (a file that failed under ``--keep-going``
    changes the split; a rerun writes such an image where expected and moves it again).
    ``parts``: :data:`PARTS`, how an instance in several pieces becomes rows (see the
    module). ``names`` are set by :meth:`bind`. Summaries hold ``instances`` and ``hidden``.
    """

    name: ClassVar[str] = "yolo"
    all_folders: ClassVar[tuple[str, ...]] = tuple(
        f"{top}/{split}" for top in (IMAGES_DIR, LABELS_DIR) for split in SPLITS
    )

    split_of: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    names: tuple[str, ...] = ()
    parts: str = "merge"

    def __post_init__(self) -> None:
        check_parts(self.parts)

    def bind(self, labels: LabelSet) -> YoloWriter:
        return replace(self, names=labels.names)

    def expect(self, split: Split) -> YoloWriter:
        """This writer, filing each image in ``split`` (the pipeline's split of every input)."""
        return replace(self, split_of={stem: "val" for stem in split.val})

    def options(self) -> Mapping[str, Any]:
        from .base import JPEG_QUALITY, JPEG_SUBSAMPLING

        options: dict[str, Any] = {"format": OUTPUT_FORMAT, "jpeg": [JPEG_QUALITY, JPEG_SUBSAMPLING]}
        if self.parts != "merge":
            # Named only when not the default: folders made before the option existed
            # keep their resume records (their options did not name it).
            options["parts"] = self.parts
        return options

    def folders(self) -> tuple[str, ...]:
        return tuple(f"{top}/{split}" for top in (IMAGES_DIR, LABELS_DIR) for split in SPLITS[:2])

    def _paths(self, stem: str, split: str) -> dict[str, str]:
        return {
            "image": os.path.join(IMAGES_DIR, split, stem + ".jpg"),
            "label": os.path.join(LABELS_DIR, split, stem + ".txt"),
        }

    def outputs(self, stem: str) -> dict[str, str]:
        return self._paths(stem, self.split_of.get(stem, "train"))

    def item_outputs(self, stem: str, summary: Mapping[str, Any]) -> dict[str, str]:
        return self.outputs(stem)

    def start(self, output_dir: Path) -> None:
        # data.yaml is written last: without it a folder is visibly unfinished.
        (Path(output_dir) / DATA_YAML).unlink(missing_ok=True)

    def write_item(self, item: Item, targets: Mapping[str, str]) -> dict[str, Any]:
        """Write the image and its label rows; return the file's counts."""
        from .base import write_image, write_outputs

        ann, info = item.annotation, item.image
        height, width = info.height, info.width
        instances, hidden = object_instances(
            ann.shapes, item.values, height, width, source=ann.path
        )
        rows = [
            yolo_row(inst.value - 1, polygon, height, width)
            for inst in instances
            for polygon in instance_polygons(inst, ann.shapes, height, width, self.parts)
        ]

        def write() -> None:
            write_image(item, targets["image"])
            atomic_write_text(targets["label"], "".join(f"{r}\n" for r in rows))

        write_outputs(write, targets)
        return {"instances": len(instances), "hidden": hidden}

    def finish(
        self,
        output_dir: Path,
        summaries: Iterable[tuple[str, Mapping[str, Any]]],
        split: Split | None,
    ) -> Finished:
        """Put each image in its final split folder, write ``data.yaml``."""
        from .base import Finished
        from .coco import hidden_warning

        root = Path(output_dir)
        names = ["train", "val"] + (["test"] if split is not None and split.test else [])
        kept: list[str] = []
        # Only the images whose final split is not the one they were written in move:
        # found from the split's lists, without a map of every stem.
        for where in names if split is not None else ():
            for stem in getattr(split, where):
                if self.split_of.get(stem, "train") == where:
                    continue
                expected = self.outputs(stem)
                for kind, rel in self._paths(stem, where).items():
                    os.makedirs(root / os.path.dirname(rel), exist_ok=True)
                    if (root / expected[kind]).is_file():  # else moved by an earlier finish
                        os.replace(root / expected[kind], root / rel)
                    kept.append(rel)
        for name in names:
            for folder in (IMAGES_DIR, LABELS_DIR):
                (root / folder / name).mkdir(parents=True, exist_ok=True)
        atomic_write_text(root / DATA_YAML, data_yaml(root, self.names, names))
        return Finished((*kept, DATA_YAML), hidden_warning(summaries))  # one pass, streamed
