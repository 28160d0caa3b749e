"""The input files of a labelme -> dataset run: which ``*.json`` files, in which order, named how.

:func:`list_inputs` walks INPUT_DIR once and returns an :class:`Inputs`: every output
stem, and the relative path only where it is not ``<stem>.json`` directly in the
folder. A run of 10^6 files keeps this listing (the split needs every stem) and
little else per file, so it is kept lean: strings, no :class:`~pathlib.Path` per file
(~300 bytes each), no dict of names (clashes are found through sorted hashes).
:func:`find_inputs` is the same listing as ``(path, stem)`` pairs.
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

__all__ = ["Inputs", "find_inputs", "list_inputs"]

#: labelme writes ``.json``; ``.JSON`` (a Windows copy, a camera app) is the same file type.
_JSON_PATTERN = "*.[jJ][sS][oO][nN]"
#: What pathlib's glob matches with that pattern (case-sensitively, as on POSIX).
_JSON_NAME = re.compile(fnmatch.translate(_JSON_PATTERN)).match
_SUFFIX = len(".json")


@dataclass(frozen=True)
class Inputs(Sequence[tuple[Path, str]]):
    """The sorted input files: ``stems[i]`` and, where it is not ``<stem>.json`` in
    ``root``, ``rels[i]`` (``/``-separated, relative to ``root``; else ``None``)."""

    root: Path
    stems: list[str]
    rels: list[str | None]

    def __len__(self) -> int:
        return len(self.stems)

    def rel(self, i: int) -> str:
        rel = self.rels[i]
        return self.stems[i] + ".json" if rel is None else rel

    def path(self, i: int) -> str:
        """The input's path as a string, spelt as ``str(root / rel)`` spells it."""
        rel = self.rels[i]
        if rel is None:
            return self._prefix + self.stems[i] + ".json"
        return self._prefix + (rel if os.sep == "/" else rel.replace("/", os.sep))

    @functools.cached_property
    def _prefix(self) -> str:
        # root / rel without a Path per call (~10 us): rel is plain (no "." or ".."
        # parts, those are hidden names), so pathlib adds only the separator, or
        # nothing after ".".
        return str(self.root / "x")[:-1]

    def __getitem__(self, i):  # type: ignore[no-untyped-def, override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return Path(self.path(i)), self.stems[i]

    def __iter__(self) -> Iterator[tuple[Path, str]]:
        return (self[i] for i in range(len(self)))


def _shown(path: Path | str) -> str:
    """``path`` for a message, its undecodable bytes as ``\\xe9`` (it must print anywhere)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _check_link(p: str) -> None:
    """A ``*.json`` that is a broken or looping symbolic link is an error, not skipped."""
    if not os.path.islink(p):
        return
    try:
        os.stat(p)
    except OSError as exc:
        shown = Path(p)
        if exc.errno == errno.ELOOP:
            raise InputError(f"{shown}: a symbolic link loop") from None
        raise InputError(f"{shown}: a broken symbolic link (to {os.readlink(p)})") from None


def _entries(folder: str) -> list[os.DirEntry[str]]:
    # An unreadable folder holds no inputs, as for pathlib's glob.
    try:
        with os.scandir(folder) as it:
            return list(it)
    except PermissionError:
        return []


def _walk(input_dir: Path, recursive: bool, output_dir: Path) -> list[str]:
    """Relative ``/``-paths of the ``*.json`` files, as ``glob`` / ``rglob`` finds them,
    less hidden ones (a part starting with ``.``) and, recursively, those inside
    ``output_dir``. Symbolic links to folders are not followed (rglob's rule)."""
    out_resolved = output_dir.resolve()
    found: list[str] = []
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        folder = os.path.join(str(input_dir), rel_dir) if rel_dir else str(input_dir)
        if recursive:  # an OUTPUT_DIR inside INPUT_DIR holds no annotations
            resolved = Path(folder).resolve()
            if resolved == out_resolved or out_resolved in resolved.parents:
                continue
        for entry in _entries(folder):
            name = entry.name
            if name.startswith("."):  # macOS "._x.json" resource forks, our own records
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if recursive:
                try:
                    is_dir = entry.is_dir() and not entry.is_symlink()
                except OSError:
                    is_dir = False
                if is_dir:
                    pending.append(rel)
            if not _JSON_NAME(name):
                continue
            _check_link(entry.path)
            if entry.is_file():
                found.append(rel)
    return found


def list_inputs(input_dir: Path, recursive: bool, output_dir: Path) -> Inputs:
    """Every input file, sorted by relative path; raises for none, bad names or clashes."""
    if not input_dir.is_dir():
        raise InputError(f"{input_dir}: no such input folder")
    rels: list[str | None] = list(_walk(input_dir, recursive, output_dir))
    rels.sort()  # type: ignore[call-overload]
    if not rels:
        hint = "" if recursive else " (use --recursive to search subfolders)"
        raise InputError(f"{input_dir}: no labelme *.json files found{hint}")
    stems = []
    first_bad: tuple[int, InputError] | None = None
    for i, rel in enumerate(rels):
        assert rel is not None
        stem = rel[rel.rfind("/") + 1 : -_SUFFIX]
        if first_bad is None:
            problem = _name_problem(input_dir / rel, stem)
            if problem is not None:
                first_bad = (i, problem)
        stems.append(stem)
        if rel == stem + ".json":
            rels[i] = None  # the common case costs a pointer
    inputs = Inputs(input_dir, stems, rels)
    clash = _first_clash(inputs)
    if first_bad is not None and (clash is None or first_bad[0] <= clash[0]):
        raise first_bad[1]
    if clash is not None:
        raise clash[1]
    return inputs


def _name_problem(p: Path, stem: str) -> InputError | None:
    try:
        stem.encode("utf-8")
    except UnicodeEncodeError:
        # The bytes of the name are kept by Python as surrogates, which no text file
        # (the id lists, the manifest) can hold: every rerun would crash on them.
        return InputError(
            f"{_shown(p)}: the file name is not UTF-8, which VOC's id lists cannot hold; "
            f"rename the file"
        )
    if stem != stem.strip() or "\n" in stem or "\r" in stem:
        return InputError(
            f"{p}: the output name {stem!r} has surrounding spaces or line breaks, "
            f"which VOC's one-id-per-line lists cannot hold; rename the file"
        )
    return None


def _first_clash(inputs: Inputs) -> tuple[int, InputError] | None:
    """The first input (in order) whose stem equals an earlier one's but for case.

    a.json and A.json would collide on Windows and macOS. The candidates are the stems
    whose case-folded hash another stem shares (8 bytes a file to find them, instead of
    a dict of every name); only those are compared exactly.
    """
    import numpy as np

    stems = inputs.stems
    keys = np.fromiter((hash(s.casefold()) for s in stems), dtype=np.int64, count=len(stems))
    ordered = np.sort(keys)
    shared = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(shared):
        return None
    seen: dict[str, int] = {}
    for i in np.flatnonzero(np.isin(keys, shared)).tolist():
        key = stems[i].casefold()
        if key in seen:
            return i, InputError(
                f"{inputs[seen[key]][0]} and {inputs[i][0]} both map to the output name "
                f"{stems[i]!r}; rename one of them"
            )
        seen[key] = i
    return None


def find_inputs(input_dir: Path, recursive: bool, output_dir: Path) -> list[tuple[Path, str]]:
    """``(json path, output stem)`` of every input file, sorted; raises for none or clashes."""
    return list(list_inputs(input_dir, recursive, output_dir))
