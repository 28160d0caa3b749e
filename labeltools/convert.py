"""json2voc: a folder of labelme JSON files -> a PASCAL-VOC segmentation dataset.

The work is split so it can run anywhere :mod:`labeltools.engine` sends it:

* :func:`convert_file` turns one JSON file into its outputs (JPEG, class PNG, object
  PNG, optional NPY and overlay) and returns a small frozen :class:`FileReport`. It
  is pure apart from writing its own output files, and picklable (a top-level
  function bound with :func:`functools.partial` to a frozen :class:`Settings`).
* :func:`json2voc` discovers the inputs, checks every label in a first pass (before
  anything is written), maps :func:`convert_file` over the files with
  :func:`labeltools.engine.run`, reduces the reports, and writes the dataset-level
  files (``class_names.txt``, ``labelmap.txt``, the split lists).

Resuming: the output folder carries an ownership marker (written before anything
else), and a manifest of what was converted from which inputs with which options
(``.labeltools-json2voc/manifest.json``). During a run, the main process appends
one line per finished file to a journal *after* the file's outputs are complete;
the manifest is rewritten from both at the end and the journal removed. A rerun
skips a file whose record matches its inputs (JSON bytes, image size and mtime) and
the options, and redoes everything else. Every output is written atomically, so a
run killed at any moment leaves complete files or none (a torn last journal line is
ignored), and the rerun ends byte-identical to a clean run.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from PIL import Image

from . import errors
from ._files import TMP_PREFIX, atomic_path, atomic_write_bytes, atomic_write_text
from ._pngfast import write_label
from .classnames import read_class_names
from .constants import BACKGROUND_INDEX, BACKGROUND_NAME, IGNORE_INDEX, IGNORE_NAME, MAX_CLASSES
from .engine import Backend, run
from .errors import (
    ImageReadError,
    InputError,
    LabelmeFormatError,
    LabelNameError,
    LabelValueError,
    OutputError,
)
from .labelme import (
    MAX_INDEX_INSTANCES,
    Annotation,
    ImageInfo,
    Shape,
    count_instances,
    image_header,
    image_info,
    image_source,
    index_canvas,
    load_image,
    parse_labelme,
    read_labelme,
    shapes_to_label,
)
from .palettes import labelmap_name_ok, labelmap_text
from .pngio import FAST_LABEL_PNG

if TYPE_CHECKING:
    from .splits import Split

__all__ = [
    "FileReport",
    "Json2vocReport",
    "LabelSet",
    "Settings",
    "convert_file",
    "discover_labels",
    "json2voc",
    "parse_labels",
]

PathLike = str | os.PathLike[str]

#: ``--unknown`` modes: fail (default), paint unknown labels as void, or as background.
UNKNOWN_MODES = ("error", "ignore", "background")
#: labelme's int32 value for ignored pixels (stored as :data:`IGNORE_INDEX` in PNGs).
IGNORE_VALUE = -1
#: Instance ids 1..254 fit an object PNG; 255 is VOC's void.
MAX_INSTANCES = MAX_INDEX_INSTANCES
#: JPEG settings for images that must be re-encoded (rotated, PNG, embedded data):
#: high quality and no chroma subsampling, so object edges keep their colour.
JPEG_QUALITY = 95
JPEG_SUBSAMPLING = 0  # 4:4:4

#: File in OUTPUT_DIR that says "json2voc made this folder" (written before anything else).
MARKER_NAME = ".labeltools-json2voc.json"
#: Folder of the manifest and the journal (what was converted from which inputs, how).
RECORDS_DIR = ".labeltools-json2voc"
MANIFEST_NAME = "manifest.json"
JOURNAL_NAME = "journal.jsonl"
_MARKER = {"tool": "labeltools json2voc", "format": 1}
#: Bump when the bytes json2voc writes for the same inputs change: old records go stale.
_OUTPUT_FORMAT = 1

# Output folders, as VOC2012 names them.
JPEG_DIR = "JPEGImages"
CLASS_DIR = "SegmentationClass"
OBJECT_DIR = "SegmentationObject"
CLASS_NPY_DIR = "SegmentationClassNpy"
OBJECT_NPY_DIR = "SegmentationObjectNpy"
VIZ_DIR = "SegmentationClassVisualization"
SETS_DIR = "ImageSets/Segmentation"
_MANAGED_DIRS = (
    JPEG_DIR, CLASS_DIR, OBJECT_DIR, CLASS_NPY_DIR, OBJECT_NPY_DIR, VIZ_DIR, SETS_DIR, RECORDS_DIR
)


# --------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class LabelSet:
    """Class names, index = position (0 = ``_background_``), and where they came from.

    ``__ignore__`` is never a class: shapes labelled with it always become void
    (-1 in NPY files, 255 in PNGs), whether or not the list names it.
    """

    names: tuple[str, ...]
    source: str

    def values(self) -> dict[str, int]:
        """labelme's ``label_name_to_value``: ``__ignore__`` -> -1, then 0, 1, 2, ..."""
        out = {IGNORE_NAME: IGNORE_VALUE}
        out.update((name, i) for i, name in enumerate(self.names))
        return out


def label_set(names: Iterable[str], source: str) -> LabelSet:
    """Build a :class:`LabelSet` from names in labelme's ``labels.txt`` convention.

    ``__ignore__`` may only come first, ``_background_`` only before every class; a
    list without ``_background_`` gets it prepended as class 0. Blank names and
    surrounding spaces are dropped; a name given twice is an error.
    """
    clean = [n.strip() for n in names]
    clean = [n for n in clean if n]
    seen: set[str] = set()
    for name in clean:
        if name in seen:
            raise LabelNameError(f"{source}: label {name!r} is given twice")
        seen.add(name)
    if IGNORE_NAME in clean:
        if clean.index(IGNORE_NAME) != 0:
            raise LabelNameError(
                f"{source}: {IGNORE_NAME} must be the first label, "
                f"found it at position {clean.index(IGNORE_NAME) + 1}"
            )
        clean = clean[1:]
    if BACKGROUND_NAME in clean:
        if clean.index(BACKGROUND_NAME) != 0:
            first = f"after {IGNORE_NAME}" if IGNORE_NAME in seen else "first"
            raise LabelNameError(
                f"{source}: {BACKGROUND_NAME} (class 0) must come {first}, "
                f"found it after {clean[0]!r}"
            )
    else:
        clean.insert(0, BACKGROUND_NAME)
    return LabelSet(tuple(clean), source)


#: Endings of label-list files; ``--labels x.txt`` naming no file is a typo, not a class.
_LIST_SUFFIXES = (".txt", ".names", ".lst", ".csv")


def parse_labels(labels: PathLike | Sequence[str]) -> LabelSet:
    """The ``--labels`` value: a labels file, a comma-separated string, or a list of names.

    A string is a file when such a file exists; otherwise a string without commas
    that looks like a path (a folder separator, or ``.txt``) is a missing file (an
    error), and anything else a comma-separated list.
    """
    if isinstance(labels, (list, tuple)):
        return label_set(labels, "labels")
    if isinstance(labels, os.PathLike) or (isinstance(labels, str) and Path(labels).is_file()):
        return label_set(read_class_names(labels), str(labels))
    if not isinstance(labels, str):
        raise TypeError(f"labels must be a path, a string or a list of names, got {labels!r}")
    looks_like_path = Path(labels).suffix.lower() in _LIST_SUFFIXES or any(
        sep in labels for sep in ("/", "\\")
    )
    if "," not in labels and looks_like_path:
        raise LabelNameError(f"{labels}: no such labels file")
    names = labels.split(",")
    if not any(n.strip() for n in names):
        raise LabelNameError(
            f"--labels {labels!r}: expected a labels file or comma-separated names"
        )
    return label_set(names, "--labels")


def discover_labels(found: Iterable[str]) -> LabelSet:
    """The labels of an input, as json2voc uses them without ``--labels``.

    ``_background_`` first, the rest sorted; ``__ignore__`` stays void, not a class.
    """
    rest = sorted(set(found) - {BACKGROUND_NAME, IGNORE_NAME})
    return LabelSet((BACKGROUND_NAME, *rest), "discovered")


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class FileReport:
    """What :func:`convert_file` did with one JSON file.

    ``status`` is ``"written"``, ``"skipped"`` (outputs up to date) or ``"failed"``
    (``error`` holds the message, ``error_type`` the exception class name).
    ``pixels[c]`` counts class ``c``; ``ignored`` counts void pixels.
    """

    stem: str
    source: str
    status: str
    shapes: tuple[tuple[str, int], ...] = ()
    pixels: tuple[int, ...] = ()
    ignored: int = 0
    instances: int = 0
    width: int = 0
    height: int = 0
    error: str | None = None
    error_type: str | None = None
    #: What the manifest notes for this file (inputs' fingerprint, options, outputs).
    record: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True)
class Json2vocReport:
    """The result of :func:`json2voc`: per-file reports and their reduction."""

    input_dir: Path
    output_dir: Path
    labels: LabelSet
    files: tuple[FileReport, ...]
    split: Split | None
    seconds: float
    npy: bool = False
    objects: bool = True
    viz: bool = False
    warnings: tuple[str, ...] = field(default=())

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def written(self) -> int:
        return self._count("written")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failures(self) -> tuple[FileReport, ...]:
        return tuple(f for f in self.files if f.status == "failed")

    @property
    def shapes(self) -> dict[str, int]:
        """Shapes per ``shape_type`` over every converted file, sorted by type."""
        total: dict[str, int] = {}
        for f in self.files:
            for kind, n in f.shapes:
                total[kind] = total.get(kind, 0) + n
        return dict(sorted(total.items()))

    @property
    def pixels(self) -> dict[str, int]:
        """Pixels per class name (every class, in class order) over the converted files."""
        counts = np.zeros(len(self.labels.names), dtype=np.int64)
        for f in self.files:
            if f.pixels:
                counts += np.asarray(f.pixels, dtype=np.int64)
        return {name: int(n) for name, n in zip(self.labels.names, counts)}

    @property
    def ignored_pixels(self) -> int:
        return sum(f.ignored for f in self.files)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary (what ``labeltools json2voc --json`` prints)."""
        return {
            "input_dir": str(self.input_dir),
            "output_dir": str(self.output_dir),
            "labels_source": self.labels.source,
            "class_names": list(self.labels.names),
            "images": len(self.files),
            "written": self.written,
            "skipped": self.skipped,
            "failed": len(self.failures),
            "failures": [{"file": f.source, "error": f.error} for f in self.failures],
            "shapes": self.shapes,
            "pixels": self.pixels,
            "ignored_pixels": self.ignored_pixels,
            "split": (
                {name: len(ids) for name, ids in self.split.lists().items()}
                if self.split is not None
                else None
            ),
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class Settings:
    """Everything :func:`convert_file` needs besides the file: small and picklable."""

    output_dir: Path
    names: tuple[str, ...]
    unknown: str = "error"
    objects: bool = True
    npy: bool = False
    viz: bool = False
    overwrite: bool = False

    @property
    def class_png(self) -> bool:
        # More classes than an 8-bit PNG holds: only the NPY files can store them.
        return len(self.names) <= MAX_CLASSES

    @functools.cached_property
    def digest(self) -> str:
        """Fingerprint of every option that changes the bytes written for a file."""
        doc = {
            "format": _OUTPUT_FORMAT,
            "names": list(self.names),
            "unknown": self.unknown,
            "objects": self.objects,
            "npy": self.npy,
            "viz": self.viz,
            "png": FAST_LABEL_PNG,
            "jpeg": [JPEG_QUALITY, JPEG_SUBSAMPLING],
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    @functools.cached_property
    def _layout(self) -> tuple[tuple[str, str, str], ...]:
        """``(kind, folder, extension)`` of every output this configuration writes."""
        layout = [("jpeg", JPEG_DIR, ".jpg")]
        if self.class_png:
            layout.append(("class", CLASS_DIR, ".png"))
        if self.objects:
            layout.append(("object", OBJECT_DIR, ".png"))
        if self.npy:
            layout.append(("class_npy", CLASS_NPY_DIR, ".npy"))
            if self.objects:
                layout.append(("object_npy", OBJECT_NPY_DIR, ".npy"))
        if self.viz:
            layout.append(("viz", VIZ_DIR, ".jpg"))
        return tuple(layout)

    def outputs(self, stem: str) -> dict[str, Path]:
        """Output kind -> path for ``stem`` (object and NPY entries only when enabled)."""
        root = self.output_dir
        return {kind: root / folder / f"{stem}{ext}" for kind, folder, ext in self._layout}

    def relative_outputs(self, stem: str) -> dict[str, str]:
        """:meth:`outputs` relative to ``output_dir``, as strings (what the manifest notes).

        Plain string joins: this runs once per file, where pathlib's parsing shows.
        """
        return {kind: os.path.join(folder, stem + ext) for kind, folder, ext in self._layout}

    def folders(self) -> list[Path]:
        """Every output folder this configuration writes into."""
        dirs = {self.output_dir / folder for _, folder, _ in self._layout}
        return sorted(dirs | {self.output_dir / RECORDS_DIR, self.output_dir / SETS_DIR})


def _image_stamp(source: PathLike | None) -> dict[str, object] | None:
    if source is None:
        return None
    return _stamp(source, os.stat(source))


def _stamp(source: PathLike, st: os.stat_result) -> dict[str, object]:
    # os.path.realpath is what Path.resolve() runs, without building Path objects.
    return {"path": os.path.realpath(source), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _up_to_date(
    settings: Settings, stem: str, json_sha: str, record: Mapping[str, Any] | None
) -> bool:
    """Whether ``record`` (from the last run) says the outputs of ``stem`` are current."""
    if not isinstance(record, Mapping):
        return False
    if record.get("json_sha256") != json_sha or record.get("options") != settings.digest:
        return False
    image = record.get("image")
    if image is not None:
        try:
            if _image_stamp(image["path"]) != image:
                return False
        except (OSError, KeyError, TypeError):
            return False
    expected = settings.relative_outputs(stem)
    try:
        if record["report"]["instances"] > MAX_INSTANCES:
            del expected["object"]  # it overflowed: only the NPY holds its instances
    except (KeyError, TypeError):
        return False
    if record.get("outputs") != expected:
        return False
    root = settings.output_dir
    return all(os.path.isfile(os.path.join(root, rel)) for rel in expected.values())


def _label_values(settings: Settings, path: Path, shapes: Sequence[Shape]) -> dict[str, int]:
    known = {IGNORE_NAME: IGNORE_VALUE}
    known.update((name, i) for i, name in enumerate(settings.names))
    fallback = {"ignore": IGNORE_VALUE, "background": BACKGROUND_INDEX}.get(settings.unknown)
    values: dict[str, int] = {}
    for i, shape in enumerate(shapes):
        label = shape.label
        if label in known:
            values[label] = known[label]
        elif fallback is not None:
            values[label] = fallback
        else:
            # The first pass checked every label; the file changed since.
            raise LabelNameError(f"{path}: shape #{i} has unknown label {label!r}")
    return values


def _write_image(
    ann: Annotation, info: ImageInfo, target: str, source: BinaryIO | None
) -> None:
    """Write the JPEG of ``ann``; ``source`` is its image file, open (``None``: embedded)."""
    if info.format == "JPEG" and info.orientation == 1:
        # Copy the bytes: re-encoding (labelme uses quality 75) loses detail every time.
        if info.data is not None:
            atomic_write_bytes(target, info.data)
        else:
            assert source is not None
            source.seek(0)
            atomic_write_bytes(target, source.read())
        return
    img = load_image(ann)  # upright pixels: the grid the labels were drawn on
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    with atomic_path(target, suffix=".jpg") as tmp:
        # No exif: the pixels are upright already, an orientation tag would turn them again.
        img.save(tmp, format="JPEG", quality=JPEG_QUALITY, subsampling=JPEG_SUBSAMPLING)


def _save_npy(path: PathLike, arr: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, arr)


def convert_file(
    settings: Settings, job: tuple[str, str, Mapping[str, Any] | None]
) -> FileReport:
    """Convert one labelme JSON file into its outputs.

    ``job = (json_path, stem, record)``: ``record`` is what the last run noted for
    ``stem`` (or ``None``); when it matches the inputs and options and the outputs
    exist, nothing is written and the report says ``"skipped"``. Never raises for bad
    input: a :class:`~labeltools.errors.LabeltoolsError` becomes a ``"failed"``
    report, so one bad file cannot stop a worker pool.
    """
    path_str, stem, previous = job
    try:
        return _convert(settings, Path(path_str), stem, previous)
    except errors.LabeltoolsError as exc:
        return FileReport(stem, path_str, "failed", error=str(exc), error_type=type(exc).__name__)


def _convert(
    settings: Settings, path: Path, stem: str, previous: Mapping[str, Any] | None
) -> FileReport:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LabelmeFormatError(f"{path}: cannot read: {exc.strerror}") from None
    json_sha = hashlib.sha256(raw).hexdigest()
    if (
        previous is not None
        and not settings.overwrite
        and _up_to_date(settings, stem, json_sha, previous)
    ):
        try:
            return _report_from_record(stem, str(path), "skipped", previous["report"], previous)
        except (KeyError, TypeError, ValueError):
            pass  # a damaged manifest entry: convert the file again

    ann = parse_labelme(path, raw)  # the bytes just hashed: what was hashed is what is converted
    src = image_source(ann)
    if src is None:
        return _convert_annotation(settings, stem, json_sha, ann, image_info(ann), None, None)
    # One open of the image for its stamp, its header and (a JPEG) its bytes.
    try:
        st = os.stat(src)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(src)  # not a file: image_info below names the problem
        source = open(src, "rb")  # closed by the with-block below, after the copy
    except OSError:
        image_info(ann)  # raises its message: no such file, not a file, not readable
        raise ImageReadError(f"{ann.path}: the image {src} is not a readable image") from None
    with source:
        info = image_header(ann, src, source)
        return _convert_annotation(settings, stem, json_sha, ann, info, source, _stamp(src, st))


def _convert_annotation(
    settings: Settings,
    stem: str,
    json_sha: str,
    ann: Annotation,
    info: ImageInfo,
    source: BinaryIO | None,
    stamp: dict[str, object] | None,
) -> FileReport:
    path = ann.path
    height, width = info.height, info.width
    values = _label_values(settings, path, ann.shapes)
    relative = settings.relative_outputs(stem)
    n_classes = len(settings.names)
    n_instances = count_instances(ann.shapes)
    cls = ins = cls8 = ins8 = None
    if settings.class_png and n_instances <= MAX_INSTANCES:
        # The common case: 8-bit canvases, a quarter of the memory traffic of int32, kept
        # as Pillow images until the end (counting and look-ups in C, no array copies).
        ins_img, class_of = index_canvas((height, width), ann.shapes, values, source=path)
        cls_img = ins_img.point(class_of)
        # Pillow's histogram of an 8-bit image is a third of np.bincount's time here.
        hist = cls_img.histogram()
        pixels, ignored = hist[:n_classes], int(hist[IGNORE_INDEX])
        if settings.objects and ignored:
            # labelme: void regions belong to no instance (ids of void shapes -> 0).
            ins_img = ins_img.point([0 if c == IGNORE_INDEX else i for i, c in enumerate(class_of)])
        cls8, ins8 = _pixels(cls_img), _pixels(ins_img)
        if settings.npy:
            cls = cls8.astype(np.int32)
            cls[cls8 == IGNORE_INDEX] = IGNORE_VALUE
            ins = ins8.astype(np.int32)
    else:
        cls, ins = shapes_to_label((height, width), ann.shapes, values, source=path)
        if settings.objects:
            ins[cls == IGNORE_VALUE] = 0
        if settings.class_png:
            cls8 = cls.astype(np.uint8)  # -1 -> 255 (void); values are < n_classes <= 255
        hist = np.bincount((cls + 1).ravel(), minlength=n_classes + 1)
        pixels, ignored = hist[1:], int(hist[0])
    if settings.objects:
        n_instances = int(ins8.max()) if ins8 is not None else int(ins.max())
        if n_instances > MAX_INSTANCES:
            if not settings.npy:
                raise LabelValueError(
                    f"{path}: {n_instances} instances do not fit an 8-bit SegmentationObject PNG "
                    f"(ids 1..{MAX_INSTANCES}); use --npy to keep them in SegmentationObjectNpy"
                )
            del relative["object"]
    else:
        n_instances = 0

    root = str(settings.output_dir)
    targets = {kind: os.path.join(root, rel) for kind, rel in relative.items()}

    def write() -> None:
        _write_image(ann, info, targets["jpeg"], source)
        if "class" in targets:
            write_label(targets["class"], cls8)
        if "object" in targets:
            write_label(targets["object"], ins8 if ins8 is not None else ins.astype(np.uint8))
        if "class_npy" in targets:
            _save_npy(targets["class_npy"], cls)
        if "object_npy" in targets:
            _save_npy(targets["object_npy"], ins)
        if "viz" in targets:
            from .viz import label_overlay

            photo = np.asarray(load_image(ann).convert("RGB"))
            overlay = label_overlay(photo, cls8, names=settings.names)
            with atomic_path(targets["viz"], suffix=".jpg") as tmp:
                overlay.save(tmp, format="JPEG", quality=JPEG_QUALITY)

    try:
        try:
            write()
        except FileNotFoundError:
            # The run's first file (or a folder deleted since): make the folders, once per
            # run rather than three mkdir calls per file.
            for target in targets.values():
                os.makedirs(os.path.dirname(target), exist_ok=True)
            write()
    except OSError as exc:
        raise OutputError(f"{settings.output_dir}: cannot write outputs of {path}: {exc}") from None
    kinds: dict[str, int] = {}
    for shape in ann.shapes:
        kinds[shape.shape_type] = kinds.get(shape.shape_type, 0) + 1
    summary = {
        "shapes": sorted(kinds.items()),
        "pixels": [int(n) for n in pixels],
        "ignored": ignored,
        "instances": n_instances,
        "width": width,
        "height": height,
    }
    record = {
        "json": os.path.realpath(path),
        "json_sha256": json_sha,
        "image": stamp,
        "options": settings.digest,
        "outputs": relative,
        "report": summary,
    }
    # The caller journals the record: only once every output above is complete.
    return _report_from_record(stem, str(path), "written", summary, record)


def _pixels(img: Image.Image) -> np.ndarray:
    """An 8-bit image's pixels as a read-only (H, W) array, with one copy (not np.array's two)."""
    return np.frombuffer(img.tobytes(), dtype=np.uint8).reshape(img.height, img.width)


def _report_from_record(
    stem: str, source: str, status: str, rec: Mapping[str, Any], record: Mapping[str, Any]
) -> FileReport:
    return FileReport(
        stem=stem,
        source=source,
        status=status,
        shapes=tuple((str(k), int(n)) for k, n in rec["shapes"]),
        pixels=tuple(int(n) for n in rec["pixels"]),
        ignored=int(rec["ignored"]),
        instances=int(rec["instances"]),
        width=int(rec["width"]),
        height=int(rec["height"]),
        record=record,
    )


# --------------------------------------------------------------------------- the dataset


def _find_inputs(input_dir: Path, recursive: bool, output_dir: Path) -> list[tuple[Path, str]]:
    if not input_dir.is_dir():
        raise InputError(f"{input_dir}: no such input folder")
    out_resolved = output_dir.resolve()
    candidates = input_dir.rglob("*.json") if recursive else input_dir.glob("*.json")
    found: list[Path] = []
    inside_output: dict[Path, bool] = {}
    for p in candidates:
        rel = p.relative_to(input_dir)
        # Hidden files (macOS "._x.json" resource forks, our own records) are not annotations.
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        if recursive:  # an OUTPUT_DIR inside INPUT_DIR holds no annotations
            if p.parent not in inside_output:
                folder = p.parent.resolve()
                inside_output[p.parent] = folder == out_resolved or out_resolved in folder.parents
            if inside_output[p.parent]:
                continue
        found.append(p)
    found.sort(key=lambda p: p.relative_to(input_dir).as_posix())
    if not found:
        hint = "" if recursive else " (use --recursive to search subfolders)"
        raise InputError(f"{input_dir}: no labelme *.json files found{hint}")
    by_stem: dict[str, Path] = {}
    jobs = []
    for p in found:
        stem = p.stem
        if stem != stem.strip() or "\n" in stem or "\r" in stem:
            raise InputError(
                f"{p}: the output name {stem!r} has surrounding spaces or line breaks, "
                f"which VOC's one-id-per-line lists cannot hold; rename the file"
            )
        key = stem.casefold()  # a.json and A.json would collide on Windows and macOS
        if key in by_stem:
            raise InputError(
                f"{by_stem[key]} and {p} both map to the output name {stem!r}; rename one of them"
            )
        by_stem[key] = p
        jobs.append((p, stem))
    return jobs


def _scan_labels(path: Path) -> tuple[str, ...]:
    """The labels of one file, cheaply; a file that is not labelme JSON raises its error."""
    try:
        doc = json.loads(path.read_bytes())
        labels = tuple(s["label"] for s in doc["shapes"])
        if all(isinstance(label, str) for label in labels):
            return labels
    except (ValueError, KeyError, TypeError, OSError):
        pass
    # Let the full reader say precisely what is wrong.
    return tuple(s.label for s in read_labelme(path).shapes)


def _unknown_labels_error(
    unknown: Mapping[str, list[Path]], labels: LabelSet, root: Path
) -> LabelNameError:
    def rel(p: Path) -> str:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return str(p)

    parts = [
        f"{name!r} in {', '.join(rel(p) for p in files)}" for name, files in sorted(unknown.items())
    ]
    n = len(unknown)
    return LabelNameError(
        f"{root}: {n} label{'s' if n > 1 else ''} not in {labels.source}: {'; '.join(parts)}; "
        f"add {'them' if n > 1 else 'it'} to the labels or pass --unknown ignore|background"
    )


def _read_records(manifest: Path, journal: Path) -> dict[str, Any]:
    """stem -> record from the last complete run's manifest and a killed run's journal."""
    records: dict[str, Any] = {}
    try:
        loaded = json.loads(manifest.read_bytes())
        if isinstance(loaded, dict):
            records.update(loaded)
    except (FileNotFoundError, ValueError):
        pass
    try:
        lines = journal.read_bytes().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
            records[entry.pop("stem")] = entry
        except (ValueError, KeyError, AttributeError, TypeError):
            continue  # the line a SIGKILL tore
    return records


def _is_ours_or_empty(output_dir: Path) -> bool:
    if not output_dir.exists():
        return True
    if not output_dir.is_dir():
        raise OutputError(f"{output_dir}: expected an output folder, found a file")
    if (output_dir / MARKER_NAME).is_file():
        return True
    # A run killed while writing the marker leaves only its temporary file.
    return all(p.name.startswith(TMP_PREFIX) for p in output_dir.iterdir())


def _remove_stale(settings: Settings, keep: set[str]) -> None:
    """Delete files in json2voc's folders that this run did not produce or confirm.

    Leftovers of a killed run (temporary files), outputs of inputs that are gone,
    and outputs of options no longer chosen (``--viz`` last time, say). ``keep``
    holds paths as ``os.path.join(output_dir, relative)`` strings; the folders are
    listed with ``os.scandir`` (file types without a stat per file).
    """
    root = str(settings.output_dir)
    wanted = {str(folder) for folder in settings.folders()}
    for name in _MANAGED_DIRS:
        folder = str(settings.output_dir / name)  # SETS_DIR has a "/": let pathlib spell it
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        emptied = True
        for entry in entries:
            if entry.is_file() and entry.path not in keep:
                os.unlink(entry.path)
            else:
                emptied = False
        if emptied and folder not in wanted:
            os.rmdir(folder)
    for entry in os.scandir(root):
        if entry.is_file() and entry.name.startswith(TMP_PREFIX):
            os.unlink(entry.path)
    sets_parent = os.path.join(root, "ImageSets")
    if os.path.isdir(sets_parent) and not os.listdir(sets_parent):
        os.rmdir(sets_parent)


def json2voc(
    input_dir: PathLike,
    output_dir: PathLike,
    labels: PathLike | Sequence[str] | None = None,
    *,
    unknown: str = "error",
    val_ratio: float = 0.2,
    seed: int = 0,
    recursive: bool = False,
    objects: bool = True,
    npy: bool = False,
    viz: bool = False,
    overwrite: bool = False,
    keep_going: bool = False,
    workers: int | None = None,
    backend: Backend | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Json2vocReport:
    """Convert a folder of labelme JSON files into a VOC segmentation dataset.

    ``labels``: a labels file (labelme's ``labels.txt``), a comma-separated string
    or a list of names; ``None`` discovers them from the input. ``unknown``:
    ``"error"`` (list every unknown label with its files, write nothing),
    ``"ignore"`` (paint them void, 255) or ``"background"`` (0). ``workers``:
    ``None``/0 = all CPUs; ``backend`` (a :class:`labeltools.engine.Backend`) overrides
    it, e.g. to run on a cluster. ``progress(done, total)`` is called as files finish.
    Without ``keep_going`` the first failing file raises its error; with it, the
    failures are in the report. Returns a :class:`Json2vocReport`.
    """
    start = time.perf_counter()
    if unknown not in UNKNOWN_MODES:
        raise ValueError(f"unknown must be one of {', '.join(UNKNOWN_MODES)}, got {unknown!r}")
    if not (isinstance(val_ratio, (int, float)) and 0 <= val_ratio < 1):
        raise ValueError(f"val ratio must be in [0, 1), got {val_ratio!r}")
    in_dir = Path(input_dir)
    out_dir = Path(output_dir)
    jobs = _find_inputs(in_dir, recursive, out_dir)
    label_set_ = parse_labels(labels) if labels is not None else None

    # First pass: every label of every file, before anything is written.
    failures: dict[Path, FileReport] = {}
    found: dict[str, list[Path]] = {}
    for path, stem in jobs:
        try:
            file_labels = _scan_labels(path)
        except errors.LabeltoolsError as exc:
            if not keep_going:
                raise
            failures[path] = FileReport(stem, str(path), "failed", error=str(exc),
                                        error_type=type(exc).__name__)
            continue
        for label in dict.fromkeys(file_labels):
            found.setdefault(label, []).append(path)
    if label_set_ is None:
        label_set_ = discover_labels(found)
    known = set(label_set_.names) | {IGNORE_NAME}
    missing = {name: files for name, files in found.items() if name not in known}
    if missing and unknown == "error":
        raise _unknown_labels_error(missing, label_set_, in_dir)
    if len(label_set_.names) > MAX_CLASSES and not npy:
        raise LabelValueError(
            f"{label_set_.source}: {len(label_set_.names)} classes do not fit an 8-bit label PNG "
            f"(classes 0..{MAX_CLASSES - 1}, {IGNORE_INDEX} = void); use --npy to write int32 "
            f"SegmentationClassNpy labels"
        )
    if len(label_set_.names) > MAX_CLASSES and viz:
        raise LabelValueError(
            f"{label_set_.source}: {len(label_set_.names)} classes are more than the "
            f"{MAX_CLASSES} colours --viz can draw; drop --viz"
        )

    if not _is_ours_or_empty(out_dir):
        raise OutputError(
            f"{out_dir}: the folder is not empty and was not made by labeltools json2voc; "
            f"choose a new or empty output folder"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / MARKER_NAME
    if not marker.is_file():
        atomic_write_text(marker, json.dumps(_MARKER, sort_keys=True) + "\n")
    # Split lists are the last thing a run writes: without them a folder is visibly unfinished.
    sets_dir = out_dir / SETS_DIR
    for name in ("train", "val", "trainval"):
        (sets_dir / f"{name}.txt").unlink(missing_ok=True)
    records_dir = out_dir / RECORDS_DIR
    records_dir.mkdir(exist_ok=True)
    manifest_path = records_dir / MANIFEST_NAME
    journal_path = records_dir / JOURNAL_NAME
    previous = {} if overwrite else _read_records(manifest_path, journal_path)

    settings = Settings(out_dir, label_set_.names, unknown, objects, npy, viz, overwrite)
    todo = [(str(p), stem, previous.get(stem)) for p, stem in jobs if p not in failures]
    fn = functools.partial(convert_file, settings)
    reports: dict[str, FileReport] = {}
    results = run(fn, todo, workers=workers, backend=backend, progress=progress)
    split_imports_pending = True
    with journal_path.open("a", encoding="utf-8") as journal, contextlib.closing(results):
        # closing(): on the first failure, queued files are cancelled, not converted.
        for report in results:
            if split_imports_pending:
                # The split at the end needs splits.py and numpy.random (~17 ms to import):
                # import them while worker processes convert the rest, not after them.
                split_imports_pending = False
                import numpy.random  # noqa: F401

                from . import splits  # noqa: F401
            if not report.ok and not keep_going:
                cls = getattr(errors, report.error_type or "", errors.LabeltoolsError)
                raise cls(report.error)
            if report.status == "written":
                # After the file's outputs are complete; a torn line is ignored when read.
                journal.write(json.dumps({"stem": report.stem, **report.record}, sort_keys=True))
                journal.write("\n")
                journal.flush()
            reports[report.stem] = report
    ordered = tuple(failures.get(p) or reports[stem] for p, stem in jobs)

    manifest = {rep.stem: rep.record for rep in ordered if rep.ok}
    atomic_write_text(manifest_path, json.dumps(manifest, sort_keys=True) + "\n")
    journal_path.unlink()
    root = str(out_dir)
    keep = {str(marker), str(manifest_path)}
    for rep in ordered:
        if rep.ok:
            keep.update(os.path.join(root, rel) for rel in settings.relative_outputs(rep.stem).values())
    sets_dir.mkdir(parents=True, exist_ok=True)
    from .splits import split_ids

    split = None
    done = [rep.stem for rep in ordered if rep.ok]
    warnings = []
    if done:
        try:
            split = split_ids(done, val=val_ratio, seed=seed)
        except errors.DatasetError as exc:
            # A handful of images is a valid dataset to convert: train on all, say so.
            split = split_ids(done, val=0, seed=seed)
            warnings.append(f"val.txt is empty: {exc}")
    if split is not None:
        for name, ids in split.lists().items():
            path = sets_dir / f"{name}.txt"
            atomic_write_text(path, "".join(f"{i}\n" for i in ids))
            keep.add(str(path))
    class_names = out_dir / "class_names.txt"
    atomic_write_text(class_names, "".join(f"{n}\n" for n in label_set_.names))
    labelmap = out_dir / "labelmap.txt"
    labelmap_text_ = labelmap_text(label_set_.names)
    if labelmap_text_ is None:
        labelmap.unlink(missing_ok=True)  # a stale one would name other classes
        bad = next(n for n in label_set_.names if not labelmap_name_ok(n))
        warnings.append(
            f"labelmap.txt not written: class name {bad!r} cannot be a labelmap.txt name "
            "(name:r,g,b:parts:actions has no escape for ':'); class_names.txt has every name"
        )
    else:
        atomic_write_text(labelmap, labelmap_text_)
    _remove_stale(settings, keep)
    overflow = [rep.stem for rep in ordered if rep.ok and rep.instances > MAX_INSTANCES]
    if overflow and objects:
        warnings.append(
            f"{len(overflow)} image(s) have more than {MAX_INSTANCES} instances and no "
            f"SegmentationObject PNG (see SegmentationObjectNpy): {', '.join(overflow)}"
        )
    if not settings.class_png:
        warnings.append(
            f"{len(label_set_.names)} classes: no SegmentationClass PNGs, see SegmentationClassNpy"
        )
    return Json2vocReport(
        input_dir=in_dir,
        output_dir=out_dir,
        labels=label_set_,
        files=ordered,
        split=split,
        seconds=time.perf_counter() - start,
        npy=npy,
        objects=objects,
        viz=viz,
        warnings=tuple(warnings),
    )
