"""Run a per-file function over many files: serially or on a process pool.

Pipelines (json2voc, eval, weights, check, ...) are written as a pure, picklable
per-item function returning a small report, plus a reduction over those reports.
This module is the only place that decides *where* the function runs, so a new
backend (a Dask cluster, say) is one more :class:`Backend` and no command changes.

Results always come back in input order, so anything reduced from them is
identical for any number of workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["Backend", "ProcessBackend", "SerialBackend", "default_workers", "get_backend", "run"]

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """Number of CPUs this process may use (respects affinity masks / cgroups cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class Backend(Protocol):
    """Where per-item work runs. ``imap`` yields ``fn(item)`` in input order."""

    def imap(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]: ...


class SerialBackend:
    """Run everything in this process: no start-up cost, easiest to debug."""

    def imap(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)


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


#: The per-item function of this worker process, set once by the pool's initializer.
_worker_fn: Callable[[Any], Any] | None = None


def _set_worker_fn(fn: Callable[[Any], Any]) -> None:
    global _worker_fn
    _worker_fn = fn


def _call_worker_fn(item: Any) -> Any:
    if _worker_fn is None:  # pragma: no cover - a bug in this module, not bad input
        raise RuntimeError("engine worker used without its initializer")
    return _worker_fn(item)


class ProcessBackend:
    """A local process pool of ``workers`` processes.

    ``fn`` goes to each worker once, through the pool's initializer (inherited without
    pickling under fork), not with every chunk of items: a partial carrying a large
    lookup table would otherwise be pickled and piped once per chunk.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def imap(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        # Chunks amortise pickling and IPC; small enough that the progress bar moves
        # and the last chunk does not leave one worker alone at the end.
        # Imported here: a serial run should not pay for the pool machinery.
        from concurrent.futures import ProcessPoolExecutor

        chunksize = max(1, min(16, len(items) // (self.workers * 8)))
        with ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_mp_context(),
            initializer=_set_worker_fn,
            initargs=(fn,),
        ) as pool:
            yield from pool.map(_call_worker_fn, items, chunksize=chunksize)


def get_backend(workers: int | None, n_items: int) -> Backend:
    """The backend for ``workers`` (``None``/0 = all CPUs) and a job of ``n_items``."""
    if workers is None or workers == 0:
        workers = default_workers()
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    # A pool costs a few tens of ms to start: not worth it for one item or one worker.
    if workers == 1 or n_items <= 1:
        return SerialBackend()
    return ProcessBackend(min(workers, n_items))


def run(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = 1,
    backend: Backend | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in input order.

    ``workers``: 1 = in this process, ``None``/0 = one process per CPU, N = N processes.
    ``backend`` overrides ``workers``. ``progress(done, total)`` is called after each
    result, from the calling thread. An exception raised by ``fn`` propagates at the
    position of its item; results before it have been yielded.
    """
    seq = list(items)
    total = len(seq)
    chosen = backend if backend is not None else get_backend(workers, total)
    if progress is not None:
        progress(0, total)
    for done, result in enumerate(chosen.imap(fn, seq), start=1):
        if progress is not None:
            progress(done, total)
        yield result
