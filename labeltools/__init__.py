"""labeltools: labelme annotations -> PASCAL VOC segmentation datasets, and checks.

The public API is listed in ``__all__``; everything else is internal.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .check import CheckReport, Problem, check_dataset
from .classnames import read_class_names
from .colormap import VOID_COLOR, label_colormap
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
from .masks import (
    ColorMatch,
    UnknownColor,
    index2rgb,
    index2rgb_files,
    match_colors,
    rgb2index,
    rgb2index_files,
)
from .palettes import Palette, read_palette, voc_palette
from .evaluation import EvalResult, evaluate, read_id_list
from .metrics import ConfusionMatrix, SegmentationMetrics
from .pngio import exif_orientation, is_voc_palette, lblread, lblsave, open_image, read_image
from .splits import (
    Split,
    SplitBalance,
    split_balance,
    split_dataset,
    split_ids,
    stratified_split_ids,
)
from .stats import DatasetStats, dataset_stats
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

try:
    __version__ = version("labeltools")
except PackageNotFoundError:  # running from a source checkout that is not installed
    __version__ = "0+unknown"

__all__ = [
    "Annotation",
    "BACKGROUND_INDEX",
    "BACKGROUND_NAME",
    "CheckReport",
    "ClassCounts",
    "ClassWeights",
    "ColorMatch",
    "ConfusionMatrix",
    "DatasetError",
    "DatasetStats",
    "EvalResult",
    "EvaluationError",
    "IGNORE_INDEX",
    "IGNORE_NAME",
    "ImageInfo",
    "ImageReadError",
    "InputError",
    "LabelImageError",
    "LabelNameError",
    "LabelValueError",
    "LabelmeFormatError",
    "LabeltoolsError",
    "MAX_CLASSES",
    "OutOfRange",
    "OutputError",
    "Palette",
    "PaletteError",
    "PixelDump",
    "PixelHistogram",
    "Problem",
    "SegmentationMetrics",
    "Shape",
    "Split",
    "SplitBalance",
    "UnknownColor",
    "VOID_COLOR",
    "__version__",
    "check_dataset",
    "class_weights",
    "count_pixels",
    "dataset_stats",
    "dataset_weights",
    "dump_csv",
    "dump_xlsx",
    "evaluate",
    "exif_orientation",
    "image_info",
    "index2rgb",
    "index2rgb_files",
    "is_voc_palette",
    "label_colormap",
    "lblread",
    "lblsave",
    "load_image",
    "match_colors",
    "open_image",
    "pixel_histogram",
    "read_class_names",
    "read_id_list",
    "read_image",
    "read_labelme",
    "read_palette",
    "rgb2index",
    "rgb2index_files",
    "shapes_to_label",
    "split_balance",
    "split_dataset",
    "split_ids",
    "stratified_split_ids",
    "voc_palette",
]
