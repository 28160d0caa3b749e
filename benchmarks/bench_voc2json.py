"""voc2json against the recipe users post (per-class ``cv2.findContours``), speed and round trip.

Corpus: json2voc's benchmark corpus (seeded, 200 labelme files, ``--quick``: 24; ~500x375,
2-8 overlapping polygons / rectangles / circles, some grouped), converted to VOC by
json2voc: that dataset D is the input of both.

* reference: the script posted in labelme's issues and on Q&A sites, written out here:
  for each class in each label PNG, ``cv2.findContours(mask, RETR_EXTERNAL,
  CHAIN_APPROX_SIMPLE)``, one polygon per outer contour (fewer than 3 points dropped),
  no instances, the photo copied beside the JSON. Single process, as a whole process.
* voc2json ``--workers 1`` and ``--workers <all cores>`` (default ``--shape auto``), whole
  processes (start-up included); best of REPEAT runs each, interleaved, in one invocation.
* round trip: json2voc of each output against D, the share of differing pixels per image
  (worst and mean) in the class and the object maps, for the reference and each
  ``--shape``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from _timing import run_cli, set_aside

#: Timed runs per variant, interleaved; the best counts (the machine is shared and noisy).
REPEAT = 5

REFERENCE = textwrap.dedent(
    r'''
    import glob, json, os, shutil, sys
    import cv2
    import numpy as np
    from PIL import Image

    voc, out = sys.argv[1], sys.argv[2]
    names = [l.strip() for l in open(os.path.join(voc, "class_names.txt")) if l.strip()]
    os.makedirs(out, exist_ok=True)
    for png in sorted(glob.glob(os.path.join(voc, "SegmentationClass", "*.png"))):
        stem = os.path.splitext(os.path.basename(png))[0]
        mask = np.array(Image.open(png))
        shapes = []
        for c in np.unique(mask):
            if c == 0 or c == 255:
                continue
            binary = (mask == c).astype(np.uint8)
            contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            for cnt in contours:
                if len(cnt) < 3:
                    continue
                shapes.append({
                    "label": names[c], "points": cnt.reshape(-1, 2).tolist(), "group_id": None,
                    "description": "", "shape_type": "polygon", "flags": {},
                })
        image = os.path.join(voc, "JPEGImages", stem + ".jpg")
        shutil.copy(image, os.path.join(out, stem + ".jpg"))
        h, w = mask.shape
        doc = {"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": stem + ".jpg",
               "imageData": None, "imageHeight": int(h), "imageWidth": int(w)}
        with open(os.path.join(out, stem + ".json"), "w") as f:
            json.dump(doc, f, indent=2)
    '''
)


def _run_reference(script: Path, voc: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(script), str(voc), str(out)], check=True)
    return time.perf_counter() - start


def _best_interleaved(variants: dict[str, tuple[object, Path]], trash: Path) -> dict[str, float]:
    """Best of REPEAT runs of each variant, run in turn (a, b, c, a, b, c, ...).

    Interleaved, so a change in the machine's load (seven jobs share two cores) hits
    every variant alike instead of whichever block of runs it falls on.
    """
    best = {name: float("inf") for name in variants}
    for _ in range(REPEAT):
        for name, (fn, out) in variants.items():
            set_aside(out, trash)  # not deleted before the next timed run: see set_aside
            best[name] = min(best[name], fn())
    shutil.rmtree(trash, ignore_errors=True)
    return best


def _errors(voc: Path, labelme: Path, labels: Path, back: Path) -> dict[str, tuple[float, float]]:
    """(worst, mean) share of differing pixels per image, class and object maps."""
    from labeltools import json2voc, lblread

    shutil.rmtree(back, ignore_errors=True)
    json2voc(labelme, back, labels, workers=1)
    out = {}
    for kind in ("SegmentationClass", "SegmentationObject"):
        shares = [
            float((lblread(p) != lblread(back / kind / p.name)).mean())
            for p in sorted((voc / kind).glob("*.png"))
        ]
        out[kind] = (max(shares), float(np.mean(shares)))
    return out


def _fmt(err: dict[str, tuple[float, float]]) -> str:
    (cw, cm), (ow, om) = err["SegmentationClass"], err["SegmentationObject"]
    return f"class map worst {cw:.3%} mean {cm:.3%}; object map worst {ow:.3%} mean {om:.3%}"


def run(workdir: Path, quick: bool) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_json2voc import make_corpus

    from labeltools import json2voc

    n = 24 if quick else 200
    corpus = make_corpus(workdir / "corpus", n)
    voc = workdir / "voc"
    shutil.rmtree(voc, ignore_errors=True)
    json2voc(corpus, voc, corpus / "labels.txt", workers=None)
    cores = len(os.sched_getaffinity(0))
    script = workdir / "reference_voc2json.py"
    script.write_text(REFERENCE)

    best = _best_interleaved({
        "ref": (lambda: _run_reference(script, voc, workdir / "ref"), workdir / "ref"),
        "w1": (lambda: run_cli("voc2json", str(voc), str(workdir / "w1"), "-j", "1"), workdir / "w1"),
        "wall": (lambda: run_cli("voc2json", str(voc), str(workdir / "wall"), "-j", str(cores)),
                 workdir / "wall"),
    }, workdir / "set-aside")
    ref_s, one_s, all_s = best["ref"], best["w1"], best["wall"]
    per = 1000 / n
    lines = [
        f"corpus: {n} VOC labels (json2voc of its benchmark corpus), ~500x375; {cores} cores; "
        f"best of {REPEAT} interleaved whole-process runs",
        f"reference (per-class findContours, 1 process): {ref_s:6.2f} s  {ref_s * per:5.1f} ms/image",
        f"voc2json --workers 1 (auto):                  {one_s:6.2f} s  {one_s * per:5.1f} ms/image"
        f"  -> {ref_s / one_s:.2f}x the reference's speed",
        f"voc2json --workers {cores} (auto):                  {all_s:6.2f} s  {all_s * per:5.1f} ms/image"
        f"  -> {ref_s / all_s:.2f}x the reference's speed",
    ]
    labels = workdir / "w1" / "labels.txt"
    lines.append(f"round trip, reference: {_fmt(_errors(voc, workdir / 'ref', labels, workdir / 'b'))}")
    lines.append(f"round trip, --shape auto: {_fmt(_errors(voc, workdir / 'w1', labels, workdir / 'b'))}")
    for shape in ("mask", "polygon"):
        out = workdir / shape
        shutil.rmtree(out, ignore_errors=True)
        run_cli("voc2json", str(voc), str(out), "--shape", shape, "-j", str(cores))
        lines.append(f"round trip, --shape {shape}: {_fmt(_errors(voc, out, labels, workdir / 'b'))}")
    return lines
