"""json2coco and json2yolo against the converters users run today.

Corpus: bench_json2voc's seeded labelme files (~500x375 JPEGs, 2-8 overlapping polygons,
rectangles and circles, some grouped), 2000 of them (``--quick``: 24). Every variant is a
whole process (start-up included) writing into a fresh folder, timed side by side in
this one invocation, in :data:`ROUNDS` interleaved rounds; each variant's fastest wall
time and lowest CPU time over the rounds are reported (the machine is shared). The
previous round's output is set aside, not deleted, until the timing is over (see
``_timing.set_aside``: file creation right after mass deletion is slow on ext4):

* labeltools json2coco / json2yolo with one worker per core (``--workers <cores>``).
* labelme's recipe, examples/instance_segmentation/labelme2coco.py (``--noviz``),
  written out below without importing labelme: LabelFile's image loading (decode, EXIF
  transpose, re-encode, decode again), a JPEG re-encode at quality 75, a full-size mask
  per shape, pycocotools for area and bbox; single process, as users run it.
* the ``labelme2coco`` package (fcakyon's, on sahi; writes the JSON only, no images).
* the ``labelme2yolo`` package (a Rust binary since 0.2; ``--output_format polygon``).
* ``labelme2yolo`` 0.1.x, its last pure-Python release (a pool of ``cpu_count() - 1``
  processes; every image decoded and re-encoded as PNG, then read back for its size).
* a minimal Python converter (:data:`NAIVE_YOLO`): ``json.load``, the points as rows of
  ``%.6f``, ``shutil.copyfile`` of the JPEG, on a pool of one process per core. It is
  what a Python converter costs before any rasterising or checking, to put the Rust
  binary's ratio in context.

A package reference runs from ``$LABELTOOLS_BENCH_PYTHON`` (a Python that has it: they
pull in sahi, shapely, matplotlib) or this one; the pure-Python labelme2yolo from
``$LABELTOOLS_BENCH_L2Y_PYTHON`` (its pins, numpy < 1.27 and pillow < 10.3, clash with
the others). When one cannot be found the line says so and the ratio is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from _timing import ROOT, set_aside
from bench_json2voc import make_corpus

#: labelme's examples/instance_segmentation/labelme2coco.py with LabelFile's loading and
#: utils.shape_to_mask, reimplemented (labelme is a Qt application; the benchmark does
#: not install it). The per-shape full-size masks and the re-encodes are its cost.
RECIPE = textwrap.dedent(
    r'''
    import base64, collections, glob, io, json, math, os, os.path as osp, sys, uuid
    import numpy as np
    import PIL.Image, PIL.ImageDraw, PIL.ImageOps
    import pycocotools.mask

    def load_image_file(filename):  # labelme.LabelFile.load_image_file
        image_pil = PIL.ImageOps.exif_transpose(PIL.Image.open(filename))
        with io.BytesIO() as f:
            ext = osp.splitext(filename)[1].lower()
            image_pil.save(f, format="JPEG" if ext in (".jpg", ".jpeg") else "PNG")
            return f.getvalue()

    def img_data_to_arr(data):
        return np.array(PIL.Image.open(io.BytesIO(data)))

    def shape_to_mask(img_shape, points, shape_type=None, line_width=10, point_size=5):
        mask = PIL.Image.fromarray(np.zeros(img_shape[:2], dtype=np.uint8))
        draw = PIL.ImageDraw.Draw(mask)
        xy = [tuple(p) for p in points]
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

    input_dir, output_dir, labels = sys.argv[1:4]
    os.makedirs(osp.join(output_dir, "JPEGImages"))
    data = {"info": {}, "licenses": [], "type": "instances", "images": [], "categories": [],
            "annotations": []}
    class_name_to_id = {}
    for i, line in enumerate(open(labels).readlines()):
        if i == 0:
            continue  # __ignore__
        class_name_to_id[line.strip()] = i - 1
        data["categories"].append({"supercategory": None, "id": i - 1, "name": line.strip()})
    for image_id, filename in enumerate(sorted(glob.glob(osp.join(input_dir, "*.json")))):
        with open(filename) as f:
            doc = json.load(f)
        image_data = load_image_file(osp.join(osp.dirname(filename), doc["imagePath"]))
        check = img_data_to_arr(base64.b64decode(base64.b64encode(image_data)))
        assert check.shape[:2] == (doc["imageHeight"], doc["imageWidth"])
        img = img_data_to_arr(image_data)
        base = osp.splitext(osp.basename(filename))[0]
        PIL.Image.fromarray(img).save(osp.join(output_dir, "JPEGImages", base + ".jpg"))
        data["images"].append({"file_name": f"JPEGImages/{base}.jpg", "height": img.shape[0],
                               "width": img.shape[1], "id": image_id})
        masks = {}
        segmentations = collections.defaultdict(list)
        for shape in doc["shapes"]:
            points, label = shape["points"], shape["label"]
            group_id = shape.get("group_id")
            shape_type = shape.get("shape_type", "polygon")
            mask = shape_to_mask(img.shape[:2], points, shape_type)
            instance = (label, uuid.uuid1() if group_id is None else group_id)
            masks[instance] = masks[instance] | mask if instance in masks else mask
            if shape_type == "rectangle":
                (x1, y1), (x2, y2) = points
                x1, x2 = sorted([x1, x2])
                y1, y2 = sorted([y1, y2])
                coco = [x1, y1, x2, y1, x2, y2, x1, y2]
            elif shape_type == "circle":
                (x1, y1), (x2, y2) = points
                r = np.linalg.norm([x2 - x1, y2 - y1])
                n = max(int(np.pi / np.arccos(1 - 1 / r)), 12)
                k = np.arange(n)
                coco = np.stack((x1 + r * np.sin(2 * np.pi / n * k),
                                 y1 + r * np.cos(2 * np.pi / n * k)), axis=1).flatten().tolist()
            else:
                coco = np.asarray(points).flatten().tolist()
            segmentations[instance].append(coco)
        for instance, mask in masks.items():
            if instance[0] not in class_name_to_id:
                continue
            rle = pycocotools.mask.encode(np.asfortranarray(mask.astype(np.uint8)))
            data["annotations"].append({
                "id": len(data["annotations"]), "image_id": image_id,
                "category_id": class_name_to_id[instance[0]],
                "segmentation": segmentations[instance],
                "area": float(pycocotools.mask.area(rle)),
                "bbox": pycocotools.mask.toBbox(rle).flatten().tolist(), "iscrowd": 0})
    with open(osp.join(output_dir, "annotations.json"), "w") as f:
        json.dump(data, f)
    '''
)

#: The least a Python json2yolo can do: no rasterising (circles, lines and points written as
#: their raw points), no grouping, no hidden-pixel checks, no validation, no resume, no
#: split; one row per shape, ``%.6f``, the JPEG copied. Not a converter: a floor.
NAIVE_YOLO = textwrap.dedent(
    r'''
    import json, os, shutil, sys
    from multiprocessing import Pool

    input_dir, output_dir, labels, workers = sys.argv[1:5]
    class_id = {name: i for i, name in enumerate(open(labels).read().split()[2:])}

    def convert(name):
        with open(os.path.join(input_dir, name)) as f:
            doc = json.load(f)
        w, h = doc["imageWidth"], doc["imageHeight"]
        rows = [f"{class_id[s['label']]} " + " ".join("%.6f %.6f" % (x / w, y / h) for x, y in s["points"]) + "\n"
                for s in doc["shapes"] if s["label"] in class_id]
        stem = name[: -len(".json")]
        with open(os.path.join(output_dir, "labels", stem + ".txt"), "w") as f:
            f.writelines(rows)
        shutil.copyfile(os.path.join(input_dir, doc["imagePath"]),
                        os.path.join(output_dir, "images", stem + ".jpg"))

    for sub in ("labels", "images"):
        os.makedirs(os.path.join(output_dir, sub))
    names = sorted(n for n in os.listdir(input_dir) if n.endswith(".json"))
    with Pool(int(workers)) as pool:
        pool.map(convert, names, chunksize=max(1, len(names) // (16 * int(workers))))
    '''
)

#: Runs a command; prints its wall time and the CPU time of its whole process tree
#: (Linux folds waited-for grandchildren, the worker processes, into RUSAGE_CHILDREN).
_MEASURE = textwrap.dedent(
    """
    import resource, subprocess, sys, time
    t = time.perf_counter()
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(dt, ru.ru_utime + ru.ru_stime)
    """
)


def _measured(*cmd: str) -> tuple[float, float]:
    """Run ``cmd`` as a whole process; return (wall seconds, CPU seconds of the process tree).

    On a shared machine the wall time of a parallel run depends on what else runs; the
    CPU time is the work itself, and a ratio of CPU times is the steadier figure.
    """
    os.sync()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], check=True, env=env,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def _reference_python(module: str) -> str | None:
    for python in (os.environ.get("LABELTOOLS_BENCH_PYTHON"), sys.executable):
        if python and subprocess.run([python, "-c", f"import {module}"],
                                     capture_output=True).returncode == 0:
            return python
    return None


def _labelme2yolo() -> str | None:
    python = os.environ.get("LABELTOOLS_BENCH_PYTHON")
    candidates = [Path(python).parent / "labelme2yolo"] if python else []
    found = shutil.which("labelme2yolo")
    candidates += [Path(found)] if found else []
    return next((str(c) for c in candidates if c.is_file()), None)


def _pure_labelme2yolo() -> tuple[str | None, str]:
    """``(python, "")`` of a Python with labelme2yolo 0.1.x, or ``(None, why not)``."""
    python = os.environ.get("LABELTOOLS_BENCH_L2Y_PYTHON")
    if not python:
        return None, ("LABELTOOLS_BENCH_L2Y_PYTHON is not set (a venv with "
                      "pip install 'labelme2yolo<0.2', its last pure-Python release)")
    probe = subprocess.run(
        [python, "-c", "from labelme2yolo.__about__ import __version__; print(__version__)"],
        capture_output=True, text=True)
    version = probe.stdout.strip()
    if probe.returncode != 0:
        return None, f"{python} cannot import labelme2yolo: {probe.stderr.strip().splitlines()[-1:]}"
    if not version.startswith("0.1."):
        return None, f"{python} has labelme2yolo {version}, not a pure-Python 0.1.x"
    return python, ""


#: Interleaved rounds of every variant; the fastest is reported (``--quick``: one).
ROUNDS = 3


def run(workdir: Path, quick: bool) -> list[str]:
    n = 24 if quick else 2000
    rounds = 1 if quick else ROUNDS
    corpus = make_corpus(workdir / "corpus", n)
    labels = str(corpus / "labels.txt")
    names = Path(labels).read_text().split()[2:]  # after __ignore__ and _background_
    cores = len(os.sched_getaffinity(0))
    lines = [f"corpus: {n} labelme files, ~500x375 JPEGs, 2-8 shapes each; {cores} cores; "
             f"whole process, best wall and CPU time of {rounds} interleaved round(s)"]

    # In report order: a variant (key, what, command, output folder, key it is compared
    # with) or the line saying why a reference was skipped.
    entries: list[tuple[str, str, list[str], Path, str | None] | str] = []

    def ours(kind: str) -> None:
        out = workdir / f"ours-{kind}"
        entries.append((kind, f"labeltools json2{kind} --workers {cores}",
                        [sys.executable, "-m", "labeltools", f"json2{kind}", str(corpus), str(out),
                         "--labels", labels, "--workers", str(cores)], out, None))

    ours("coco")
    entries.append(("recipe", "labelme's labelme2coco.py recipe (1 process)",
                    [sys.executable, "-c", RECIPE, str(corpus), str(workdir / "recipe"), labels],
                    workdir / "recipe", "coco"))
    python = _reference_python("labelme2coco")
    if python is None:
        entries.append("labelme2coco package: skipped, not importable (pip install labelme2coco, "
                       "or point LABELTOOLS_BENCH_PYTHON at a Python that has it)")
    else:
        code = ("import logging, sys; logging.disable(logging.INFO); from labelme2coco import convert; "
                "convert(sys.argv[1], sys.argv[2], train_split_rate=0.8)")
        entries.append(("l2c", "labelme2coco package (JSON only, no images)",
                        [python, "-c", code, str(corpus), str(workdir / "l2c")], workdir / "l2c",
                        "coco"))
    ours("yolo")
    binary = _labelme2yolo()
    if binary is None:
        entries.append("labelme2yolo package: skipped, no labelme2yolo binary (pip install "
                       "labelme2yolo, or point LABELTOOLS_BENCH_PYTHON at its environment)")
    else:
        entries.append(("l2y", "labelme2yolo package (Rust)",
                        [binary, "--json_dir", str(corpus), "--output_dir", str(workdir / "l2y"),
                         "--output_format", "polygon", ",".join(names)], workdir / "l2y", "yolo"))
    pure, why = _pure_labelme2yolo()
    if pure is None:
        entries.append(f"labelme2yolo 0.1.x (pure Python): skipped, {why}")
    else:
        # It writes into its input folder (INPUT/YOLODataset): give it a folder of links.
        linked = workdir / "l2y-py-input"
        if not linked.is_dir():
            linked.mkdir()
            for f in corpus.iterdir():
                if f.suffix in (".json", ".jpg"):
                    (linked / f.name).symlink_to(f)
        entries.append(("l2y-py", f"labelme2yolo 0.1.x (pure Python, {max(cores - 1, 1)} process(es))",
                        [str(Path(pure).parent / "labelme2yolo"), "--json_dir", str(linked),
                         "--val_size", "0.2", "--output_format", "polygon", "--label_list", *names],
                        linked / "YOLODataset", "yolo"))
    entries.append(("naive", "what a minimal Python converter costs: no rasterising, no checks",
                    [sys.executable, "-c", NAIVE_YOLO, str(corpus), str(workdir / "naive"), labels,
                     str(cores)], workdir / "naive", "yolo"))
    arms = [e for e in entries if not isinstance(e, str)]

    best: dict[str, tuple[float, float]] = {}
    trash = workdir / "set-aside"
    for _ in range(rounds):
        for key, _what, cmd, out, _base in arms:
            set_aside(out, trash)  # every timed run writes into a fresh folder
            wall, cpu = _measured(*cmd)
            if key in best:
                wall, cpu = min(wall, best[key][0]), min(cpu, best[key][1])
            best[key] = (wall, cpu)
    shutil.rmtree(trash, ignore_errors=True)  # after the timing: see set_aside

    def line(what: str, t: tuple[float, float], base: tuple[float, float] | None = None) -> str:
        (wall, cpu) = t
        ratio = ""
        if base:
            ratio = f"  -> labeltools {wall / base[0]:.1f}x faster (CPU time: {cpu / base[1]:.1f}x)"
        return f"{what:64s} {wall:7.2f} s {wall * 1000 / n:6.1f} ms/image, CPU {cpu:6.2f} s{ratio}"

    for entry in entries:
        if isinstance(entry, str):
            lines.append(entry)
        else:
            key, what, _cmd, _out, base = entry
            lines.append(line(what, best[key], best[base] if base else None))
    return lines
