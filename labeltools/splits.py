"""Train / val / test split lists for VOC's ``ImageSets/Segmentation``."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import DatasetError

if TYPE_CHECKING:
    from .engine import BackendSpec

__all__ = [
    "DatasetSplit",
    "Split",
    "SplitBalance",
    "dataset_ids",
    "split_balance",
    "split_dataset",
    "split_ids",
    "stratified_split_ids",
]


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


def _split_sizes(n: int, val: float, test: float) -> tuple[int, int]:
    """``(n_val, n_test)`` for ``n`` ids, refusing ratios that leave a split empty."""
    _check_ratio("val", val)
    _check_ratio("test", test)
    if val + test >= 1:
        raise ValueError(f"val + test ratios must be < 1, got {val} + {test}")
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
    return n_val, n_test


def split_ids(ids: Iterable[str], val: float = 0.2, test: float = 0.0, seed: int = 0) -> Split:
    """Randomly split ``ids`` into train / val / test.

    Deterministic for a seed whatever order ``ids`` come in (they are sorted
    first), and the caller's sequence and the global RNGs are never touched.
    Split sizes are ``round(n * ratio)``; a non-zero ratio that leaves its split (or
    train) empty raises :class:`~labeltools.errors.DatasetError`.
    """
    # Sorted, then duplicates dropped: no set of every id (~40 bytes an id at 10^6 ids).
    pool = [k for k, _ in itertools.groupby(sorted(ids))]
    n = len(pool)
    n_val, n_test = _split_sizes(n, val, test)
    order = np.random.default_rng(seed).permutation(n)
    shuffled = [pool[i] for i in order]
    val_ids = shuffled[:n_val]
    test_ids = shuffled[n_val : n_val + n_test]
    train_ids = shuffled[n_val + n_test :]
    return Split(tuple(sorted(train_ids)), tuple(sorted(val_ids)), tuple(sorted(test_ids)))


def stratified_split_ids(
    classes: Mapping[str, Collection[int]], val: float = 0.2, test: float = 0.0, seed: int = 0
) -> Split:
    """Split ids so that each class's share of images is alike in every split.

    ``classes`` maps each id to the classes present in its label. Iterative
    stratification (Sechidis, Tsoumakas & Vlahavas, 2011): the class with the fewest
    images still to place goes first, each of its images to the split that still
    wants the most images of that class (ties: the split that wants the most images,
    then a seeded coin), so rare classes are spread before common ones fill the
    splits. Then seeded random swaps between splits are kept while they lower the
    worst deviation (see :func:`split_balance`). Split sizes are exactly those of
    :func:`split_ids`. Deterministic for a seed whatever the mapping's order; the
    global RNGs are never touched.
    """
    pool = sorted(classes)
    n = len(pool)
    n_val, n_test = _split_sizes(n, val, test)
    sizes = np.array([n - n_val - n_test, n_val, n_test], dtype=np.float64)
    ratios = sizes / n
    rng = np.random.default_rng(seed)
    # Random order of the ids (seeded), and a random tie-break rank per split.
    order = [pool[i] for i in rng.permutation(n)]
    labels = {i: frozenset(int(c) for c in classes[i]) for i in pool}
    all_classes = sorted(set().union(*labels.values())) if labels else []
    members: dict[int, list[str]] = {c: [i for i in order if c in labels[i]] for c in all_classes}
    left = {c: len(members[c]) for c in all_classes}  # images of c not yet placed
    wanted_total = sizes.copy()
    wanted = {c: ratios * left[c] for c in all_classes}
    placed: dict[str, int] = {}

    def place(item: str, want: np.ndarray) -> None:
        open_ = wanted_total > 0  # a full split takes no more, so sizes stay exact
        score = np.where(open_, want, -np.inf)
        best = np.flatnonzero(score == score.max())
        if len(best) > 1:
            totals = wanted_total[best]
            best = best[totals == totals.max()]
        j = int(best[0] if len(best) == 1 else rng.choice(best))
        placed[item] = j
        wanted_total[j] -= 1
        for c in labels[item]:
            wanted[c][j] -= 1
            left[c] -= 1

    while True:
        live = [c for c in all_classes if left[c]]
        if not live:
            break
        rarest = min(live, key=lambda c: (left[c], c))
        for item in members[rarest]:
            if item not in placed:
                place(item, wanted[rarest])
    for item in order:  # ids whose label holds no class at all
        if item not in placed:
            place(item, wanted_total.copy())
    assignment = np.array([placed[i] for i in pool], dtype=np.int64)
    if all_classes:
        col = {c: k for k, c in enumerate(all_classes)}
        presence = np.zeros((n, len(all_classes)), dtype=np.int64)
        for r, i in enumerate(pool):
            presence[r, [col[c] for c in labels[i]]] = 1
        _refine_by_swaps(presence, assignment, sizes, rng)
    by_split: list[list[str]] = [[], [], []]
    for item, j in zip(pool, assignment.tolist()):
        by_split[j].append(item)
    train, val_ids, test_ids = (tuple(sorted(x)) for x in by_split)
    return Split(train, val_ids, test_ids)


#: Swap proposals per id in the refinement after the greedy pass (capped below).
SWAPS_PER_ID = 30
MAX_SWAPS = 30_000


def _refine_by_swaps(
    presence: np.ndarray, assignment: np.ndarray, sizes: np.ndarray, rng: np.random.Generator
) -> None:
    """Swap ids between splits while that lowers the worst class-share deviation.

    The greedy pass is good for rare classes but can end badly on small data: once a
    split is full, the last ids go wherever there is room. Swapping two ids of
    different splits keeps the sizes; a swap is kept when it lowers (worst deviation,
    sum of squared deviations), so the result is never worse than the greedy one.
    """
    n = len(assignment)
    live = np.flatnonzero(sizes > 0)
    if len(live) < 2:
        return
    whole = presence.mean(axis=0)
    counts = np.stack([presence[assignment == j].sum(axis=0) for j in range(3)]).astype(np.float64)
    safe = np.where(sizes > 0, sizes, 1.0)[:, None]

    def cost(cnt: np.ndarray) -> tuple[float, float]:
        dev = (cnt / safe - whole)[live]
        return float(np.abs(dev).max()), float((dev * dev).sum())

    best = cost(counts)
    for _ in range(min(MAX_SWAPS, SWAPS_PER_ID * n)):
        a, b = rng.integers(0, n, size=2)
        i, j = assignment[a], assignment[b]
        if i == j:
            continue
        delta = presence[b] - presence[a]
        if not delta.any():
            continue
        counts[i] += delta
        counts[j] -= delta
        new = cost(counts)
        if new < best:
            best = new
            assignment[a], assignment[b] = j, i
        else:
            counts[i] -= delta
            counts[j] += delta


@dataclass(frozen=True)
class SplitBalance:
    """How far a split's class presence strays from the whole dataset's.

    ``share[c]`` is the fraction of the split's images that contain class ``c``;
    ``worst_class`` is the class whose share differs most from its share over all
    ids, by ``deviation`` (absolute, in fractions of images).
    """

    name: str
    size: int
    worst_class: int | None
    deviation: float


def split_balance(split: Split, classes: Mapping[str, Collection[int]]) -> tuple[SplitBalance, ...]:
    """Per non-empty split (train, val, test), the worst class-presence deviation."""
    pool = sorted(classes)
    all_classes = sorted({int(c) for i in pool for c in classes[i]})
    col = {c: k for k, c in enumerate(all_classes)}

    def presence(ids: Sequence[str]) -> np.ndarray:
        m = np.zeros((len(ids), len(all_classes)), dtype=bool)
        for r, i in enumerate(ids):
            for c in classes[i]:
                m[r, col[int(c)]] = True
        return m

    whole = presence(pool).mean(axis=0) if pool else np.zeros(0)
    out = []
    for name, ids in (("train", split.train), ("val", split.val), ("test", split.test)):
        if not ids:
            continue
        if not all_classes:
            out.append(SplitBalance(name, len(ids), None, 0.0))
            continue
        dev = np.abs(presence(ids).mean(axis=0) - whole)
        k = int(np.argmax(dev))
        out.append(SplitBalance(name, len(ids), all_classes[k], float(dev[k])))
    return tuple(out)


#: The split lists ``split_dataset`` writes (``test`` only with a test ratio).
LIST_NAMES = ("train", "val", "test", "trainval")


@dataclass(frozen=True)
class DatasetSplit:
    """What :func:`split_dataset` wrote: the split, the list files and the balance."""

    split: Split
    files: tuple[Path, ...]
    removed: tuple[Path, ...]
    balance: tuple[SplitBalance, ...]
    stratified: bool


def dataset_ids(root: Path) -> tuple[str, ...]:
    """Ids with both ``JPEGImages/<id>.jpg`` and a label PNG in ``SegmentationClass/``, sorted.

    The label PNGs are those of :func:`~labeltools.io.files.label_files`.
    """
    from .formats.voc import CLASS_DIR, IMAGE_DIR
    from .io.files import label_stems

    images, labels = root / IMAGE_DIR, root / CLASS_DIR
    for folder in (images, labels):
        if not folder.is_dir():
            raise DatasetError(f"{root}: expected a VOC dataset with {folder.name}/, found none")
    jpgs = {p.stem for p in images.iterdir() if p.suffix == ".jpg"}
    pngs = label_stems(labels).keys()
    ids = tuple(sorted(jpgs & pngs))
    if not ids:
        raise DatasetError(
            f"{root}: no id has both JPEGImages/<id>.jpg and SegmentationClass/<id>.png"
        )
    return ids


def _present_classes(path: str) -> frozenset[int]:
    from .constants import IGNORE_INDEX
    from .weights import count_image

    # The weights' per-image counter with all 256 values as classes: one shared reader.
    counts = count_image(path, 256, IGNORE_INDEX).counts
    return frozenset(np.flatnonzero(counts).tolist())


def split_dataset(
    root: str | os.PathLike[str],
    *,
    val: float = 0.2,
    test: float = 0.0,
    seed: int = 0,
    stratify: bool = False,
    overwrite: bool = False,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetSplit:
    """Write ``ImageSets/Segmentation/{train,val,test,trainval}.txt`` for a VOC dataset.

    Ids are those with both an image and a label (:func:`dataset_ids`); the split is
    :func:`split_ids`, or :func:`stratified_split_ids` on the classes present in each
    label (read in parallel, ``workers``). Existing lists are left alone and raise
    :class:`~labeltools.errors.OutputError` naming them unless ``overwrite``; then a
    ``test.txt`` that the new split does not have is removed. Lists are written
    atomically, one sorted id per line.
    """
    from .engine import run
    from .errors import OutputError
    from .formats.voc import CLASS_DIR, LIST_DIR
    from .io.files import atomic_write_text, label_stems, output_errors

    base = Path(root)
    if not base.is_dir():
        raise DatasetError(f"{base}: no such dataset folder")
    ids = dataset_ids(base)
    _split_sizes(len(ids), val, test)  # refuse bad ratios before reading any label
    lists_dir = base / LIST_DIR
    existing = [lists_dir / f"{n}.txt" for n in LIST_NAMES if (lists_dir / f"{n}.txt").exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{lists_dir}: split lists already exist ({', '.join(p.name for p in existing)}); "
            f"pass --overwrite to replace them"
        )
    label_of = label_stems(base / CLASS_DIR)
    label_paths = [str(label_of[i]) for i in ids]
    classes = dict(zip(ids, run(
        _present_classes, label_paths, workers=workers, backend=backend, progress=progress,
        reads=(base / CLASS_DIR,),
    )))
    if stratify:
        split = stratified_split_ids(classes, val, test, seed)
    else:
        split = split_ids(ids, val, test, seed)
    written = []
    for name, members in split.lists().items():
        target = lists_dir / f"{name}.txt"
        with output_errors(target):
            lists_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, "".join(f"{i}\n" for i in members))
        written.append(target)
    removed = []
    stale = lists_dir / "test.txt"
    if not split.test and stale.exists():
        stale.unlink()
        removed.append(stale)
    return DatasetSplit(split, tuple(written), tuple(removed), split_balance(split, classes), stratify)
