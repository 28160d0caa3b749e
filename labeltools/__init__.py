"""labeltools: labelme annotations -> PASCAL VOC segmentation datasets, and checks.

The public API is listed in ``__all__``; everything else is internal. Names are
imported on first use (PEP 562), so ``labeltools --help`` and a single command do not
pay for importing every pipeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: module -> the public names it defines (the single list of the public API).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "check": ("CheckReport", "Problem", "check_dataset"),
    "colormap": ("VOID_COLOR", "label_colormap"),
    "constants": (
        "BACKGROUND_INDEX",
        "BACKGROUND_NAME",
        "IGNORE_INDEX",
        "IGNORE_NAME",
        "MAX_CLASSES",
    ),
    "conversion": ("FileReport",),
    "errors": (
        "BackendError",
        "DatasetError",
        "EvaluationError",
        "ImageReadError",
        "InputError",
        "LabelImageError",
        "LabelNameError",
        "LabelValueError",
        "LabelmeFormatError",
        "LabeltoolsError",
        "OutputError",
        "PaletteError",
    ),
    "evaluation": ("EvalResult", "evaluate"),
    "exports": ("json2coco", "json2yolo"),
    "formats.labelme": ("Annotation", "Shape", "read_labelme"),
    "formats.labelme_images": ("ImageInfo", "image_info", "load_image"),
    "formats.voc": ("read_id_list",),
    "labels": ("LabelSet", "class_names_by_index", "read_class_names"),
    "masks": (
        "ColorMatch",
        "UnknownColor",
        "index2rgb",
        "index2rgb_files",
        "match_colors",
        "rgb2index",
        "rgb2index_files",
    ),
    "metrics": ("ConfusionMatrix", "SegmentationMetrics"),
    "pipeline": ("ConvertReport", "Json2vocReport", "json2voc"),
    "palettes": ("Palette", "read_palette", "voc_palette"),
    "io.images": ("exif_orientation", "is_voc_palette", "open_image", "read_image"),
    "io.labelpng": ("lblread", "lblsave"),
    "raster": ("shapes_to_label",),
    "remap": ("LabelMap", "label_map"),
    "splits": (
        "Split",
        "SplitBalance",
        "split_balance",
        "split_dataset",
        "split_ids",
        "stratified_split_ids",
    ),
    "stats": ("DatasetStats", "dataset_stats"),
    "weights": (
        "ClassCounts",
        "ClassWeights",
        "OutOfRange",
        "PixelHistogram",
        "class_weights",
        "count_pixels",
        "dataset_weights",
        "pixel_histogram",
    ),
    "vectorize": ("maps_to_shapes",),
    "voc2labelme": ("Voc2jsonReport", "voc2json"),
    "xlsx": ("PixelDump", "dump_csv", "dump_xlsx"),
}

_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted([*_WHERE, "__version__"])

if TYPE_CHECKING:  # type checkers and IDEs see ordinary imports
    from .check import CheckReport, Problem, check_dataset
    from .colormap import VOID_COLOR, label_colormap
    from .constants import (
        BACKGROUND_INDEX,
        BACKGROUND_NAME,
        IGNORE_INDEX,
        IGNORE_NAME,
        MAX_CLASSES,
    )
    from .conversion import FileReport
    from .errors import (
        BackendError,
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
    from .evaluation import EvalResult, evaluate
    from .exports import json2coco, json2yolo
    from .formats.labelme import Annotation, Shape, read_labelme
    from .formats.labelme_images import ImageInfo, image_info, load_image
    from .formats.voc import read_id_list
    from .io.images import exif_orientation, is_voc_palette, open_image, read_image
    from .io.labelpng import lblread, lblsave
    from .labels import LabelSet, class_names_by_index, read_class_names
    from .masks import (
        ColorMatch,
        UnknownColor,
        index2rgb,
        index2rgb_files,
        match_colors,
        rgb2index,
        rgb2index_files,
    )
    from .metrics import ConfusionMatrix, SegmentationMetrics
    from .palettes import Palette, read_palette, voc_palette
    from .pipeline import ConvertReport, Json2vocReport, json2voc
    from .raster import shapes_to_label
    from .remap import LabelMap, label_map
    from .splits import (
        Split,
        SplitBalance,
        split_balance,
        split_dataset,
        split_ids,
        stratified_split_ids,
    )
    from .stats import DatasetStats, dataset_stats
    from .vectorize import maps_to_shapes
    from .voc2labelme import Voc2jsonReport, voc2json
    from .weights import (
        ClassCounts,
        ClassWeights,
        OutOfRange,
        PixelHistogram,
        class_weights,
        count_pixels,
        dataset_weights,
        pixel_histogram,
    )
    from .xlsx import PixelDump, dump_csv, dump_xlsx


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'labeltools' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
