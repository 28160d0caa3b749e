"""Label I/O: label PNGs, images, the Pillow-error translator and the file rules.

::

    io/labelpng.py   read_label / write_label (zlib fast path inside), lblread / lblsave
    io/images.py     open_header, open_image, read_image, exif_orientation, is_voc_palette
    io/errors.py     pillow_errors(path, kind): every Pillow / OS error -> a labeltools error
    io/files.py      atomic writes; label_files(folder): which files are label PNGs

The modules are imported on first use: importing :mod:`labeltools.io.labelpng` to
count plain label PNGs must not import Pillow (``images`` does).
"""

from __future__ import annotations

import importlib
from typing import Any

#: module -> the names this package re-exports from it.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "errors": ("pillow_errors",),
    "files": ("atomic_path", "atomic_write_bytes", "atomic_write_text", "label_files", "label_stems"),
    "images": ("exif_orientation", "is_voc_palette", "open_header", "open_image", "read_image"),
    "labelpng": ("FAST_LABEL_PNG", "lblread", "lblsave", "read_label", "write_label"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'labeltools.io' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
