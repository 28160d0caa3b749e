"""Per-thread work arrays: reused per name, fresh beyond the size limit, never shared across threads."""

from __future__ import annotations

import threading

import numpy as np

from labeltools import _scratch
from labeltools._scratch import work_array


def test_same_name_reuses_memory_other_names_do_not():
    a = work_array("test.a", (3, 4), np.uint32)
    assert a.shape == (3, 4) and a.dtype == np.uint32 and a.flags.c_contiguous
    a[...] = 7
    again = work_array("test.a", (2, 5), np.uint16)  # smaller: the same buffer, viewed anew
    assert np.shares_memory(a, again)
    other = work_array("test.b", (3, 4), np.uint32)
    assert not np.shares_memory(a, other)
    bigger = work_array("test.a", (100,), np.float64)  # larger than kept: a new buffer
    assert bigger.shape == (100,) and not np.shares_memory(a, bigger)


def test_beyond_the_limit_every_call_gets_its_own(monkeypatch):
    monkeypatch.setattr(_scratch, "MAX_KEPT_BYTES", 16)
    a = work_array("test.big", (5,), np.uint32)
    b = work_array("test.big", (5,), np.uint32)
    assert not np.shares_memory(a, b)


def test_threads_get_their_own():
    main = work_array("test.t", (8,), np.uint8)
    seen = []
    t = threading.Thread(target=lambda: seen.append(work_array("test.t", (8,), np.uint8)))
    t.start()
    t.join()
    assert not np.shares_memory(main, seen[0])
