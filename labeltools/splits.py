"""Train / val / test split lists for VOC's ``ImageSets/Segmentation``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .errors import DatasetError

__all__ = ["Split", "split_ids"]


@dataclass(frozen=True)
class Split:
    """Ids per split, each sorted (VOC lists are sorted)."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...] = ()

    @property
    def trainval(self) -> tuple[str, ...]:
        return tuple(sorted(self.train + self.val))

    def lists(self) -> dict[str, tuple[str, ...]]:
        """Split name -> ids, for the files VOC expects (``test`` only when non-empty)."""
        out = {"train": self.train, "val": self.val, "trainval": self.trainval}
        if self.test:
            out["test"] = self.test
        return out


def _check_ratio(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"{name} ratio must be in [0, 1), got {value!r}")


def split_ids(ids: Iterable[str], val: float = 0.2, test: float = 0.0, seed: int = 0) -> Split:
    """Randomly split ``ids`` into train / val / test.

    Deterministic for a seed whatever order ``ids`` come in (they are sorted
    first), and the caller's sequence and the global RNGs are never touched.
    Split sizes are ``round(n * ratio)``; a non-zero ratio that leaves its split (or
    train) empty raises :class:`~labeltools.errors.DatasetError`.
    """
    _check_ratio("val", val)
    _check_ratio("test", test)
    if val + test >= 1:
        raise ValueError(f"val + test ratios must be < 1, got {val} + {test}")
    pool = sorted(set(ids))
    n = len(pool)
    n_val = round(n * val)
    n_test = round(n * test)
    for name, ratio, count in (("val", val, n_val), ("test", test, n_test)):
        if ratio > 0 and count == 0:
            raise DatasetError(
                f"a {name} ratio of {ratio} leaves the {name} split empty with {n} ids; "
                f"use a larger ratio or more data"
            )
    if n - n_val - n_test < 1:
        raise DatasetError(f"val {val} + test {test} leave the train split empty with {n} ids")
    order = np.random.default_rng(seed).permutation(n)
    shuffled = [pool[i] for i in order]
    val_ids = shuffled[:n_val]
    test_ids = shuffled[n_val : n_val + n_test]
    train_ids = shuffled[n_val + n_test :]
    return Split(tuple(sorted(train_ids)), tuple(sorted(val_ids)), tuple(sorted(test_ids)))
