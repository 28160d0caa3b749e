"""Drop-in replacements for ``labelme.utils`` and ``labelme.LabelFile`` (labelme 3.x-5.x).

labelme removed or made private what old scripts call. Change the labelme import
line(s) and they run unchanged, writing the bytes labelme wrote::

    import labelme                  ->  import labeltools.compat as labelme
    from labelme import utils       ->  from labeltools.compat import utils
    from labelme.logger import logger  ->  from labeltools.compat import logger
    # labelme 3.x scripts (shapes_to_label returning one array, 3.x's lblsave palette):
    from labelme import utils       ->  from labeltools.compat import labelme3 as utils

Each function keeps labelme's signature and return value. What changes: invalid
input raises a :class:`~labeltools.errors.LabeltoolsError` with a one-line message
instead of an ``AssertionError`` or a ``KeyError``, and ``lblsave`` writes
atomically. New code should use :mod:`labeltools` itself (``label_colormap``
returning uint8, ``lblsave`` accepting uint8 255, typed labelme records).
"""

from __future__ import annotations

import logging

from . import utils
from ._label_file import LabelFile, LabelFileError
from .utils import (
    apply_exif_orientation,
    draw_instances,
    draw_label,
    img_arr_to_b64,
    img_arr_to_data,
    img_b64_to_arr,
    img_data_to_arr,
    img_data_to_pil,
    img_data_to_png_data,
    img_pil_to_data,
    label2rgb,
    label_colormap,
    labelme_shapes_to_label,
    lblsave,
    masks_to_bboxes,
    polygons_to_mask,
    shape_to_mask,
    shapes_to_label,
)

__all__ = [
    "LabelFile",
    "LabelFileError",
    "apply_exif_orientation",
    "draw_instances",
    "draw_label",
    "img_arr_to_b64",
    "img_arr_to_data",
    "img_b64_to_arr",
    "img_data_to_arr",
    "img_data_to_pil",
    "img_data_to_png_data",
    "img_pil_to_data",
    "label2rgb",
    "label_colormap",
    "labelme_shapes_to_label",
    "lblsave",
    "logger",
    "masks_to_bboxes",
    "polygons_to_mask",
    "shape_to_mask",
    "shapes_to_label",
    "utils",
]

#: ``labelme.logger.logger``'s stand-in: the scripts' progress messages, through logging.
logger = logging.getLogger("labeltools.compat")
