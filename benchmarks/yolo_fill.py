"""How well json2yolo's rows fill back to our instances, against the best any one row can do.

    python benchmarks/yolo_fill.py [N]      # sample_data and the N-file bench corpus (default 200)

Needs the export extra (OpenCV) and SciPy (for the spanning tree).

Each row is filled the way Ultralytics fills a label (``polygon2mask``: int32 truncation,
``cv2.fillPoly``) and compared with the instance's pixels (IoU). Instances are counted by
their 8-connected parts.

Why multi-part instances cannot all reach IoU 0.98: a row is one closed polygon, and
``cv2.fillPoly`` paints its edges (8-connected line segments) and its inside, so the fill
of one row is a single 8-connected set. An instance of A pixels in k >= 2 separate parts
must either leave a part out (IoU <= 1 - smallest part / A) or paint at least one pixel
outside the instance per link (IoU <= A / (A + k - 1)). The ``bound`` column is the larger
of the two: no row, however its links are chosen, can beat it. The ``mst`` column is the
IoU of linking every part along the minimum spanning tree of the parts' pixel gaps
(Chebyshev distance - 1 pixels painted per link), the cheapest way of keeping every part
with straight links: it shows how far json2yolo's own links (closest contour vertices,
parts chained greedily, as Ultralytics' merge_multi_segment does) are from the best. The
``subset`` column also lets a row leave parts out (largest first, a part kept when it raises
the IoU): what a rule that drops far-off crumbs, which Ultralytics does not do, would reach.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

TARGET = 0.98


def _parts(mask: np.ndarray) -> list[np.ndarray]:
    import cv2

    k, lab = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return [np.argwhere(lab == i) for i in range(1, k)]


def _mst_links(parts: list[np.ndarray]) -> float:
    """Pixels painted outside the instance when every part is linked along the cheapest tree."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    m = len(parts)
    gaps = np.zeros((m, m))
    for i in range(m):
        for j in range(i + 1, m):
            d = np.abs(parts[i][:, None, :] - parts[j][None, :, :]).max(-1).min() - 1
            gaps[i, j] = gaps[j, i] = max(float(d), 1e-9)  # 0 would read as "no edge"
    return float(minimum_spanning_tree(gaps).sum())


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def _written(folder: Path, labels_txt: Path, out: Path, parts: str) -> Iterator[tuple[Any, ...]]:
    """Run json2yolo; per input: (stem, shapes, height, width, its instances, its rows)."""
    from labeltools.exports import json2yolo
    from labeltools.formats.instances import object_instances
    from labeltools.formats.labelme import read_labelme
    from labeltools.formats.labelme_images import image_info
    from labeltools.labels import parse_labels

    json2yolo(folder, out, labels=str(labels_txt), workers=1, parts=parts)
    labels = parse_labels(str(labels_txt))
    for p in sorted(folder.glob("*.json")):
        ann = read_labelme(p)
        info = image_info(ann)
        h, w = info.height, info.width
        found, _ = object_instances(ann.shapes, labels.values(), h, w)
        [txt] = list(out.glob(f"labels/*/{p.stem}.txt"))
        yield p.stem, ann.shapes, h, w, found, txt.read_text().splitlines()


def measure(folder: Path, labels_txt: Path, out: Path) -> list[str]:
    from labeltools.formats.yolo import fill_polygon

    one, multi = [], []
    for stem, _, h, w, found, rows in _written(folder, labels_txt, out, "merge"):
        for row, inst in zip(rows, found):
            xy = np.array(row.split()[1:], dtype=np.float64).reshape(-1, 2) * (w, h)
            mask = inst.mask(h, w)
            iou = _iou(fill_polygon(xy, h, w), mask)
            parts = _parts(mask)
            if len(parts) == 1:
                one.append(iou)
                continue
            a = inst.area
            bound = max(a / (a + len(parts) - 1), 1 - min(len(q) for q in parts) / a)
            mst = subset = iou
            if iou < TARGET:
                mst = a / (a + _mst_links(parts))
                subset, kept = 0.0, []
                for q in sorted(parts, key=len, reverse=True):
                    links = _mst_links([*kept, q]) if kept else 0.0
                    v = (sum(map(len, kept)) + len(q)) / (a + links)
                    if v > subset:
                        subset, kept = v, [*kept, q]
            multi.append((iou, bound, mst, subset, stem, a,
                          sorted((len(q) for q in parts), reverse=True)))
    split_iou, rows = _split_rows(folder, labels_txt, out.with_name(out.name + "-split"))
    below = [m for m in multi if m[0] < TARGET]
    lines = [
        f"{folder.name}: {len(one) + len(multi)} instances",
        f"  one part:   {len(one):4d}, lowest IoU {min(one, default=1):.4f}, "
        f"below {TARGET}: {sum(v < TARGET for v in one)}",
        f"  in parts:   {len(multi):4d}, lowest IoU {min((m[0] for m in multi), default=1):.4f}, "
        f"below {TARGET}: {len(below)}",
    ]
    lines.append(
        f"  --parts split: {len(split_iou)} instances in {rows} rows, lowest IoU "
        f"{min(split_iou, default=1):.4f}, below {TARGET}: {sum(v < TARGET for v in split_iou)}"
    )
    if below:
        lines += [
            f"    of those, no one-row polygon can reach {TARGET} (bound < {TARGET}): "
            f"{sum(m[1] < TARGET for m in below)}; the cheapest links (mst) would reach it: "
            f"{sum(m[2] >= TARGET for m in below)}; leaving parts out (subset): "
            f"{sum(m[3] >= TARGET for m in below)}, lowest {min(m[3] for m in below):.3f}",
            "    lowest:   IoU   bound  mst    subset  image      pixels  parts",
        ]
        lines += [f"             {m[0]:.3f} {m[1]:.3f}  {m[2]:.3f}  {m[3]:.3f}   {m[4]}  {m[5]:5d}  {m[6][:5]}"
                  for m in sorted(below)[:8]]
    return lines


def _split_rows(folder: Path, labels_txt: Path, out: Path) -> tuple[list[float], int]:
    """json2yolo ``--parts split``: each instance's IoU with the union of its rows' fills."""
    from labeltools.formats.yolo import fill_polygon, instance_polygons

    ious, n_rows = [], 0
    for stem, shapes, h, w, found, rows in _written(folder, labels_txt, out, "split"):
        n_rows += len(rows)
        for inst in found:
            k = len(instance_polygons(inst, shapes, h, w, "split"))
            mine, rows = rows[:k], rows[k:]
            polygons = [np.array(r.split()[1:], dtype=np.float64).reshape(-1, 2) * (w, h)
                        for r in mine]
            ious.append(_iou(fill_polygon(polygons, h, w), inst.mask(h, w)))
        assert not rows, stem
    return ious, n_rows


def main() -> int:
    import bench_json2voc

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory(prefix="yolo-fill-") as t:
        tmp = Path(t)
        sample = HERE.parent / "sample_data"
        corpus = bench_json2voc.make_corpus(tmp / f"corpus{n}", n)
        for folder, out in ((sample, tmp / "y-sample"), (corpus, tmp / "y-corpus")):
            for line in measure(folder, folder / "labels.txt", out):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
