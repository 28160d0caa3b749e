"""The Dask distributed backend: labeltools' chunks on a cluster (``pip install 'labeltools[dask]'``).

:func:`labeltools.engine.open_backend` sends ``backend=`` values here when they are a
string or a ``distributed`` object:

* ``"tcp://host:8786"`` (any Dask address): connect to a running scheduler
  (``dask scheduler`` + ``dask worker tcp://host:8786 ...``), disconnect afterwards;
* ``"local"`` / ``"local:N"``: start a ``LocalCluster`` of N single-threaded worker
  processes on 127.0.0.1 for this run (default: one per CPU), close it afterwards;
* a ``distributed.Client`` (or a cluster object): use it, leave it open.

What runs where: the client submits chunks of items (never one task per file) with at
most :attr:`DaskBackend.in_flight` chunks outstanding, folds the results as they arrive
and releases each future at once, so its memory does not grow with the job. A chunk
whose worker died is re-run by Dask (up to ``distributed.scheduler.allowed-failures``
times) and, if Dask gives up, resubmitted by :class:`DaskBackend` up to ``retries``
times: labeltools' writes are atomic and idempotent, so a re-run chunk leaves the same
bytes. Errors in the data are not retried: the engine returns them as values.

Workers read and write the same paths as the client (a shared file system);
:meth:`DaskBackend.check_paths` checks that once per run, on every worker.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .errors import BackendError

__all__ = ["DEFAULT_RETRIES", "INSTALL_HINT", "DaskBackend", "dask_backend", "local_cluster"]

INSTALL_HINT = "pip install 'labeltools[dask]'"
#: Resubmissions of a chunk Dask gave up on (a worker died running it, repeatedly).
DEFAULT_RETRIES = 2
#: Chunks outstanding per worker thread: one running, two waiting (a scheduler round
#: trip is ~1 ms; a worker should never wait for the client to submit its next chunk).
IN_FLIGHT_PER_THREAD = 3
#: Seconds to wait for a scheduler, and for its first worker.
CONNECT_TIMEOUT = 10
#: Messages each of distributed's batched connections keeps for debugging
#: (``distributed.admin.low-level-log-length``, 1000 by default), in the clients and
#: schedulers labeltools starts. A message is a chunk of jobs: json2voc's carry the
#: last run's records (~600 B a file), so 1000 of them held ~300 MB in a client
#: rerunning 10^6 files.
MESSAGE_LOG = 10
#: Dask settings of the clusters labeltools starts (``local:N``), for diagnostics only a
#: dashboard shows: each worker's statistical profiler samples the running task's stack
#: every 10 ms, and every process checks its event loop every 20 ms. Idle, they cost each
#: worker ~4 % of a core and the scheduler ~6 %, and while a task runs the sampler takes
#: the GIL from it 100 times a second. With them, json2voc on 10^4 small files ran at
#: 1.16-1.33x the local pool's time on 2 cores (3 runs); without, 1.06-1.07x (2 runs,
#: benchmarks/bench_dask.py, 2026-12-02). Set them on a cluster of your own (README,
#: "Running on a cluster").
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
}


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise BackendError(
            f"the Dask backend needs dask and distributed: {INSTALL_HINT}"
        ) from exc
    return distributed


def _check_access(reads: Sequence[str], writes: Sequence[str]) -> str | None:
    """Run on every worker: ``None``, or what this worker cannot read or write."""
    import tempfile

    def where(path: str) -> str:
        if os.path.isabs(path):
            return path
        return f"{path} (relative to the worker's folder {os.getcwd()}; give absolute paths)"

    for path in reads:
        if not os.path.exists(path):
            return f"cannot see {where(path)}: no such file or folder on this worker"
        if not os.access(path, os.R_OK):
            return f"cannot read {where(path)}: permission denied"
    for path in writes:
        if not os.path.isdir(path):
            return f"cannot see the output folder {where(path)} on this worker"
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".labeltools-probe-"):
                pass
        except OSError as exc:
            return f"cannot write to {where(path)}: {exc.strerror or exc}"
    return None


class _Chunk:
    """A chunk's items, opaque to Dask: a list argument would be walked item by item
    looking for futures (~2 us per item on the client, 2 s per 10^6 items)."""

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items

    def __reduce__(self) -> tuple[Any, ...]:
        return _Chunk, (self.items,)


def _apply(task: Callable[[Sequence[Any]], Any], chunk: _Chunk) -> Any:
    return task(chunk.items)


class DaskBackend:
    """Chunks on the workers of a ``distributed.Client``.

    ``retries``: how often a chunk Dask gave up on (its workers kept dying) is
    resubmitted. ``in_flight``: chunks outstanding at once (default: three per worker
    thread). ``workers`` (the total worker threads, at least 1) sizes the chunks.
    """

    def __init__(
        self, client: Any, *, retries: int = DEFAULT_RETRIES, in_flight: int | None = None
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.client = client
        self.retries = retries
        self.workers = max(1, sum(client.nthreads().values()))
        self.in_flight = in_flight or max(2, IN_FLIGHT_PER_THREAD * self.workers)

    def check_paths(self, reads: Sequence[str], writes: Sequence[str]) -> None:
        """Fail with one line naming the first worker that cannot reach one of the paths."""
        if not reads and not writes:
            return
        found = self.client.run(_check_access, list(reads), list(writes))
        for worker, problem in sorted(found.items()):
            if problem is not None:
                raise BackendError(f"worker {worker}: {problem}")

    def map_chunks(
        self, task: Callable[[Sequence[Any]], Any], chunks: Iterator[Sequence[Any]]
    ) -> Iterator[tuple[int, Any]]:
        distributed = _distributed()
        client = self.client
        # The task (the per-item function and its settings) goes to every worker once,
        # not with every chunk.
        task_future = client.scatter(task, broadcast=True, hash=False)
        run_id = uuid.uuid4().hex[:8]
        done = distributed.as_completed()
        pending: dict[Any, tuple[int, tuple[Any, ...], int]] = {}  # future -> index, chunk, tries
        numbered = enumerate(chunks)

        def submit(index: int, chunk: tuple[Any, ...], tries: int) -> None:
            future = client.submit(
                _apply, task_future, _Chunk(chunk), key=f"labeltools-{run_id}-{index}-{tries}",
                pure=False,
            )
            pending[future] = (index, chunk, tries)
            done.add(future)

        def top_up() -> None:
            while len(pending) < self.in_flight:
                nxt = next(numbered, None)
                if nxt is None:
                    return
                submit(nxt[0], tuple(nxt[1]), 0)

        try:
            top_up()
            for future in done:
                index, chunk, tries = pending.pop(future)
                if future.status == "finished":
                    result = future.result()
                    future.release()
                    top_up()
                    yield index, result
                    continue
                error = future.exception() if future.status == "error" else future.status
                future.release()
                if tries >= self.retries:
                    raise BackendError(
                        f"chunk {index} ({len(chunk)} items) failed {tries + 1} times on the "
                        f"cluster: {error}"
                    )
                submit(index, chunk, tries + 1)
        finally:
            for future in pending:
                future.cancel()
            task_future.release()


def local_cluster(workers: int | None = None) -> Any:
    """A ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1."""
    distributed = _distributed()
    import logging

    import dask

    from .engine import default_workers

    n = workers or default_workers()
    # The nannies hand the config of the moment to their worker processes (and again
    # when they restart one), so it only has to hold while the cluster starts.
    with dask.config.set(QUIET_WORKERS):
        # One thread per process: labeltools' per-file work holds the GIL for much of its time.
        return distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        )


def _parse_local(spec: str) -> int | None:
    if spec == "local":
        return None
    count = spec.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise BackendError(f"backend {spec!r}: expected 'local' or 'local:N' with N >= 1 workers")
    return int(count)


@contextlib.contextmanager
def dask_backend(spec: Any, *, retries: int = DEFAULT_RETRIES) -> Iterator[DaskBackend]:
    """A :class:`DaskBackend` for an address, ``"local[:N]"``, a Client or a cluster object.

    What this opens (a ``LocalCluster``, a connection) it closes on exit.
    """
    if isinstance(spec, DaskBackend):
        yield spec
        return
    if isinstance(spec, str) and not (spec == "local" or spec.startswith("local:") or "://" in spec):
        raise BackendError(
            f"backend {spec!r}: expected a Dask scheduler address ('tcp://host:8786'), "
            f"'local' or 'local:N'"
        )
    distributed = _distributed()
    with contextlib.ExitStack() as stack:
        if not isinstance(spec, distributed.Client):  # the caller's Client keeps its config
            import dask

            stack.enter_context(
                dask.config.set({"distributed.admin.low-level-log-length": MESSAGE_LOG})
            )
        if isinstance(spec, distributed.Client):
            client = spec
        elif isinstance(spec, str) and spec.startswith("local"):
            n = _parse_local(spec)
            cluster = stack.enter_context(local_cluster(n))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = distributed.Client(spec, timeout=CONNECT_TIMEOUT)
            except OSError as exc:
                raise BackendError(f"cannot reach the Dask scheduler at {spec}: {exc}") from exc
            stack.callback(client.close)
        if not client.nthreads():
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except TimeoutError as exc:
                raise BackendError(
                    f"the Dask scheduler at {client.scheduler.address} has no workers "
                    f"(start some: dask worker {client.scheduler.address})"
                ) from exc
        yield DaskBackend(client, retries=retries)
