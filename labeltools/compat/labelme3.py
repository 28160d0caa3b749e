"""``labelme.utils`` as labelme 3.x had it, where it differs from 4.x and later.

``from labelme import utils`` in a 3.x script becomes
``from labeltools.compat import labelme3 as utils``: ``shapes_to_label`` then returns
the class array alone unless ``type="instance"``, and ``lblsave`` writes 3.x's
255-colour palette. Everything else is :mod:`labeltools.compat.utils`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from ..constants import IGNORE_INDEX
from ..errors import LabelValueError
from ..io.files import atomic_path
from ._draw import draw_instances, draw_label, label2rgb, label_colormap
from ._image import (
    apply_exif_orientation,
    img_arr_to_b64,
    img_b64_to_arr,
    img_data_to_png_data,
)
from .utils import labelme_shapes_to_label, masks_to_bboxes, polygons_to_mask, shape_to_mask
from .utils import shapes_to_label as _shapes_to_label

__all__ = [
    "apply_exif_orientation",
    "draw_instances",
    "draw_label",
    "img_arr_to_b64",
    "img_b64_to_arr",
    "img_data_to_png_data",
    "label2rgb",
    "label_colormap",
    "labelme_shapes_to_label",
    "lblsave",
    "masks_to_bboxes",
    "polygons_to_mask",
    "shape_to_mask",
    "shapes_to_label",
    "utils",
]

#: labelme 3.x's lblsave palette: label_colormap(255), 255 colours (VOC's void has none).
_V3_COLORS = 255


def shapes_to_label(
    img_shape: Sequence[int],
    shapes: Sequence[Mapping[str, Any]],
    label_name_to_value: Mapping[str, int],
    type: str = "class",  # noqa: A002 - labelme's parameter name
) -> Any:
    """labelme 3.x: int32 ``cls`` (``type="class"``) or ``(cls, ins)`` (``"instance"``)."""
    return _shapes_to_label(img_shape, shapes, label_name_to_value, type=type)


def lblsave(filename: str | os.PathLike[str], lbl: np.ndarray) -> None:
    """labelme 3.x's ``lblsave``: as :func:`labeltools.compat.lblsave`, 3.x's palette bytes.

    3.x attached ``label_colormap(255)`` (float, times 255, truncated to uint8): a
    255-entry PNG palette, so 255 (void) has no colour of its own in viewers.
    """
    arr = np.asarray(lbl)
    name = os.fspath(filename)
    if os.path.splitext(name)[1] != ".png":
        name += ".png"
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise LabelValueError(f"{name}: expected a 2-D integer label array, got {arr.dtype} {arr.shape}")
    if arr.size and not (int(arr.min()) >= -1 and int(arr.max()) < IGNORE_INDEX):
        raise LabelValueError(
            f"{name}: label values must be in [-1, 254] (labelme's lblsave contract), got "
            f"min {int(arr.min())}, max {int(arr.max())}; consider the .npy format"
        )
    img = Image.fromarray(np.ascontiguousarray(arr.astype(np.uint8)))
    img.putpalette((label_colormap(_V3_COLORS) * 255).astype(np.uint8).flatten().tobytes())
    with atomic_path(name, suffix=".png") as tmp:
        img.save(tmp, format="PNG")


# ``import labeltools.compat.labelme3 as labelme`` keeps ``labelme.utils.X`` working.
utils = sys.modules[__name__]
