"""The PASCAL VOC dataset layout, named once, and the VOC writer of json2voc.

The layout half (folders, id lists, class names, :func:`find_labels`) is what eval,
check, stats and weights read; it imports no NumPy or Pillow (weights counts plain
label PNGs without Pillow). :class:`VocWriter` imports the rasteriser, the PNG writer
and NumPy when it first writes.

::

    ROOT/
      JPEGImages/<id>.jpg
      SegmentationClass/<id>.png        class indices, VOC palette, 255 = void
      SegmentationObject/<id>.png       instance ids
      SegmentationClassNpy/<id>.npy     int32 class indices, -1 = void (--npy)
      SegmentationObjectNpy/<id>.npy    int32 instance ids (--npy)
      SegmentationClassVisualization/<id>.jpg   overlays (--viz)
      ImageSets/Segmentation/{train,val,trainval,test}.txt
      class_names.txt                   index = line number (labeltools' addition)
      labelmap.txt                      name:r,g,b:: per class (CVAT's / labelme2voc's)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..constants import IGNORE_INDEX, LABELMAP_FILE, MAX_CLASSES
from ..errors import DatasetError, LabelValueError
from ..io.files import atomic_path, atomic_write_text, label_files, label_stems
from ..labels import IGNORE_VALUE, class_names_by_index

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from ..labels import LabelSet
    from ..splits import Split
    from .base import Finished, Item

__all__ = [
    "CLASS_DIR",
    "CLASS_NAMES_FILE",
    "CLASS_NPY_DIR",
    "IMAGE_DIR",
    "LABELMAP_FILE",
    "LIST_DIR",
    "MAX_INSTANCES",
    "OBJECT_DIR",
    "OBJECT_NPY_DIR",
    "SPLIT_LISTS",
    "VIZ_DIR",
    "LabelFiles",
    "VocWriter",
    "find_labels",
    "label_folder",
    "read_id_lines",
    "read_id_list",
]

PathLike = str | os.PathLike[str]

IMAGE_DIR = "JPEGImages"
CLASS_DIR = "SegmentationClass"
OBJECT_DIR = "SegmentationObject"
CLASS_NPY_DIR = "SegmentationClassNpy"
OBJECT_NPY_DIR = "SegmentationObjectNpy"
VIZ_DIR = "SegmentationClassVisualization"
#: The split lists' folder, relative to the root (``root / LIST_DIR`` works).
LIST_DIR = Path("ImageSets", "Segmentation")
CLASS_NAMES_FILE = "class_names.txt"
#: The split lists json2voc writes, last: without them a folder is visibly unfinished.
SPLIT_LISTS = ("train", "val", "trainval")
#: Instance ids 1..254 fit an object PNG; 255 is VOC's void (raster.MAX_INDEX_INSTANCES).
MAX_INSTANCES = 254
#: Bump when the bytes the writer makes for the same inputs change: old records go stale.
OUTPUT_FORMAT = 1


# --------------------------------------------------------------------------- the layout


def read_id_lines(
    path: PathLike, *, unique: bool = True, allow_empty: bool = False
) -> tuple[tuple[int, str], ...]:
    """``(line number, id)`` for each id of a VOC image-set list, in file order.

    The id is a line's first word: VOC's per-class lists (``aeroplane_val.txt``)
    carry a flag after it. Blank lines are skipped. With ``unique`` a repeated id
    raises :class:`~labeltools.errors.DatasetError` (it would be counted twice);
    ``unique=False`` keeps repeats for callers that report them. A list with no id
    is an error unless ``allow_empty``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # -sig: Notepad's BOM is not part of an id
    except FileNotFoundError:
        raise DatasetError(f"{p}: no such list file") from None
    except IsADirectoryError:
        raise DatasetError(f"{p}: expected an id list (one id per line), found a directory") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{p}: expected UTF-8 text, {exc.reason} at byte {exc.start}") from None
    lines: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        image_id = fields[0]
        if unique and image_id in seen:
            raise DatasetError(
                f"{p}: line {lineno}: id {image_id!r} already listed on line {seen[image_id]}"
            )
        seen.setdefault(image_id, lineno)
        lines.append((lineno, image_id))
    if not lines and not allow_empty:
        raise DatasetError(f"{p}: expected one image id per line, found none")
    return tuple(lines)


def read_id_list(
    path: PathLike, *, unique: bool = True, allow_empty: bool = False
) -> tuple[str, ...]:
    """The ids of a VOC image-set list (see :func:`read_id_lines`)."""
    lines = read_id_lines(path, unique=unique, allow_empty=allow_empty)
    return tuple(image_id for _, image_id in lines)


@dataclass(frozen=True)
class LabelFiles:
    """The label PNGs of a dataset (or a plain folder of labels), in a fixed order.

    ``root`` is the dataset root (the folder holding ``SegmentationClass``, or the
    label folder itself when it is not called that); ``class_names`` come from
    ``root/class_names.txt`` when it exists (labelme's ``__ignore__`` left out).
    """

    root: Path
    label_dir: Path
    paths: tuple[Path, ...]
    class_names: tuple[str, ...] | None


def _listed_labels(list_file: Path, label_dir: Path) -> tuple[Path, ...]:
    lines = read_id_lines(list_file)
    labels = label_stems(label_dir)
    paths = []
    for lineno, item in lines:
        label = labels.get(item)
        if label is None:
            raise DatasetError(
                f"{list_file}: line {lineno}: id {item!r} has no label {label_dir / f'{item}.png'}"
            )
        paths.append(label)
    return tuple(paths)


def label_folder(path: Path) -> tuple[Path, Path]:
    """``(label folder, dataset root)`` for a VOC root, its ``SegmentationClass/`` or any folder.

    A root holding ``SegmentationClass/`` gives that folder; a folder named
    ``SegmentationClass`` has its parent as root; any other folder is its own root.
    """
    if (path / CLASS_DIR).is_dir():
        return path / CLASS_DIR, path
    return path, (path.parent if path.name == CLASS_DIR else path)


def find_labels(path: str | os.PathLike[str], list_file: str | os.PathLike[str] | None = None) -> LabelFiles:
    """The label PNGs of a VOC dataset root or of a label folder.

    ``list_file`` (e.g. ``train.txt``) restricts them to the listed ids; a relative
    name that does not exist as given is looked up in ``ImageSets/Segmentation``.
    """
    p = Path(path)
    if not p.is_dir():
        raise DatasetError(f"{p}: expected a VOC dataset folder or a folder of label PNGs")
    label_dir, root = label_folder(p)
    if list_file is not None:
        lf = Path(list_file)
        if not lf.exists() and not lf.is_absolute():
            lf = root / LIST_DIR / lf
        paths = _listed_labels(lf, label_dir)
    else:
        paths = label_files(label_dir)
        if not paths:
            raise DatasetError(f"{label_dir}: no label PNGs in this folder")
    names = None
    if (root / CLASS_NAMES_FILE).is_file():
        names = class_names_by_index(root / CLASS_NAMES_FILE)
    return LabelFiles(root, label_dir, paths, names)


# --------------------------------------------------------------------------- writing


def _pixels(img: Image.Image) -> np.ndarray:
    """An 8-bit image's pixels as a read-only (H, W) array, with one copy (not np.array's two)."""
    import numpy as np

    return np.frombuffer(img.tobytes(), dtype=np.uint8).reshape(img.height, img.width)


def _save_npy(path: PathLike, arr: np.ndarray) -> None:
    import numpy as np

    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, arr)


@dataclass(frozen=True)
class VocWriter:
    """json2voc's writer: JPEG, class PNG, object PNG, optional NPY labels and overlays.

    ``names`` are set by :meth:`bind`. Summaries hold ``pixels`` (per class),
    ``ignored`` (void pixels) and ``instances``.
    """

    name: ClassVar[str] = "voc"
    all_folders: ClassVar[tuple[str, ...]] = (
        IMAGE_DIR, CLASS_DIR, OBJECT_DIR, CLASS_NPY_DIR, OBJECT_NPY_DIR, VIZ_DIR, LIST_DIR.as_posix()
    )

    objects: bool = True
    npy: bool = False
    viz: bool = False
    names: tuple[str, ...] = ()

    @property
    def class_png(self) -> bool:
        # More classes than an 8-bit PNG holds: only the NPY files can store them.
        return len(self.names) <= MAX_CLASSES

    def bind(self, labels: LabelSet) -> VocWriter:
        n = len(labels.names)
        if n > MAX_CLASSES and not self.npy:
            raise LabelValueError(
                f"{labels.source}: {n} classes do not fit an 8-bit label PNG "
                f"(classes 0..{MAX_CLASSES - 1}, {IGNORE_INDEX} = void); use --npy to write int32 "
                f"SegmentationClassNpy labels"
            )
        if n > MAX_CLASSES and self.viz:
            raise LabelValueError(
                f"{labels.source}: {n} classes are more than the "
                f"{MAX_CLASSES} colours --viz can draw; drop --viz"
            )
        return replace(self, names=labels.names)

    def options(self) -> dict[str, Any]:
        from ..io.labelpng import FAST_LABEL_PNG
        from .base import JPEG_QUALITY, JPEG_SUBSAMPLING

        return {
            "format": OUTPUT_FORMAT,
            "objects": self.objects,
            "npy": self.npy,
            "viz": self.viz,
            "png": FAST_LABEL_PNG,
            "jpeg": [JPEG_QUALITY, JPEG_SUBSAMPLING],
        }

    @functools.cached_property
    def _layout(self) -> tuple[tuple[str, str, str], ...]:
        """``(kind, folder, extension)`` of every output this configuration writes."""
        layout = [("jpeg", IMAGE_DIR, ".jpg")]
        if self.class_png:
            layout.append(("class", CLASS_DIR, ".png"))
        if self.objects:
            layout.append(("object", OBJECT_DIR, ".png"))
        if self.npy:
            layout.append(("class_npy", CLASS_NPY_DIR, ".npy"))
            if self.objects:
                layout.append(("object_npy", OBJECT_NPY_DIR, ".npy"))
        if self.viz:
            layout.append(("viz", VIZ_DIR, ".jpg"))
        return tuple(layout)

    def folders(self) -> tuple[str, ...]:
        return (*(folder for _, folder, _ in self._layout), LIST_DIR.as_posix())

    def outputs(self, stem: str) -> dict[str, str]:
        # Plain string joins: this runs once per file, where pathlib's parsing shows.
        return {kind: os.path.join(folder, stem + ext) for kind, folder, ext in self._layout}

    def item_outputs(self, stem: str, summary: Mapping[str, Any]) -> dict[str, str]:
        expected = self.outputs(stem)
        if summary["instances"] > MAX_INSTANCES:
            del expected["object"]  # it overflowed: only the NPY holds its instances
        return expected

    def held_out(self, output_dir: Path) -> tuple[str, ...]:
        """The ids of a ``test.txt`` that another command (``labeltools split``) or the
        user wrote: json2voc never writes it, keeps it, and keeps its ids out of
        train/val (putting them back would leak the test set into training)."""
        path = output_dir / LIST_DIR / "test.txt"
        try:
            return tuple(line.split()[0] for line in path.read_text("utf-8").splitlines()
                         if line.strip())
        except (FileNotFoundError, NotADirectoryError):
            return ()
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: cannot read the test list: {exc}") from None

    def start(self, output_dir: Path) -> None:
        for name in SPLIT_LISTS:
            (output_dir / LIST_DIR / f"{name}.txt").unlink(missing_ok=True)

    def write_item(self, item: Item, targets: Mapping[str, str]) -> dict[str, Any]:
        # Imported here, not at the top: see the module docstring (~1 us a file once loaded).
        import numpy as np

        from ..io.labelpng import write_label
        from ..raster import count_instances, index_canvas, shapes_to_label
        from .base import JPEG_QUALITY, write_image, write_outputs
        from .labelme_images import load_image

        ann = item.annotation
        path = ann.path
        height, width = item.image.height, item.image.width
        values = item.values
        n_classes = len(self.names)
        n_instances = count_instances(ann.shapes)
        cls = ins = cls8 = ins8 = None
        if self.class_png and n_instances <= MAX_INSTANCES:
            # The common case: 8-bit canvases, a quarter of the memory traffic of int32, kept
            # as Pillow images until the end (counting and look-ups in C, no array copies).
            ins_img, class_of = index_canvas((height, width), ann.shapes, values, source=path)
            cls_img = ins_img.point(class_of)
            # Pillow's histogram of an 8-bit image is a third of np.bincount's time here.
            hist = cls_img.histogram()
            pixels, ignored = hist[:n_classes], int(hist[IGNORE_INDEX])
            if self.objects and ignored:
                # labelme: void regions belong to no instance (ids of void shapes -> 0).
                ins_img = ins_img.point(
                    [0 if c == IGNORE_INDEX else i for i, c in enumerate(class_of)]
                )
            cls8, ins8 = _pixels(cls_img), _pixels(ins_img)
            if self.npy:
                cls = cls8.astype(np.int32)
                cls[cls8 == IGNORE_INDEX] = IGNORE_VALUE
                ins = ins8.astype(np.int32)
        else:
            cls, ins = shapes_to_label((height, width), ann.shapes, values, source=path)
            if self.objects:
                ins[cls == IGNORE_VALUE] = 0
            if self.class_png:
                cls8 = cls.astype(np.uint8)  # -1 -> 255 (void); values are < n_classes <= 255
            hist = np.bincount((cls + 1).ravel(), minlength=n_classes + 1)
            pixels, ignored = hist[1:], int(hist[0])
        if self.objects:
            n_instances = int(ins8.max()) if ins8 is not None else int(ins.max())
            if n_instances > MAX_INSTANCES:
                if not self.npy:
                    raise LabelValueError(
                        f"{path}: {n_instances} instances do not fit an 8-bit SegmentationObject "
                        f"PNG (ids 1..{MAX_INSTANCES}); use --npy to keep them in "
                        f"SegmentationObjectNpy"
                    )
                targets = {k: v for k, v in targets.items() if k != "object"}
        else:
            n_instances = 0

        def write() -> None:
            write_image(item, targets["jpeg"])
            if "class" in targets:
                write_label(targets["class"], cls8)
            if "object" in targets:
                write_label(targets["object"], ins8 if ins8 is not None else ins.astype(np.uint8))
            if "class_npy" in targets:
                _save_npy(targets["class_npy"], cls)
            if "object_npy" in targets:
                _save_npy(targets["object_npy"], ins)
            if "viz" in targets:
                from ..viz import label_overlay

                photo = np.asarray(load_image(ann).convert("RGB"))
                overlay = label_overlay(photo, cls8, names=self.names)
                with atomic_path(targets["viz"], suffix=".jpg") as tmp:
                    overlay.save(tmp, format="JPEG", quality=JPEG_QUALITY)

        write_outputs(write, targets)
        return {"pixels": [int(n) for n in pixels], "ignored": ignored, "instances": n_instances}

    def finish(
        self,
        output_dir: Path,
        summaries: Iterable[tuple[str, Mapping[str, Any]]],
        split: Split | None,
    ) -> Finished:
        from .base import Finished

        files = []
        (output_dir / LIST_DIR).mkdir(parents=True, exist_ok=True)
        if split is not None:
            for name, ids in split.lists().items():
                rel = os.path.join(LIST_DIR, f"{name}.txt")
                _write_ids(output_dir / rel, ids)
                files.append(rel)
        atomic_write_text(output_dir / CLASS_NAMES_FILE, "".join(f"{n}\n" for n in self.names))
        files.append(CLASS_NAMES_FILE)
        warnings = []
        from ..palettes import labelmap_name_ok, labelmap_text  # NumPy: not at import

        labelmap = labelmap_text(self.names)
        if labelmap is None:
            # A stale labelmap.txt would name other classes; class_names.txt has them all.
            (output_dir / LABELMAP_FILE).unlink(missing_ok=True)
            bad = next(n for n in self.names if not labelmap_name_ok(n))
            warnings.append(
                f"labelmap.txt not written: class name {bad!r} cannot be a labelmap.txt name "
                "(name:r,g,b:parts:actions has no escape for ':'); class_names.txt has every name"
            )
        else:
            atomic_write_text(output_dir / LABELMAP_FILE, labelmap)
            files.append(LABELMAP_FILE)
        overflow = [stem for stem, summary in summaries if summary["instances"] > MAX_INSTANCES]
        if overflow and self.objects:
            warnings.append(
                f"{len(overflow)} image(s) have more than {MAX_INSTANCES} instances and no "
                f"SegmentationObject PNG (see SegmentationObjectNpy): {', '.join(overflow)}"
            )
        if not self.class_png:
            warnings.append(
                f"{len(self.names)} classes: no SegmentationClass PNGs, see SegmentationClassNpy"
            )
        return Finished(tuple(files), tuple(warnings))


def _write_ids(path: Path, ids: Iterable[str]) -> None:
    """One id per line, atomically, streamed: a list of 10^6 ids is not built as one string."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(f"{i}\n" for i in ids)
