"""Where per-file work runs: in this process, on a local process pool, or on a Dask cluster.

Pipelines (json2voc, eval, weights, check, ...) are written as a pure, picklable
per-item function plus, where they reduce, an associative ``combine``. They call only
:func:`run` (``fn(item)`` for every item, in input order) or :func:`map_reduce`
(``combine`` folded over ``fn(item)``); this module alone decides where that happens,
so a backend is one class here and no pipeline changes.

Work travels in **chunks** of consecutive items, never one task per item: a task costs
~0.1 ms on a local pool and ~1 ms on a Dask scheduler, a file 1-4 ms. A chunk of a
:func:`map_reduce` is reduced where it ran and only its partial result travels back
(one confusion matrix per chunk, not one per image); the parent folds the partials in
input order. So results are identical for any number of workers and any completion
order, provided ``combine`` is associative (integer sums, concatenation, set union).

Chunk size (:func:`chunk_size`): ``ceil(n / (workers * CHUNKS_PER_WORKER))``, clamped to
``[1, MAX_CHUNK]``: enough chunks per worker that the last ones do not leave workers idle
and the progress bar moves, few enough that per-task costs vanish; ``chunk_size=``
overrides it. At most a bounded number of chunks is in flight (two per worker), so the
parent never holds all tasks (or all their results) of a 10^6-file job.

The execution parameter every pipeline takes, ``backend=``:

* ``None``: ``workers`` decides (``None``/0 = one process per CPU, 1 = this process,
  N = a pool of N processes);
* a :class:`Backend` (:class:`SerialBackend`, :class:`ProcessBackend`, ...);
* a :class:`concurrent.futures.Executor` (used as it is, not shut down);
* a Dask address ``"tcp://host:8786"``, ``"local"`` / ``"local:N"`` (a ``LocalCluster``
  of N worker processes for this run) or a ``distributed.Client``: see
  :mod:`labeltools.cluster` (needs ``pip install 'labeltools[dask]'``).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, Union

# The local pool lives in its own module (how it starts and stops workers); its names
# stay importable from here, where backends are chosen.
from .pool import IN_FLIGHT_PER_WORKER, ProcessBackend, bounded

__all__ = [
    "CHUNKS_PER_WORKER",
    "MAX_CHUNK",
    "Backend",
    "BackendSpec",
    "ExecutorBackend",
    "Lazy",
    "ProcessBackend",
    "SerialBackend",
    "chunk_size",
    "default_workers",
    "get_backend",
    "map_reduce",
    "open_backend",
    "run",
]

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")

#: Chunks per worker a job is cut into: the idle tail at the end is about half a
#: chunk, ~3 % of the run at 16 (eval: 2000 pairs on 2 workers = 63-pair chunks).
CHUNKS_PER_WORKER = 16
#: Most items in one chunk: bounds a chunk's result list, its retry cost and the
#: progress bar's step on very large jobs.
MAX_CHUNK = 512

#: A chunk's outcome: its payload (results or partial), and the exception that stopped
#: it (the payload then covers the items before the failing one).
_Outcome = tuple[Any, Union[BaseException, None]]


def default_workers() -> int:
    """Number of CPUs this process may use (respects affinity masks / cgroups cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class Lazy(Sequence[Any]):
    """``item(i)`` for ``i`` in ``range(n)``, made when the engine slices out a chunk.

    The engine slices its chunks from a sequence; building every item of a 10^6-file
    job up front (paths, the previous records) would hold them all at once.
    """

    def __init__(self, n: int, item: Callable[[int], Any]) -> None:
        self._n = n
        self._item = item

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):  # type: ignore[no-untyped-def, override]
        if isinstance(i, slice):
            return [self._item(j) for j in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return self._item(i % self._n)


def chunk_size(n_items: int, workers: int) -> int:
    """Items per chunk for ``n_items`` over ``workers``: see the module docstring."""
    return max(1, min(MAX_CHUNK, math.ceil(n_items / (max(1, workers) * CHUNKS_PER_WORKER))))


class Backend(Protocol):
    """Where chunks run.

    ``map_chunks`` calls ``task(chunk)`` for every chunk and yields ``(index, result)``
    pairs **as chunks complete** (any order; the engine restores input order). It pulls
    chunks from the iterator lazily, keeping only a bounded number in flight, and
    cancels what is pending when the generator is closed. ``workers`` sizes the chunks.
    """

    workers: int

    def map_chunks(
        self, task: Callable[[Sequence[Any]], R], chunks: Iterator[Sequence[Any]]
    ) -> Iterator[tuple[int, R]]: ...


class SerialBackend:
    """Run everything in this process: no start-up cost, easiest to debug."""

    workers = 1

    def chunk_size(self, n_items: int) -> int:
        return 1  # nothing to amortise in-process; per-item progress

    def map_chunks(
        self, task: Callable[[Sequence[Any]], R], chunks: Iterator[Sequence[Any]]
    ) -> Iterator[tuple[int, R]]:
        for index, chunk in enumerate(chunks):
            yield index, task(chunk)


class ExecutorBackend:
    """Any :class:`concurrent.futures.Executor` (thread or process pool, ...), the caller's.

    The task is pickled with every chunk (a process pool's workers are already
    running); the executor is left running for the caller to shut down.
    """

    def __init__(self, executor: Executor, workers: int | None = None) -> None:
        self.executor = executor
        self.workers = workers or getattr(executor, "_max_workers", None) or default_workers()

    def map_chunks(
        self, task: Callable[[Sequence[Any]], R], chunks: Iterator[Sequence[Any]]
    ) -> Iterator[tuple[int, R]]:
        yield from bounded(
            lambda chunk: self.executor.submit(task, chunk),
            chunks,
            self.workers * IN_FLIGHT_PER_WORKER,
        )


#: What ``backend=`` accepts (a ``distributed.Client`` too, typed loosely so that
#: this module never imports distributed).
BackendSpec = Union[Backend, Executor, str, Any, None]


def get_backend(workers: int | None, n_items: int) -> Backend:
    """The local backend for ``workers`` (``None``/0 = all CPUs) and a job of ``n_items``."""
    if workers is None or workers == 0:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    # A pool costs a few tens of ms to start: not worth it for one item or one worker.
    if workers == 1 or n_items <= 1:
        return SerialBackend()
    return ProcessBackend(min(workers, n_items))


def _is_dask(obj: object) -> bool:
    return type(obj).__module__.split(".")[0] == "distributed"


@contextlib.contextmanager
def open_backend(
    backend: BackendSpec = None, *, workers: int | None = None, n_items: int = 2
) -> Iterator[Backend]:
    """The :class:`Backend` for a ``backend=`` value, closed again on exit if opened here.

    Pipelines get one per call of :func:`run` / :func:`map_reduce`; hold one yourself to
    share a ``LocalCluster`` or a connection between calls::

        with engine.open_backend("local:2") as backend:
            json2voc(src, out, backend=backend)
            evaluate(out, pred, backend=backend)
    """
    if backend is None:
        yield get_backend(workers, n_items)
    elif isinstance(backend, str) or _is_dask(backend):
        from . import cluster  # needs the dask extra: says how to install it otherwise

        with cluster.dask_backend(backend) as dask:
            yield dask
    elif isinstance(backend, Executor):
        yield ExecutorBackend(backend)
    elif callable(getattr(backend, "map_chunks", None)):
        yield backend
    else:
        raise TypeError(
            "backend must be an engine Backend, a concurrent.futures.Executor, a Dask "
            f"address ('tcp://host:8786', 'local', 'local:N') or a distributed.Client, "
            f"got {type(backend).__name__}"
        )


@dataclass(frozen=True)
class _MapChunk:
    """``fn`` over a chunk; stops at the first exception and returns it with the results so far."""

    fn: Callable[[Any], Any]

    def __call__(self, chunk: Sequence[Any]) -> _Outcome:
        results = []
        try:
            for item in chunk:
                results.append(self.fn(item))
        except Exception as exc:  # travels back as data: a Dask retry would not fix it
            return results, exc
        return results, None


@dataclass(frozen=True)
class _ReduceChunk:
    """``combine`` folded over ``fn(item)`` for a chunk, starting at ``initial``."""

    fn: Callable[[Any], Any]
    combine: Callable[[Any, Any], Any]
    initial: Any

    def __call__(self, chunk: Sequence[Any]) -> _Outcome:
        acc = self.initial
        try:
            for item in chunk:
                acc = self.combine(acc, self.fn(item))
        except Exception as exc:
            return None, exc
        return acc, None


def _check_paths(backend: Backend, reads: Iterable[Any], writes: Iterable[Any]) -> None:
    # Only remote backends can disagree with the client about what a path is.
    check = getattr(backend, "check_paths", None)
    if check is not None:
        check([os.fspath(p) for p in reads], [os.fspath(p) for p in writes])


def _chunked(
    task: Callable[[Sequence[Any]], _Outcome],
    items: Iterable[Any],
    *,
    workers: int | None,
    backend: BackendSpec,
    progress: Callable[[int, int], None] | None,
    size: int | None,
    reads: Iterable[Any],
    writes: Iterable[Any],
) -> Iterator[_Outcome]:
    """Each chunk's outcome, in input order; ``progress`` as chunks complete."""
    seq = items if isinstance(items, Sequence) else list(items)
    total = len(seq)
    if progress is not None:
        progress(0, total)
    if not total:
        return
    with open_backend(backend, workers=workers, n_items=total) as chosen:
        _check_paths(chosen, reads, writes)
        if size is None:
            sizer = getattr(chosen, "chunk_size", None)
            size = sizer(total) if sizer is not None else chunk_size(total, chosen.workers)
        elif size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {size}")
        n_chunks = math.ceil(total / size)
        chunks = (seq[i * size : (i + 1) * size] for i in range(n_chunks))
        outcomes = chosen.map_chunks(task, chunks)
        waiting: dict[int, _Outcome] = {}  # completed early, bounded by the chunks in flight
        next_index = done = 0
        try:
            for index, outcome in outcomes:
                done += min(size, total - index * size)
                if progress is not None:
                    progress(done, total)
                waiting[index] = outcome
                while next_index in waiting:
                    yield waiting.pop(next_index)
                    next_index += 1
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()


def run(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
    reads: Iterable[str | os.PathLike[str]] = (),
    writes: Iterable[str | os.PathLike[str]] = (),
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in input order.

    ``workers``: ``None``/0 = one process per CPU, 1 = in this process, N = N processes;
    ``backend`` (see the module docstring) overrides it. ``progress(done, total)`` is
    called from the calling thread as chunks complete. ``chunk_size`` overrides
    :func:`chunk_size`. ``reads`` / ``writes``: folders a remote worker must be able to
    read / write (checked once before any work). An exception raised by ``fn``
    propagates at the position of its item; the results before it have been yielded.
    """
    for results, exc in _chunked(
        _MapChunk(fn), items, workers=workers, backend=backend, progress=progress,
        size=chunk_size, reads=reads, writes=writes,
    ):
        yield from results
        if exc is not None:
            raise exc


def map_reduce(
    fn: Callable[[T], A],
    items: Iterable[T],
    combine: Callable[[A, A], A],
    initial: A,
    *,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
    reads: Iterable[str | os.PathLike[str]] = (),
    writes: Iterable[str | os.PathLike[str]] = (),
) -> A:
    """``combine(...combine(combine(initial, fn(x0)), fn(x1))..., fn(xn))``, computed in chunks.

    Each chunk folds its items from ``initial`` where it runs and returns one partial;
    the partials are folded here in input order. ``combine`` must be associative and
    ``initial`` its identity (``combine(initial, a) == a``); both, and ``fn``, picklable.
    The other parameters are :func:`run`'s. The first exception raised by ``fn`` (in
    input order) propagates.
    """
    acc = initial
    for partial, exc in _chunked(
        _ReduceChunk(fn, combine, initial), items, workers=workers, backend=backend,
        progress=progress, size=chunk_size, reads=reads, writes=writes,
    ):
        if exc is not None:
            raise exc
        acc = combine(acc, partial)
    return acc
