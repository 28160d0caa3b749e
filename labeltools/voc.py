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
from pathlib import Path

from .classnames import read_class_names
from .constants import IGNORE_NAME
from .errors import DatasetError

__all__ = [
    "CLASS_DIR",
    "CLASS_NAMES_FILE",
    "IMAGE_DIR",
    "LIST_DIR",
    "OBJECT_DIR",
    "class_names_by_index",
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
