"""The image a labelme annotation names: where it is, its header (format, upright size,
EXIF orientation) without decoding pixels, and its upright pixels.

Apart from :mod:`.labelme` (the JSON) because this is the image side: every
converter reads a header per file, and only a few decode pixels. Problems raise
:class:`~labeltools.errors.ImageReadError` naming the JSON file, the image and what
was expected and found.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ImageReadError, LabelmeFormatError
from ..io.errors import bomb_reason
from ..io.images import exif_orientation, open_image
from .labelme import Annotation

__all__ = ["ImageInfo", "image_header", "image_info", "image_source", "load_image"]

#: EXIF orientations that swap width and height (transposes and 90-degree turns).
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class ImageInfo:
    """What an annotation's image header says, without decoding its pixels.

    ``width`` and ``height`` are the *upright* size (after the EXIF orientation,
    as labelme's GUI shows and annotates the image); ``orientation`` is the EXIF
    value (1 = upright). ``source`` is the image file, or ``None`` when the image
    is embedded, in which case ``data`` holds its bytes.
    """

    source: Path | None
    data: bytes | None = field(repr=False)
    format: str
    width: int
    height: int
    orientation: int


def image_source(ann: Annotation) -> Path | None:
    """The image file ``imagePath`` names, relative to the JSON file's folder.

    ``None`` when the image is embedded (``imageData`` wins, as in labelme).
    Windows ``\\`` separators are accepted on every OS.
    """
    if ann.image_data is not None:
        return None
    if not ann.image_path:
        raise LabelmeFormatError(f"{ann.path}: no image: no \"imageData\" and no \"imagePath\"")
    rel = ann.image_path
    if "\\" in rel and os.sep == "/":
        # Annotated on Windows: "..\\images\\a.jpg". A POSIX file name with a
        # backslash in it is far rarer than a labelme project moved off Windows.
        rel = PureWindowsPath(rel).as_posix()
    return ann.path.parent / rel


def _header_orientation(img: Image.Image) -> int:
    # Pillow's PNG getexif() decodes the whole image when the eXIf chunk is not in
    # the header; photos with an orientation are JPEGs (EXIF in the header), so a
    # PNG without a header eXIf chunk counts as upright and stays undecoded.
    if img.format == "PNG" and "exif" not in img.info:
        return 1
    return exif_orientation(img)


def _check_size(ann: Annotation, shown: str, info: ImageInfo, raw: tuple[int, int]) -> None:
    h_ok = ann.image_height is None or ann.image_height == info.height
    w_ok = ann.image_width is None or ann.image_width == info.width
    if h_ok and w_ok:
        return
    json_h = "?" if ann.image_height is None else ann.image_height
    json_w = "?" if ann.image_width is None else ann.image_width
    msg = (
        f"{ann.path}: imageHeight x imageWidth is {json_h}x{json_w} but {shown} is "
        f"{info.height}x{info.width}"
    )
    if info.orientation != 1:
        msg += f" upright (EXIF orientation {info.orientation}; {raw[1]}x{raw[0]} as stored)"
    raise ImageReadError(msg)


def image_info(ann: Annotation) -> ImageInfo:
    """Read the image header (format, upright size, EXIF orientation); no pixel decoding.

    Checks ``imageHeight`` / ``imageWidth`` against the upright size and raises
    :class:`~labeltools.errors.ImageReadError` naming the JSON, the image and both
    sizes when they differ, or when the image file is missing or unreadable.
    """
    src = image_source(ann)
    if src is not None and not src.is_file():
        raise ImageReadError(
            f"{ann.path}: image file not found: {src} (imagePath {ann.image_path!r})"
        )
    return image_header(ann, src, src)


def image_header(ann: Annotation, src: Path | None, opened: Any = None) -> ImageInfo:
    """:func:`image_info` from ``opened``: ``src`` as a path or as a binary file open on it.

    ``src`` is :func:`image_source`'s answer (``None``: the embedded image, and
    ``opened`` is ignored). A caller that copies the image bytes afterwards (json2voc)
    opens the file once for both; the file is left open.
    """
    if src is None:
        assert ann.image_data is not None
        shown = "its embedded imageData"
        opened = io.BytesIO(ann.image_data)
    else:
        shown = f"the image {src}"
    try:
        with Image.open(opened) as img:
            fmt = img.format or ""
            raw_w, raw_h = img.size
            orientation = _header_orientation(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageReadError(f"{ann.path}: {shown} is not a readable image") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{ann.path}: {shown} {bomb_reason(exc)}") from None
    width, height = (raw_h, raw_w) if orientation in _SWAPPING_ORIENTATIONS else (raw_w, raw_h)
    info = ImageInfo(
        source=src,
        data=ann.image_data if src is None else None,
        format=fmt,
        width=width,
        height=height,
        orientation=orientation,
    )
    _check_size(ann, shown, info, (raw_w, raw_h))
    return info


def load_image(ann: Annotation) -> Image.Image:
    """The annotation's image, decoded and upright (EXIF applied), its size checked."""
    info = image_info(ann)
    if info.source is not None:
        img = open_image(info.source)
    else:
        assert info.data is not None
        try:
            with Image.open(io.BytesIO(info.data)) as raw:
                raw.load()
                upright = ImageOps.exif_transpose(raw)
                img = upright if upright is not raw else raw.copy()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ImageReadError(
                f"{ann.path}: cannot decode its embedded imageData: {exc}"
            ) from None
        except Image.DecompressionBombError as exc:
            raise ImageReadError(f"{ann.path}: its embedded imageData {bomb_reason(exc)}") from None
    if img.size != (info.width, info.height):  # pragma: no cover - a header that lies
        raise ImageReadError(
            f"{ann.path}: decoded image is {img.height}x{img.width}, "
            f"its header said {info.height}x{info.width}"
        )
    return img
