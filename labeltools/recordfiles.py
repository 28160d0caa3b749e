"""The resume records' files: the manifest's and journal's layouts, read and written a line
at a time, and the compact in-memory forms a run of 10^6 files keeps of them.

The manifest is one JSON object with one record per line::

    {
    "a": {"json": ..., "outputs": ..., "report": ...},
    "b": {...}
    }

(:data:`MANIFEST_HEAD`), so that it is written as files finish (:class:`ManifestWriter`)
and read back, or looked up by offset, without parsing it whole. It is the JSON a
one-line ``json.dumps(records, sort_keys=True)`` held (the layout labeltools wrote
before 2026-12, still read: once, whole, and rewritten in this layout), entries in
input order. The journal has one ``{"stem": ..., ...}`` object per line.
:class:`PreviousRecords` indexes both by 8-byte stem hashes and file offsets and reads
a record from disk when asked; :class:`PathSet` holds output paths as 8-byte hashes.
:mod:`labeltools.incremental` uses them.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from .io.files import atomic_path

__all__ = [
    "MANIFEST_HEAD",
    "ManifestWriter",
    "PathSet",
    "PreviousRecords",
    "journal_entries",
    "manifest_entries",
    "manifest_line",
]

#: How a manifest of one record per line starts (the older layout is ``{"a": ...}`` on
#: one line): one record per line can be streamed out and looked up by offset.
MANIFEST_HEAD = "{\n"
_MANIFEST_END = "\n}\n"
_KEY = json.JSONDecoder()


class _NotCommitted(Exception):
    """Raised inside :meth:`Records.new_manifest` to leave the old manifest in place."""


class _Reread:
    """An iterable that reads the manifest again each time it is iterated."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return manifest_entries(self.path)


class ManifestWriter:
    """Writes a manifest a record at a time, in the order given (the input order)."""

    def __init__(self, f: IO[str]) -> None:
        self._f = f
        self._first = True
        self.committed = False
        f.write(MANIFEST_HEAD)

    def add(self, stem: str, record: Mapping[str, Any] | str) -> None:
        """Add ``stem``'s record: a dict, or its ``json.dumps(record, sort_keys=True)`` text."""
        # The bytes of json.dumps({stem: record}, sort_keys=True) for this entry: a
        # record reads back as it was, whichever layout held it.
        self._f.write(("" if self._first else ",\n") + manifest_line(stem, record))
        self._first = False

    def commit(self) -> None:
        self._f.write(_MANIFEST_END)
        self.committed = True


def manifest_line(stem: str, record: Any) -> str:
    """One manifest entry, without its separator: ``"stem": {record}``.

    ``record``: a JSON value, or a ``str`` that is already its sorted-key JSON text.
    """
    text = record if isinstance(record, str) else json.dumps(record, sort_keys=True)
    return f"{json.dumps(stem)}: {text}"


def _parse_manifest_line(line: bytes) -> tuple[str, Any]:
    """``(stem, record)`` of a manifest line; ValueError / TypeError when it is not one."""
    text = line.decode("utf-8").rstrip("\n").removesuffix(",")
    stem, end = _KEY.raw_decode(text)
    if not isinstance(stem, str) or text[end : end + 2] != ": ":
        raise ValueError("not a manifest entry")
    return stem, json.loads(text[end + 2 :])


def _parse_journal_line(line: bytes) -> tuple[str, Any]:
    entry = json.loads(line)
    stem = entry.pop("stem")
    if not isinstance(stem, str):
        raise TypeError("stem is not a string")
    return stem, entry


#: What a damaged or torn line raises when parsed: it is skipped.
_BAD_LINE = (ValueError, KeyError, AttributeError, TypeError, UnicodeDecodeError)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` of every line of ``path`` (none when it is missing)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return
    with f:
        offset = 0
        for line in f:
            yield offset, line
            offset += len(line)


def manifest_entries(path: Path) -> Iterator[tuple[str, Any]]:
    """``(stem, record)`` of a manifest of either layout (a damaged one: none, or the
    lines that still parse)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(MANIFEST_HEAD))
    except FileNotFoundError:
        return
    if head != MANIFEST_HEAD.encode():
        yield from _legacy_manifest(path).items()
        return
    for offset, line in _lines(path):
        if offset == 0 or line.startswith(b"}"):
            continue
        try:
            yield _parse_manifest_line(line)
        except _BAD_LINE:
            continue


def journal_entries(path: Path) -> Iterator[tuple[str, Any]]:
    """``(stem, record)`` of every whole journal line (a torn line is skipped)."""
    for _, line in _lines(path):
        try:
            yield _parse_journal_line(line)
        except _BAD_LINE:
            continue  # the line a SIGKILL tore


def _legacy_manifest(path: Path) -> dict[str, Any]:
    """A manifest of the one-line layout (labeltools before 2026-12), parsed whole."""
    try:
        loaded = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _upgrade_manifest(path: Path) -> None:
    """Rewrite a one-line manifest one record per line (the same JSON), once."""
    try:
        with path.open("rb") as f:
            if f.read(len(MANIFEST_HEAD)) == MANIFEST_HEAD.encode():
                return
    except FileNotFoundError:
        return
    records = _legacy_manifest(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        writer = ManifestWriter(f)
        for stem, record in records.items():
            writer.add(stem, record)
        writer.commit()


#: Python's str hash: 64 bits (SipHash, seeded per process, cached in the string);
#: the hashes are only compared within this process.
_hash = hash


class PathSet:
    """A set of path strings held as sorted 8-byte hashes: 8 bytes a path instead of ~150.

    Membership is by hash alone: a path not added is taken for one added only if its
    64-bit hash collides with one of them, about ``n * m / 2**64`` for ``m`` lookups
    (10^-9 for 3 x 10^6 outputs and as many files swept).
    """

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._pending = array("q", map(_hash, paths))
        self._sorted = array("q")

    def add(self, path: str) -> None:
        self._pending.append(_hash(path))

    def update(self, paths: Iterable[str]) -> None:
        self._pending.extend(map(_hash, paths))

    def __len__(self) -> int:
        self._merge()
        return len(self._sorted)

    def _merge(self) -> None:
        if not self._pending:
            return
        import numpy as np

        if self._sorted:
            self._sorted.extend(self._pending)
        else:
            self._sorted = self._pending
        self._pending = array("q")
        # Sorted in place, through a view of the array's own buffer: no copy of 8n bytes.
        # Duplicates stay (bisect does not mind).
        np.frombuffer(self._sorted, dtype=np.int64).sort()

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        self._merge()
        import bisect

        h = _hash(path)
        i = bisect.bisect_left(self._sorted, h)
        return i < len(self._sorted) and self._sorted[i] == h


class PreviousRecords:
    """The records of the last complete run (manifest) and of a killed one (journal),
    indexed by stem without holding them: per record, 8 bytes of stem hash and 8 of
    file offset; :meth:`get` reads the record from disk.

    :attr:`owned` is the output paths every one of those records names (what the sweep
    may delete), as a :class:`PathSet`. Use as a context manager (it holds two files open).
    """

    def __init__(self, output_dir: Path, manifest: Path, journal: Path) -> None:
        root = str(output_dir)
        self.owned = PathSet()
        self._sources = []
        for path, parse in ((manifest, _parse_manifest_line), (journal, _parse_journal_line)):
            pairs = array("q")  # hash, offset, hash, offset, ...
            for offset, line in _lines(path):
                try:
                    stem, record = parse(line)
                except _BAD_LINE:
                    continue  # the manifest's braces, a torn journal line
                pairs.append(_hash(stem))
                pairs.append(offset)
                outputs = record.get("outputs") if isinstance(record, Mapping) else None
                if isinstance(outputs, Mapping):
                    self.owned.update(
                        os.path.join(root, rel) for rel in outputs.values() if isinstance(rel, str)
                    )
            if pairs:
                self._sources.append(_Index(path, parse, pairs))
        self.owned._merge()

    def __len__(self) -> int:
        return sum(len(s.hashes) for s in self._sources)

    def get(self, stem: str) -> Any:
        """``stem``'s last record (the journal's over the manifest's), or ``None``."""
        h = _hash(stem)
        for source in reversed(self._sources):  # the journal, then the manifest
            found = source.find(stem, h)
            if found is not None:
                return found
        return None

    def close(self) -> None:
        """Close the files and drop the index (16 bytes a record); :attr:`owned` stays."""
        for source in self._sources:
            source.close()
        self._sources = []

    def __enter__(self) -> PreviousRecords:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Index:
    """One file's lines by stem hash (stable order: a later line of a stem wins)."""

    def __init__(self, path: Path, parse: Callable[[bytes], tuple[str, Any]],
                 pairs: array) -> None:
        import numpy as np

        # (hash, offset) pairs, sorted by hash in place (stable: file order within a hash).
        self._table = np.frombuffer(pairs, dtype=[("hash", "<i8"), ("offset", "<i8")])
        self._table.sort(order="hash", kind="stable")
        self.hashes = self._table["hash"]  # views, no copies
        self.offsets = self._table["offset"]
        self._parse = parse
        self._file: IO[bytes] | None = path.open("rb")

    def find(self, stem: str, h: int) -> Any:
        import numpy as np

        lo = int(np.searchsorted(self.hashes, h, side="left"))
        hi = int(np.searchsorted(self.hashes, h, side="right"))
        assert self._file is not None
        for i in range(hi - 1, lo - 1, -1):  # the last line of this hash first
            self._file.seek(int(self.offsets[i]))
            found, record = self._parse(self._file.readline())
            if found == stem:
                return record
        return None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
