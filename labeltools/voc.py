"""The PASCAL VOC dataset layout, named once: its folders, split lists and class names.

::

    ROOT/
      JPEGImages/<id>.jpg
      SegmentationClass/<id>.png        class indices, VOC palette, 255 = void
      SegmentationObject/<id>.png       instance ids
      ImageSets/Segmentation/{train,val,trainval,test}.txt
      class_names.txt                   index = line number (labeltools' addition)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .classnames import read_class_names
from .constants import IGNORE_NAME
from .errors import DatasetError
from .io.files import label_files, label_stems

__all__ = [
    "CLASS_DIR",
    "CLASS_NAMES_FILE",
    "IMAGE_DIR",
    "LIST_DIR",
    "OBJECT_DIR",
    "LabelFiles",
    "class_names_by_index",
    "find_labels",
    "label_folder",
    "read_id_lines",
    "read_id_list",
]

PathLike = str | os.PathLike[str]

IMAGE_DIR = "JPEGImages"
CLASS_DIR = "SegmentationClass"
OBJECT_DIR = "SegmentationObject"
#: The split lists' folder, relative to the root (``root / LIST_DIR`` works).
LIST_DIR = Path("ImageSets", "Segmentation")
CLASS_NAMES_FILE = "class_names.txt"


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


def class_names_by_index(path: PathLike) -> tuple[str, ...]:
    """Class names by index, from ``class_names.txt`` or labelme's ``labels.txt``.

    A leading ``__ignore__`` (labelme's convention) is the void label 255, not
    class 0, so it is left out: either file gives the same index -> name list.
    """
    names = read_class_names(path)
    return names[1:] if names[0] == IGNORE_NAME else names


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
