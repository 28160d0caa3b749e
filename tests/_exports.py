"""Helpers of the COCO / YOLO writer tests: items as the pipeline hands them to a writer.

:func:`write_dataset` plays the pipeline's part in-process and without resume records:
bind, read each file, hand the writer an item, split like json2voc, call ``finish``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from labeltools.formats.base import Item
from labeltools.formats.labelme import read_labelme
from labeltools.formats.labelme_images import image_info
from labeltools.labels import LabelSet, parse_labels
from labeltools.splits import split_ids

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))


@contextlib.contextmanager
def items(folder: Path, labels: LabelSet) -> Iterator[list[Item]]:
    """The items of every JSON file in ``folder``, their image files open."""
    with contextlib.ExitStack() as stack:
        out = []
        for p in sorted(folder.glob("*.json")):
            ann = read_labelme(p)
            info = image_info(ann)
            src = stack.enter_context(open(info.source, "rb")) if info.source else None
            out.append(Item(p.stem, ann, info, src, labels.values(), labels.names))
        yield out


def write_dataset(writer: Any, folder: Path, out: Path, labels: LabelSet, *,
                  val: float = 0.2, seed: int = 0) -> list[tuple[str, Mapping[str, Any]]]:
    writer = writer.bind(labels)
    summaries = []
    with items(folder, labels) as todo:
        for item in todo:
            targets = {k: str(out / v) for k, v in writer.outputs(item.stem).items()}
            summary = writer.write_item(item, targets)
            # The pipeline's additions (conversion.py).
            summaries.append((item.stem, {"width": item.image.width,
                                          "height": item.image.height, **summary}))
    split = split_ids([s for s, _ in summaries], val=val, seed=seed)
    writer.finish(out, summaries, split)
    return summaries


def bench_corpus(folder: Path, n: int) -> tuple[Path, LabelSet]:
    """The benchmark corpus (benchmarks/bench_json2voc.py), ``n`` files."""
    import bench_json2voc

    corpus = bench_json2voc.make_corpus(folder, n)
    return corpus, parse_labels(str(corpus / "labels.txt"))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 1.0
