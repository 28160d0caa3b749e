"""Dataset formats: one module per format, each a reader and/or a writer.

``labelme`` reads and validates labelme JSON; ``voc`` is the PASCAL VOC layout and
json2voc's writer; ``coco`` and ``yolo`` are json2coco's and json2yolo's, over the
object instances of ``instances``. A writer implements :class:`labeltools.formats.base.Writer`; the
pipeline (:mod:`labeltools.pipeline`) runs any of them with resume, workers and
backends. Adding a format: one module here, one line in ``_WRITERS``, its tests.

Writers are imported on first use (``WRITERS["voc"]`` or :func:`get_writer`), so
reading a label list or a VOC id list does not import every format's dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Writer

__all__ = ["WRITERS", "get_writer"]

#: format name -> (module in this package, writer class): the registry.
_WRITERS: dict[str, tuple[str, str]] = {
    "voc": ("voc", "VocWriter"),
    "coco": ("coco", "CocoWriter"),
    "yolo": ("yolo", "YoloWriter"),
}


def get_writer(name: str) -> type[Writer]:
    """The writer class of format ``name`` (``"voc"``)."""
    try:
        module, cls = _WRITERS[name]
    except KeyError:
        raise ValueError(
            f"format must be one of {', '.join(sorted(_WRITERS))}, got {name!r}"
        ) from None
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def __getattr__(name: str) -> Any:
    if name == "WRITERS":  # format name -> writer class, built on first use
        return {key: get_writer(key) for key in _WRITERS}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
