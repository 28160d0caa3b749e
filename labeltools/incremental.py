"""Kill-safe, incremental reruns for any dataset writer: marker, manifest, journal, sweep.

A writer's output folder carries an ownership marker (``.labeltools-<tool>.json``,
written before anything else), and a manifest of what was converted from which
inputs with which options (``.labeltools-<tool>/manifest.json``). During a run the
main process appends one line per finished file to a journal *after* the file's
outputs are complete, and streams the new manifest to a temporary file as files
finish; at the end it is renamed over the old one and the journal removed. A rerun
skips a file whose record matches its inputs (JSON bytes, image size and mtime), the
options and the outputs on disk, and redoes everything else. Every
output is written atomically, so a run killed at any moment leaves complete files or
none (a torn last journal line is ignored), and the rerun ends byte-identical to a
clean run. The sweep at the end deletes what the run did not produce or confirm.

``tool`` names the command (``"json2voc"``): it names the marker and the records
folder, so two writers never mistake each other's folders for their own.

Memory: a run of 10^6 files must not hold 10^6 parsed records. The files' layouts
and the compact forms a run keeps of them (:class:`PreviousRecords`: 16 bytes a
record; :class:`PathSet`: 8 bytes an output path) are in :mod:`labeltools.recordfiles`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import OutputError
from .io.files import TMP_PREFIX, atomic_path, atomic_write_text, output_errors
from .recordfiles import (
    MANIFEST_HEAD,
    ManifestWriter,
    PathSet,
    PreviousRecords,
    _NotCommitted,
    _Reread,
    _upgrade_manifest,
    journal_entries,
    manifest_entries,
)

__all__ = [
    "JOURNAL_NAME",
    "MANIFEST_HEAD",
    "MANIFEST_NAME",
    "ManifestWriter",
    "PathSet",
    "PreviousRecords",
    "Records",
    "image_stamp",
    "options_digest",
    "owned_outputs",
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
        with output_errors(self.output_dir, "cannot create the output folder"):
            self.output_dir.mkdir(parents=True, exist_ok=True)
        if not self.marker.is_file():
            doc = {"tool": f"labeltools {self.tool}", "format": _MARKER_FORMAT}
            with output_errors(self.output_dir, "cannot write to the output folder"):
                atomic_write_text(self.marker, json.dumps(doc, sort_keys=True) + "\n")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the output folder while a run writes into it.

        A second run into the same folder stops with an error before it writes
        anything (two runs used to tear each other's journal). The lock is the
        kernel's (``flock`` on the folder itself, no lock file to go stale): it ends
        with the process, however the process ends. Where there is no ``flock``
        (Windows) runs are not locked.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fd = os.open(self.output_dir, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputError(
                    f"{self.output_dir}: the folder is in use by another labeltools {self.tool} "
                    f"run; wait for it to finish"
                ) from None
            yield
        finally:
            os.close(fd)  # releases the lock

    def refuse_links(self, folders: Iterable[str]) -> None:
        """Refuse a symbolic link where a writer's folder (or the records folder) goes.

        Writing through, or sweeping, a linked ``JPEGImages`` would change files
        outside OUTPUT_DIR; a run writes only inside it.
        """
        root = self.output_dir
        seen: set[str] = set()
        for folder in (*folders, self.folder_name):
            parts = Path(folder).parts
            for i in range(1, len(parts) + 1):
                rel = os.path.join(*parts[:i])
                if rel in seen:
                    continue
                seen.add(rel)
                path = root / rel
                if os.path.islink(path):
                    raise OutputError(
                        f"{path}: a symbolic link (to {os.readlink(path)}); {self.tool} writes "
                        f"only inside OUTPUT_DIR and does not follow links out of it: replace "
                        f"the link with a folder"
                    )

    def read(self) -> dict[str, Any]:
        """stem -> record from the last complete run's manifest and a killed run's journal.

        Every record parsed, in memory: for tests and small folders. A run uses
        :meth:`previous`, which holds offsets instead.
        """
        records: dict[str, Any] = dict(manifest_entries(self.manifest))
        records.update(journal_entries(self.journal))
        return records

    def previous(self) -> PreviousRecords:
        """What the last runs recorded, indexed on disk (see :class:`PreviousRecords`)."""
        _upgrade_manifest(self.manifest)
        return PreviousRecords(self.output_dir, self.manifest, self.journal)

    def open_journal(self) -> IO[str]:
        """The journal, for appending (the records folder must exist).

        A SIGKILL can leave a torn last line: it is ended here, so that the first line
        this run appends is not glued to it (and lost with it).
        """
        journal = self.journal.open("a", encoding="utf-8")
        if journal.tell() > 0:
            with self.journal.open("rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    journal.write("\n")
        return journal

    @staticmethod
    def journal_entry(journal: IO[str], stem: str, record: Mapping[str, Any] | str) -> None:
        """Append ``stem``'s record: only once every output it names is complete.

        ``record``: a dict, or its JSON text (an object: a converted file's
        ``FileReport.record_json``). The line is ``{"stem": ..., <record's keys>}``.
        """
        if not isinstance(record, str):
            record = json.dumps(record, sort_keys=True)
        body = record.strip()
        if not (body.startswith("{") and body.endswith("}")):
            raise ValueError(f"journal_entry: a record must be a JSON object, got {record[:40]!r}")
        sep = ", " if body[1:-1].strip() else ""
        journal.write(f'{{"stem": {json.dumps(stem)}{sep}{body[1:]}\n')
        journal.flush()

    @contextlib.contextmanager
    def new_manifest(self) -> Iterator[ManifestWriter]:
        """A :class:`ManifestWriter` on a temporary file beside the manifest.

        :meth:`ManifestWriter.commit` puts it in place and drops the journal; leaving
        the block without committing (an error, Ctrl-C) leaves the old manifest.
        """
        with atomic_path(self.manifest) as tmp, open(tmp, "w", encoding="utf-8") as f:
            writer = ManifestWriter(f)
            yield writer
            if not writer.committed:
                raise _NotCommitted
        self.journal.unlink(missing_ok=True)

    def commit(self, records: Mapping[str, Mapping[str, Any]]) -> None:
        """Write the manifest (stem -> record, sorted by stem) and drop the journal it supersedes."""
        with contextlib.suppress(_NotCommitted), self.new_manifest() as manifest:
            for stem in sorted(records):
                manifest.add(stem, records[stem])
            manifest.commit()

    def summaries(self) -> Iterable[tuple[str, Any]]:
        """``(stem, record)`` of the committed manifest, read from disk at each iteration."""
        return _Reread(self.manifest)


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


def owned_outputs(output_dir: Path, records: Mapping[str, Any]) -> set[str]:
    """The files earlier runs wrote, from their records (``os.path.join(output_dir, rel)``).

    Only these (and temporary files) may be swept: a file another command or the user
    put into the dataset (``test.txt`` from ``labeltools split``, notes, extra labels)
    was never any run's output, so no rerun deletes it.
    """
    root = str(output_dir)
    owned: set[str] = set()
    for record in records.values():
        outputs = record.get("outputs") if isinstance(record, Mapping) else None
        if isinstance(outputs, Mapping):
            owned.update(os.path.join(root, rel) for rel in outputs.values() if isinstance(rel, str))
    return owned


def sweep(
    output_dir: Path,
    folders: Iterable[str],
    wanted: Iterable[str],
    keep: Container[str],
    owned: Container[str] | None = None,
) -> None:
    """Delete files in a writer's ``folders`` that this run did not produce or confirm.

    Leftovers of a killed run (temporary files, also in ``output_dir`` itself),
    outputs of inputs that are gone, and outputs of options no longer chosen
    (``--viz`` last time, say). With ``owned`` (:func:`owned_outputs`), only files an
    earlier run wrote are deleted, and every other file is left alone. A folder left
    empty is removed unless it is ``wanted`` (used with the current options), and so
    is an emptied parent of a nested folder. ``keep`` and ``owned`` hold paths as
    ``os.path.join(output_dir, relative)`` strings (any container: a :class:`PathSet`);
    the folders are read with ``os.scandir`` (file types without a stat per file) and
    not held: a folder of 10^6 files costs only what it deletes. Folders are relative to
    ``output_dir``, ``"/"``-separated; a folder that is a symbolic link is not entered.
    """
    root = str(output_dir)
    wanted_paths = {str(output_dir / folder) for folder in wanted}
    parents = []
    for name in folders:
        folder = str(output_dir / name)  # a nested folder has a "/": let pathlib spell it
        parent = os.path.dirname(name)
        if parent:
            parents.append(os.path.join(root, parent))
        if os.path.islink(folder):
            continue
        try:
            entries = os.scandir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        emptied = True
        stale = []  # deleted after the listing: no unlink while the folder is read
        with entries:
            for entry in entries:
                ours = owned is None or entry.path in owned or entry.name.startswith(TMP_PREFIX)
                if entry.is_file() and entry.path not in keep and ours:
                    stale.append(entry.path)
                else:
                    emptied = False
        for path in stale:
            os.unlink(path)
        if emptied and folder not in wanted_paths:
            os.rmdir(folder)
    for entry in os.scandir(root):
        if entry.is_file() and entry.name.startswith(TMP_PREFIX):
            os.unlink(entry.path)
    for parent in dict.fromkeys(parents):
        if os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)
