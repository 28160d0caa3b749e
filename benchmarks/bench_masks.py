"""rgb2index and weights against the recipes users copy today (pytorch-deeplab-xception).

Corpus: seeded VOC-sized (500x375) label maps of overlapping ellipses and polygons of
classes 0..20 with void (255) borders, saved twice: as RGB colour masks (rgb2index's
input) and as VOC palette PNGs (weights' input).

- rgb2index vs ``encode_segmap`` (dataloaders/utils.py: one ``np.all`` pass per
  VOC class, 21 per image), each reading the RGB PNG and writing the index PNG.
  ``encode_segmap`` takes ~100-160 ms a mask, so it is timed on the first
  ``REF_MASKS`` masks and compared per mask. Three floors, all single-process:
  "decode" = ``np.asarray(Image.open(f))`` (how the reference and most scripts read
  a mask: Pillow decodes, then repacks its 4-byte pixels to 3); "strict decode" =
  ``Image.open(f).load()`` (pixels decoded into Pillow's memory, nothing else);
  "strict decode + write" = that plus atomically writing the finished index PNG's
  bytes (encoded beforehand), i.e. all the I/O and none of the conversion. The
  ratios "per core" multiply a parallel run's time by the cores it used.
- weights (whole ``labeltools weights`` process, all cores, start-up included) vs
  ``calculate_weigths_labels`` (utils/calculate_weights.py) looping over the labels
  in this process.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _timing import run_cli
from PIL import Image, ImageDraw

from labeltools import label_colormap, lblsave, rgb2index_files
from labeltools.engine import default_workers
from labeltools.io.files import atomic_write_bytes
from labeltools.io.labelpng import encode_label

SIZE = (500, 375)
N_FULL, N_QUICK = 500, 40
REF_MASKS_FULL, REF_MASKS_QUICK = 40, 8
NUM_CLASSES = 21


# ---------------------------------------------------------------- the references, transcribed

def get_pascal_labels():
    return np.asarray([[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
                       [0, 0, 128], [128, 0, 128], [0, 128, 128], [128, 128, 128],
                       [64, 0, 0], [192, 0, 0], [64, 128, 0], [192, 128, 0],
                       [64, 0, 128], [192, 0, 128], [64, 128, 128], [192, 128, 128],
                       [0, 64, 0], [128, 64, 0], [0, 192, 0], [128, 192, 0],
                       [0, 64, 128]])


def encode_segmap(mask):
    mask = mask.astype(int)
    label_mask = np.zeros((mask.shape[0], mask.shape[1]), dtype=np.int16)
    for ii, label in enumerate(get_pascal_labels()):
        label_mask[np.where(np.all(mask == label, axis=-1))[:2]] = ii
    label_mask = label_mask.astype(int)
    return label_mask


def reference_rgb2index(files: list[Path], out: Path) -> None:
    palette = label_colormap().tobytes()
    for f in files:
        rgb = np.array(Image.open(f).convert("RGB"))
        lbl = encode_segmap(rgb).astype(np.uint8)
        img = Image.fromarray(lbl)
        img.putpalette(palette)
        img.save(out / f.name)


def make_img_gt_point_pair(image: Path, label: Path):
    # pytorch-deeplab-xception's VOCSegmentation: what the train loader reads per sample.
    _img = Image.open(image).convert("RGB")
    _target = Image.open(label)
    return _img, _target


def calculate_weigths_labels(pairs: list[tuple[Path | None, Path]], num_classes: int, out: Path) -> np.ndarray:
    """The seed's loop; ``pairs`` with an image path decode it too, as its data loader does."""
    z = np.zeros((num_classes,))
    for image, label in pairs:
        if image is not None:
            img, target = make_img_gt_point_pair(image, label)
            np.array(img)  # the loader turns the image into an array (no augmentation here)
        else:
            target = Image.open(label)
        y = np.array(target)  # the loader's label: the P image's indices
        mask = (y >= 0) & (y < num_classes)
        labels = y[mask].astype(np.uint8)
        count_l = np.bincount(labels, minlength=num_classes)
        z += count_l
    total_frequency = np.sum(z)
    class_weights = []
    for frequency in z:
        class_weight = 1 / (np.log(1.02 + (frequency / total_frequency)))
        class_weights.append(class_weight)
    ret = np.array(class_weights)
    np.save(out, ret)
    return ret


# ---------------------------------------------------------------- corpus

def make_corpus(root: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    rgb_dir, idx_dir, jpg_dir = root / "rgb", root / "SegmentationClass", root / "JPEGImages"
    if rgb_dir.is_dir() and len(list(rgb_dir.glob("*.png"))) == n:
        return rgb_dir, idx_dir
    for d in (rgb_dir, idx_dir, jpg_dir):
        d.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:SIZE[1], 0:SIZE[0]]
    rng = np.random.default_rng(seed)
    cmap = label_colormap()
    w, h = SIZE
    for i in range(n):
        img = Image.new("L", SIZE, 0)
        draw = ImageDraw.Draw(img)
        for _ in range(rng.integers(2, 7)):
            cls = int(rng.integers(1, NUM_CLASSES))
            cx, cy = rng.integers(0, w), rng.integers(0, h)
            if rng.random() < 0.5:
                rx, ry = rng.integers(20, 150, size=2)
                box = [cx - rx, cy - ry, cx + rx, cy + ry]
                draw.ellipse(box, fill=cls, outline=255, width=3)
            else:
                k = int(rng.integers(5, 30))
                ang = np.sort(rng.uniform(0, 2 * np.pi, k))
                rad = rng.uniform(20, 160, k)
                pts = [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for a, r in zip(ang, rad)]
                draw.polygon(pts, fill=cls, outline=255, width=3)
        idx = np.asarray(img)
        Image.fromarray(cmap[idx]).save(rgb_dir / f"{i:05d}.png")
        lblsave(idx_dir / f"{i:05d}.png", idx)
        # A photo-like JPEG: smooth gradients, the label's shapes and a little noise.
        base = np.stack([(xx * (k + 1) + yy * (3 - k)) % 256 for k in range(3)], axis=-1)
        photo = (base * 0.6 + cmap[idx] * 0.3 + rng.normal(0, 8, base.shape)).clip(0, 255)
        Image.fromarray(photo.astype(np.uint8)).save(jpg_dir / f"{i:05d}.jpg", quality=90)
    return rgb_dir, idx_dir


def _fresh(root: Path, name: str) -> Path:
    path = root / f"{name}-{time.monotonic_ns()}"
    path.mkdir(parents=True)
    return path


#: Each timing is the best of this many runs (the machine is shared and noisy).
REPEAT = 3


def _timed(fn, repeat: int = REPEAT) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _cli(make_args) -> float:
    """Best of REPEAT whole-process runs; ``make_args()`` gives each run a fresh output."""
    return min(run_cli(*make_args()) for _ in range(REPEAT))


def run(workdir: Path, quick: bool) -> list[str]:
    n = N_QUICK if quick else N_FULL
    n_ref = REF_MASKS_QUICK if quick else REF_MASKS_FULL
    rgb_dir, idx_dir = make_corpus(workdir / "corpus", n)
    rgb_files = sorted(rgb_dir.glob("*.png"))
    idx_files = sorted(idx_dir.glob("*.png"))
    outs = workdir / "out"
    cores = default_workers()
    lines = [f"corpus: {n} masks {SIZE[0]}x{SIZE[1]}, {cores} cores available"]

    # Warm the page cache so no contender pays for the first read.
    for f in rgb_files + idx_files:
        f.read_bytes()

    # --- rgb2index
    # Best of 2 even for the slow reference: one disturbed run would flatter every ratio.
    t_ref = _timed(lambda: reference_rgb2index(rgb_files[:n_ref], _fresh(outs, "ref")), repeat=2)
    ref_per = t_ref / n_ref
    t_decode = _timed(lambda: [np.asarray(Image.open(f)) for f in rgb_files])

    def strict_decode() -> None:
        for f in rgb_files:
            with Image.open(f) as img:
                img.load()

    t_strict = _timed(strict_decode)
    encoded = [encode_label(np.asarray(Image.open(f))) for f in idx_files]

    def strict_decode_write() -> None:
        out = _fresh(outs, "floor")
        for f, data in zip(rgb_files, encoded):
            with Image.open(f) as img:
                img.load()
            atomic_write_bytes(out / f.name, data)

    t_floor = _timed(strict_decode_write)
    t_ours1 = _timed(lambda: rgb2index_files(rgb_dir, _fresh(outs, "ours1"), workers=1))
    t_oursn = _timed(lambda: rgb2index_files(rgb_dir, _fresh(outs, "oursn"), workers=cores))
    t_cli = _cli(lambda: ["rgb2index", str(rgb_dir), str(_fresh(outs, "cli")), "--workers", "0"])
    per = lambda t: t / n * 1000  # noqa: E731 - ms per mask

    def vs_floors(t: float, used: int) -> str:
        return (f"{ref_per * 1000 / per(t):.0f}x faster than encode_segmap; per core "
                f"{t * used / t_decode:.2f}x the decode floor, {t * used / t_strict:.2f}x the strict "
                f"decode, {t * used / t_floor:.2f}x strict decode + write")

    lines += [
        f"rgb2index reference encode_segmap loop: {ref_per * 1000:.1f} ms/mask (on {n_ref} masks)",
        f"floors (1 process): decode {per(t_decode):.2f} ms/mask; strict decode {per(t_strict):.2f}; "
        f"strict decode + write {per(t_floor):.2f}",
        f"rgb2index workers=1 (library, in process): {per(t_ours1):.2f} ms/mask = {vs_floors(t_ours1, 1)}",
        f"rgb2index workers={cores} (library, in process): {per(t_oursn):.2f} ms/mask = "
        f"{vs_floors(t_oursn, cores)}; {t_oursn / t_decode:.2f}x the 1-process decode floor",
        f"labeltools rgb2index --workers 0 (whole process, start-up included): {per(t_cli):.2f} ms/mask = "
        f"{ref_per * 1000 / per(t_cli):.0f}x faster than encode_segmap, "
        f"{t_cli / t_decode:.2f}x the 1-process decode floor",
    ]

    # --- weights
    jpg_dir = idx_dir.parent / "JPEGImages"
    with_images = [(jpg_dir / f"{f.stem}.jpg", f) for f in idx_files]
    labels_only = [(None, f) for f in idx_files]
    for f, _ in with_images:
        f.read_bytes()
    t_wref = _timed(lambda: calculate_weigths_labels(with_images, NUM_CLASSES, _fresh(outs, "wref") / "w.npy"), repeat=1)
    t_wref_lbl = _timed(lambda: calculate_weigths_labels(labels_only, NUM_CLASSES, _fresh(outs, "wrefl") / "w.npy"))
    def weights_args(workers: str):
        return lambda: ["weights", str(idx_dir), "--num-classes", str(NUM_CLASSES),
                        "--out", str(_fresh(outs, "w") / "w.npy"), "--workers", workers]

    # The reference as users run it: a script of its own (numpy + Pillow start-up, no torch).
    script = workdir / "reference_weights.py"
    script.write_text(
        "from __future__ import annotations\nimport sys\nfrom pathlib import Path\n"
        "import numpy as np\nfrom PIL import Image\n\n"
        + inspect.getsource(make_img_gt_point_pair) + "\n"
        + inspect.getsource(calculate_weigths_labels) + "\n"
        "files = sorted(Path(sys.argv[1]).glob('*.png'))\n"
        "calculate_weigths_labels([(None, f) for f in files], int(sys.argv[2]), Path(sys.argv[3]))\n",
        encoding="utf-8",
    )

    def reference_process() -> None:
        subprocess.run([sys.executable, str(script), str(idx_dir), str(NUM_CLASSES),
                        str(_fresh(outs, "wrefp") / "w.npy")], check=True)

    t_wref_proc = _timed(reference_process)
    t_w1 = _cli(weights_args("1"))
    t_wall = _cli(weights_args("0"))
    lines += [
        f"weights reference calculate_weigths_labels over the loader's (image, label) pairs "
        f"(in process, no start-up): {t_wref:.2f} s",
        f"weights reference loop over the label PNGs only (in process, no start-up): {t_wref_lbl:.2f} s; "
        f"as a script of its own (start-up included): {t_wref_proc:.2f} s",
        f"labeltools weights --workers 1 (whole process): {t_w1:.2f} s = "
        f"{t_wref / t_w1:.1f}x faster than the loader loop, {t_wref_lbl / t_w1:.2f}x the labels-only loop, "
        f"{t_wref_proc / t_w1:.2f}x the labels-only script",
        f"labeltools weights --workers 0 ({cores} cores, whole process): {t_wall:.2f} s = "
        f"{t_wref / t_wall:.1f}x faster than the loader loop, {t_wref_lbl / t_wall:.2f}x the labels-only loop, "
        f"{t_wref_proc / t_wall:.2f}x the labels-only script",
    ]
    return lines


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for line in run(Path(tmp), quick="--quick" in sys.argv):
            print(line)
