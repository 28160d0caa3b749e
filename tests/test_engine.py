import functools
import os
import threading

import numpy as np
import pytest

from labeltools import engine


def _square(x):
    return x * x


def _fail_on_three(x):
    if x == 3:
        raise ValueError(f"item {x}")
    return x


def _pid_and_table_sum(x, table):
    return os.getpid(), int(table[x])


def test_serial_and_pool_give_the_same_ordered_results():
    items = list(range(50))
    assert list(engine.run(_square, items, workers=1)) == [x * x for x in items]
    assert list(engine.run(_square, items, workers=2)) == [x * x for x in items]


def test_progress_is_called_for_every_result():
    calls = []
    list(engine.run(_square, range(5), workers=1, progress=lambda d, t: calls.append((d, t))))
    assert calls == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_pool_really_uses_other_processes():
    table = np.arange(100)
    fn = functools.partial(_pid_and_table_sum, table=table)
    results = list(engine.run(fn, range(40), workers=2))
    assert [v for _, v in results] == list(range(40))
    assert {pid for pid, _ in results} - {os.getpid()}


@pytest.mark.skipif(threading.active_count() != 1 or os.name != "posix", reason="needs fork")
def test_fn_reaches_workers_once_not_pickled_per_chunk():
    # A lambda cannot be pickled: it only works because the function is handed to each
    # worker through the pool initializer (inherited under fork), never with the items.
    assert list(engine.run(lambda x: x + 1, range(64), workers=2)) == list(range(1, 65))


def test_exception_propagates_at_its_item():
    results = engine.run(_fail_on_three, range(6), workers=2)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="item 3"):
        next(results)


def test_backend_choice():
    assert isinstance(engine.get_backend(1, 100), engine.SerialBackend)
    assert isinstance(engine.get_backend(4, 1), engine.SerialBackend)
    pool = engine.get_backend(8, 3)
    assert isinstance(pool, engine.ProcessBackend) and pool.workers == 3
    with pytest.raises(ValueError, match="workers must be >= 0, got -1"):
        engine.get_backend(-1, 10)


def _add(a, b):
    return a + b


def _as_tuple(x):
    return (x,)


def test_map_reduce_folds_in_input_order_for_any_chunking():
    # Concatenation is associative but not commutative: any misordering would show.
    items = list(range(37))
    expected = tuple(items)
    for workers, size in ((1, None), (2, None), (2, 1), (2, 5), (3, 100)):
        got = engine.map_reduce(_as_tuple, items, _add, (), workers=workers, chunk_size=size)
        assert got == expected, (workers, size)


def test_map_reduce_of_nothing_is_the_initial_value():
    assert engine.map_reduce(_square, [], _add, 0, workers=2) == 0


class _Shuffled:
    """A backend that completes chunks in reverse order, to test the reordering."""

    workers = 4

    def map_chunks(self, task, chunks):
        done = [(i, task(c)) for i, c in enumerate(chunks)]
        yield from reversed(done)


def test_results_come_back_in_input_order_whatever_the_completion_order():
    items = list(range(100))
    assert list(engine.run(_square, items, backend=_Shuffled(), chunk_size=7)) == [
        x * x for x in items
    ]
    total = engine.map_reduce(_as_tuple, items, _add, (), backend=_Shuffled(), chunk_size=9)
    assert total == tuple(items)


def test_progress_counts_items_of_completed_chunks():
    calls = []
    list(engine.run(_square, range(10), workers=2, chunk_size=4,
                    progress=lambda d, t: calls.append((d, t))))
    assert calls[0] == (0, 10) and calls[-1] == (10, 10)
    assert sorted(d for d, _ in calls[1:]) == [d for d, _ in calls[1:]]
    assert {d for d, _ in calls[1:]} <= {2, 4, 6, 8, 10}


def test_map_reduce_raises_the_first_error_in_input_order():
    with pytest.raises(ValueError, match="item 3"):
        engine.map_reduce(_fail_on_three, range(20), _add, 0, workers=2, chunk_size=2)


def test_an_executor_is_a_backend():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        assert list(engine.run(_square, range(30), backend=pool)) == [x * x for x in range(30)]
        assert engine.map_reduce(_square, range(30), _add, 0, backend=pool) == sum(
            x * x for x in range(30)
        )


def test_chunk_size_rule():
    assert engine.chunk_size(2000, 2) == 63  # 16 chunks per worker
    assert engine.chunk_size(3, 8) == 1
    assert engine.chunk_size(10**6, 2) == engine.MAX_CHUNK
    assert engine.SerialBackend().chunk_size(1000) == 1
    with pytest.raises(ValueError, match="chunk_size must be >= 1, got 0"):
        list(engine.run(_square, range(3), chunk_size=0))


def test_bounded_chunks_in_flight():
    """The parent never pulls more chunks than the backend keeps in flight."""
    pulled = []

    def items():
        for i in range(1000):
            pulled.append(i)
            yield i

    seen = 0
    backend = engine.ProcessBackend(2)
    it = backend.map_chunks(engine._MapChunk(_square), ([i] for i in items()))
    for _ in it:
        seen += 1
        assert len(pulled) <= seen + 2 * engine.IN_FLIGHT_PER_WORKER
        if seen == 10:
            break
    it.close()
    assert len(pulled) < 20


def test_unknown_backend_is_refused():
    with pytest.raises(TypeError, match="backend must be an engine Backend"):
        list(engine.run(_square, range(3), backend=42))
