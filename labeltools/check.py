"""The dataset doctor: find what would break (or silently skew) a training run on a VOC dataset.

Layout checked (ours or anyone's)::

    DATASET/JPEGImages/<id>.jpg            (any image format)
    DATASET/SegmentationClass/<id>.png     label PNGs
    DATASET/ImageSets/Segmentation/*.txt   split lists, one id per line
    DATASET/class_names.txt                optional: the number of classes
    DATASET/labelmap.txt                   (Datumaro / CVAT) the same, without class_names.txt

Each problem has a kind, a severity (``error``: training would crash or learn
wrong labels; ``warning``: probably a mistake; ``note``: worth knowing) and the ids it
concerns. File names and list contents are cheap and checked in this process; the
per-id reads (image header, label header, label pixels) run through
:func:`labeltools.engine.run`.
"""

from __future__ import annotations

import functools
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .constants import BACKGROUND_INDEX, IGNORE_INDEX, LABELMAP_FILE, MAX_CLASSES
from .errors import DatasetError, ImageReadError
from .formats.voc import CLASS_DIR, CLASS_NAMES_FILE, IMAGE_DIR, LIST_DIR, read_id_list
from .io.files import label_stems
from .labels import class_names_by_index
from .palettes import labelmap_class_names

if TYPE_CHECKING:
    from .engine import BackendSpec

__all__ = ["CheckReport", "Problem", "check_dataset"]

PathLike = str | os.PathLike[str]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: trainval.txt is by definition train + val: its overlap with them is no duplicate.
UNION_LIST = "trainval"
TEST_LIST = "test"
#: How far from the end of a file its end marker may sit (encoders may pad a little).
TAIL_BYTES = 1024
_END_MARKERS = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82"}
#: EXIF orientations that swap width and height (90 / 270 degree rotations).
_TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)

ERROR, WARNING, NOTE = "error", "warning", "note"

#: Every problem kind: severity and a one-line explanation, in report order.
KINDS: dict[str, tuple[str, str]] = {
    "missing_image": (ERROR, "listed, but no image in JPEGImages/"),
    "missing_label": (ERROR, "listed, but no label in SegmentationClass/"),
    "duplicate_across_splits": (ERROR, "in two or more split lists (a train/val leak)"),
    "unreadable_image": (ERROR, "image unreadable or truncated"),
    "unreadable_label": (ERROR, "label unreadable or truncated"),
    "rgb_label": (ERROR, "RGB colour mask, not indices: use `labeltools rgb2index`"),
    "bad_label_mode": (ERROR, "label is neither a P nor an L PNG"),
    "out_of_range": (ERROR, "values outside {0..N-1, 255}"),
    "size_mismatch": (ERROR, "label size differs from image size"),
    "non_voc_palette": (WARNING, "P label whose palette is not the VOC colour map"),
    "empty_label": (WARNING, "label with no class pixels (all background / ignore)"),
    "label_without_image": (WARNING, "label without an image"),
    "duplicate_in_list": (WARNING, "listed more than once in one split list"),
    "empty_list": (WARNING, "split list with no ids"),
    "trainval_mismatch": (WARNING, "trainval.txt is not train.txt + val.txt"),
    "grey_label": (NOTE, "L label without a palette: fine, but it looks black in a viewer"),
    "image_without_label": (NOTE, "image without a label"),
    "test_without_label": (NOTE, "in test.txt without a label (test labels are often withheld)"),
}
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, NOTE: 2}


@dataclass(frozen=True)
class Problem:
    """One kind of problem and every id it was found in (sorted).

    ``details[i]`` says what was found for ``ids[i]`` ("" when the kind says it all);
    ``values`` are the offending label values of an ``out_of_range`` problem.
    """

    kind: str
    severity: str
    summary: str
    ids: tuple[str, ...]
    details: tuple[str, ...]
    values: tuple[int, ...] = ()

    @property
    def count(self) -> int:
        return len(self.ids)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity,
            "summary": self.summary,
            "count": self.count,
            "ids": list(self.ids),
            "details": list(self.details),
        }
        if self.values:
            out["values"] = list(self.values)
        return out


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_dataset` found. ``ok`` is False when any error-level problem was found."""

    root: Path
    num_classes: int | None
    num_classes_source: str
    images: int
    labels: int
    lists: tuple[tuple[str, int], ...]
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def count(self, severity: str) -> int:
        """Number of problem kinds of ``severity`` found."""
        return sum(p.severity == severity for p in self.problems)

    def problem(self, kind: str) -> Problem | None:
        return next((p for p in self.problems if p.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "ok": self.ok,
            "num_classes": self.num_classes,
            "num_classes_source": self.num_classes_source,
            "images": self.images,
            "labels": self.labels,
            "lists": dict(self.lists),
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class _Item:
    id: str
    label: str
    image: str | None


@dataclass(frozen=True)
class _Findings:
    # One worker's answer for one id: kind -> detail, plus the out-of-range values.
    id: str
    found: tuple[tuple[str, str], ...]
    values: tuple[int, ...] = ()


def _truncated(path: str, fmt: str | None) -> bool:
    """Whether a JPEG / PNG file lacks its end marker (an interrupted copy or download)."""
    marker = _END_MARKERS.get(fmt or "")
    if marker is None:
        return False
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - TAIL_BYTES))
        return marker not in fh.read()


def _image_size(path: str) -> tuple[tuple[int, int] | None, str]:
    """The upright (width, height) of an image from its header, or None and why not."""
    from .io.images import exif_orientation, open_header

    try:
        with open_header(path) as img:
            w, h = img.size
            fmt = img.format
            if exif_orientation(img) in _TRANSPOSING_ORIENTATIONS:
                # The label is drawn on the upright picture that viewers (and labelme) show.
                w, h = h, w
    except ImageReadError as exc:  # missing, not an image, or cut inside its header
        return None, _reason(exc, path)
    if _truncated(path, fmt):
        return None, f"truncated ({fmt} end marker missing)"
    return (w, h), ""


def _reason(exc: Exception, path: str) -> str:
    # Library messages start with the path; the report already names the id.
    return str(exc).removeprefix(f"{path}: ")


def _check_one(item: _Item, num_classes: int | None) -> _Findings:
    """Everything that needs a file read, for one id: headers first, pixels last."""
    from .io.errors import pillow_errors
    from .io.images import is_voc_palette, open_header

    found: list[tuple[str, str]] = []
    image_size: tuple[int, int] | None = None
    if item.image is not None:
        image_size, why = _image_size(item.image)
        if image_size is None:
            found.append(("unreadable_image", why))
    try:
        with open_header(item.label) as img:
            mode, size, fmt = img.mode, img.size, img.format
            if fmt == "JPEG":
                found.append(("unreadable_label", "a JPEG file, not a PNG"))
                return _Findings(item.id, tuple(found))
            if image_size is not None and size != image_size:
                found.append((
                    "size_mismatch",
                    f"label {size[0]}x{size[1]}, image {image_size[0]}x{image_size[1]}",
                ))
            if mode in ("RGB", "RGBA"):
                found.append(("rgb_label", mode))
                return _Findings(item.id, tuple(found))
            if mode not in ("P", "L"):
                found.append(("bad_label_mode", f"mode {mode}"))
                return _Findings(item.id, tuple(found))
            if _truncated(item.label, fmt):
                found.append(("unreadable_label", f"truncated ({fmt} end marker missing)"))
                return _Findings(item.id, tuple(found))
            try:
                with pillow_errors(item.label, "pixels", reason="cannot decode: {exc}"):
                    # Pillow decodes the pixels to hand out the palette, so this is in here too.
                    if mode == "L":
                        found.append(("grey_label", ""))
                    elif not is_voc_palette(img):
                        found.append(("non_voc_palette", ""))
                    # Which values occur is all we need: Pillow's histogram, no array.
                    hist = img.histogram()
            except ImageReadError as exc:
                found.append(("unreadable_label", _reason(exc, item.label)))
                return _Findings(item.id, tuple(found))
    except ImageReadError as exc:
        found.append(("unreadable_label", _reason(exc, item.label)))
        return _Findings(item.id, tuple(found))
    present = [v for v, n in enumerate(hist) if n]
    bad: tuple[int, ...] = ()
    if num_classes is not None:
        bad = tuple(v for v in present if v >= num_classes and v != IGNORE_INDEX)
        if bad:
            found.append(("out_of_range", "values " + ", ".join(map(str, bad))))
    if not set(present) - {BACKGROUND_INDEX, IGNORE_INDEX}:
        what = {(BACKGROUND_INDEX,): "all background", (IGNORE_INDEX,): "all ignore"}
        found.append(("empty_label", what.get(tuple(present), "background and ignore only")))
    return _Findings(item.id, tuple(found), bad)


def _files_by_stem(folder: Path, suffixes: Sequence[str]) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in suffixes:
            out.setdefault(p.stem, p)
    return out


def _num_classes(root: Path, num_classes: int | None) -> tuple[int | None, str]:
    if num_classes is not None:
        if isinstance(num_classes, bool) or not 1 <= num_classes <= MAX_CLASSES:
            raise ValueError(f"num_classes must be in [1, {MAX_CLASSES}], got {num_classes}")
        return num_classes, "given"
    names = root / CLASS_NAMES_FILE
    if names.is_file():
        return len(class_names_by_index(names)), CLASS_NAMES_FILE
    labelmap = root / LABELMAP_FILE
    if labelmap.is_file():
        return len(labelmap_class_names(labelmap)), LABELMAP_FILE
    return None, "unknown"


def _check_lists(
    list_dir: Path, images: dict[str, Path], labels: dict[str, Path],
    found: dict[str, dict[str, str]],
) -> tuple[tuple[str, int], ...]:
    """Check the split lists against the files and each other; return (list, ids) sizes."""
    listed: dict[str, list[str]] = {}
    for path in sorted(list_dir.glob("*.txt")) if list_dir.is_dir() else ():
        # Repeats and empty lists are problems to report, not reasons to stop.
        ids = listed[path.stem] = list(read_id_list(path, unique=False, allow_empty=True))
        if not ids:
            found["empty_list"][path.name] = "no ids"
        for i, n in Counter(ids).items():
            if n > 1:
                found["duplicate_in_list"][i] = f"{n} times in {path.name}"
        for i in dict.fromkeys(ids):
            if i not in images:
                _add_list(found["missing_image"], i, path.name)
            if i not in labels:
                # VOC's test labels are withheld: an unlabelled test id is expected.
                kind = "test_without_label" if path.stem == TEST_LIST else "missing_label"
                _add_list(found[kind], i, path.name)
    in_lists: dict[str, list[str]] = defaultdict(list)
    for name, ids in listed.items():
        if name != UNION_LIST:
            for i in dict.fromkeys(ids):
                in_lists[i].append(name)
    for i, names in in_lists.items():
        if len(names) > 1:
            found["duplicate_across_splits"][i] = " and ".join(names)
    if {"train", "val", UNION_LIST} <= listed.keys():
        expected = set(listed["train"]) | set(listed["val"])
        actual = set(listed[UNION_LIST])
        for i in expected - actual:
            found["trainval_mismatch"][i] = "missing from trainval.txt"
        for i in actual - expected:
            found["trainval_mismatch"][i] = "in trainval.txt only"
    return tuple((name, len(ids)) for name, ids in listed.items())


def _add_list(hits: dict[str, str], i: str, list_name: str) -> None:
    seen = hits.get(i)
    hits[i] = f"{seen}, {list_name}" if seen else f"in {list_name}"


def check_dataset(
    root: PathLike,
    *,
    num_classes: int | None = None,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Check a VOC segmentation dataset and report every problem found, per kind.

    ``num_classes`` (default: the line count of ``class_names.txt``; unknown without
    it, and then values are not range-checked) sets the valid values ``0..N-1`` and
    255. ``workers`` / ``backend``: where the labels are read (see
    :mod:`labeltools.engine`); the report is the same for any of them. ``progress(done, total)`` is called per label read.
    A folder without ``SegmentationClass/`` raises :class:`~labeltools.errors.DatasetError`;
    problems in the data are reported, not raised.
    """
    from .engine import run

    base = Path(root)
    if not (base / CLASS_DIR).is_dir():
        raise DatasetError(
            f"{base}: expected a VOC dataset folder with {CLASS_DIR}/, found none"
        )
    n_classes, source = _num_classes(base, num_classes)
    images = _files_by_stem(base / IMAGE_DIR, IMAGE_SUFFIXES)
    labels = label_stems(base / CLASS_DIR)

    # kind -> id -> detail; file-name and list checks first, then the per-id reads.
    found: dict[str, dict[str, str]] = defaultdict(dict)
    list_sizes = _check_lists(base / LIST_DIR, images, labels, found)
    for i in labels.keys() - images.keys() - found["missing_image"].keys():
        found["label_without_image"][i] = ""
    unlabelled = found["missing_label"].keys() | found["test_without_label"].keys()
    for i in images.keys() - labels.keys() - unlabelled:
        found["image_without_label"][i] = ""

    items = [
        _Item(i, str(p), str(images[i]) if i in images else None) for i, p in labels.items()
    ]
    fn = functools.partial(_check_one, num_classes=n_classes)
    values: set[int] = set()
    for res in run(
        fn, items, workers=workers, backend=backend, progress=progress, reads=(base,)
    ):
        for kind, detail in res.found:
            found[kind][res.id] = detail
        values.update(res.values)

    problems = []
    for kind, (severity, summary) in KINDS.items():
        hits = found.get(kind)
        if not hits:
            continue
        ids = tuple(sorted(hits))
        if kind == "out_of_range":
            summary = summary.replace("N-1", str(n_classes - 1))
        problems.append(Problem(
            kind, severity, summary, ids, tuple(hits[i] for i in ids),
            tuple(sorted(values)) if kind == "out_of_range" else (),
        ))
    problems.sort(key=lambda p: _SEVERITY_ORDER[p.severity])
    return CheckReport(
        base, n_classes, source, len(images), len(labels), list_sizes, tuple(problems)
    )
