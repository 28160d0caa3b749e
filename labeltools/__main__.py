"""``python -m labeltools``: the same as the ``labeltools`` command."""

from __future__ import annotations

import atexit
import os
import sys
import threading


def main() -> None:
    """Run the command line, then leave without tearing the interpreter down.

    Freeing every module and object of NumPy, Pillow, typer and rich one by one takes
    ~30 ms after the work is done (a tenth of a small json2voc run) and the operating
    system reclaims the memory at once anyway. So once the command has finished, its
    output is flushed and the ``atexit`` handlers have run, the process exits directly.
    Anything unusual (an escaping exception, a non-integer exit status, a thread still
    running, an output that cannot be flushed) takes the ordinary exit path instead.
    """
    from labeltools.cli import app

    try:
        app(prog_name="labeltools")
        status: object = 0
    except SystemExit as exc:
        status = 0 if exc.code is None else exc.code
    if not isinstance(status, int) or threading.active_count() > 1:
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
    main()
