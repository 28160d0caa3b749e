import random

import pytest

from labeltools import DatasetError, split_ids


def test_sizes_and_disjoint():
    ids = [f"img{i:03d}" for i in range(10)]
    s = split_ids(ids, val=0.2, seed=0)
    assert len(s.train) == 8 and len(s.val) == 2 and s.test == ()
    assert set(s.train) | set(s.val) == set(ids)
    assert not set(s.train) & set(s.val)
    assert list(s.train) == sorted(s.train)
    assert s.trainval == tuple(sorted(ids))


def test_deterministic_regardless_of_order_and_global_rng():
    ids = [f"img{i:03d}" for i in range(50)]
    a = split_ids(ids, val=0.3, test=0.1, seed=7)
    shuffled = ids[:]
    random.Random(1).shuffle(shuffled)
    before = shuffled[:]
    b = split_ids(shuffled, val=0.3, test=0.1, seed=7)
    assert a == b
    assert shuffled == before  # the caller's list is not reordered
    assert split_ids(ids, val=0.3, test=0.1, seed=8) != a


def test_empty_split_is_an_error():
    with pytest.raises(DatasetError, match="a val ratio of 0.1 leaves the val split empty with 3 ids"):
        split_ids(["a", "b", "c"], val=0.1)


def test_bad_ratio():
    with pytest.raises(ValueError, match=r"val ratio must be in \[0, 1\), got 1.5"):
        split_ids(["a"], val=1.5)
