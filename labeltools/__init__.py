"""labeltools: labelme annotations -> PASCAL VOC segmentation datasets, and checks.

The public API is listed in ``__all__``; everything else is internal.
"""

from __future__ import annotations

from .classnames import read_class_names
from .colormap import VOID_COLOR, label_colormap
from .convert import FileReport, Json2vocReport, LabelSet, json2voc
from .constants import BACKGROUND_INDEX, BACKGROUND_NAME, IGNORE_INDEX, IGNORE_NAME, MAX_CLASSES
from .errors import (
    DatasetError,
    EvaluationError,
    ImageReadError,
    InputError,
    LabelImageError,
    LabelmeFormatError,
    LabelNameError,
    LabeltoolsError,
    LabelValueError,
    OutputError,
    PaletteError,
)
from .labelme import (
    Annotation,
    ImageInfo,
    Shape,
    image_info,
    load_image,
    read_labelme,
    shapes_to_label,
)
from .pngio import exif_orientation, is_voc_palette, lblread, lblsave, open_image, read_image
from .splits import Split, split_ids
from .weights import PixelHistogram, pixel_histogram



def __getattr__(name: str) -> str:
    # importlib.metadata takes ~30 ms to import, a sixth of the CLI's start-up: only pay
    # for it when the version is asked for (PEP 562 module __getattr__).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("labeltools")
        except PackageNotFoundError:  # running from a source checkout that is not installed
            return "0+unknown"
    raise AttributeError(f"module 'labeltools' has no attribute {name!r}")


__all__ = [
    "Annotation",
    "BACKGROUND_INDEX",
    "BACKGROUND_NAME",
    "DatasetError",
    "EvaluationError",
    "FileReport",
    "IGNORE_INDEX",
    "IGNORE_NAME",
    "ImageInfo",
    "ImageReadError",
    "InputError",
    "Json2vocReport",
    "LabelImageError",
    "LabelNameError",
    "LabelSet",
    "LabelValueError",
    "LabelmeFormatError",
    "LabeltoolsError",
    "MAX_CLASSES",
    "OutputError",
    "PaletteError",
    "PixelHistogram",
    "Shape",
    "Split",
    "VOID_COLOR",
    "__version__",
    "exif_orientation",
    "image_info",
    "is_voc_palette",
    "json2voc",
    "label_colormap",
    "lblread",
    "lblsave",
    "load_image",
    "open_image",
    "pixel_histogram",
    "read_class_names",
    "read_image",
    "read_labelme",
    "shapes_to_label",
    "split_ids",
]
