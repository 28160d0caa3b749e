"""Files on disk: atomic writes, and the one rule for which files of a folder are label PNGs.

Atomic writes: an interrupted run never leaves a half-written file that looks valid.
:func:`label_files` is what every command (check, stats, weights, split, eval,
rgb2index, index2rgb) means by "the label PNGs of a folder".
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError

__all__ = [
    "LABEL_SUFFIX",
    "TMP_PREFIX",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "label_files",
    "label_stems",
    "make_parent",
    "os_error_reason",
    "output_errors",
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
    file system (atomic on POSIX and Windows). On any exception (Ctrl-C included) it is
    removed and ``path`` is untouched. ``suffix`` (default: ``path``'s own) keeps
    writers that pick a format from the extension working.
    """
    target = Path(path)
    if suffix is None:
        suffix = target.suffix
    made: list[Path] = []
    try:
        os.close(_open_temp(target.parent, suffix, made))
        yield made[0]
        os.replace(made[0], target)
    except BaseException:
        _remove(made)
        raise


def _open_temp(folder: str | os.PathLike[str], suffix: str, made: list[Path]) -> int:
    """Create a new temporary file in ``folder``; return its descriptor.

    Its path is put into ``made`` *before* it is created: a Ctrl-C that lands between
    the creation and the caller's next statement still finds it there to remove.
    """
    # Not tempfile.mkstemp: it creates files with mode 0600, which os.replace would
    # carry over to the output. O_EXCL with 0666 lets the umask decide, as open() does.
    for _ in range(100):
        # os.urandom is what secrets.token_hex reads, without importing secrets (and with
        # it hmac, hashlib and random: 4 ms of every command's start-up).
        made[:] = [Path(folder, f"{TMP_PREFIX}{os.urandom(_TMP_NAME_BYTES).hex()}{suffix}")]
        try:
            return os.open(made[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            made.clear()  # someone else's file: never ours to remove
    raise FileExistsError(f"{folder}: cannot create a temporary file")  # pragma: no cover


def _remove(made: list[Path]) -> None:
    for tmp in made:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    # Written through the descriptor that created the temporary file: a third of the
    # cost of atomic_path + write_bytes (which opens it twice), which shows on
    # thousands of small label PNGs.
    target = os.fspath(path)
    made: list[Path] = []
    try:
        fd = _open_temp(os.path.dirname(target) or os.curdir, os.path.splitext(target)[1], made)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(made[0], target)
    except BaseException:
        _remove(made)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (``\\n`` line endings on every OS)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def os_error_reason(exc: OSError, path: str | os.PathLike[str]) -> str:
    """Why writing ``path`` failed, in the words of a one-line error.

    ``'{parent} is a file'`` when a folder on the way is a file (the OS says "Not a
    directory" or "File exists", which names neither); otherwise the OS's reason,
    lower-cased (``'read-only file system'``, ``'no space left on device'``).
    """
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        for parent in Path(path).parents:
            if os.path.lexists(parent):
                if not parent.is_dir():
                    return f"{parent} is a file"
                break
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


@contextlib.contextmanager
def output_errors(path: str | os.PathLike[str], action: str = "cannot write") -> Iterator[None]:
    """Turn an ``OSError`` while writing ``path`` into ``OutputError("{path}: {action}: why")``.

    The writing twin of :func:`labeltools.io.errors.pillow_errors`: a read-only or
    full disk, or a parent that is a file, is a one-line error naming the output.
    """
    try:
        yield
    except OSError as exc:
        raise OutputError(f"{path}: {action}: {os_error_reason(exc, path)}") from None


def make_parent(path: str | os.PathLike[str]) -> None:
    """Create ``path``'s folder (and its parents) for a file about to be written there."""
    with output_errors(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


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
