"""The local process pool: :class:`ProcessBackend`, its workers' signal handling, and
the bounded submission loop every executor-backed backend uses (:func:`bounded`).

Kept apart from :mod:`labeltools.engine` (which decides *where* work runs) because
this is *how* a pool of our own is started, stopped and kept honest: fork when it is
safe, workers that ignore Ctrl-C and die with their parent, a chunk that unwinds on
SIGTERM so its atomic writes leave no temporary files, and a Ctrl-C that stops the
workers instead of waiting for them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["IN_FLIGHT_PER_WORKER", "STOP_GRACE", "ProcessBackend", "bounded"]

R = TypeVar("R")

#: Chunks in flight per worker: one running, one queued behind it.
IN_FLIGHT_PER_WORKER = 2


def _mp_context() -> BaseContext:
    import multiprocessing

    # fork is the cheapest start (workers inherit the imported modules), but forking a
    # process that runs other threads (a progress bar's refresh thread, say) can
    # deadlock a child, so fall back to forkserver then.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


#: The chunk task of this worker process, set once by the pool's initializer.
_worker_task: Callable[[Any], Any] | None = None


def _set_worker_task(task: Callable[[Any], Any]) -> None:
    global _worker_task
    _worker_task = task


#: True in a pool worker while it runs a chunk: a SIGTERM then unwinds the chunk (its
#: atomic writes remove their temporary files) instead of killing it mid-write.
_in_task = False
#: Seconds the main process gives workers to unwind after a Ctrl-C before SIGKILL.
STOP_GRACE = 0.5


class _Stopped(BaseException):
    """Raised inside a worker's chunk by SIGTERM: unwinds it, then the worker exits."""


def _on_sigterm(signum: int, frame: Any) -> None:  # pragma: no cover - runs in a worker
    if _in_task:
        raise _Stopped
    os._exit(128 + signum)


def _die_with_parent() -> None:  # pragma: no cover - runs in a worker
    """Ask Linux to SIGTERM this worker when the process that forked it dies.

    Without it the workers of a main process killed with SIGKILL live on and keep
    writing into the dataset (issue 10). Elsewhere there is no such call.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)


def _init_worker(task: Callable[[Any], Any], parent: int | None) -> None:  # pragma: no cover
    # Ctrl-C reaches the whole process group: the main process handles it and stops the
    # workers; a worker printing its own KeyboardInterrupt traceback helps nobody.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    _die_with_parent()
    if parent is not None and os.getppid() != parent:  # the parent died before prctl
        os._exit(1)
    _set_worker_task(task)


def _call_worker_task(chunk: Any) -> Any:
    global _in_task
    if _worker_task is None:  # pragma: no cover - a bug in this module, not bad input
        raise RuntimeError("engine worker used without its initializer")
    _in_task = True
    try:
        return _worker_task(chunk)
    except _Stopped:  # pragma: no cover - runs in a worker
        os._exit(128 + signal.SIGTERM)
    finally:
        _in_task = False


def _quiet_pool_teardown() -> None:
    """Silence the pool's manager thread as it finds its workers stopped after a Ctrl-C.

    It then fails futures that were already cancelled, and CPython 3.11's
    ``terminate_broken`` raises ``InvalidStateError`` for each, printed as a thread
    traceback below "Interrupted". Only that error, from that thread, is dropped.
    """
    from concurrent.futures import InvalidStateError

    previous = threading.excepthook

    def hook(args: Any) -> None:
        manager = type(args.thread).__name__ == "_ExecutorManagerThread"
        if manager and isinstance(args.exc_value, InvalidStateError):
            return
        previous(args)

    threading.excepthook = hook


def _stop_workers(pool: Any, grace: float = STOP_GRACE) -> None:
    """SIGTERM every worker of ``pool`` (each unwinds its chunk, removing its temporary
    files), then SIGKILL those still running after ``grace`` seconds."""
    _quiet_pool_teardown()
    # ProcessPoolExecutor has no public way to stop running tasks; _processes is its
    # pid -> Process map (there since Python 3.2).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    deadline = time.monotonic() + grace
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)


def bounded(
    submit: Callable[[Sequence[Any]], Future], chunks: Iterator[Sequence[Any]], limit: int
) -> Iterator[tuple[int, Any]]:
    """Keep at most ``limit`` futures in flight; yield ``(index, result)`` as they finish."""
    in_flight: dict[Future, int] = {}
    numbered = enumerate(chunks)

    def top_up() -> None:
        while len(in_flight) < limit:
            nxt = next(numbered, None)
            if nxt is None:
                return
            in_flight[submit(nxt[1])] = nxt[0]

    try:
        top_up()
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                index = in_flight.pop(future)
                result = future.result()
                top_up()
                yield index, result
    finally:
        for future in in_flight:
            future.cancel()


class ProcessBackend:
    """A local pool of ``workers`` processes, started for each job and shut down after it.

    The chunk task (the per-item function inside it) goes to each worker once, through
    the pool's initializer (inherited without pickling under fork), not with every
    chunk: a partial carrying a large lookup table would otherwise be pickled and piped
    once per chunk. Only the chunk's items and its result cross the pipe.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def map_chunks(
        self, task: Callable[[Sequence[Any]], R], chunks: Iterator[Sequence[Any]]
    ) -> Iterator[tuple[int, R]]:
        # Imported here: a serial run should not pay for the pool machinery.
        from concurrent.futures import ProcessPoolExecutor

        context = _mp_context()
        # Forked workers check they still have their parent (it may die before prctl).
        parent = os.getpid() if context.get_start_method() == "fork" else None
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(task, parent),
        )
        stopped = False
        try:
            yield from bounded(
                lambda chunk: pool.submit(_call_worker_task, chunk),
                chunks,
                self.workers * IN_FLIGHT_PER_WORKER,
            )
        except BaseException as exc:
            if not isinstance(exc, (Exception, GeneratorExit)):
                # Ctrl-C (or SystemExit): stop now. Waiting for the running chunks is
                # what hung a --workers 2 run for minutes after one Ctrl-C.
                stopped = True
                _stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=not stopped, cancel_futures=True)
