"""Kill-safe, incremental reruns for any dataset writer: marker, manifest, journal, sweep.

A writer's output folder carries an ownership marker (``.labeltools-<tool>.json``,
written before anything else), and a manifest of what was converted from which
inputs with which options (``.labeltools-<tool>/manifest.json``). During a run the
main process appends one line per finished file to a journal *after* the file's
outputs are complete; the manifest is rewritten from both at the end and the journal
removed. A rerun skips a file whose record matches its inputs (JSON bytes, image size
and mtime), the options and the outputs on disk, and redoes everything else. Every
output is written atomically, so a run killed at any moment leaves complete files or
none (a torn last journal line is ignored), and the rerun ends byte-identical to a
clean run. The sweep at the end deletes what the run did not produce or confirm.

``tool`` names the command (``"json2voc"``): it names the marker and the records
folder, so two writers never mistake each other's folders for their own.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import OutputError
from .io.files import TMP_PREFIX, atomic_write_text

__all__ = [
    "JOURNAL_NAME",
    "MANIFEST_NAME",
    "Records",
    "image_stamp",
    "options_digest",
    "stamp",
    "sweep",
    "up_to_date",
]

PathLike = str | os.PathLike[str]

MANIFEST_NAME = "manifest.json"
JOURNAL_NAME = "journal.jsonl"
#: Version of the marker file's own format.
_MARKER_FORMAT = 1


@dataclass(frozen=True)
class Records:
    """Where ``tool`` keeps its marker, manifest and journal in ``output_dir``."""

    output_dir: Path
    tool: str

    @property
    def marker(self) -> Path:
        """The file that says "``tool`` made this folder"."""
        return self.output_dir / f".labeltools-{self.tool}.json"

    @property
    def folder_name(self) -> str:
        """The records folder, relative to ``output_dir`` (the sweep keeps it)."""
        return f".labeltools-{self.tool}"

    @property
    def folder(self) -> Path:
        return self.output_dir / self.folder_name

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST_NAME

    @property
    def journal(self) -> Path:
        return self.folder / JOURNAL_NAME

    def is_ours_or_empty(self) -> bool:
        """Whether ``output_dir`` is missing, empty, or was made by ``tool``."""
        if not self.output_dir.exists():
            return True
        if not self.output_dir.is_dir():
            raise OutputError(f"{self.output_dir}: expected an output folder, found a file")
        if self.marker.is_file():
            return True
        # A run killed while writing the marker leaves only its temporary file.
        return all(p.name.startswith(TMP_PREFIX) for p in self.output_dir.iterdir())

    def claim(self) -> None:
        """Refuse a foreign non-empty folder; make the folder, the marker and the records folder."""
        if not self.is_ours_or_empty():
            raise OutputError(
                f"{self.output_dir}: the folder is not empty and was not made by labeltools "
                f"{self.tool}; choose a new or empty output folder"
            )
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if not self.marker.is_file():
            doc = {"tool": f"labeltools {self.tool}", "format": _MARKER_FORMAT}
            atomic_write_text(self.marker, json.dumps(doc, sort_keys=True) + "\n")

    def read(self) -> dict[str, Any]:
        """stem -> record from the last complete run's manifest and a killed run's journal."""
        records: dict[str, Any] = {}
        try:
            loaded = json.loads(self.manifest.read_bytes())
            if isinstance(loaded, dict):
                records.update(loaded)
        except (FileNotFoundError, ValueError):
            pass
        try:
            lines = self.journal.read_bytes().splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                entry = json.loads(line)
                records[entry.pop("stem")] = entry
            except (ValueError, KeyError, AttributeError, TypeError):
                continue  # the line a SIGKILL tore
        return records

    def open_journal(self) -> IO[str]:
        """The journal, for appending (the records folder must exist)."""
        return self.journal.open("a", encoding="utf-8")

    @staticmethod
    def journal_entry(journal: IO[str], stem: str, record: Mapping[str, Any]) -> None:
        """Append ``stem``'s record: only once every output it names is complete."""
        journal.write(json.dumps({"stem": stem, **record}, sort_keys=True))
        journal.write("\n")
        journal.flush()

    def commit(self, records: Mapping[str, Mapping[str, Any]]) -> None:
        """Write the manifest (stem -> record) and drop the journal it supersedes."""
        atomic_write_text(self.manifest, json.dumps(records, sort_keys=True) + "\n")
        self.journal.unlink()


def options_digest(options: Mapping[str, Any]) -> str:
    """Fingerprint of every option that changes the bytes written for a file."""
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()


def stamp(source: PathLike, st: os.stat_result) -> dict[str, object]:
    """What a record notes of an input file: resolved path, size, mtime."""
    # os.path.realpath is what Path.resolve() runs, without building Path objects.
    return {"path": os.path.realpath(source), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def image_stamp(source: PathLike | None) -> dict[str, object] | None:
    """:func:`stamp` of ``source`` as it is now (``None``: an embedded image)."""
    if source is None:
        return None
    return stamp(source, os.stat(source))


def up_to_date(
    record: Mapping[str, Any] | None,
    json_sha: str,
    options: str,
    expected: Callable[[Mapping[str, Any]], dict[str, str]],
    root: str,
) -> bool:
    """Whether ``record`` (from the last run) says a file's outputs are current.

    ``expected(report)`` gives the outputs (kind -> path relative to ``root``) that a
    file with that report has; it may raise ``KeyError`` / ``TypeError`` on a damaged
    report, which counts as out of date.
    """
    if not isinstance(record, Mapping):
        return False
    if record.get("json_sha256") != json_sha or record.get("options") != options:
        return False
    image = record.get("image")
    if image is not None:
        try:
            if image_stamp(image["path"]) != image:
                return False
        except (OSError, KeyError, TypeError):
            return False
    try:
        outputs = expected(record["report"])
    except (KeyError, TypeError):
        return False
    if record.get("outputs") != outputs:
        return False
    return all(os.path.isfile(os.path.join(root, rel)) for rel in outputs.values())


def sweep(output_dir: Path, folders: Iterable[str], wanted: Iterable[str], keep: set[str]) -> None:
    """Delete files in a writer's ``folders`` that this run did not produce or confirm.

    Leftovers of a killed run (temporary files, also in ``output_dir`` itself),
    outputs of inputs that are gone, and outputs of options no longer chosen
    (``--viz`` last time, say). A folder left empty is removed unless it is
    ``wanted`` (used with the current options), and so is an emptied parent of a
    nested folder. ``keep`` holds paths as ``os.path.join(output_dir, relative)``
    strings; the folders are listed with ``os.scandir`` (file types without a stat
    per file). Folders are relative to ``output_dir``, ``"/"``-separated.
    """
    root = str(output_dir)
    wanted_paths = {str(output_dir / folder) for folder in wanted}
    parents = []
    for name in folders:
        folder = str(output_dir / name)  # a nested folder has a "/": let pathlib spell it
        parent = os.path.dirname(name)
        if parent:
            parents.append(os.path.join(root, parent))
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
        if emptied and folder not in wanted_paths:
            os.rmdir(folder)
    for entry in os.scandir(root):
        if entry.is_file() and entry.name.startswith(TMP_PREFIX):
            os.unlink(entry.path)
    for parent in dict.fromkeys(parents):
        if os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)
