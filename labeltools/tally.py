"""What a labelme -> dataset run reports: running sums over its files, and the report.

:class:`Tally` folds each file's :class:`~labeltools.conversion.FileReport` into sums
as files finish and keeps only the failures: a run's summary costs the same for 10
files and for 10^6 (the per-file reports used to be kept, ~2.5 KB each).
:class:`ConvertReport` is what :func:`labeltools.pipeline.convert_dataset` returns;
a caller that wants every file's report passes ``on_file=`` to the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .conversion import FileReport

if TYPE_CHECKING:
    from .labels import LabelSet
    from .splits import Split

__all__ = ["ConvertReport", "Json2vocReport", "Tally"]


class Tally:
    """Running sums of a run's file reports (and its failures, in input order)."""

    def __init__(self, n_classes: int) -> None:
        self.written = 0
        self.skipped = 0
        self.shapes: dict[str, int] = {}
        self.pixels = np.zeros(n_classes, dtype=np.int64)
        self.ignored = 0
        self.instances = 0
        self._failures: list[tuple[int, FileReport]] = []

    def add(self, index: int, report: FileReport) -> None:
        """Fold in the report of input ``index``."""
        if report.status == "failed":
            self._failures.append((index, report))
            return
        if report.status == "written":
            self.written += 1
        elif report.status == "skipped":
            self.skipped += 1
        for kind, n in report.shapes:
            self.shapes[kind] = self.shapes.get(kind, 0) + n
        if report.pixels:
            self.pixels += np.asarray(report.pixels, dtype=np.int64)
        self.ignored += report.ignored
        self.instances += report.instances

    def failures(self) -> tuple[FileReport, ...]:
        """The failed files' reports, in input order (label pass and conversion merged)."""
        return tuple(report for _, report in sorted(self._failures, key=lambda f: f[0]))


@dataclass(frozen=True)
class ConvertReport:
    """The result of :func:`~labeltools.pipeline.convert_dataset`: sums over its files.

    ``images`` counts every input file (written, skipped or failed); ``failures`` are
    the failed files' reports in input order; ``shapes`` counts shapes per
    ``shape_type`` (sorted by type), ``pixels`` pixels per class name (every class, in
    class order; writers that count pixels: VOC), ``instances`` object instances.
    """

    input_dir: Path
    output_dir: Path
    labels: LabelSet
    images: int
    written: int
    skipped: int
    failures: tuple[FileReport, ...]
    shapes: Mapping[str, int]
    pixels: Mapping[str, int]
    ignored_pixels: int
    instances: int
    split: Split | None
    seconds: float
    warnings: tuple[str, ...] = field(default=())
    #: Shapes each ``--map`` rule touched (``"SRC=DST"`` -> count), or ``None`` without a map.
    remapped: Mapping[str, int] | None = None

    @classmethod
    def from_tally(cls, tally: Tally, *, images: int, labels: LabelSet,
                   **fields: object) -> ConvertReport:
        return cls(
            images=images,
            labels=labels,
            written=tally.written,
            skipped=tally.skipped,
            failures=tally.failures(),
            shapes=dict(sorted(tally.shapes.items())),
            pixels={name: int(n) for name, n in zip(labels.names, tally.pixels)},
            ignored_pixels=tally.ignored,
            instances=tally.instances,
            **fields,  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary (what ``labeltools json2voc --json`` prints)."""
        return {
            "input_dir": str(self.input_dir),
            "output_dir": str(self.output_dir),
            "labels_source": self.labels.source,
            "class_names": list(self.labels.names),
            "images": self.images,
            "written": self.written,
            "skipped": self.skipped,
            "failed": len(self.failures),
            "failures": [{"file": f.source, "error": f.error} for f in self.failures],
            "shapes": dict(self.shapes),
            "pixels": dict(self.pixels),
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
    """The result of :func:`~labeltools.pipeline.json2voc`, with the VOC options it ran with."""

    npy: bool = False
    objects: bool = True
    viz: bool = False
