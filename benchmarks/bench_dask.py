"""The Dask backend against the local process pool, and the client's memory as jobs grow.

Needs the dask extra (``pip install 'labeltools[dask]'``); without it, says so and skips.

* Wall time: ``labeltools json2voc`` over 10^4 small labelme files (64x48 JPEGs, two
  polygons each; ``--quick``: 600), then ``labeltools weights`` over the label PNGs it
  wrote, as whole processes: ``--workers 2`` (the local process pool) against
  ``--scheduler tcp://...`` on a ``LocalCluster`` of 2 single-threaded worker processes
  (hosted by this process, started once before the timed runs: a cluster's user finds
  it running; its start-up is reported apart), interleaved, best of 3. Outputs are
  checked identical. The difference per file is the scheduler's overhead.
* Client memory: ``engine.map_reduce`` over 10^4, 10^5, 10^6 planned items (paths of
  ~30 characters; ``--quick``: up to 10^5) with a cheap per-item function, on a local
  pool and on the cluster, each in a fresh client process: peak ``tracemalloc`` above
  the item list itself (which the caller holds anyway). The cluster figure grows towards
  a plateau that is not labeltools' state: distributed's client keeps its last 1000
  batched messages for debugging (``distributed.admin.low-level-log-length``); with that
  at 10, 10^6 items peaked at 4.0 MiB (2026-12-01) instead of ~22 MiB.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from _timing import ROOT, run_cli
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labeltools import engine  # noqa: E402

LABELS = ("_background_", "cat", "dog")
SIZE = (64, 48)
REPEAT = 3


def make_corpus(root: Path, n: int, seed: int = 0) -> Path:
    """``n`` small labelme files, each a 64x48 JPEG and two polygons."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "labels.txt").write_text("\n".join(("__ignore__", *LABELS)) + "\n")
    w, h = SIZE
    for i in range(n):
        stem = f"img_{i:06d}"
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="JPEG", quality=80)
        (root / f"{stem}.jpg").write_bytes(buf.getvalue())
        shapes = []
        for label in ("cat", "dog"):
            cx, cy = rng.uniform(10, w - 10), rng.uniform(10, h - 10)
            r = rng.uniform(4, 10)
            angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
            points = [[float(cx + r * np.cos(a)), float(cy + r * np.sin(a))] for a in angles]
            shapes.append({"label": label, "points": points, "group_id": None,
                           "shape_type": "polygon", "flags": {}})
        doc = {"version": "5.0.1", "flags": {}, "shapes": shapes, "imagePath": f"{stem}.jpg",
               "imageData": None, "imageHeight": h, "imageWidth": w}
        (root / f"{stem}.json").write_text(json.dumps(doc))
    return root


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".labeltools-json2voc" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _cheap(path: str) -> int:
    return len(path)


def _add(a: int, b: int) -> int:
    return a + b


def client_peak(n: int, backend: object) -> dict[str, float]:
    """Seconds and peak traced MiB (above the item list) of a map_reduce over ``n`` items."""
    items = [f"/data/project/img_{i:08d}.png" for i in range(n)]
    if isinstance(backend, str):
        import distributed  # noqa: F401  (its ~25 MiB of modules are not the job's state)

        import labeltools.cluster  # noqa: F401
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    total = engine.map_reduce(_cheap, items, _add, 0, backend=backend)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert total == sum(len(p) for p in items)
    return {"seconds": seconds, "mib": peak / 2**20}


def _measure_client(n: int, backend: str) -> dict[str, float]:
    """``client_peak`` in a fresh process: this one hosts the cluster's scheduler."""
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from bench_dask import client_peak\n"
        "from labeltools import engine\n"
        f"backend = engine.ProcessBackend(2) if {backend!r} == 'pool' else {backend!r}\n"
        f"print(json.dumps(client_peak({n}, backend)))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(workdir: Path, quick: bool) -> list[str]:
    try:
        from labeltools import cluster

        cluster._distributed()
    except Exception as exc:  # the extra is missing: nothing to measure
        return [f"skipped: {exc}"]

    n = 600 if quick else 10_000
    corpus = make_corpus(workdir / "corpus", n)
    labels = str(corpus / "labels.txt")

    start = time.perf_counter()
    local_cluster = cluster.local_cluster(2)
    startup = time.perf_counter() - start
    address = local_cluster.scheduler_address
    lines = [
        f"{n} labelme files of 64x48 px; LocalCluster(2 processes x 1 thread) started in "
        f"{startup:.1f} s (not in the times below); whole processes (start-up, and for the "
        f"cluster the distributed import and connection, included), best of {REPEAT}, interleaved"
    ]
    try:
        modes = {"pool": ["--workers", "2"], "dask": ["--scheduler", address]}
        times: dict[str, dict[str, list[float]]] = {"json2voc": {}, "weights": {}}
        hashes: dict[str, str] = {}
        for rep in range(REPEAT):
            for name, option in modes.items():
                out = workdir / f"{name}-{rep}"
                times["json2voc"].setdefault(name, []).append(
                    run_cli("json2voc", str(corpus), str(out), "--labels", labels, *option)
                )
                weights = workdir / f"{name}-{rep}.npy"
                times["weights"].setdefault(name, []).append(
                    run_cli("weights", str(out), "--out", str(weights), *option)
                )
                hashes[name] = _tree_hash(out) + hashlib.sha256(weights.read_bytes()).hexdigest()
        for what, table in times.items():
            pool, on_dask = min(table["pool"]), min(table["dask"])
            lines.append(
                f"{what:<9} pool (-j 2) {pool:6.2f} s   --scheduler (2 workers) {on_dask:6.2f} s"
                f"  -> {on_dask / pool:.2f}x the pool's wall time (target <= 1.3x); "
                f"overhead {(on_dask - pool) * 1000 / n:+.3f} ms/file"
            )
        lines.append(f"outputs identical (json2voc trees + weights.npy): "
                     f"{hashes['pool'] == hashes['dask']}")

        sizes = (10**4, 10**5) if quick else (10**4, 10**5, 10**6)
        lines.append("client peak memory, map_reduce over N planned items of a cheap function "
                     "(tracemalloc in the client process, above the item list):")
        for size in sizes:
            pool = _measure_client(size, "pool")
            on_dask = _measure_client(size, address)
            lines.append(
                f"  N={size:>9,}  process pool {pool['mib']:7.2f} MiB ({pool['seconds']:5.1f} s)"
                f"   cluster {on_dask['mib']:7.2f} MiB ({on_dask['seconds']:5.1f} s)"
            )
    finally:
        local_cluster.close()
    return lines
