"""The exceptions labeltools raises.

Every error the library raises on purpose is a :class:`LabeltoolsError`; anything
else escaping is a bug. Messages are one line and name the file, what was expected
and what was found, so the CLI can print them as they are.

::

    LabeltoolsError
    ├── InputError                 bad input data (the user's files need fixing)
    │   ├── LabelmeFormatError     a labelme JSON file that cannot be read as one
    │   ├── ImageReadError         a missing, undecodable or wrongly sized image
    │   ├── LabelImageError        a label PNG that does not hold class indices
    │   ├── LabelNameError         unknown or invalid class names / label lists
    │   ├── PaletteError           a colour palette file, or colours not in it
    │   └── DatasetError           a dataset layout that is incomplete or inconsistent
    ├── LabelValueError            an array that cannot be stored as asked (also a ValueError)
    ├── OutputError                an output location that is refused or already taken
    ├── EvaluationError            predictions that cannot be scored against ground truth
    └── BackendError               where the work should run cannot run it (a Dask cluster
                                   unreachable, its workers not seeing the data, the extra missing)

``LabelValueError`` is also a :class:`ValueError` so scripts ported from labelme's
``lblsave`` (which raised ``ValueError``) keep catching it.
"""

from __future__ import annotations

__all__ = [
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
]


class LabeltoolsError(Exception):
    """Base class of every error labeltools raises on purpose."""


class InputError(LabeltoolsError):
    """The input data is malformed; the message says which file and why."""


class LabelmeFormatError(InputError):
    """A labelme JSON file is invalid: bad JSON, missing keys, bad shapes."""


class ImageReadError(InputError):
    """An image is missing, cannot be decoded, or has an unexpected size."""


class LabelImageError(InputError):
    """A label image does not hold class indices (e.g. an RGB colour mask)."""


class LabelNameError(InputError):
    """A class name is unknown, duplicated, or a label list is malformed."""


class PaletteError(InputError):
    """A palette file is malformed, or an image has colours outside the palette."""


class DatasetError(InputError):
    """A dataset folder is incomplete or inconsistent."""


class LabelValueError(LabeltoolsError, ValueError):
    """An array's dtype, shape or values cannot be stored in the requested format."""


class OutputError(LabeltoolsError):
    """An output path is refused (not ours, already exists, escapes its root)."""


class EvaluationError(LabeltoolsError):
    """Predictions cannot be scored against the ground truth."""


class BackendError(LabeltoolsError):
    """The execution backend cannot run the work: the message says which worker or what."""
