"""json2voc against the recipe users run today (labelme's ``labelme2voc.py``), and the I/O floor.

Corpus: seeded, 200 labelme files (``--quick``: 24) of VOC sizes (~500x375 JPEGs),
2-8 overlapping shapes each: polygons of 10-60 vertices, some rectangles and circles,
some grouped. Every timed run writes into a fresh folder.

* json2voc ``--workers 1`` and ``--workers <all cores>``: whole processes (start-up included),
  writing JPEG + class PNG + object PNG.
* reference: labelme's example converter, reimplemented without importing labelme
  (``LabelFile`` loading: decode, EXIF transpose, re-encode to bytes; decode again;
  per-shape full-size boolean masks as in ``shape_to_mask``; JPEG re-encode at Pillow's
  default quality 75; palette PNGs at Pillow's default compression), single process, as
  a whole process too.
* I/O floor: read each JSON, copy each JPEG, encode the two label PNGs (arrays prepared
  beforehand) with json2voc's PNG settings, single process.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from _timing import ROOT
from PIL import Image, ImageDraw

CLASSES = (
    "aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse "
    "motorbike person pottedplant sheep sofa train tvmonitor"
).split()
SIZES = ((500, 375), (500, 333), (375, 500), (500, 400), (480, 360))
SEED = 20240601
NOISE_SIGMA = 20
#: Timed runs per variant; the best counts (the machine is shared and noisy).
REPEAT = 3


# --------------------------------------------------------------------------- corpus


def _photo(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A photo-like picture: smooth colour fields, a few blobs, strong sensor noise.

    The noise makes the JPEGs ~100 KiB at quality 90, as VOC's photos are.
    """
    small = rng.uniform(0, 255, size=(6, 8, 3)).astype(np.uint8)
    img = Image.fromarray(small).resize((w, h), Image.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 9))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(10, 80)
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r * 1.5, y + r), fill=color)
    arr = np.asarray(img, dtype=np.int16) + rng.normal(0, NOISE_SIGMA, size=(h, w, 3)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _polygon(rng: np.random.Generator, w: int, h: int) -> list[list[float]]:
    n = int(rng.integers(10, 61))
    cx, cy = rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)
    base = rng.uniform(30, 0.35 * min(w, h))
    angles = np.sort(rng.uniform(0, 2 * math.pi, n))
    radii = base * rng.uniform(0.6, 1.0, n)
    xs = np.clip(cx + radii * np.cos(angles), 0, w - 1)
    ys = np.clip(cy + radii * np.sin(angles), 0, h - 1)
    return [[round(float(x), 2), round(float(y), 2)] for x, y in zip(xs, ys)]


def _shape(rng: np.random.Generator, w: int, h: int) -> dict[str, object]:
    kind = rng.choice(["polygon"] * 6 + ["rectangle", "circle"])
    if kind == "polygon":
        points = _polygon(rng, w, h)
    elif kind == "rectangle":
        x0, y0 = rng.uniform(0, 0.7 * w), rng.uniform(0, 0.7 * h)
        points = [[x0, y0], [x0 + rng.uniform(20, 0.3 * w), y0 + rng.uniform(20, 0.3 * h)]]
    else:
        cx, cy = rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)
        points = [[cx, cy], [cx + rng.uniform(10, 60), cy]]
    group = int(rng.integers(1, 3)) if rng.uniform() < 0.2 else None
    return {
        "label": str(rng.choice(CLASSES)),
        "points": [[round(float(x), 2), round(float(y), 2)] for x, y in points],
        "group_id": group,
        "description": "",
        "shape_type": str(kind),
        "flags": {},
    }


def make_corpus(folder: Path, n: int, seed: int = SEED) -> Path:
    """Write ``n`` labelme JSON + JPEG pairs into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        w, h = SIZES[int(rng.integers(len(SIZES)))]
        stem = f"img_{i:05d}"
        _photo(rng, w, h).save(folder / f"{stem}.jpg", quality=90)
        doc = {
            "version": "5.4.1",
            "flags": {},
            "shapes": [_shape(rng, w, h) for _ in range(int(rng.integers(2, 9)))],
            "imagePath": f"{stem}.jpg",
            "imageData": None,
            "imageHeight": h,
            "imageWidth": w,
        }
        (folder / f"{stem}.json").write_text(json.dumps(doc, indent=2))
    (folder / "labels.txt").write_text("\n".join(["__ignore__", "_background_", *CLASSES]) + "\n")
    return folder


# --------------------------------------------------------------------------- the reference

#: labelme's example converter (examples/semantic_segmentation/labelme2voc.py with
#: labelme.utils' shape_to_mask / shapes_to_label / lblsave and LabelFile's image
#: loading), written out so the benchmark does not need labelme's Qt install. It is a
#: copy on purpose, not labeltools' code: imgviz recomputes the colour map on every
#: lblsave and shape_to_mask allocates a full-size mask per shape, and that is the cost
#: being measured.
REFERENCE = textwrap.dedent(
    r'''
    import base64, glob, io, json, math, os, os.path as osp, sys, uuid
    import numpy as np
    import PIL.Image, PIL.ImageDraw, PIL.ImageOps

    def label_colormap(n=256):
        def bitget(byteval, idx):
            return (byteval & (1 << idx)) != 0
        cmap = np.zeros((n, 3), dtype=np.uint8)
        for i in range(n):
            r = g = b = 0
            c = i
            for j in range(8):
                r |= bitget(c, 0) << 7 - j
                g |= bitget(c, 1) << 7 - j
                b |= bitget(c, 2) << 7 - j
                c >>= 3
            cmap[i] = (r, g, b)
        return cmap

    def lblsave(filename, lbl):
        if osp.splitext(filename)[1] != ".png":
            filename += ".png"
        if lbl.min() >= -1 and lbl.max() < 255:
            lbl_pil = PIL.Image.fromarray(lbl.astype(np.uint8))
            lbl_pil.putpalette(label_colormap().flatten())
            lbl_pil.save(filename)
        else:
            raise ValueError("Cannot save the pixel-wise class label as PNG")

    def load_image_file(filename):  # labelme.LabelFile.load_image_file
        image_pil = PIL.Image.open(filename)
        image_pil = PIL.ImageOps.exif_transpose(image_pil)
        with io.BytesIO() as f:
            ext = osp.splitext(filename)[1].lower()
            fmt = "JPEG" if ext in [".jpg", ".jpeg"] else "PNG"
            image_pil.save(f, format=fmt)
            f.seek(0)
            return f.read()

    def img_data_to_arr(img_data):
        return np.array(PIL.Image.open(io.BytesIO(img_data)))

    def shape_to_mask(img_shape, points, shape_type=None, line_width=10, point_size=5):
        mask = PIL.Image.fromarray(np.zeros(img_shape[:2], dtype=np.uint8))
        draw = PIL.ImageDraw.Draw(mask)
        xy = [tuple(point) for point in points]
        if shape_type == "circle":
            (cx, cy), (px, py) = xy
            d = math.sqrt((cx - px) ** 2 + (cy - py) ** 2)
            draw.ellipse([cx - d, cy - d, cx + d, cy + d], outline=1, fill=1)
        elif shape_type == "rectangle":
            (x0, y0), (x1, y1) = xy
            draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=1, fill=1)
        else:
            draw.polygon(xy=xy, outline=1, fill=1)
        return np.array(mask, dtype=bool)

    def shapes_to_label(img_shape, shapes, label_name_to_value):
        cls = np.zeros(img_shape[:2], dtype=np.int32)
        ins = np.zeros_like(cls)
        instances = []
        for shape in shapes:
            points = shape["points"]
            label = shape["label"]
            group_id = shape.get("group_id")
            if group_id is None:
                group_id = uuid.uuid1()
            shape_type = shape.get("shape_type", None)
            instance = (label, group_id)
            if instance not in instances:
                instances.append(instance)
            ins_id = instances.index(instance) + 1
            cls_id = label_name_to_value[label]
            mask = shape_to_mask(img_shape[:2], points, shape_type)
            cls[mask] = cls_id
            ins[mask] = ins_id
        return cls, ins

    input_dir, output_dir, labels = sys.argv[1:4]
    os.makedirs(output_dir)
    for sub in ("JPEGImages", "SegmentationClass", "SegmentationObject"):
        os.makedirs(osp.join(output_dir, sub))
    class_name_to_id = {}
    for i, line in enumerate(open(labels).readlines()):
        class_id = i - 1
        class_name_to_id[line.strip()] = class_id
    for filename in sorted(glob.glob(osp.join(input_dir, "*.json"))):
        with open(filename) as f:
            data = json.load(f)
        image_data = load_image_file(osp.join(osp.dirname(filename), data["imagePath"]))
        # LabelFile._check_image_height_and_width decodes the image once more.
        img_b64 = base64.b64encode(image_data).decode("utf-8")
        check = img_data_to_arr(base64.b64decode(img_b64))
        assert check.shape[:2] == (data["imageHeight"], data["imageWidth"])
        base = osp.splitext(osp.basename(filename))[0]
        img = img_data_to_arr(image_data)
        PIL.Image.fromarray(img).save(osp.join(output_dir, "JPEGImages", base + ".jpg"))
        cls, ins = shapes_to_label(img.shape, data["shapes"], class_name_to_id)
        ins[cls == -1] = 0
        lblsave(osp.join(output_dir, "SegmentationClass", base + ".png"), cls)
        lblsave(osp.join(output_dir, "SegmentationObject", base + ".png"), ins)
    '''
)

#: Runs a command and prints its wall time and the peak RSS of the largest process in
#: its tree (Linux folds waited-for grandchildren into RUSAGE_CHILDREN).
_MEASURE = textwrap.dedent(
    """
    import resource, subprocess, sys, time
    t = time.perf_counter()
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """
)


def _measured(*cmd: str) -> tuple[float, int]:
    """Run ``cmd`` as a whole process; return (seconds, peak RSS in MiB).

    Dirty pages are flushed first, so no run pays for the writes of the one before.
    """
    os.sync()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], check=True, env=env, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]) // 1024


def _io_floor(corpus: Path, out: Path, labels: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
    # The cheapest writers labeltools has: the floor is what json2voc could cost at best.
    from labeltools.io.labelpng import write_label

    for sub in ("JPEGImages", "SegmentationClass", "SegmentationObject"):
        (out / sub).mkdir(parents=True)
    os.sync()
    start = time.perf_counter()
    for stem, (cls, ins) in labels.items():
        doc = json.loads((corpus / f"{stem}.json").read_bytes())
        shutil.copyfile(corpus / doc["imagePath"], out / "JPEGImages" / f"{stem}.jpg")
        write_label(out / "SegmentationClass" / f"{stem}.png", cls)
        write_label(out / "SegmentationObject" / f"{stem}.png", ins)
    return time.perf_counter() - start


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir())


def _png_encode_options(labels: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[str]:
    """Pillow's zlib settings on these label maps: time and size per class PNG."""
    import zlib

    from labeltools.colormap import label_colormap

    palette = label_colormap().tobytes()
    arrays = [cls for cls, _ in labels.values()]
    rows = []
    options = {
        "default (level 6)": {},
        "level 1": {"compress_level": 1},
        "Z_RLE": {"compress_type": zlib.Z_RLE},
        "level 9": {"compress_level": 9},
    }
    base_size = base_time = 0.0
    for name, kw in options.items():
        start = time.perf_counter()
        size = 0
        for arr in arrays:
            img = Image.fromarray(arr)
            img.putpalette(palette)
            buf = io.BytesIO()
            img.save(buf, format="PNG", **kw)
            size += buf.tell()
        dt = (time.perf_counter() - start) / len(arrays)
        if not base_time:
            base_size, base_time = size, dt
        rows.append(
            f"PNG {name:17s}: {dt * 1000:5.2f} ms/label, {size / len(arrays) / 1024:5.1f} KiB "
            f"({dt / base_time:.2f}x time, {size / base_size:.2f}x size of the default)"
        )
    return rows


def _time_runs(
    corpus: Path, workdir: Path, tag: str, labels: str, cores: int
) -> dict[str, tuple[float, int]]:
    """Best time and largest peak memory of REPEAT runs of each variant, interleaved."""

    def json2voc(out: str, workers: int) -> tuple[float, int]:
        return _measured(
            sys.executable, "-m", "labeltools", "json2voc", str(corpus), str(workdir / out),
            "--labels", labels, "--workers", str(workers),
        )

    runs: dict[str, list[tuple[float, int]]] = {"ref": [], "w1": [], "wall": []}
    for i in range(REPEAT):
        # Each run into a fresh folder: the machine is shared, rewriting files is slower.
        suffix = f"{tag}" if i == 0 else f"{tag}-{i}"
        runs["ref"].append(_measured(
            sys.executable, "-c", REFERENCE, str(corpus), str(workdir / f"ref{suffix}"), labels
        ))
        runs["w1"].append(json2voc(f"w1{suffix}", 1))
        runs["wall"].append(json2voc(f"wall{suffix}", cores))
    return {k: (min(t for t, _ in r), max(m for _, m in r)) for k, r in runs.items()}


def run(workdir: Path, quick: bool) -> list[str]:
    n = 24 if quick else 200
    corpus = make_corpus(workdir / "corpus", n)
    cores = len(os.sched_getaffinity(0))
    lines = [
        f"corpus: {n} labelme files, ~500x375 JPEGs, 2-8 shapes each; {cores} cores; "
        f"best of {REPEAT} whole-process runs"
    ]
    labels = str(corpus / "labels.txt")

    best = _time_runs(corpus, workdir, "", labels, cores)
    (ref_s, ref_mem), (one_s, one_mem), (all_s, all_mem) = best["ref"], best["w1"], best["wall"]

    from labeltools import lblread

    stems = sorted(p.stem for p in corpus.glob("*.json"))
    arrays = {
        s: (lblread(workdir / "w1" / "SegmentationClass" / f"{s}.png"),
            lblread(workdir / "w1" / "SegmentationObject" / f"{s}.png"))
        for s in stems
    }
    floor_s = _io_floor(corpus, workdir / "floor", arrays)

    same = all(
        np.array_equal(lblread(workdir / "ref" / "SegmentationClass" / f"{s}.png"), arrays[s][0])
        for s in stems
    )
    ref_png = _folder_bytes(workdir / "ref" / "SegmentationClass")
    our_png = _folder_bytes(workdir / "w1" / "SegmentationClass")
    ref_obj = _folder_bytes(workdir / "ref" / "SegmentationObject")
    our_obj = _folder_bytes(workdir / "w1" / "SegmentationObject")
    per = 1000 / n
    lines += [
        f"reference (labelme recipe, 1 process): {ref_s:6.2f} s  {ref_s * per:5.1f} ms/image  "
        f"peak {ref_mem} MiB",
        f"json2voc --workers 1:                  {one_s:6.2f} s  {one_s * per:5.1f} ms/image  "
        f"peak {one_mem} MiB  -> {ref_s / one_s:.1f}x faster than reference",
        f"json2voc --workers {cores}:                  {all_s:6.2f} s  {all_s * per:5.1f} ms/image  "
        f"peak {all_mem} MiB  -> {ref_s / all_s:.1f}x faster than reference",
        f"I/O floor (read JSON, copy JPEG, 2 PNGs, in-process): {floor_s:6.2f} s  "
        f"{floor_s * per:5.1f} ms/image; json2voc --workers 1 is {one_s / floor_s:.1f}x the floor",
        f"class PNGs: {our_png / ref_png:.2f}x the reference's size; object PNGs "
        f"{our_obj / ref_obj:.2f}x; class labels identical to the reference: {same}",
    ]
    lines += _png_encode_options(arrays)
    if not quick:
        small_n = 50
        small = _time_runs(make_corpus(workdir / "corpus50", small_n), workdir, "-50", labels, cores)
        lines.append(
            f"peak memory, --workers 1: {small['w1'][1]} MiB for {small_n} images, "
            f"{one_mem} MiB for {n}"
        )
        # Each extra image's cost, start-up cancelled out: what a large corpus approaches.
        extra = {k: (best[k][0] - small[k][0]) / (n - small_n) for k in best}
        lines.append(
            f"per extra image ({small_n} -> {n} images): reference {extra['ref'] * 1000:.1f} ms, "
            f"--workers 1 {extra['w1'] * 1000:.1f} ms ({extra['ref'] / extra['w1']:.1f}x), "
            f"--workers {cores} {extra['wall'] * 1000:.1f} ms ({extra['ref'] / extra['wall']:.1f}x)"
        )
    return lines
