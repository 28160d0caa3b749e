"""Ultralytics' own label checker accepts every file json2yolo writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from labeltools import json2yolo

from ..conftest import LABELME_FIXTURE, SAMPLE_DATA
from .conftest import INTEROP

pytestmark = INTEROP

ul_utils = pytest.importorskip(
    "ultralytics.data.utils", reason="ultralytics is not installed (.ci/run installs it for this tier)"
)


def _inputs() -> list[tuple[Path, Path]]:
    found = [(SAMPLE_DATA, SAMPLE_DATA / "labels.txt")]
    if LABELME_FIXTURE.is_dir():
        found.append((LABELME_FIXTURE / "data_annotated", LABELME_FIXTURE / "labels.txt"))
    return found


@pytest.mark.parametrize("parts", ["merge", "split"])
@pytest.mark.parametrize("src,labels", _inputs(), ids=lambda p: p.parent.name if p.suffix else p.name)
def test_verify_image_label_accepts_every_file(src, labels, parts, tmp_path):
    out = tmp_path / "yolo"
    report = json2yolo(src, out, labels, workers=1, parts=parts)
    num_classes = len(report.labels.names) - 1  # YOLO ids have no _background_
    checked = 0
    for split in ("train", "val"):
        for image in sorted((out / "images" / split).glob("*.jpg")):
            label = out / "labels" / split / f"{image.stem}.txt"
            rows = [line for line in label.read_text().splitlines() if line.strip()]
            # (im_file, lb_file, prefix, keypoint, num_cls, nkpt, ndim, single_cls)
            result = ul_utils.verify_image_label(
                (str(image), str(label), "", False, num_classes, 0, 0, False)
            )
            _, lb, shape, segments, _, missing, found, empty, corrupt, msg = result
            assert (missing, corrupt) == (0, 0), f"{label}: {msg}"
            assert found == 1 and empty == (0 if rows else 1), label
            assert len(segments) == len(rows) == len(lb), label  # no row dropped as a duplicate
            checked += 1
    assert checked == report.written > 0
