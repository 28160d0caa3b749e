"""`labeltools eval` against the usual evaluation loop and the PNG-decoding floor.

Corpus: 500 (40 with --quick) seeded pairs of VOC-sized label PNGs: 21 classes,
objects outlined with 255 (void) as in VOC, predictions = the same objects
jittered in place and size, sometimes given the wrong class, plus false-positive
blobs and a little speckle.

Timed in this one process (best of 5 wall-clock runs each):
- reference: the seed's loop, ``np.array(Image.open(...))`` for both PNGs and
  pytorch-deeplab-xception's ``Evaluator.add_batch`` (a masked ``np.bincount``) per image;
- floor: decoding both PNGs of every pair with PIL (as the reference does) and nothing else;
- eval's own decoder alone (``labeltools.io.labelpng.read_label``: zlib on unfiltered 8-bit PNGs);
- ``labeltools.evaluate`` in-process with 1 worker and with every core;
- whole processes (interpreter start-up and imports included): ``python -m labeltools eval``
  against the reference loop run as a script (this file with ``--reference``);
- scaling: ``labeltools eval --workers 1`` against ``--workers 2`` as whole processes on
  2000 pairs (200 with --quick), runs interleaved, best of 3: the throughput ratio
  (target >= 1.7x), and the parent's CPU time with 2 workers (``--workers 2`` runs in
  this process too: what the parent spends while the workers score).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _timing import best_of, run_cli
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labeltools import engine, evaluate, lblsave  # noqa: E402
from labeltools.io.labelpng import read_label  # noqa: E402

NUM_CLASSES = 21
VOID = 255
#: VOC images are at most 500 px on a side; most are 500 x 375 or 375 x 500.
SIZES = ((375, 500), (500, 375), (333, 500), (375, 500))
BORDER = 5  # VOC's void outline around objects is a few pixels wide
SPECKLE = 0.002  # share of prediction pixels flipped to a random class
REPEAT = 5


def _draw_object(
    draw: ImageDraw.ImageDraw,
    kind: int,
    box: tuple[float, float, float, float],
    fill: int,
    outline: int | None = None,
    width: int = 0,
) -> None:
    if kind == 0:
        draw.ellipse(box, fill=fill, outline=outline, width=width)
    else:
        x0, y0, x1, y1 = box
        poly = [
            (x0, (y0 + y1) / 2),
            ((x0 + x1) / 2, y0),
            (x1, y0 + (y1 - y0) * 0.3),
            (x1 - (x1 - x0) * 0.2, y1),
            (x0 + (x1 - x0) * 0.1, y1),
        ]
        draw.polygon(poly, fill=fill, outline=outline, width=width)


def make_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    h, w = SIZES[int(rng.integers(len(SIZES)))]
    gt_img = Image.new("L", (w, h), 0)
    pred_img = Image.new("L", (w, h), 0)
    gt_draw, pred_draw = ImageDraw.Draw(gt_img), ImageDraw.Draw(pred_img)
    for _ in range(int(rng.integers(1, 5))):
        cls = int(rng.integers(1, NUM_CLASSES))
        kind = int(rng.integers(2))
        bw, bh = rng.uniform(0.15, 0.6) * w, rng.uniform(0.15, 0.6) * h
        x0, y0 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        box = (x0, y0, x0 + bw, y0 + bh)
        _draw_object(gt_draw, kind, box, cls, outline=VOID, width=BORDER)
        dx, dy = rng.normal(0, 6, 2)
        s = rng.uniform(0.9, 1.1)
        cx, cy = x0 + bw / 2 + dx, y0 + bh / 2 + dy
        jittered = (cx - bw * s / 2, cy - bh * s / 2, cx + bw * s / 2, cy + bh * s / 2)
        pred_cls = cls if rng.random() > 0.15 else int(rng.integers(1, NUM_CLASSES))
        _draw_object(pred_draw, kind, jittered, pred_cls)
    for _ in range(int(rng.integers(0, 3))):  # false positives
        r = rng.uniform(5, 30)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        pred_draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=int(rng.integers(1, NUM_CLASSES)))
    gt = np.asarray(gt_img).copy()
    pred = np.asarray(pred_img).copy()
    speckle = rng.random(pred.shape) < SPECKLE
    pred[speckle] = rng.integers(0, NUM_CLASSES, int(speckle.sum()))
    return gt, pred


CLASS_NAMES = (
    "_background_ aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog "
    "horse motorbike person pottedplant sheep sofa train tvmonitor"
).split()


def make_corpus(root: Path, n: int, seed: int = 0) -> tuple[Path, Path, list[str]]:
    """A VOC dataset root (every id in val.txt) and a folder of predictions."""
    rng = np.random.default_rng(seed)
    dataset, pred_dir = root / "dataset", root / "pred"
    (dataset / "SegmentationClass").mkdir(parents=True, exist_ok=True)
    (dataset / "ImageSets" / "Segmentation").mkdir(parents=True, exist_ok=True)
    pred_dir.mkdir(parents=True, exist_ok=True)
    ids = [f"2007_{k:06d}" for k in range(n)]
    for image_id in ids:
        gt, pred = make_pair(rng)
        lblsave(dataset / "SegmentationClass" / f"{image_id}.png", gt)
        lblsave(pred_dir / f"{image_id}.png", pred)
    (dataset / "ImageSets" / "Segmentation" / "val.txt").write_text("\n".join(ids) + "\n")
    (dataset / "class_names.txt").write_text("\n".join(CLASS_NAMES) + "\n")
    return dataset, pred_dir, ids


class Evaluator:
    """pytorch-deeplab-xception's utils/metrics.py as quoted in the seed (the parts timed)."""

    def __init__(self, num_class):
        self.num_class = num_class
        self.confusion_matrix = np.zeros((self.num_class,) * 2)

    def Pixel_Accuracy(self):
        return np.diag(self.confusion_matrix).sum() / self.confusion_matrix.sum()

    def Pixel_Accuracy_Class(self):
        return np.nanmean(np.diag(self.confusion_matrix) / self.confusion_matrix.sum(axis=1))

    def Mean_Intersection_over_Union(self):
        cm = self.confusion_matrix
        return np.nanmean(np.diag(cm) / (np.sum(cm, axis=1) + np.sum(cm, axis=0) - np.diag(cm)))

    def _generate_matrix(self, gt_image, pre_image):
        mask = (gt_image >= 0) & (gt_image < self.num_class)
        label = self.num_class * gt_image[mask].astype("int") + pre_image[mask]
        count = np.bincount(label, minlength=self.num_class**2)
        return count.reshape(self.num_class, self.num_class)

    def add_batch(self, gt_image, pre_image):
        assert gt_image.shape == pre_image.shape
        self.confusion_matrix += self._generate_matrix(gt_image, pre_image)


def reference(gt_dir: Path, pred_dir: Path, ids: list[str]) -> Evaluator:
    evaluator = Evaluator(NUM_CLASSES)
    for image_id in ids:
        gt = np.array(Image.open(gt_dir / f"{image_id}.png"))
        pred = np.array(Image.open(pred_dir / f"{image_id}.png"))
        evaluator.add_batch(gt, pred)
    (
        evaluator.Pixel_Accuracy(),
        evaluator.Pixel_Accuracy_Class(),
        evaluator.Mean_Intersection_over_Union(),
    )
    return evaluator


def floor(gt_dir: Path, pred_dir: Path, ids: list[str]) -> None:
    for image_id in ids:
        np.array(Image.open(gt_dir / f"{image_id}.png"))
        np.array(Image.open(pred_dir / f"{image_id}.png"))


def floor_zlib(gt_dir: Path, pred_dir: Path, ids: list[str]) -> None:
    for image_id in ids:
        read_label(gt_dir / f"{image_id}.png")
        read_label(pred_dir / f"{image_id}.png")


def _whole_process(*args: str) -> float:
    """Seconds for ``python bench_eval.py ARGS``: the reference loop as a script of its own."""
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run(workdir: Path, quick: bool) -> list[str]:
    n = 40 if quick else 500
    dataset, pred_dir, ids = make_corpus(workdir / "corpus", n)
    gt_dir = dataset / "SegmentationClass"
    cores = engine.default_workers()

    # Best of 5: the machine is shared, and a parallel run needs every core quiet at once.
    t_ref = best_of(lambda: reference(gt_dir, pred_dir, ids), REPEAT)
    t_floor = best_of(lambda: floor(gt_dir, pred_dir, ids), REPEAT)
    t_zlib = best_of(lambda: floor_zlib(gt_dir, pred_dir, ids), REPEAT)
    t_one = best_of(lambda: evaluate(dataset, pred_dir, workers=1), REPEAT)
    t_all = best_of(lambda: evaluate(dataset, pred_dir, workers=cores), REPEAT)

    def cli(workers: int) -> float:
        # A fresh folder for each timed run's output (also across runs sharing a --workdir).
        out = workdir / f"cli-run-{time.monotonic_ns()}"
        out.mkdir()
        args = ["eval", str(dataset), str(pred_dir), "--workers", str(workers)]
        return run_cli(*args, "--json", str(out / "eval.json"))

    t_cli_ref = min(
        _whole_process("--reference", str(gt_dir), str(pred_dir)) for _ in range(REPEAT)
    )
    t_cli_one = min(cli(1) for _ in range(REPEAT))
    t_cli_all = min(cli(cores) for _ in range(REPEAT))

    scaling = _scaling(workdir, 200 if quick else 2000)

    ours = evaluate(dataset, pred_dir, workers=cores).confusion.counts
    same = np.array_equal(ours, reference(gt_dir, pred_dir, ids).confusion_matrix)
    ms = 1000 / n

    def line(label: str, seconds: float) -> str:
        return f"{label:<44} {seconds:6.2f} s  {seconds * ms:5.2f} ms/pair"

    return [
        f"{n} pairs of ~500x375 label PNGs, 21 classes + void, {cores} cores, best of {REPEAT}",
        "in-process:",
        line("  reference (PIL + Evaluator.add_batch)", t_ref),
        line("  decode floor (both PNGs with PIL only)", t_floor),
        line("  eval's decoder only (zlib fast path)", t_zlib),
        line("  evaluate(workers=1)", t_one),
        line(f"  evaluate(workers={cores})", t_all),
        "whole process (interpreter start-up and imports included):",
        line("  reference loop as a script", t_cli_ref),
        line("  labeltools eval --workers 1", t_cli_one),
        line(f"  labeltools eval --workers {cores}", t_cli_all),
        f"eval --workers {cores}: {t_ref / t_all:.2f}x faster than reference in-process "
        f"(target >= 3x), {t_cli_ref / t_cli_all:.2f}x as whole processes",
        f"eval --workers 1: {t_ref / t_one:.2f}x faster than reference in-process, "
        f"{t_cli_ref / t_cli_one:.2f}x as whole processes",
        f"eval per core: {t_one / t_floor:.2f}x the PIL decode floor with 1 worker, "
        f"{t_all * cores / t_floor:.2f}x with {cores} (target <= 1.2x); "
        f"{t_one / t_zlib:.2f}x its own decoder alone",
        f"confusion matrix identical to the reference's: {same}",
        *scaling,
    ]


SCALING_REPEAT = 3


def _scaling(workdir: Path, n: int) -> list[str]:
    """Whole-process ``eval --workers 1`` vs ``--workers 2`` on ``n`` pairs, interleaved."""
    import os

    dataset, pred_dir, _ = make_corpus(workdir / f"scaling-{n}", n, seed=1)
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(SCALING_REPEAT):
        for workers in (1, 2):
            out = workdir / f"scaling-run-{time.monotonic_ns()}.json"
            args = ["eval", str(dataset), str(pred_dir), "--workers", str(workers)]
            times[workers].append(run_cli(*args, "--json", str(out)))
    one, two = min(times[1]), min(times[2])
    # The parent's own CPU while 2 workers score: what it takes from them on 2 cores.
    cpu = time.process_time()
    wall = time.perf_counter()
    evaluate(dataset, pred_dir, workers=2)
    parent_cpu, in_wall = time.process_time() - cpu, time.perf_counter() - wall
    children = os.times()
    return [
        f"scaling, {n} pairs, whole processes, best of {SCALING_REPEAT} interleaved:",
        f"  labeltools eval --workers 1  {one:6.2f} s  {one * 1000 / n:5.2f} ms/pair",
        f"  labeltools eval --workers 2  {two:6.2f} s  {two * 1000 / n:5.2f} ms/pair",
        f"  eval 2 workers vs 1: {one / two:.2f}x the throughput (target >= 1.7x)",
        f"  in-process evaluate(workers=2): {in_wall:.2f} s wall, parent CPU {parent_cpu:.3f} s "
        f"({parent_cpu * 1e6 / n:.0f} us/pair; children so far {children.children_user:.1f} s)",
    ]


if __name__ == "__main__":
    # python bench_eval.py --reference GT_DIR PRED_DIR: the reference loop as a whole process.
    _, flag, gt_arg, pred_arg = sys.argv
    assert flag == "--reference"
    gt_path, pred_path = Path(gt_arg), Path(pred_arg)
    ids_ = sorted(p.stem for p in gt_path.glob("*.png"))
    ev = reference(gt_path, pred_path, ids_)
    print(ev.Mean_Intersection_over_Union())
