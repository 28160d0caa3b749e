"""labelme JSON folder -> a dataset, over any :class:`~labeltools.formats.base.Writer`.

:func:`convert_dataset` discovers the inputs, checks every label of every file in a
first pass (before anything is written; mapped with :func:`labeltools.engine.run`
like the main pass, so a cluster backend runs it too), claims the output folder
(:mod:`labeltools.incremental`: marker, manifest, journal), maps
:func:`labeltools.conversion.convert_file` over the files, reduces the reports,
splits the converted ids, lets the writer finish the dataset and sweeps what the run
did not produce. Every writer gets kill-safe, incremental reruns from it.

:func:`json2voc` is that pipeline with :class:`~labeltools.formats.voc.VocWriter`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import errors
from .constants import IGNORE_NAME, UNKNOWN_LABEL_MODES
from .conversion import FileReport, Settings, convert_file
from .engine import BackendSpec, open_backend, run
from .errors import InputError, LabelNameError
from .formats.base import Writer
from .formats.labelme import read_labelme
from .formats.voc import VocWriter
from .incremental import Records, owned_outputs, sweep
from .io.files import output_errors
from .labels import LabelSet, check_discovered_names, discover_labels, files_under, parse_labels
from .remap import LabelMap

if TYPE_CHECKING:
    from .splits import Split

__all__ = [
    "UNKNOWN_MODES",
    "ConvertReport",
    "Json2vocReport",
    "convert_dataset",
    "find_inputs",
    "json2voc",
    "scan_batch",
    "scan_labels",
]

PathLike = str | os.PathLike[str]

#: ``--unknown`` modes: fail (default), paint unknown labels as void, or as background.
UNKNOWN_MODES = UNKNOWN_LABEL_MODES


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class ConvertReport:
    """The result of :func:`convert_dataset`: per-file reports and their reduction."""

    input_dir: Path
    output_dir: Path
    labels: LabelSet
    files: tuple[FileReport, ...]
    split: Split | None
    seconds: float
    warnings: tuple[str, ...] = field(default=())
    #: Shapes each ``--map`` rule touched (``"SRC=DST"`` -> count), or ``None`` without a map.
    remapped: Mapping[str, int] | None = None

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
            **({} if self.remapped is None else {"remapped": dict(self.remapped)}),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Json2vocReport(ConvertReport):
    """The result of :func:`json2voc`, with the VOC options it ran with."""

    npy: bool = False
    objects: bool = True
    viz: bool = False


# --------------------------------------------------------------------------- inputs


#: labelme writes ``.json``; ``.JSON`` (a Windows copy, a camera app) is the same file type.
_JSON_PATTERN = "*.[jJ][sS][oO][nN]"


def _shown(path: Path) -> str:
    """``path`` for a message, its undecodable bytes as ``\\xe9`` (it must print anywhere)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _check_link(p: Path) -> None:
    """A ``*.json`` that is a broken or looping symbolic link is an error, not skipped."""
    if not p.is_symlink():
        return
    try:
        os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{p}: a symbolic link loop") from None
        raise InputError(f"{p}: a broken symbolic link (to {os.readlink(p)})") from None


def find_inputs(input_dir: Path, recursive: bool, output_dir: Path) -> list[tuple[Path, str]]:
    """``(json path, output stem)`` of every input file, sorted; raises for none or clashes."""
    if not input_dir.is_dir():
        raise InputError(f"{input_dir}: no such input folder")
    out_resolved = output_dir.resolve()
    candidates = input_dir.rglob(_JSON_PATTERN) if recursive else input_dir.glob(_JSON_PATTERN)
    found: list[Path] = []
    inside_output: dict[Path, bool] = {}
    for p in candidates:
        rel = p.relative_to(input_dir)
        # Hidden files (macOS "._x.json" resource forks, our own records) are not annotations.
        if any(part.startswith(".") for part in rel.parts):
            continue
        _check_link(p)
        if not p.is_file():
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
        try:
            stem.encode("utf-8")
        except UnicodeEncodeError:
            # The bytes of the name are kept by Python as surrogates, which no text file
            # (the id lists, the manifest) can hold: every rerun would crash on them.
            raise InputError(
                f"{_shown(p)}: the file name is not UTF-8, which VOC's id lists cannot hold; "
                f"rename the file"
            ) from None
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


def scan_labels(path: str) -> tuple[tuple[str, ...], str | None, str | None]:
    """``(labels, error type, error message)`` of one file: the first pass's per-file work.

    Cheap (no validation beyond the labels) when the file is plain labelme JSON; a file
    that is not gets the full reader's precise error. Never raises a LabeltoolsError,
    so a worker pool goes on with the other files.
    """
    try:
        doc = json.loads(Path(path).read_bytes())
        labels = tuple(s["label"] for s in doc["shapes"])
        if all(isinstance(label, str) for label in labels):
            return labels, None, None
    except (ValueError, KeyError, TypeError, OSError, RecursionError):
        pass
    try:
        return tuple(s.label for s in read_labelme(path).shapes), None, None
    except errors.LabeltoolsError as exc:
        return (), type(exc).__name__, str(exc)


def _raise(error_type: str | None, message: str | None) -> None:
    """Raise a worker's error again in this process, as the class it had."""
    cls = getattr(errors, error_type or "", errors.LabeltoolsError)
    raise cls(message)


#: Files per item of the label pass: ~32 x 0.25 ms of JSON parsing, so that one item
#: outweighs its trip to a worker, and an input of up to 32 files starts no pool at all.
LABEL_BATCH = 32


def scan_batch(paths: Sequence[str]) -> list[tuple[tuple[str, ...], str | None, str | None]]:
    """:func:`scan_labels` of each path: one item of the label pass."""
    return [scan_labels(path) for path in paths]


def _first_pass(
    jobs: Sequence[tuple[Path, str]],
    keep_going: bool,
    workers: int | None,
    backend: BackendSpec,
    in_dir: Path,
    label_map: LabelMap | None = None,
) -> tuple[dict[Path, FileReport], dict[str, list[Path]], set[str], dict[str, int]]:
    """Every label of every file after ``label_map`` (label -> files, in input order), the
    files that failed, the labels as written, and the shapes each rule touched."""
    failures: dict[Path, FileReport] = {}
    found: dict[str, list[Path]] = {}
    written: set[str] = set()
    remapped: dict[str, int] = {}
    paths = [str(p) for p, _ in jobs]
    batches = [paths[i : i + LABEL_BATCH] for i in range(0, len(paths), LABEL_BATCH)]
    results = run(scan_batch, batches, workers=workers, backend=backend, reads=(in_dir,))
    with contextlib.closing(results):  # on the first failure, queued batches are cancelled
        scanned = (scan for batch in results for scan in batch)
        for (path, stem), (file_labels, error_type, message) in zip(jobs, scanned):
            if error_type is not None:
                if not keep_going:
                    _raise(error_type, message)
                failures[path] = FileReport(
                    stem, str(path), "failed", error=message, error_type=error_type
                )
                continue
            if label_map:
                written.update(file_labels)
                file_labels, counts = label_map.map_labels(file_labels)
                for rule, n in counts.items():
                    remapped[rule] = remapped.get(rule, 0) + n
            for label in dict.fromkeys(file_labels):
                found.setdefault(label, []).append(path)
    return failures, found, written, remapped


def _unknown_labels_error(
    unknown: Mapping[str, list[Path]], labels: LabelSet, root: Path
) -> LabelNameError:
    parts = [f"{name!r} in {files_under(files, root)}" for name, files in sorted(unknown.items())]
    n = len(unknown)
    return LabelNameError(
        f"{root}: {n} label{'s' if n > 1 else ''} not in {labels.source}: {'; '.join(parts)}; "
        f"add {'them' if n > 1 else 'it'} to the labels or pass --unknown ignore|background"
    )


# --------------------------------------------------------------------------- the dataset


def convert_dataset(
    input_dir: PathLike,
    output_dir: PathLike,
    writer: Writer,
    labels: PathLike | Sequence[str] | None = None,
    *,
    unknown: str = "error",
    val_ratio: float = 0.2,
    seed: int = 0,
    recursive: bool = False,
    overwrite: bool = False,
    keep_going: bool = False,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
    label_map: LabelMap | None = None,
) -> ConvertReport:
    """Convert a folder of labelme JSON files into a dataset that ``writer`` lays out.

    The parameters are :func:`json2voc`'s; ``writer`` is unbound (the pipeline binds
    it to the classes once they are known). ``label_map`` (``--map``,
    :mod:`labeltools.remap`) renames, merges, ignores or drops labels before anything
    else sees them. Returns a :class:`ConvertReport`.
    """
    if backend is not None and not hasattr(backend, "map_chunks"):
        # An address, "local:N" or a Client: open it once for both passes (one LocalCluster,
        # one connection), not once per engine.run.
        with open_backend(backend, workers=workers) as opened:
            return convert_dataset(
                input_dir, output_dir, writer, labels, unknown=unknown, val_ratio=val_ratio,
                seed=seed, recursive=recursive, overwrite=overwrite, keep_going=keep_going,
                workers=workers, backend=opened, progress=progress,
            )
    start = time.perf_counter()
    if unknown not in UNKNOWN_MODES:
        raise ValueError(f"unknown must be one of {', '.join(UNKNOWN_MODES)}, got {unknown!r}")
    if not (isinstance(val_ratio, (int, float)) and 0 <= val_ratio < 1):
        raise ValueError(f"val ratio must be in [0, 1), got {val_ratio!r}")
    in_dir = Path(input_dir)
    out_dir = Path(output_dir)
    jobs = find_inputs(in_dir, recursive, out_dir)
    label_set_ = parse_labels(labels) if labels is not None else None

    # First pass: every label of every file, before anything is written.
    failures, found, written, remapped = _first_pass(
        jobs, keep_going, workers, backend, in_dir, label_map
    )
    if label_set_ is None:
        check_discovered_names(found, in_dir)
        label_set_ = discover_labels(found)
    known = set(label_set_.names) | {IGNORE_NAME}
    missing = {name: files for name, files in found.items() if name not in known}
    if missing and unknown == "error":
        raise _unknown_labels_error(missing, label_set_, in_dir)
    try:
        writer = writer.bind(label_set_)
    except errors.LabeltoolsError as exc:
        if label_set_.source != "discovered":
            raise
        # "discovered: 258 classes ..." names no file: the input folder is where they are.
        raise type(exc)(f"{in_dir}: {str(exc).removeprefix('discovered: ')}") from None

    records = Records(out_dir, f"json2{writer.name}")
    records.claim()
    with records.lock():
        return _convert_locked(
            records, writer, in_dir, jobs, failures, label_set_, start, unknown=unknown,
            val_ratio=val_ratio, seed=seed, overwrite=overwrite, keep_going=keep_going,
            workers=workers, backend=backend, progress=progress, label_map=label_map,
            written=written, remapped=remapped,
        )


def _held_out(writer: Writer, output_dir: Path) -> frozenset[str]:
    """Ids the writer must leave out of train/val (VOC: a ``test.txt`` from ``split``)."""
    held_out = getattr(writer, "held_out", None)
    return frozenset() if held_out is None else frozenset(held_out(output_dir))


def _convert_locked(
    records: Records,
    writer: Writer,
    in_dir: Path,
    jobs: Sequence[tuple[Path, str]],
    failures: dict[Path, FileReport],
    label_set_: LabelSet,
    start: float,
    *,
    unknown: str,
    val_ratio: float,
    seed: int,
    overwrite: bool,
    keep_going: bool,
    workers: int | None,
    backend: BackendSpec,
    progress: Callable[[int, int], None] | None,
    label_map: LabelMap | None,
    written: set[str],
    remapped: Mapping[str, int],
) -> ConvertReport:
    """The writing half of :func:`convert_dataset`, run while holding the folder's lock."""
    out_dir = records.output_dir
    records.refuse_links(writer.all_folders)
    with output_errors(out_dir, "cannot write to the output folder"):
        writer.start(out_dir)
        records.folder.mkdir(exist_ok=True)
    known = records.read()
    previous = {} if overwrite else known
    owned = owned_outputs(out_dir, known)

    settings = Settings(out_dir, writer, label_set_.names, unknown, overwrite, label_map or None)
    todo = [(str(p), stem, previous.get(stem)) for p, stem in jobs if p not in failures]
    fn = functools.partial(convert_file, settings)
    reports: dict[str, FileReport] = {}
    # reads/writes: a cluster's workers must see both folders at these paths (checked first).
    results = run(
        fn, todo, workers=workers, backend=backend, progress=progress,
        reads=(in_dir,), writes=(out_dir,),
    )
    split_imports_pending = True
    with _dataset_writes(out_dir), records.open_journal() as journal, contextlib.closing(results):
        # closing(): on the first failure, queued files are cancelled, not converted.
        for report in results:
            if split_imports_pending:
                # The split at the end needs splits.py and numpy.random (~17 ms to import):
                # import them while worker processes convert the rest, not after them.
                split_imports_pending = False
                import numpy.random  # noqa: F401

                from . import splits  # noqa: F401
            if not report.ok and not keep_going:
                _raise(report.error_type, report.error)
            if report.status == "written":
                # After the file's outputs are complete; a torn line is ignored when read.
                records.journal_entry(journal, report.stem, report.record)
            reports[report.stem] = report
    ordered = tuple(failures.get(p) or reports[stem] for p, stem in jobs)
    converted = [rep for rep in ordered if rep.ok]

    with _dataset_writes(out_dir):
        records.commit({rep.stem: rep.record for rep in converted})
    root = str(out_dir)
    keep = {str(records.marker), str(records.manifest)}
    for rep in converted:
        keep.update(os.path.join(root, rel) for rel in writer.outputs(rep.stem).values())
    split = None
    warnings = label_map.unused(written) if label_map else []
    if converted:
        held_out = _held_out(writer, out_dir)
        done = [rep.stem for rep in converted if rep.stem not in held_out]
        split, why_no_val = split_stems(done, val_ratio, seed)
        if why_no_val is not None:
            warnings.append(f"val.txt is empty: {why_no_val}")
    with _dataset_writes(out_dir):
        finished = writer.finish(
            out_dir, [(rep.stem, rep.record["report"]) for rep in converted], split
        )
    keep.update(os.path.join(root, rel) for rel in finished.files)
    with _dataset_writes(out_dir):
        sweep(
            out_dir,
            (*writer.all_folders, records.folder_name),
            (*writer.folders(), records.folder_name),
            keep,
            owned,
        )
    warnings.extend(finished.warnings)
    return ConvertReport(
        input_dir=in_dir,
        output_dir=out_dir,
        labels=label_set_,
        files=ordered,
        split=split,
        seconds=time.perf_counter() - start,
        warnings=tuple(warnings),
        remapped=dict(sorted(remapped.items())) if label_map else None,
    )


def split_stems(stems: Sequence[str], val_ratio: float, seed: int) -> tuple[Split, str | None]:
    """The converters' train/val split of ``stems``, and why val is empty when it had to be.

    A handful of images is a valid dataset to convert: when ``val_ratio`` cannot be met,
    everything goes to train and the reason is returned (the report warns with it).
    """
    from .splits import split_ids

    try:
        return split_ids(stems, val=val_ratio, seed=seed), None
    except errors.DatasetError as exc:
        return split_ids(stems, val=0, seed=seed), str(exc)


def _dataset_writes(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    """An OSError in the dataset-level writes (journal, manifest, lists, sweep) -> one line.

    Per-file outputs have their own message (``cannot write outputs of <file>``); a
    LabeltoolsError raised inside (a worker's) passes through unchanged.
    """
    return output_errors(out_dir, "cannot write to the output folder")


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
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
    label_map: LabelMap | None = None,
) -> Json2vocReport:
    """Convert a folder of labelme JSON files into a VOC segmentation dataset.

    ``labels``: a labels file (labelme's ``labels.txt``), a comma-separated string
    or a list of names; ``None`` discovers them from the input. ``unknown``:
    ``"error"`` (list every unknown label with its files, write nothing),
    ``"ignore"`` (paint them void, 255) or ``"background"`` (0). ``workers``:
    ``None``/0 = all CPUs; ``backend`` (an engine Backend, an Executor, a Dask
    address or Client: see :mod:`labeltools.engine`) overrides it. ``progress(done, total)`` is called as files finish.
    Without ``keep_going`` the first failing file raises its error; with it, the
    failures are in the report. ``label_map``: ``--map`` rules (:func:`labeltools.label_map`).
    Returns a :class:`Json2vocReport`.
    """
    report = convert_dataset(
        input_dir,
        output_dir,
        VocWriter(objects=objects, npy=npy, viz=viz),
        labels,
        unknown=unknown,
        val_ratio=val_ratio,
        seed=seed,
        recursive=recursive,
        overwrite=overwrite,
        keep_going=keep_going,
        workers=workers,
        backend=backend,
        progress=progress,
        label_map=label_map,
    )
    base = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    return Json2vocReport(**base, npy=npy, objects=objects, viz=viz)
