"""``python -m labeltools``: the same as the ``labeltools`` command.

Two entry points: :func:`main` runs the command line in-process and returns its exit
status (for Python callers and tests: it never ends the interpreter), and
:func:`console_main`, the ``labeltools`` console script (and ``python -m labeltools``),
which runs :func:`main` and then leaves the process fast.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Sequence

__all__ = ["console_main", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``labeltools ARGV`` (default: ``sys.argv[1:]``) and return its exit status.

    0 on success, 1 for a library error (``Error: ...`` on stderr), 2 for a usage error.
    A non-integer exit (``sys.exit("message")``) prints its message on stderr and
    returns 1, as the interpreter would. A bug escaping a command is raised.
    """
    from labeltools.cli import app

    try:
        app(args=None if argv is None else list(argv), prog_name="labeltools")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def console_main() -> None:
    """The ``labeltools`` command: :func:`main`, then leave without tearing the interpreter down.

    Freeing every module and object of NumPy, Pillow, typer and rich one by one takes
    ~30 ms after the work is done (a tenth of a small json2voc run) and the operating
    system reclaims the memory at once anyway. So once the command has finished, its
    output is flushed and the ``atexit`` handlers have run, the process exits directly.
    Anything unusual (an escaping exception, a thread still running, an output that
    cannot be flushed) takes the ordinary exit path instead.
    """
    status = main()
    if threading.active_count() > 1:
        raise SystemExit(status)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        # A closed pipe (``labeltools ... | head``): let the interpreter report it as usual.
        raise SystemExit(status) from None
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    console_main()
