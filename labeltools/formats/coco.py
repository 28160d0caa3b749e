"""COCO instance segmentation: layout, pure conversions and :class:`CocoWriter`.

Layout (the names Detectron2's and mmdet's COCO configs expect)::

    OUTPUT_DIR/images/<stem>.jpg
    OUTPUT_DIR/annotations/instances_train.json
    OUTPUT_DIR/annotations/instances_val.json      (always written, maybe without images)

* ``categories``: ids from 1 in labels order (class value = category id), without
  ``_background_`` and ``__ignore__``; every class is listed even when no image of a
  split has it, so ids are the same in every split and every run.
* One annotation per object instance (:mod:`labeltools.formats.instances`): shapes
  sharing ``(label, group_id)`` are one instance, as in json2voc's object PNG.
* ``segmentation``: the annotated vertices (COCO's list of polygons) when the
  instance is *exact* (only polygons, rectangles and oriented rectangles, none of
  it hidden by a later shape) and pycocotools draws those vertices within
  :data:`POLYGON_MIN_IOU` of its pixels (a polygon too thin or too small for COCO's
  rasteriser is not); otherwise, or with ``rle=True``, COCO's compressed RLE of
  exactly the pixels the rasteriser gives the instance. ``iscrowd`` is 0 for
  both: RLE with ``iscrowd = 0`` is a valid annotated object and is evaluated.
* ``area`` = the instance's pixels, ``bbox`` = their tight ``[x, y, w, h]``.
* ``__ignore__`` regions are not annotations. COCO has no void class, and its one
  "don't care" device, a crowd region, belongs to a single category: COCOeval only
  lets it absorb detections of that category, so a void region would have to be
  copied once per category (N ground-truth records per region, each counted by
  every tool that does not filter ``iscrowd``). They do what VOC's void does to
  objects: the pixels they cover (drawn later) are taken out of the instances below,
  so no annotation claims them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

import numpy as np

from .instances import Instance, object_instances, shape_polygon

if TYPE_CHECKING:
    from ..labels import LabelSet
    from ..splits import Split
    from .base import Finished, Item

__all__ = [
    "ANNOTATIONS_DIR",
    "IMAGES_DIR",
    "CocoWriter",
    "coco_annotation",
    "coco_categories",
    "coco_documents",
    "crop_rle",
    "hidden_warning",
    "instance_rle",
    "polygon_iou",
    "rle_encode",
    "write_coco_documents",
]

IMAGES_DIR = "images"
ANNOTATIONS_DIR = "annotations"
#: Bump when the bytes written for the same inputs change: old resume records go stale.
OUTPUT_FORMAT = 1
#: The annotation files, one per split (``test`` only when a split has one).
SPLITS = ("train", "val", "test")
#: Vertices are written when pycocotools' rasterisation of them matches the instance's
#: pixels this well. It fills the pixels the polygon covers, Pillow also the ones its
#: outline touches: a 10 x 10 px rectangle scores 0.83, a degenerate polygon (a line
#: Pillow draws 1 px wide) about 0, and goes to RLE.
POLYGON_MIN_IOU = 0.75
_INFO = {"description": "labelme annotations converted by labeltools json2coco"}


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """COCO's compressed RLE of a 2-D bool mask: ``{"size": [h, w], "counts": str}`` (pycocotools)."""
    from pycocotools import mask as mask_utils

    if mask.ndim != 2:
        raise ValueError(f"rle_encode: mask must be 2-D (height, width), got shape {mask.shape}")
    rle = mask_utils.encode(np.asfortranarray(mask, dtype=np.uint8))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def crop_rle(crop: np.ndarray, x: int, y: int, height: int, width: int) -> dict[str, Any]:
    """:func:`rle_encode` of a ``height`` x ``width`` mask that is ``crop`` at ``(x, y)``, else 0.

    The same bytes, from the crop alone: pycocotools' encoder reads every pixel of the
    image, which costs more than the rest of an instance's work.
    """
    from pycocotools import mask as mask_utils

    if crop.ndim != 2 or x < 0 or y < 0 or x + crop.shape[1] > width or y + crop.shape[0] > height:
        raise ValueError(
            f"crop_rle: crop of shape {crop.shape} at ({x}, {y}) must lie inside "
            f"{height}x{width} (height x width)"
        )
    h, w = crop.shape
    # Runs are counted down each column (COCO's column-major order): the crop's columns,
    # each padded with a 0 above and below, laid end to end, change value exactly where
    # a run of 1s starts and where it ends.
    padded = np.zeros((w, h + 2), dtype=np.uint8)
    padded[:, 1:-1] = crop.T
    flat = padded.ravel()
    col, row = np.divmod(np.flatnonzero(flat[1:] != flat[:-1]) + 1, h + 2)
    # Flat column-major positions in the image: start, end, start, end, ...
    edges = (col + x).astype(np.int64) * height + (row - 1 + y)
    starts, ends = edges[0::2], edges[1::2]
    # A run that reaches the bottom of a column and one from the top of the next are one
    # run in the flat order (an instance as tall as the image).
    joined = ends[:-1] == starts[1:]
    if joined.any():
        starts = starts[np.concatenate([[True], ~joined])]
        ends = ends[np.concatenate([~joined, [True]])]
    bounds = np.empty(2 * len(starts) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, height * width
    bounds[1:-1:2], bounds[2:-1:2] = starts, ends
    counts = np.diff(bounds)
    if counts[-1] == 0:
        counts = counts[:-1]  # ends with 1s: pycocotools writes no empty run of 0s after them
    rle = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


def instance_rle(instance: Instance, height: int, width: int) -> dict[str, Any]:
    """COCO's compressed RLE of an instance's pixels on a ``height`` x ``width`` image."""
    x, y, _, _ = instance.bbox
    return crop_rle(instance.crop, x, y, height, width)


def polygon_iou(polygons: Sequence[Sequence[float]], instance: Instance, height: int,
                width: int, rle: Mapping[str, Any] | None = None) -> float:
    """IoU of ``polygons`` as pycocotools rasterises them (``annToMask``) with the instance's pixels.

    ``rle``: the instance's :func:`instance_rle`, if the caller has it. Computed on
    run lengths (pycocotools' merge and area), not on full-size masks.
    """
    from pycocotools import mask as mask_utils

    theirs = mask_utils.merge(mask_utils.frPyObjects(list(polygons), height, width))
    ours = dict(rle if rle is not None else instance_rle(instance, height, width))
    inside = int(mask_utils.area(mask_utils.merge([theirs, ours], intersect=True)))
    union = int(mask_utils.area(theirs)) + instance.area - inside
    return inside / union if union else 1.0


def coco_annotation(
    instance: Instance, shapes: Sequence[Any], height: int, width: int, *, rle: bool = False
) -> dict[str, Any]:
    """One instance as a COCO annotation (without ``id`` / ``image_id``, given at the end).

    ``shapes`` are the annotation's shapes (``instance.shapes`` indexes them).
    """
    pixels = instance_rle(instance, height, width)
    segmentation: Any = pixels
    if instance.exact and not rle:
        polygons = [shape_polygon(shapes[i]) for i in instance.shapes]
        if polygon_iou(polygons, instance, height, width, pixels) >= POLYGON_MIN_IOU:
            segmentation = polygons
    return {
        "category_id": instance.value,
        "segmentation": segmentation,
        "area": instance.area,
        "bbox": list(instance.bbox),
        "iscrowd": 0,
    }


def coco_categories(names: Sequence[str]) -> list[dict[str, Any]]:
    """COCO ``categories`` for class names by index (index 0, ``_background_``, is left out)."""
    return [{"id": i, "name": n, "supercategory": n} for i, n in enumerate(names) if i > 0]


def coco_documents(
    summaries: Iterable[tuple[str, Mapping[str, Any]]],
    names: Sequence[str],
    split: Split | None,
) -> dict[str, dict[str, Any]]:
    """Split name -> COCO document, from :meth:`CocoWriter.write_item` summaries.

    Image ids are 1, 2, ... over all images in input order and annotation ids 1, 2,
    ... over all annotations in that order, so an image or annotation keeps its id
    whichever split it lands in. Splits: ``train`` and ``val`` always, ``test`` when
    the split has one; without a split, every image is in ``train``.
    """
    where, wanted = _split_of(split)
    categories = coco_categories(names)
    docs = {
        name: {"info": _INFO, "licenses": [], "images": [], "annotations": [],
               "categories": categories}
        for name in wanted
    }
    ann_id = 0
    for image_id, (stem, summary) in enumerate(summaries, start=1):
        # In no list (not converted): numbered all the same, so the ids of the rest hold.
        doc = docs["train"] if split is None else docs.get(where.get(stem, ""))
        if doc is not None:
            doc["images"].append({
                "id": image_id,
                "file_name": summary["file_name"],
                "width": summary["width"],
                "height": summary["height"],
            })
        for ann in summary["annotations"]:
            ann_id += 1
            if doc is not None:
                doc["annotations"].append(_annotation(ann_id, image_id, ann))
    return docs


def _annotation(ann_id: int, image_id: int, ann: Mapping[str, Any]) -> dict[str, Any]:
    """One annotation with its ids, keys in COCO's order whatever order ``ann`` has (the
    resume records store summaries with sorted keys)."""
    seg = ann["segmentation"]
    if isinstance(seg, Mapping):
        seg = {"size": seg["size"], "counts": seg["counts"]}
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": ann["category_id"],
        "segmentation": seg,
        "area": ann["area"],
        "bbox": ann["bbox"],
        "iscrowd": ann["iscrowd"],
    }


def _dump(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class CocoWriter:
    """json2coco's writer (:class:`labeltools.formats.base.Writer`): images + two JSON files.

    ``rle``: RLE for every instance, polygons never. ``names`` are set by :meth:`bind`.
    Summaries hold the file's ``annotations`` (without ids, numbered in :meth:`finish`),
    its ``instances`` and the objects left out because a later shape hid them all
    (``hidden``).
    """

    name: ClassVar[str] = "coco"
    all_folders: ClassVar[tuple[str, ...]] = (IMAGES_DIR, ANNOTATIONS_DIR)

    rle: bool = False
    names: tuple[str, ...] = ()

    def bind(self, labels: LabelSet) -> CocoWriter:
        return replace(self, names=labels.names)

    def options(self) -> Mapping[str, Any]:
        from .base import JPEG_QUALITY, JPEG_SUBSAMPLING

        return {"format": OUTPUT_FORMAT, "rle": self.rle,
                "jpeg": [JPEG_QUALITY, JPEG_SUBSAMPLING]}

    def folders(self) -> tuple[str, ...]:
        return (IMAGES_DIR, ANNOTATIONS_DIR)

    def outputs(self, stem: str) -> dict[str, str]:
        return {"image": os.path.join(IMAGES_DIR, stem + ".jpg")}

    def item_outputs(self, stem: str, summary: Mapping[str, Any]) -> dict[str, str]:
        return self.outputs(stem)

    def start(self, output_dir: Path) -> None:
        # The annotation files are written last: without them a folder is visibly unfinished.
        for split in SPLITS:
            (Path(output_dir) / ANNOTATIONS_DIR / f"instances_{split}.json").unlink(missing_ok=True)

    def write_item(self, item: Item, targets: Mapping[str, str]) -> dict[str, Any]:
        """Copy or re-encode the image; return the file's COCO annotations as its summary."""
        from .base import write_image, write_outputs

        ann, info = item.annotation, item.image
        height, width = info.height, info.width
        instances, hidden = object_instances(
            ann.shapes, item.values, height, width, source=ann.path
        )
        annotations = [
            coco_annotation(inst, ann.shapes, height, width, rle=self.rle) for inst in instances
        ]
        write_outputs(lambda: write_image(item, targets["image"]), targets)
        return {
            "file_name": os.path.basename(targets["image"]),
            "annotations": annotations,
            "instances": len(annotations),
            "hidden": hidden,
        }

    def finish(
        self,
        output_dir: Path,
        summaries: Iterable[tuple[str, Mapping[str, Any]]],
        split: Split | None,
    ) -> Finished:
        """Write ``annotations/instances_<split>.json``, streamed (see :func:`write_coco_documents`)."""
        from .base import Finished

        folder = Path(output_dir) / ANNOTATIONS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        hidden = _HiddenTally()
        written = write_coco_documents(
            folder, hidden.watch(summaries), self.names, split, name="instances_{}.json"
        )
        rels = tuple(f"{ANNOTATIONS_DIR}/{name}" for name in written)
        return Finished(rels, hidden.warning())


def write_coco_documents(
    folder: Path,
    summaries: Iterable[tuple[str, Mapping[str, Any]]],
    names: Sequence[str],
    split: Split | None,
    *,
    name: str = "instances_{}.json",
) -> list[str]:
    """Write :func:`coco_documents` to ``folder/name.format(split)``, one pass over
    ``summaries``, without holding them: the same bytes as ``_dump`` of each document.

    A document is ``{"info":..,"licenses":[],"images":[..],"annotations":[..],
    "categories":[..]}``: the images go straight into each split's temporary file and
    the annotations into a second one, appended after the images; each file is then
    renamed into place (atomic, as every output). Returns the file names written.
    """
    import contextlib
    import shutil

    from ..io.files import atomic_path

    where, wanted = _split_of(split)
    categories = coco_categories(names)
    files = [name.format(split_name) for split_name in wanted]
    with contextlib.ExitStack() as stack:
        heads, tails = {}, {}
        for split_name, file_name in zip(wanted, files):
            tmp = stack.enter_context(atomic_path(folder / file_name))
            heads[split_name] = stack.enter_context(open(tmp, "w", encoding="utf-8"))
            tails[split_name] = stack.enter_context(_temp_text(folder))
            heads[split_name].write(f'{{"info":{_compact(_INFO)},"licenses":[],"images":[')
        first_image = dict.fromkeys(wanted, True)
        first_ann = dict.fromkeys(wanted, True)
        ann_id = 0
        for image_id, (stem, summary) in enumerate(summaries, start=1):
            # In no list (not converted): numbered all the same, so the ids of the rest hold.
            split_name = "train" if split is None else where.get(stem)
            head = heads.get(split_name) if split_name is not None else None
            if head is not None:
                image = {"id": image_id, "file_name": summary["file_name"],
                         "width": summary["width"], "height": summary["height"]}
                head.write(("" if first_image[split_name] else ",") + _compact(image))
                first_image[split_name] = False
            for ann in summary["annotations"]:
                ann_id += 1
                if head is not None:
                    tail = tails[split_name]
                    tail.write(("" if first_ann[split_name] else ",")
                               + _compact(_annotation(ann_id, image_id, ann)))
                    first_ann[split_name] = False
        for split_name in wanted:
            head, tail = heads[split_name], tails[split_name]
            head.write('],"annotations":[')
            tail.seek(0)
            shutil.copyfileobj(tail, head)
            head.write(f'],"categories":{_compact(categories)}}}\n')
            head.close()  # before atomic_path renames it
    return files


@contextlib.contextmanager
def _temp_text(folder: Path) -> Iterator[IO[str]]:
    """A temporary text file in ``folder`` (a leftover has the sweep's temporary prefix)."""
    import tempfile

    from ..io.files import TMP_PREFIX

    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=folder, prefix=TMP_PREFIX) as f:
        yield f


def _compact(value: Any) -> str:
    """``value`` as :func:`_dump` writes it inside a document."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _split_of(split: Split | None) -> tuple[dict[str, str], list[str]]:
    """stem -> split name, and the split names that get a document (train and val always)."""
    where: dict[str, str] = {}
    wanted = ["train", "val"]
    if split is not None:
        if split.test:
            wanted.append("test")
        for name in wanted:
            where.update((stem, name) for stem in getattr(split, name))
    return where, wanted


class _HiddenTally:
    """Counts the objects later shapes hide, as summaries stream past (for the warning)."""

    SHOWN = 10

    def __init__(self) -> None:
        self.images = 0
        self.total = 0
        self.first: list[tuple[str, int]] = []

    def watch(self, summaries: Iterable[tuple[str, Mapping[str, Any]]]
              ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for stem, summary in summaries:
            if summary.get("hidden"):
                n = int(summary.get("hidden", 0))
                self.images += 1
                self.total += n
                if len(self.first) < self.SHOWN:
                    self.first.append((stem, n))
            yield stem, summary

    def warning(self) -> tuple[str, ...]:
        if not self.images:
            return ()
        shown = ", ".join(f"{stem} ({n})" for stem, n in self.first)
        more = f" and {self.images - self.SHOWN} more" if self.images > self.SHOWN else ""
        return (
            f"{self.total} object(s) have no visible pixel (later shapes cover them) and no "
            f"annotation: {shown}{more}",
        )


def hidden_warning(summaries: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[str, ...]:
    """A warning naming the images with objects a later shape hides entirely (none: no warning)."""
    tally = _HiddenTally()
    for _ in tally.watch(summaries):
        pass
    return tally.warning()
