"""``labelme.utils.image`` (labelme 3.x-5.x): image bytes <-> PIL images <-> arrays."""

from __future__ import annotations

import base64
import binascii
import contextlib
import io

import numpy as np
from PIL import ExifTags, Image, ImageOps

from ..errors import ImageReadError
from ..io.errors import pillow_errors

__all__ = [
    "apply_exif_orientation",
    "img_arr_to_b64",
    "img_arr_to_data",
    "img_b64_to_arr",
    "img_data_to_arr",
    "img_data_to_pil",
    "img_data_to_png_data",
    "img_pil_to_data",
]

def _reading(where: str, what: str = "the data") -> contextlib.AbstractContextManager[None]:
    # Bytes held in memory: io.errors' "data" read, "{where}: {what} is not a readable image".
    return pillow_errors(where, "data", what=what)


def _b64decode(where: str, img_b64: str | bytes) -> bytes:
    try:
        return base64.b64decode(img_b64, validate=False)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ImageReadError(f"{where}: not valid base64 ({exc})") from None


def img_data_to_pil(img_data: bytes) -> Image.Image:
    """The image file bytes, opened (lazily, as labelme did) as a PIL image."""
    with _reading("img_data_to_pil"):
        return Image.open(io.BytesIO(img_data))


def img_data_to_arr(img_data: bytes) -> np.ndarray:
    """The image file bytes -> its pixel array (no EXIF rotation, as in labelme)."""
    with _reading("img_data_to_arr"):
        return np.array(Image.open(io.BytesIO(img_data)))


def img_b64_to_arr(img_b64: str | bytes) -> np.ndarray:
    """A base64 image file -> its pixel array.

    As in labelme, the EXIF orientation is not applied (see
    :func:`labeltools.load_image` for the upright image).
    """
    raw = _b64decode("img_b64_to_arr", img_b64)
    with _reading("img_b64_to_arr", "the base64 data"):
        return np.array(Image.open(io.BytesIO(raw)))


def img_pil_to_data(img_pil: Image.Image) -> bytes:
    """A PIL image -> PNG file bytes (Pillow's default settings, as labelme)."""
    f = io.BytesIO()
    img_pil.save(f, format="PNG")
    return f.getvalue()


def img_arr_to_data(img_arr: np.ndarray) -> bytes:
    """A pixel array -> PNG file bytes (labelme 5.x)."""
    return img_pil_to_data(Image.fromarray(img_arr))


def img_arr_to_b64(img_arr: np.ndarray) -> bytes:
    """A pixel array -> base64 PNG, as ``bytes`` with a newline every 76 characters.

    That is what labelme 3.x to 5.2 returned (``base64.encodebytes``), so callers
    write ``img_arr_to_b64(a).decode("utf-8")``. Later 5.x releases return ``str``
    without newlines; both decode to the same PNG.
    """
    return base64.encodebytes(img_arr_to_data(img_arr))


def img_data_to_png_data(img_data: bytes) -> bytes:
    """Any image file bytes -> PNG file bytes of the same pixels."""
    with _reading("img_data_to_png_data"), Image.open(io.BytesIO(img_data)) as img:
        return img_pil_to_data(img)


# EXIF orientation -> the operations that turn the stored pixels upright, in order.
_UPRIGHT: dict[int, tuple[str, ...]] = {
    2: ("mirror",),
    3: (Image.Transpose.ROTATE_180,),
    4: ("flip",),
    5: (Image.Transpose.ROTATE_270, "mirror"),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.ROTATE_90, "mirror"),
    8: (Image.Transpose.ROTATE_90,),
}
_ORIENTATION_TAG = next(k for k, v in ExifTags.TAGS.items() if v == "Orientation")


def apply_exif_orientation(image: Image.Image) -> Image.Image:
    """``image`` turned upright by its EXIF orientation; the same object when it has none.

    Like labelme, only images with ``_getexif`` (JPEG, WebP, MPO) are turned.
    """
    getexif = getattr(image, "_getexif", None)
    exif = getexif() if getexif is not None else None
    if not exif:
        return image
    ops = _UPRIGHT.get(exif.get(_ORIENTATION_TAG))
    if ops is None:
        return image
    for op in ops:
        if op == "mirror":
            image = ImageOps.mirror(image)
        elif op == "flip":
            image = ImageOps.flip(image)
        else:
            image = image.transpose(op)
    return image
