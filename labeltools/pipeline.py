"""labelme JSON folder -> a dataset, over any :class:`~labeltools.formats.base.Writer`.

:func:`convert_dataset` discovers the inputs, checks every label of every file in a
first pass (:mod:`labeltools.labelpass`, before anything is written), claims the output folder
(:mod:`labeltools.incremental`: marker, manifest, journal), maps
:func:`labeltools.conversion.convert_file` over the files, reduces the reports,
splits the converted ids, lets the writer finish the dataset and sweeps what the run
did not produce. Every writer gets kill-safe, incremental reruns from it.

:func:`json2voc` is that pipeline with :class:`~labeltools.formats.voc.VocWriter`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errors
from .constants import IGNORE_NAME, UNKNOWN_LABEL_MODES
from .conversion import FileReport, Settings, convert_file
from .engine import BackendSpec, Lazy, open_backend, run
from .formats.base import Writer
from .formats.voc import VocWriter
from .incremental import PathSet, PreviousRecords, Records, sweep
from .inputs import Inputs, find_inputs, list_inputs
from .io.files import output_errors
from .labelpass import label_pass, raise_as, scan_batch, scan_labels, unknown_labels_error
from .labels import LabelSet, check_discovered_names, discover_labels, parse_labels
from .remap import LabelMap
from .tally import ConvertReport, Json2vocReport, Tally

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
    on_file: Callable[[FileReport], None] | None = None,
) -> ConvertReport:
    """Convert a folder of labelme JSON files into a dataset that ``writer`` lays out.

    The parameters are :func:`json2voc`'s; ``writer`` is unbound (the pipeline binds
    it to the classes once they are known). ``label_map`` (``--map``,
    :mod:`labeltools.remap`) renames, merges, ignores or drops labels before anything
    else sees them. ``on_file(report)`` is called with every file's
    :class:`~labeltools.conversion.FileReport`, in input order, as files finish: the
    returned :class:`ConvertReport` holds only sums and the failures, so that a run of
    10^6 files does not hold 10^6 reports.
    """
    if backend is not None and not hasattr(backend, "map_chunks"):
        # An address, "local:N" or a Client: open it once for both passes (one LocalCluster,
        # one connection), not once per engine.run.
        with open_backend(backend, workers=workers) as opened:
            return convert_dataset(
                input_dir, output_dir, writer, labels, unknown=unknown, val_ratio=val_ratio,
                seed=seed, recursive=recursive, overwrite=overwrite, keep_going=keep_going,
                workers=workers, backend=opened, progress=progress, label_map=label_map,
                on_file=on_file,
            )
    start = time.perf_counter()
    if unknown not in UNKNOWN_MODES:
        raise ValueError(f"unknown must be one of {', '.join(UNKNOWN_MODES)}, got {unknown!r}")
    if not (isinstance(val_ratio, (int, float)) and 0 <= val_ratio < 1):
        raise ValueError(f"val ratio must be in [0, 1), got {val_ratio!r}")
    in_dir = Path(input_dir)
    out_dir = Path(output_dir)
    inputs = list_inputs(in_dir, recursive, out_dir)
    label_set_ = parse_labels(labels) if labels is not None else None

    # First pass: every label of every file, before anything is written.
    failures, found, written, remapped = label_pass(
        inputs, keep_going, workers, backend, label_map
    )
    if label_set_ is None:
        check_discovered_names(found, in_dir)
        label_set_ = discover_labels(found)
    known = set(label_set_.names) | {IGNORE_NAME}
    missing = {name: files for name, files in found.items() if name not in known}
    if missing and unknown == "error":
        raise unknown_labels_error(missing, label_set_, in_dir)
    del found, missing  # 4 bytes per file and label: not kept through the run
    try:
        writer = writer.bind(label_set_)
    except errors.LabeltoolsError as exc:
        if label_set_.source != "discovered":
            raise
        # "discovered: 258 classes ..." names no file: the input folder is where they are.
        raise type(exc)(f"{in_dir}: {str(exc).removeprefix('discovered: ')}") from None
    writer = _expecting(writer, inputs.stems, val_ratio, seed)

    records = Records(out_dir, f"json2{writer.name}")
    records.claim()
    with records.lock():
        return _convert_locked(
            records, writer, inputs, failures, label_set_, start, unknown=unknown,
            val_ratio=val_ratio, seed=seed, overwrite=overwrite, keep_going=keep_going,
            workers=workers, backend=backend, progress=progress, label_map=label_map,
            written=written, remapped=remapped, on_file=on_file,
        )


def _expecting(writer: Writer, stems: Sequence[str], val_ratio: float, seed: int) -> Writer:
    """A writer that files images by split (YOLO: ``expect``) told the split of every input.

    It is the split the run makes when every file converts; the writer moves what a
    failure under ``keep_going`` changed at :meth:`~labeltools.formats.base.Writer.finish`.
    """
    expect = getattr(writer, "expect", None)
    if expect is None:
        return writer
    expected, _ = split_stems(stems, val_ratio, seed)
    return expect(expected)


def _held_out(writer: Writer, output_dir: Path) -> frozenset[str]:
    """Ids the writer must leave out of train/val (VOC: a ``test.txt`` from ``split``)."""
    held_out = getattr(writer, "held_out", None)
    return frozenset() if held_out is None else frozenset(held_out(output_dir))


def _todo(inputs: Inputs, failures: Mapping[int, FileReport],
          previous: PreviousRecords | None) -> tuple[Sequence[int], Lazy]:
    """The input indices to convert (those the label pass did not fail) and their jobs,
    ``(json path, stem, last record)``, read from disk as the engine takes them."""
    import numpy as np

    n = len(inputs)
    if failures:
        indices: Sequence[int] = np.setdiff1d(
            np.arange(n, dtype=np.int64), np.fromiter(failures, dtype=np.int64)
        )
    else:
        indices = range(n)

    def job(k: int) -> tuple[str, str, Any]:
        i = int(indices[k])
        stem = inputs.stems[i]
        return inputs.path(i), stem, None if previous is None else previous.get(stem)

    return indices, Lazy(len(indices), job)


#: ``converted[i]`` for an input that was written or skipped (up to date).
_CONVERTED = 1


def _convert_locked(
    records: Records,
    writer: Writer,
    inputs: Inputs,
    failures: dict[int, FileReport],
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
    on_file: Callable[[FileReport], None] | None,
) -> ConvertReport:
    """The writing half of :func:`convert_dataset`, run while holding the folder's lock.

    Per input file it keeps one byte (converted or not) and 8 bytes per output path
    (:class:`~labeltools.incremental.PathSet`, for the sweep); reports are summed
    (:class:`~labeltools.tally.Tally`), records streamed to the journal and the new
    manifest, and the last run's records read from disk as files are sent out.
    """
    out_dir = records.output_dir
    in_dir = inputs.root
    records.refuse_links(writer.all_folders)
    with output_errors(out_dir, "cannot write to the output folder"):
        writer.start(out_dir)
        records.folder.mkdir(exist_ok=True)
        previous = records.previous()
    owned = previous.owned  # what earlier runs wrote: all the sweep may delete

    settings = Settings(out_dir, writer, label_set_.names, unknown, overwrite, label_map or None)
    indices, todo = _todo(inputs, failures, None if overwrite else previous)
    fn = functools.partial(convert_file, settings)
    tally = Tally(len(label_set_.names))
    for i, report in failures.items():
        tally.add(i, report)
    pending_failures = sorted(failures)  # handed to on_file in input order
    converted = bytearray(len(inputs))
    root = os.path.join(str(out_dir), "")  # + rel: os.path.join(out_dir, rel), faster
    keep = PathSet((str(records.marker), str(records.manifest)))
    # reads/writes: a cluster's workers must see both folders at these paths (checked first).
    results = run(
        fn, todo, workers=workers, backend=backend, progress=progress,
        reads=(in_dir,), writes=(out_dir,),
    )
    split_imports_pending = True
    with _dataset_writes(out_dir), records.new_manifest() as manifest:
        with previous, records.open_journal() as journal, contextlib.closing(results):
            # closing(): on the first failure, queued files are cancelled, not converted.
            for k, report in enumerate(results):
                i = int(indices[k])
                if split_imports_pending:
                    # The split at the end needs splits.py and numpy.random (~17 ms to
                    # import): import them while worker processes convert the rest.
                    split_imports_pending = False
                    import numpy.random  # noqa: F401

                    from . import splits  # noqa: F401
                if not report.ok and not keep_going:
                    raise_as(report.error_type, report.error)
                if report.status == "written":
                    # After the file's outputs are complete; a torn line is ignored when read.
                    records.journal_entry(journal, report.stem, report.record_json)
                if report.ok:
                    manifest.add(inputs.stems[i], report.record_json)
                    converted[i] = _CONVERTED
                    keep.update([root + rel for rel in writer.outputs(inputs.stems[i]).values()])
                tally.add(i, report)
                if on_file is not None:
                    while pending_failures and pending_failures[0] < i:
                        on_file(failures[pending_failures.pop(0)])
                    on_file(report)
        if on_file is not None:
            for i in pending_failures:
                on_file(failures[i])
        manifest.commit()

    split = None
    warnings = label_map.unused(written) if label_map else []
    if any(converted):
        held_out = _held_out(writer, out_dir)
        done = [
            stem for stem, c in zip(inputs.stems, converted) if c and stem not in held_out
        ]
        split, why_no_val = split_stems(done, val_ratio, seed)
        del done
        if why_no_val is not None:
            warnings.append(f"val.txt is empty: {why_no_val}")
    with _dataset_writes(out_dir):
        # The summaries are read back from the manifest just written, one at a time.
        finished = writer.finish(out_dir, _Reiterable(records), split)
    keep.update([root + rel for rel in finished.files])
    with _dataset_writes(out_dir):
        sweep(
            out_dir,
            (*writer.all_folders, records.folder_name),
            (*writer.folders(), records.folder_name),
            keep,
            owned,
        )
    warnings.extend(finished.warnings)
    return ConvertReport.from_tally(
        tally,
        images=len(inputs),
        labels=label_set_,
        input_dir=in_dir,
        output_dir=out_dir,
        split=split,
        seconds=time.perf_counter() - start,
        warnings=tuple(warnings),
        remapped=dict(sorted(remapped.items())) if label_map else None,
    )


class _Reiterable:
    """``(stem, summary)`` of every converted file, in input order, read from the
    manifest each time it is iterated (a writer's ``finish`` may go over them twice)."""

    def __init__(self, records: Records) -> None:
        self._records = records

    def __iter__(self):  # type: ignore[no-untyped-def]
        return ((stem, record["report"]) for stem, record in self._records.summaries())


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
    on_file: Callable[[FileReport], None] | None = None,
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
    ``on_file(report)``: called with each file's :class:`~labeltools.conversion.FileReport`
    in input order (the returned :class:`Json2vocReport` has sums and failures only).
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
        on_file=on_file,
    )
    base = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    return Json2vocReport(**base, npy=npy, objects=objects, viz=viz)
