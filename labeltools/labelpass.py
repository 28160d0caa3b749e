"""The label pass: every label of every input file, before anything is written.

:func:`label_pass` maps :func:`scan_batch` over the inputs with
:func:`labeltools.engine.run` (so a cluster backend runs it too) and collects, per
label, the files that use it (4 bytes per file and label), the files that failed, and
what ``--map`` did. The pipeline refuses unknown labels from it (listing them all,
:func:`unknown_labels_error`) before it claims the output folder.
"""

from __future__ import annotations

import contextlib
import json
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import errors
from .conversion import FileReport
from .engine import BackendSpec, Lazy, run
from .errors import LabelNameError
from .formats.labelme import read_labelme
from .inputs import Inputs
from .labels import LabelSet, files_under
from .remap import LabelMap

__all__ = [
    "LABEL_BATCH",
    "Files",
    "label_pass",
    "raise_as",
    "scan_batch",
    "scan_labels",
    "unknown_labels_error",
]


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


def raise_as(error_type: str | None, message: str | None) -> None:
    """Raise a worker's error again in this process, as the class it had."""
    cls = getattr(errors, error_type or "", errors.LabeltoolsError)
    raise cls(message)


#: Files per item of the label pass: ~32 x 0.25 ms of JSON parsing, so that one item
#: outweighs its trip to a worker, and an input of up to 32 files starts no pool at all.
LABEL_BATCH = 32


def scan_batch(paths: Sequence[str]) -> list[tuple[tuple[str, ...], str | None, str | None]]:
    """:func:`scan_labels` of each path: one item of the label pass."""
    return [scan_labels(path) for path in paths]


class Files(Sequence[Path]):
    """The files of one label (input indices, 4 bytes each), as paths when read."""

    def __init__(self, inputs: Inputs) -> None:
        self._inputs = inputs
        self.indices = array("I")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):  # type: ignore[no-untyped-def, override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return Path(self._inputs.path(self.indices[i]))


def label_pass(
    inputs: Inputs,
    keep_going: bool,
    workers: int | None,
    backend: BackendSpec,
    label_map: LabelMap | None = None,
) -> tuple[dict[int, FileReport], dict[str, Files], set[str], dict[str, int]]:
    """Every label of every file after ``label_map`` (label -> files, in input order), the
    files that failed (by input index), the labels as written, and the shapes each rule
    touched."""
    failures: dict[int, FileReport] = {}
    found: dict[str, Files] = {}
    written: set[str] = set()
    remapped: dict[str, int] = {}
    n = len(inputs)

    def batch(k: int) -> list[str]:
        return [inputs.path(i) for i in range(k * LABEL_BATCH, min(n, (k + 1) * LABEL_BATCH))]

    batches = Lazy(-(-n // LABEL_BATCH), batch)
    results = run(scan_batch, batches, workers=workers, backend=backend, reads=(inputs.root,))
    with contextlib.closing(results):  # on the first failure, queued batches are cancelled
        scanned = (scan for batch in results for scan in batch)
        for i, (file_labels, error_type, message) in enumerate(scanned):
            if error_type is not None:
                if not keep_going:
                    raise_as(error_type, message)
                failures[i] = FileReport(
                    inputs.stems[i], inputs.path(i), "failed", error=message,
                    error_type=error_type,
                )
                continue
            if label_map:
                written.update(file_labels)
                file_labels, counts = label_map.map_labels(file_labels)
                for rule, k in counts.items():
                    remapped[rule] = remapped.get(rule, 0) + k
            for label in dict.fromkeys(file_labels):
                files = found.get(label)
                if files is None:
                    files = found[label] = Files(inputs)
                files.indices.append(i)
    return failures, found, written, remapped


def unknown_labels_error(
    unknown: Mapping[str, Sequence[Path]], labels: LabelSet, root: Path
) -> LabelNameError:
    parts = [f"{name!r} in {files_under(files, root)}" for name, files in sorted(unknown.items())]
    n = len(unknown)
    return LabelNameError(
        f"{root}: {n} label{'s' if n > 1 else ''} not in {labels.source}: {'; '.join(parts)}; "
        f"add {'them' if n > 1 else 'it'} to the labels or pass --unknown ignore|background"
    )
