"""PASCAL VOC label conventions, named once."""

from __future__ import annotations

__all__ = [
    "ABSENT_POLICIES",
    "BACKGROUND_INDEX",
    "BACKGROUND_NAME",
    "IGNORE_INDEX",
    "IGNORE_NAME",
    "LABELMAP_FILE",
    "MAX_CLASSES",
    "UNKNOWN_COLOR_MODES",
    "UNKNOWN_LABEL_MODES",
    "WEIGHT_METHODS",
    "YOLO_PARTS",
]

#: Class index of the background, labelme's ``_background_``.
BACKGROUND_INDEX = 0
#: VOC's void label: object borders and "don't care" regions. Losses skip it
#: (``ignore_index=255``) and evaluation never counts it.
IGNORE_INDEX = 255
#: labelme's name for regions that become :data:`IGNORE_INDEX` (``-1`` in its int32 arrays).
IGNORE_NAME = "__ignore__"
#: labelme's name for class 0.
BACKGROUND_NAME = "_background_"
#: An 8-bit label PNG holds classes 0..254; 255 is reserved for void.
MAX_CLASSES = 255
#: Datumaro's and CVAT's class list with colours, beside ``ImageSets/`` in a VOC dataset
#: (json2voc writes it, rgb2index and check read it).
LABELMAP_FILE = "labelmap.txt"

# The choices of the library's mode parameters, here (not in their NumPy-importing modules)
# so that the CLI lists them in --help without importing the pipelines.

#: json2voc's ``unknown=``: fail (default), paint labels not in the list void, or background.
UNKNOWN_LABEL_MODES = ("error", "ignore", "background")
#: json2yolo's ``parts=``: an instance in several pieces is one row (Ultralytics' merge) or one per piece.
YOLO_PARTS = ("merge", "split")
#: rgb2index's ``unknown=``: a colour not in the palette fails the file, or becomes void.
UNKNOWN_COLOR_MODES = ("error", "ignore")
#: How a score that is 0/0 (a class absent from both ground truth and prediction, say) is
#: reported: ``"nan"`` = NaN and left out of the means (deeplab / mmseg), ``"zero"`` = 0 and
#: averaged in (torchmetrics' ``absent_score=0``).
ABSENT_POLICIES = ("nan", "zero")
#: The weighting schemes :func:`labeltools.class_weights` knows.
WEIGHT_METHODS = ("enet", "median-frequency", "inverse", "inverse-sqrt")
