"""The one place where Pillow's and the OS's errors become labeltools errors.

Every read of an image goes through :func:`pillow_errors`, in the style of httpx's
``map_httpcore_exceptions``: the caller wraps the Pillow call, this module decides
what the user is told. What each kind of read turns into::

    kind="header"   Image.open(path): the file is found, identified, its header parsed
        FileNotFoundError      -> "{path}: no such file"
        IsADirectoryError      -> "{path}: expected an image file, found a directory"
        UnidentifiedImageError -> "{path}: not a readable image file"
        DecompressionBombError -> "{path}: too large to decode safely: {exc}"
        any other OSError      -> "{path}: cannot read image header: {exc}"
                                  (e.g. Pillow's "Truncated File Read")
    kind="pixels"   img.load(), np.array(img), img.histogram(), img.crop(...).load()
        OSError                -> "{path}: cannot decode image: {exc}"
    kind="data"     Image.open(BytesIO(...)) and decoding of bytes held in memory
        any Pillow failure     -> "{path}: {what} is not a readable image"

``error`` picks the :class:`~labeltools.errors.LabeltoolsError` subclass raised
(:class:`~labeltools.errors.ImageReadError` unless said otherwise). The message always
starts with ``path``, so reports that already name the file can strip it.

Pillow is not imported here: a process that never opens an image through Pillow (a
worker counting plain label PNGs on the zlib path) never pays for its import.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Literal

from ..errors import ImageReadError, LabeltoolsError

__all__ = ["KINDS", "Kind", "pillow_errors"]

Kind = Literal["header", "pixels", "data"]
#: The kinds of read :func:`pillow_errors` knows.
KINDS: tuple[Kind, ...] = ("header", "pixels", "data")


def _pillow_class(module: str, name: str) -> type[Exception] | None:
    # Only Pillow raises its errors, so when it is not imported nothing can have raised one.
    return getattr(sys.modules.get(module), name, None)


@contextlib.contextmanager
def pillow_errors(
    path: str | os.PathLike[str],
    kind: Kind = "header",
    *,
    error: type[LabeltoolsError] = ImageReadError,
    what: str = "the image",
) -> Iterator[None]:
    """Translate the Pillow / OS errors of one ``kind`` of read of ``path`` into ``error``.

    ``what`` names the data of a ``kind="data"`` read (``"the base64 data"``). Errors
    that are already labeltools errors, and anything that is neither an OS nor a
    Pillow error, pass through unchanged.
    """
    if kind not in KINDS:
        raise ValueError(f"pillow_errors: kind must be one of {KINDS}, got {kind!r}")
    try:
        yield
    except LabeltoolsError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        if kind == "data":
            # Pillow signals a bad in-memory image with any of these; one message for all.
            raise error(f"{path}: {what} is not a readable image") from None
        if not isinstance(exc, OSError):
            raise
        if kind == "pixels":
            raise error(f"{path}: cannot decode image: {exc}") from exc
        if isinstance(exc, FileNotFoundError):
            raise error(f"{path}: no such file") from None
        if isinstance(exc, IsADirectoryError):
            raise error(f"{path}: expected an image file, found a directory") from None
        unidentified = _pillow_class("PIL", "UnidentifiedImageError")  # an OSError
        if unidentified is not None and isinstance(exc, unidentified):
            raise error(f"{path}: not a readable image file") from None
        raise error(f"{path}: cannot read image header: {exc}") from exc
    except Exception as exc:
        bomb = _pillow_class("PIL.Image", "DecompressionBombError")
        if bomb is None or not isinstance(exc, bomb):
            raise
        if kind == "data":
            raise error(f"{path}: {what} is not a readable image") from None
        raise error(f"{path}: too large to decode safely: {exc}") from exc
