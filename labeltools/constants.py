"""PASCAL VOC label conventions, named once."""

from __future__ import annotations

__all__ = ["BACKGROUND_INDEX", "BACKGROUND_NAME", "IGNORE_INDEX", "IGNORE_NAME", "MAX_CLASSES"]

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
