"""json2coco and json2yolo: the labelme -> dataset pipeline with the COCO and YOLO writers.

Both take json2voc's parameters and behave as it does (labels, ``--unknown``, splits,
image rules, ``keep_going``, workers, resume after a kill), plus ``label_map`` (``--map``)
and their own format options. See :mod:`labeltools.formats.coco` and
:mod:`labeltools.formats.yolo` for what they write.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from . import errors
from .conversion import FileReport
from .engine import BackendSpec
from .pipeline import ConvertReport, convert_dataset
from .remap import LabelMap

__all__ = ["json2coco", "json2yolo", "require"]

PathLike = str | os.PathLike[str]

#: What each command imports beyond labeltools' own dependencies (the ``export`` extra).
_NEEDS = {
    "json2coco": ("pycocotools.mask", "pycocotools"),
    "json2yolo": ("cv2", "opencv-python-headless"),
}


def require(command: str) -> None:
    """Import what ``command`` needs, or raise :class:`~labeltools.errors.LabeltoolsError`
    naming the package to install.

    Imported here, in the parent, so that forked worker processes inherit the module
    instead of each importing it (OpenCV's is ~0.1 s).
    """
    module, package = _NEEDS[command]
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise errors.LabeltoolsError(
            f"{command} needs {package}: pip install 'labeltools[export]' (or {package})"
        ) from None


def json2coco(
    input_dir: PathLike,
    output_dir: PathLike,
    labels: PathLike | Sequence[str] | None = None,
    *,
    rle: bool = False,
    unknown: str = "error",
    val_ratio: float = 0.2,
    seed: int = 0,
    recursive: bool = False,
    overwrite: bool = False,
    keep_going: bool = False,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
    label_map: LabelMap | None = None,
    on_file: Callable[[FileReport], None] | None = None,
) -> ConvertReport:
    """Convert a folder of labelme JSON files into a COCO instance-segmentation dataset.

    ``images/<stem>.jpg`` and ``annotations/instances_{train,val}.json``; ``rle=True``
    writes every segmentation as RLE. The other parameters are
    :func:`~labeltools.json2voc`'s. Returns a :class:`~labeltools.pipeline.ConvertReport`
    (``report.instances``: annotations over all images; ``on_file`` gets each file's report).
    """
    from .formats.coco import CocoWriter

    require("json2coco")
    return convert_dataset(
        input_dir, output_dir, CocoWriter(rle=rle), labels, unknown=unknown,
        val_ratio=val_ratio, seed=seed, recursive=recursive, overwrite=overwrite,
        keep_going=keep_going, workers=workers, backend=backend, progress=progress,
        label_map=label_map, on_file=on_file,
    )


def json2yolo(
    input_dir: PathLike,
    output_dir: PathLike,
    labels: PathLike | Sequence[str] | None = None,
    *,
    parts: str = "merge",
    unknown: str = "error",
    val_ratio: float = 0.2,
    seed: int = 0,
    recursive: bool = False,
    overwrite: bool = False,
    keep_going: bool = False,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
    label_map: LabelMap | None = None,
    on_file: Callable[[FileReport], None] | None = None,
) -> ConvertReport:
    """Convert a folder of labelme JSON files into an Ultralytics YOLO segmentation dataset.

    ``images/{train,val}/``, ``labels/{train,val}/`` and ``data.yaml``. The split is
    json2voc's (the same lists for the same inputs); each image is written straight into
    the folder of the split it is expected in (that of all inputs), and moved at the end
    if a failure under ``keep_going`` changed it. ``parts``: an instance in several
    pieces becomes one row (``"merge"``, Ultralytics' rule) or a row per piece
    (``"split"``); see :mod:`labeltools.formats.yolo`. The other parameters are
    :func:`~labeltools.json2voc`'s.
    """
    from .formats.yolo import YoloWriter

    writer = YoloWriter(parts=parts)  # a bad ``parts`` is refused before any work
    require("json2yolo")
    return convert_dataset(
        input_dir, output_dir, writer, labels, unknown=unknown,
        val_ratio=val_ratio, seed=seed, recursive=recursive, overwrite=overwrite,
        keep_going=keep_going, workers=workers, backend=backend, progress=progress,
        label_map=label_map, on_file=on_file,
    )
