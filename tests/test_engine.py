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
