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
(:class:`~labeltools.errors.ImageReadError` unless said otherwise). ``reason`` replaces
the wording after the path for a caller whose messages are part of its contract
(``{exc}`` in it is Pillow's reason); the errors caught stay this module's decision.
The message always starts with ``path``, so reports that already name the file can
strip it.

Pillow is not imported here: a process that never opens an image through Pillow (a
worker counting plain label PNGs on the zlib path) never pays for its import.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Literal, NoReturn

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
    reason: str | None = None,
) -> Iterator[None]:
    """Translate the Pillow / OS errors of one ``kind`` of read of ``path`` into ``error``.

    ``what`` names the data of a ``kind="data"`` read (``"the base64 data"``);
    ``reason`` (with ``{exc}`` for Pillow's own reason) replaces the default wording.
    Errors that are already labeltools errors, and anything that is neither an OS nor
    a Pillow error, pass through unchanged.
    """
    if kind not in KINDS:
        raise ValueError(f"pillow_errors: kind must be one of {KINDS}, got {kind!r}")
    try:
        yield
    except LabeltoolsError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        if kind != "data" and not isinstance(exc, OSError):
            raise
        default, chained = _describe(exc, kind, what)
        _raise(error, path, reason, default, exc, chained)
    except Exception as exc:
        bomb = _pillow_class("PIL.Image", "DecompressionBombError")
        if bomb is None or not isinstance(exc, bomb):
            raise
        if kind == "data":
            default, chained = f"{what} is not a readable image", False
        else:
            default, chained = f"too large to decode safely: {exc}", True
        _raise(error, path, reason, default, exc, chained)


def _describe(exc: Exception, kind: Kind, what: str) -> tuple[str, bool]:
    """The default reason for ``exc`` and whether to chain it (Pillow's detail matters)."""
    if kind == "data":
        # Pillow signals a bad in-memory image with any of several types; one message for all.
        return f"{what} is not a readable image", False
    if kind == "pixels":
        return f"cannot decode image: {exc}", True
    if isinstance(exc, FileNotFoundError):
        return "no such file", False
    if isinstance(exc, IsADirectoryError):
        return "expected an image file, found a directory", False
    unidentified = _pillow_class("PIL", "UnidentifiedImageError")  # an OSError
    if unidentified is not None and isinstance(exc, unidentified):
        return "not a readable image file", False
    return f"cannot read image header: {exc}", True  # e.g. "Truncated File Read"


def _raise(
    error: type[LabeltoolsError],
    path: str | os.PathLike[str],
    reason: str | None,
    default: str,
    exc: Exception,
    chained: bool,
) -> NoReturn:
    # str.replace, not str.format: a reason holding a path may hold braces.
    text = default if reason is None else reason.replace("{exc}", str(exc))
    raise error(f"{path}: {text}") from (exc if chained else None)
