"""Class names: labels.txt lists, discovery from the data, class-name files.

labelme's ``labels.txt`` convention: one name per line, an optional leading
``__ignore__`` (the void label, never a class), then ``_background_`` as class 0
and the classes in index order. ``class_names.txt`` (what json2voc writes) is the
same list without ``__ignore__``: index = line number.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .constants import BACKGROUND_NAME, IGNORE_NAME
from .errors import LabelNameError

__all__ = [
    "IGNORE_VALUE",
    "NAME_RULE",
    "LabelSet",
    "check_discovered_names",
    "class_names_by_index",
    "discover_labels",
    "files_under",
    "label_set",
    "name_problem",
    "parse_labels",
    "read_class_names",
]

PathLike = str | os.PathLike[str]

#: labelme's int32 value for ignored pixels (stored as ``IGNORE_INDEX`` in PNGs).
IGNORE_VALUE = -1
#: What a class name may not be or hold, and why: class_names.txt holds one name per line
#: (a line break shifts every later index) and spaces around a name are invisible in every
#: list (``'car '`` beside ``'car'``). A ':' is allowed: VocWriter then leaves out
#: labelmap.txt (whose separator it is) and says so.
NAME_RULE = (
    "a class name must be non-empty, without surrounding spaces, line breaks or "
    "control characters"
)
#: Endings of label-list files; ``--labels x.txt`` naming no file is a typo, not a class.
_LIST_SUFFIXES = (".txt", ".names", ".lst", ".csv")


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


def read_class_names(path: PathLike) -> tuple[str, ...]:
    """Read one class name per line; index = position among the non-blank lines.

    Surrounding spaces and blank lines are not names. A duplicated name raises
    :class:`~labeltools.errors.LabelNameError` naming the file and both lines.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # -sig: Notepad's BOM is not part of a name
    except FileNotFoundError:
        raise LabelNameError(f"{p}: no such class-names file") from None
    except UnicodeDecodeError as exc:
        raise LabelNameError(f"{p}: expected UTF-8 text, {exc.reason} at byte {exc.start}") from None
    except IsADirectoryError:
        raise LabelNameError(f"{p}: expected a class-names text file, found a directory") from None
    names: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if name in seen:
            raise LabelNameError(
                f"{p}: line {lineno}: class name {name!r} already given on line {seen[name]}"
            )
        seen[name] = lineno
        names.append(name)
    if not names:
        raise LabelNameError(f"{p}: expected one class name per line, found none")
    return tuple(names)


def class_names_by_index(path: PathLike) -> tuple[str, ...]:
    """Class names by index, from ``class_names.txt`` or labelme's ``labels.txt``.

    A leading ``__ignore__`` (labelme's convention) is the void label 255, not
    class 0, so it is left out: either file gives the same index -> name list.
    """
    names = read_class_names(path)
    return names[1:] if names[0] == IGNORE_NAME else names


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


def parse_labels(labels: PathLike | Sequence[str]) -> LabelSet:
    """The ``--labels`` value: a labels file, a comma-separated string, or a list of names.

    A string is a file when such a file exists; otherwise a string without commas
    that looks like a path (a folder separator, or ``.txt``) is a missing file (an
    error), and anything else a comma-separated list.
    """
    if isinstance(labels, (list, tuple)):
        chosen = label_set(labels, "labels")
        _check_listed_names(chosen.names, "labels", None)
        return chosen
    if isinstance(labels, os.PathLike) or (isinstance(labels, str) and Path(labels).is_file()):
        chosen = label_set(read_class_names(labels), str(labels))
        text = Path(labels).read_text(encoding="utf-8-sig")
        line_of: dict[str, int] = {}
        for lineno, line in enumerate(text.splitlines(), start=1):
            line_of.setdefault(line.strip(), lineno)
        _check_listed_names(chosen.names, str(labels), [line_of.get(n, 0) for n in chosen.names])
        return chosen
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
    chosen = label_set(names, "--labels")
    _check_listed_names(chosen.names, "--labels", None)
    return chosen


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a class name (``'empty'``, ``'line break'``, ...), or None."""
    if not name:
        return "empty"
    if "\n" in name or "\r" in name:
        return "line break"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        return "control character"
    if name != name.strip():
        return "surrounding spaces"
    return None


def _bad_names(where: str, parts: Sequence[str], fix: str) -> LabelNameError:
    n = len(parts)
    return LabelNameError(
        f"{where}: {n} bad class name{'s' if n > 1 else ''}: {'; '.join(parts)}; {NAME_RULE}; "
        f"{fix}"
    )


def files_under(files: Iterable[Path], root: Path) -> str:
    """``files`` as a comma-separated list, each relative to ``root`` where it lies inside it
    (how label errors name the files a label is in)."""

    def rel(p: Path) -> str:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return str(p)

    return ", ".join(rel(p) for p in files)


def check_discovered_names(found: Mapping[str, Sequence[Path]], root: Path) -> None:
    """Refuse labels found in the input that would corrupt the class lists.

    ``found`` maps each label to the files it is in. Every bad name is listed with
    its files (relative to ``root``) in one :class:`~labeltools.errors.LabelNameError`,
    before anything is written.
    """
    bad = {name: why for name in found if (why := name_problem(name)) and name != IGNORE_NAME}
    if not bad:
        return
    parts = [
        f"{name!r} ({why}) in {files_under(found[name], root)}" for name, why in sorted(bad.items())
    ]
    fix = f"rename {'them' if len(bad) > 1 else 'it'} in the labelme files"
    raise _bad_names(str(root), parts, fix)


def _check_listed_names(names: Sequence[str], source: str, lines: Sequence[int] | None) -> None:
    """Refuse bad names in a ``--labels`` file (``lines``: their line numbers) or list."""
    parts = []
    for i, name in enumerate(names):
        why = name_problem(name)
        if why:
            where = f" on line {lines[i]}" if lines is not None else ""
            parts.append(f"{name!r} ({why}){where}")
    if parts:
        raise _bad_names(source, parts, "fix the labels file" if lines is not None else "fix --labels")


def discover_labels(found: Iterable[str]) -> LabelSet:
    """The labels of an input, as json2voc uses them without ``--labels``.

    ``_background_`` first, the rest sorted; ``__ignore__`` stays void, not a class.
    """
    rest = sorted(set(found) - {BACKGROUND_NAME, IGNORE_NAME})
    return LabelSet((BACKGROUND_NAME, *rest), "discovered")
