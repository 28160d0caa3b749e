"""Class-name lists: ``class_names.txt`` (index = line number) and labelme's ``labels.txt``."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LabelNameError

__all__ = ["read_class_names"]


def read_class_names(path: str | os.PathLike[str]) -> tuple[str, ...]:
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
