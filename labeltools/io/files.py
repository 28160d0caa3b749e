"""Files on disk: atomic writes, and the one rule for which files of a folder are label PNGs.

Atomic writes: an interrupted run never leaves a half-written file that looks valid.
:func:`label_files` is what every command (check, stats, weights, split, eval,
rgb2index, index2rgb) means by "the label PNGs of a folder".
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "LABEL_SUFFIX",
    "TMP_PREFIX",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "label_files",
    "label_stems",
]

#: The suffix of a label PNG, matched without regard to case (``b.PNG`` is a label).
LABEL_SUFFIX = ".png"

#: Prefix of temporary files; a crashed run's leftovers are recognisable and safe to delete.
TMP_PREFIX = ".labeltools-tmp-"
#: Random bytes in a temporary file's name (12 hex digits).
_TMP_NAME_BYTES = 6


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    The temporary file lives in the same folder so ``os.replace`` is a rename on one
    file system (atomic on POSIX and Windows). On any exception it is removed and
    ``path`` is untouched. ``suffix`` (default: ``path``'s own) keeps writers that
    pick a format from the extension working.
    """
    target = Path(path)
    if suffix is None:
        suffix = target.suffix
    tmp = _create_temp(target.parent, suffix)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _create_temp(folder: Path, suffix: str) -> Path:
    fd, tmp = _open_temp(folder, suffix)
    os.close(fd)
    return tmp


def _open_temp(folder: str | os.PathLike[str], suffix: str) -> tuple[int, Path]:
    # Not tempfile.mkstemp: it creates files with mode 0600, which os.replace would
    # carry over to the output. O_EXCL with 0666 lets the umask decide, as open() does.
    for _ in range(100):
        # os.urandom is what secrets.token_hex reads, without importing secrets (and with
        # it hmac, hashlib and random: 4 ms of every command's start-up).
        tmp = Path(folder, f"{TMP_PREFIX}{os.urandom(_TMP_NAME_BYTES).hex()}{suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return fd, tmp
    raise FileExistsError(f"{folder}: cannot create a temporary file")  # pragma: no cover


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    # Written through the descriptor that created the temporary file: a third of the
    # cost of atomic_path + write_bytes (which opens it twice), which shows on
    # thousands of small label PNGs.
    target = os.fspath(path)
    fd, tmp = _open_temp(os.path.dirname(target) or os.curdir, os.path.splitext(target)[1])
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (``\\n`` line endings on every OS)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def label_files(folder: str | os.PathLike[str]) -> tuple[Path, ...]:
    """The label PNGs of ``folder``, sorted by name: the one rule every command uses.

    A label PNG is a regular file (or a link to one) directly in ``folder`` whose name
    ends in ``.png`` in any case (``b.PNG`` counts) and does not start with a dot:
    hidden files (macOS ``._a.png`` forks, a crashed run's ``.labeltools-tmp-*`` files)
    are not labels. Sub-folders are not searched. When two names differ only in the
    suffix's case (``a.png`` and ``a.PNG``), only ``a.png`` is listed: one label per id.
    """
    base = Path(folder)
    found: dict[str, str] = {}  # stem -> file name
    with os.scandir(base) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name[-len(LABEL_SUFFIX) :].lower() != LABEL_SUFFIX:
                continue
            if not entry.is_file():
                continue
            stem = name[: -len(LABEL_SUFFIX)]
            if stem not in found or name.endswith(LABEL_SUFFIX):
                found[stem] = name
    return tuple(base / name for name in sorted(found.values()))


def label_stems(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """``{id: path}`` of :func:`label_files` (the id is the name without ``.png``), in name order."""
    return {p.name[: -len(LABEL_SUFFIX)]: p for p in label_files(folder)}
