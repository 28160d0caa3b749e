"""Atomic file writes: an interrupted run never leaves a half-written file that looks valid."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]

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
