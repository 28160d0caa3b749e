"""``labelme.LabelFile`` (labelme 4.x/5.x): a labelme JSON file as labelme's scripts read it."""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import ImageReadError, LabelmeFormatError
from ..formats.labelme import decode_mask, read_labelme
from ..io.errors import pillow_errors
from ._image import apply_exif_orientation

__all__ = ["LabelFile", "LabelFileError"]

#: The top-level keys labelme reads; the rest is ``otherData``.
_KEYS = ("version", "imageData", "imagePath", "shapes", "flags", "imageHeight", "imageWidth")
#: The shape keys labelme reads; the rest is the shape's ``other_data``.
_SHAPE_KEYS = ("label", "points", "group_id", "shape_type", "flags", "description", "mask")
_JPEG_SUFFIXES = (".jpg", ".jpeg")


class LabelFileError(LabelmeFormatError):
    """``labelme.LabelFileError``: the file is not a valid labelme annotation."""


class LabelFile:
    """``labelme.LabelFile(filename)``: ``shapes`` (dicts), ``imageData`` (bytes), ...

    ``imageData`` is what labelme gave: the embedded image's bytes, or else the image
    file re-encoded after its EXIF rotation (JPEG for ``.jpg``/``.jpeg``, PNG
    otherwise, with Pillow's defaults), so scripts that write it out write labelme's
    bytes. Each shape is a dict with labelme 5's keys: ``label``, ``points``,
    ``shape_type``, ``flags``, ``description``, ``group_id``, ``mask`` (the decoded
    bool patch or ``None``) and ``other_data``. The JSON is validated by
    :func:`labeltools.read_labelme` first: a broken file raises :class:`LabelFileError`
    (a :class:`~labeltools.errors.LabelmeFormatError`) naming it.
    """

    suffix = ".json"

    def __init__(self, filename: str | os.PathLike[str] | None = None) -> None:
        self.shapes: list[dict[str, Any]] = []
        self.imagePath: str | None = None  # noqa: N815 - labelme's attribute names
        self.imageData: bytes | None = None  # noqa: N815
        self.flags: dict[str, Any] = {}
        self.otherData: dict[str, Any] = {}  # noqa: N815
        if filename is not None:
            self.load(filename)
        self.filename = filename

    @staticmethod
    def is_label_file(filename: str | os.PathLike[str]) -> bool:
        return os.path.splitext(filename)[1].lower() == LabelFile.suffix

    @staticmethod
    def load_image_file(filename: str | os.PathLike[str]) -> bytes:
        """The image file, turned upright by its EXIF orientation and re-encoded, as labelme."""
        if not os.path.isfile(filename):
            raise ImageReadError(f"{filename}: no such image file")
        with pillow_errors(filename, "data", what="the file"):
            with Image.open(filename) as img:
                upright = apply_exif_orientation(img)
                fmt = "JPEG" if os.path.splitext(filename)[1].lower() in _JPEG_SUFFIXES else "PNG"
                with io.BytesIO() as f:
                    upright.save(f, format=fmt)
                    return f.getvalue()

    def load(self, filename: str | os.PathLike[str]) -> None:
        read_labelme(filename)  # one-line errors for anything labelme would choke on
        data = json.loads(Path(filename).read_text(encoding="utf-8"))
        image_path = str(data["imagePath"]).replace("\\", "/")
        if data.get("imageData"):
            try:
                image_data = base64.b64decode(data["imageData"])
            except (binascii.Error, ValueError) as exc:
                raise LabelFileError(f"{filename}: imageData is not valid base64 ({exc})") from None
        else:
            image_data = self.load_image_file(os.path.join(os.path.dirname(filename), image_path))
        shapes = []
        for i, s in enumerate(data["shapes"]):
            mask = s.get("mask")
            shapes.append(
                {
                    "label": s["label"],
                    "points": s["points"],
                    "shape_type": s.get("shape_type") or "polygon",
                    "flags": s.get("flags") or {},
                    "description": s.get("description") or "",
                    "group_id": s.get("group_id"),
                    "mask": None if mask is None else decode_mask(f"{filename}: shape #{i}", mask),
                    "other_data": {k: v for k, v in s.items() if k not in _SHAPE_KEYS},
                }
            )
        self.flags = data.get("flags") or {}
        self.shapes = shapes
        self.imagePath = image_path
        self.imageData = image_data
        self.filename = filename
        self.otherData = {k: v for k, v in data.items() if k not in _KEYS}
