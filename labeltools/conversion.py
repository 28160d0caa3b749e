"""One labelme JSON file -> its outputs, through a :class:`~labeltools.formats.base.Writer`.

:func:`convert_file` is what :mod:`labeltools.pipeline` maps over the files with
:func:`labeltools.engine.run`: pure apart from writing its own output files, and
picklable (a top-level function bound with :func:`functools.partial` to a frozen
:class:`Settings`). It reads and hashes the JSON, skips the file when the last run's
record says its outputs are current (:func:`labeltools.incremental.up_to_date`),
otherwise validates it, opens its image once, resolves its label values and hands the
writer an :class:`~labeltools.formats.base.Item`. It returns a small frozen
:class:`FileReport` carrying the record the manifest keeps.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from . import errors
from .constants import BACKGROUND_INDEX, IGNORE_NAME
from .errors import ImageReadError, LabelmeFormatError, LabelNameError, OutputError
from .formats.base import Item, Writer
from .formats.labelme import Annotation, Shape, parse_labelme
from .formats.labelme_images import ImageInfo, image_header, image_info, image_source
from .incremental import options_digest, stamp, up_to_date
from .labels import IGNORE_VALUE
from .remap import LabelMap

__all__ = ["FileReport", "Settings", "convert_file"]


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class FileReport:
    """What :func:`convert_file` did with one JSON file.

    ``status`` is ``"written"``, ``"skipped"`` (outputs up to date) or ``"failed"``
    (``error`` holds the message, ``error_type`` the exception class name).
    ``pixels[c]`` counts class ``c``; ``ignored`` counts void pixels (writers that
    count pixels: VOC).
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
    #: What the manifest notes for this file (inputs' fingerprint, options, outputs), as
    #: the JSON text the manifest and the journal hold (sorted keys). Encoded once, where
    #: the file was converted: the parent writes it twice and would otherwise encode it
    #: twice, serially, for every file (a third of its time in a json2coco run).
    record_json: str | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def record(self) -> Mapping[str, Any] | None:
        """:attr:`record_json` decoded (a new dict at each call), or ``None``."""
        return None if self.record_json is None else json.loads(self.record_json)


# --------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class Settings:
    """Everything :func:`convert_file` needs besides the file: small and picklable.

    ``writer`` is bound to ``names`` (:meth:`~labeltools.formats.base.Writer.bind`).
    """

    output_dir: Path
    writer: Writer
    names: tuple[str, ...]
    unknown: str = "error"
    overwrite: bool = False
    #: ``--map`` rules, applied to each file's shapes before anything else (None: no map).
    label_map: LabelMap | None = None

    @functools.cached_property
    def digest(self) -> str:
        """Fingerprint of every option that changes the bytes written for a file."""
        doc = {"names": list(self.names), "unknown": self.unknown, **self.writer.options()}
        if self.label_map:  # absent without a map: the records of runs without one stay valid
            doc["map"] = [list(rule) for rule in self.label_map.rules]
        return options_digest(doc)

    @functools.cached_property
    def root(self) -> str:
        return str(self.output_dir)

    @functools.cached_property
    def known_values(self) -> dict[str, int]:
        known = {IGNORE_NAME: IGNORE_VALUE}
        known.update((name, i) for i, name in enumerate(self.names))
        return known


def _label_values(settings: Settings, path: Path, shapes: Sequence[Shape]) -> dict[str, int]:
    known = settings.known_values
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
    writer = settings.writer
    if (
        previous is not None
        and not settings.overwrite
        and up_to_date(
            previous,
            json_sha,
            settings.digest,
            lambda report: writer.item_outputs(stem, report),
            settings.root,
        )
    ):
        try:
            return _report_from_record(stem, str(path), "skipped", previous["report"], previous)
        except (KeyError, TypeError, ValueError):
            pass  # a damaged manifest entry: convert the file again

    ann = parse_labelme(path, raw)  # the bytes just hashed: what was hashed is what is converted
    if settings.label_map:
        ann, _ = settings.label_map.apply_annotation(ann)
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
        return _convert_annotation(settings, stem, json_sha, ann, info, source, stamp(src, st))


def _convert_annotation(
    settings: Settings,
    stem: str,
    json_sha: str,
    ann: Annotation,
    info: ImageInfo,
    source: BinaryIO | None,
    image: dict[str, object] | None,
) -> FileReport:
    path = ann.path
    writer = settings.writer
    item = Item(stem, ann, info, source, _label_values(settings, path, ann.shapes), settings.names)
    root = settings.root
    targets = {kind: os.path.join(root, rel) for kind, rel in writer.outputs(stem).items()}
    try:
        summary = writer.write_item(item, targets)
    except OSError as exc:
        raise OutputError(f"{settings.output_dir}: cannot write outputs of {path}: {exc}") from None
    kinds: dict[str, int] = {}
    for shape in ann.shapes:
        kinds[shape.shape_type] = kinds.get(shape.shape_type, 0) + 1
    report = {"shapes": sorted(kinds.items()), "width": info.width, "height": info.height, **summary}
    record = {
        "json": os.path.realpath(path),
        "json_sha256": json_sha,
        "image": image,
        "options": settings.digest,
        "outputs": writer.item_outputs(stem, report),
        "report": report,
    }
    # The caller journals the record: only once every output above is complete.
    return _report_from_record(stem, str(path), "written", report, record)


def _report_from_record(
    stem: str, source: str, status: str, rec: Mapping[str, Any], record: Mapping[str, Any]
) -> FileReport:
    return FileReport(
        stem=stem,
        source=source,
        status=status,
        shapes=tuple((str(k), int(n)) for k, n in rec["shapes"]),
        pixels=tuple(int(n) for n in rec.get("pixels", ())),
        ignored=int(rec.get("ignored", 0)),
        instances=int(rec.get("instances", 0)),
        width=int(rec["width"]),
        height=int(rec["height"]),
        record_json=json.dumps(record, sort_keys=True),
    )
