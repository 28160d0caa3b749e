"""The seam between the labelme -> dataset pipeline and a dataset format.

The pipeline (:mod:`labeltools.pipeline`) finds the inputs, checks their labels,
reads and validates each labelme file, resolves its label values and opens its
image, and hands the writer one :class:`Item` per file; it also keeps the resume
records (:mod:`labeltools.incremental`) from what the writer declares. A
:class:`Writer` only says which files it makes, writes them, and finishes the
dataset (lists, class files, one annotations file).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Protocol

from ..errors import ImageReadError
from ..io.files import atomic_path, atomic_write_bytes
from .labelme import Annotation
from .labelme_images import ImageInfo, load_image

if TYPE_CHECKING:
    from ..labels import LabelSet
    from ..splits import Split

__all__ = [
    "JPEG_QUALITY",
    "JPEG_SUBSAMPLING",
    "Finished",
    "Item",
    "Writer",
    "write_image",
    "write_outputs",
]

#: JPEG settings for images that must be re-encoded (rotated, PNG, embedded data):
#: high quality and no chroma subsampling, so object edges keep their colour.
JPEG_QUALITY = 95
#: A JPEG ends with its EOI marker, within the last KiB (some writers pad after it): a
#: file without it was cut short (an interrupted copy or download) and is not copied.
JPEG_END = b"\xff\xd9"
JPEG_TAIL_BYTES = 1024
#: Pillow's modes for 16-bit (and 32-bit integer) grey images: a PNG photo of them holds
#: 0..65535; ``convert("RGB")`` clips them at 255 (a white picture), so they are scaled.
_WIDE_GREY_MODES = ("I;16", "I;16B", "I;16L", "I")
JPEG_SUBSAMPLING = 0  # 4:4:4


@dataclass(frozen=True)
class Item:
    """One labelme file, read and validated, inside a worker."""

    stem: str
    annotation: Annotation
    #: The image's header: format, upright width / height, orientation, embedded data.
    image: ImageInfo
    #: The open image file (``None``: the image is the annotation's embedded imageData).
    source: BinaryIO | None = field(repr=False)
    #: label -> class value after ``--unknown``: -1 void, 0 background, 1, 2, ...
    values: Mapping[str, int]
    #: Class names by index.
    names: tuple[str, ...]


@dataclass(frozen=True)
class Finished:
    """What :meth:`Writer.finish` made: dataset-level files (relative paths) and warnings."""

    files: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class Writer(Protocol):
    """A dataset format's writer: frozen, picklable (it goes to the workers).

    Relative paths are relative to OUTPUT_DIR and ``/``-separated (``os.path.join``
    is fine); ``targets`` and ``output_dir`` are absolute.

    Two optional methods, looked up by the pipeline: ``held_out(output_dir)``, ids
    to keep out of train/val (VOC: a ``test.txt`` from ``split``), and
    ``expect(split) -> Writer``, the bound writer told the split of every input
    before any file is written (YOLO files each image under its split).
    """

    #: ``"voc"``: the command is ``json2<name>``, which names the resume records.
    name: ClassVar[str]
    #: Every folder this format writes into under any options: the sweep at the end of a
    #: run deletes the files there that the run did not produce or confirm.
    all_folders: ClassVar[tuple[str, ...]]

    def bind(self, labels: LabelSet) -> Writer:
        """This writer for a dataset of these classes (raise a LabeltoolsError if it cannot)."""
        ...

    def options(self) -> Mapping[str, Any]:
        """JSON-able: every option that changes the bytes written per file."""
        ...

    def folders(self) -> tuple[str, ...]:
        """The folders used with these options (kept even when empty)."""
        ...

    def outputs(self, stem: str) -> dict[str, str]:
        """Output kind -> relative path for ``stem``: every per-file output it may write."""
        ...

    def item_outputs(self, stem: str, summary: Mapping[str, Any]) -> dict[str, str]:
        """The outputs a file with this summary has (``outputs(stem)`` less what it cannot hold).

        May raise ``KeyError`` / ``TypeError`` on a damaged summary from the manifest.
        """
        ...

    def start(self, output_dir: Path) -> None:
        """Called before any file is converted: remove what marks the dataset finished."""
        ...

    def write_item(self, item: Item, targets: Mapping[str, str]) -> Mapping[str, Any]:
        """Write ``item``'s files atomically (``targets``: absolute paths of ``outputs``).

        Returns a small JSON-able summary: kept in the manifest, given back to
        :meth:`finish` and :meth:`item_outputs`. The pipeline adds ``shapes``,
        ``width`` and ``height`` to it; don't use those keys.
        """
        ...

    def finish(
        self,
        output_dir: Path,
        summaries: Iterable[tuple[str, Mapping[str, Any]]],
        split: Split | None,
    ) -> Finished:
        """Write the dataset-level files from every converted file's ``(stem, summary)``."""
        ...


def write_outputs(write: Callable[[], None], targets: Mapping[str, str]) -> None:
    """Call ``write()``; if a folder of ``targets`` is missing, make them all and call it again.

    A run's first files find the folders missing (or a folder was deleted since): one
    retry instead of a mkdir per output per file.
    """
    try:
        write()
    except FileNotFoundError:
        for target in targets.values():
            os.makedirs(os.path.dirname(target), exist_ok=True)
        write()


def write_image(item: Item, target: str) -> None:
    """Write ``item``'s image to ``target`` as a JPEG: its bytes if they are one, else upright."""
    info = item.image
    if info.format == "JPEG" and info.orientation == 1:
        # Copy the bytes: re-encoding (labelme uses quality 75) loses detail every time.
        if info.data is not None:
            data = info.data
        else:
            assert item.source is not None
            item.source.seek(0)
            data = item.source.read()
        if JPEG_END not in data[-JPEG_TAIL_BYTES:]:
            shown = "its embedded imageData" if info.source is None else f"the image {info.source}"
            raise ImageReadError(
                f"{item.annotation.path}: {shown} is truncated (JPEG end marker missing)"
            )
        atomic_write_bytes(target, data)
        return
    img = load_image(item.annotation)  # upright pixels: the grid the labels were drawn on
    if img.mode in _WIDE_GREY_MODES:
        import numpy as np
        from PIL import Image

        wide = np.asarray(img)
        img = Image.fromarray((np.clip(wide, 0, 65535) >> 8).astype(np.uint8), "L")
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    with atomic_path(target, suffix=".jpg") as tmp:
        # No exif: the pixels are upright already, an orientation tag would turn them again.
        img.save(tmp, format="JPEG", quality=JPEG_QUALITY, subsampling=JPEG_SUBSAMPLING)
