"""The client's memory in a json2voc run of 10^4, 10^5 and 10^6 files: the pipeline's own state.

Runs the real :func:`labeltools.pipeline.convert_dataset` (label pass, label checks,
resume records: journal, manifest, previous records; the split, ``VocWriter.finish``,
the sweep) with its three per-file seams stubbed, so that no image exists and the
client's bookkeeping is all that grows with N:

* the input listing returns N synthetic stems (no 10^6 files on disk),
* the label pass's ``scan_batch`` returns two labels per file without reading one,
* ``convert_file`` returns the report and resume record a real 64x48 VOC file gets
  (``written``; ``skipped`` with the last run's record when there is one), writing nothing.

Each (N, backend, run) is measured in fresh processes: peak ``tracemalloc`` of the
client above what it held before the call (up to 10^5 files: it slows the client ~5x),
and, in a process without tracemalloc, its peak RSS above the RSS before the call
(``VmHWM``: what the allocator really took, arenas and fragmentation included). Backends: the local process pool (2 workers) and a LocalCluster
of 2 worker processes (hosted by this process, as in ``bench_dask``); runs: the first
(empty output) and a rerun over its output (every file up to date: the last run's
records are read back). Bytes per image = the peak / N. ``--quick``: 10^4 and 10^5.
Works against older labeltools too (it stubs ``find_inputs`` where there is no
``list_inputs``), to measure before / after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ("_background_", "cat", "dog")


def stem(i: int) -> str:
    return f"img_{i:07d}"


def fake_scan_batch(paths):  # noqa: ANN001, ANN201  (a stub of labelpass.scan_batch)
    return [(("cat", "dog"), None, None) for _ in paths]


def fake_convert_file(settings, job):  # noqa: ANN001, ANN201  (a stub of conversion.convert_file)
    """The report and record of a 64x48 file with a cat and a dog, as convert_file makes them."""
    from labeltools.conversion import _report_from_record

    path, name, previous = job
    if previous is not None:
        return _report_from_record(name, path, "skipped", previous["report"], previous)
    report = {"shapes": [["polygon", 2]], "width": 64, "height": 48,
              "pixels": [2800, 190, 82], "ignored": 0, "instances": 2}
    record = {
        "json": f"/data/project/labelme/{name}.json",
        "json_sha256": f"{hash(name) & (2**256 - 1):064x}",
        "image": {"path": f"/data/project/labelme/{name}.jpg", "size": 2143,
                  "mtime_ns": 1764633600123456789},
        "options": settings.digest,
        "outputs": settings.writer.item_outputs(name, report),
        "report": report,
    }
    return _report_from_record(name, path, "written", report, record)


def stub(n: int, root: Path) -> None:
    """Point the pipeline's per-file seams at the stubs, for a job of ``n`` files in ``root``."""
    from labeltools import pipeline

    try:
        from labeltools import labelpass
    except ImportError:  # before the label pass had a module of its own
        labelpass = pipeline
    labelpass.scan_batch = fake_scan_batch
    pipeline.convert_file = fake_convert_file
    if hasattr(pipeline, "list_inputs"):
        from labeltools.inputs import Inputs

        pipeline.list_inputs = lambda *a: Inputs(root, [stem(i) for i in range(n)], [None] * n)
    else:  # before the lean listing: (Path, stem) pairs
        pipeline.find_inputs = lambda *a: [(root / f"{stem(i)}.json", stem(i)) for i in range(n)]


def _status_bytes(field: str) -> int:
    """``VmRSS`` / ``VmHWM`` (peak RSS) of this process, from /proc/self/status.

    Not ``ru_maxrss``: Linux keeps it across ``execve``, so a child started by a parent
    of 500 MB (one hosting a cluster's scheduler) reports at least that.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def client_peak(n: int, backend: object, out: Path, trace: bool = True) -> dict[str, float]:
    """Seconds, peak traced bytes and peak RSS growth of one convert_dataset over ``n`` files."""
    from labeltools import pipeline
    from labeltools.formats.voc import VocWriter

    if isinstance(backend, str):
        import distributed  # noqa: F401  (its modules are not the job's state)

        import labeltools.cluster  # noqa: F401
    import numpy.random  # noqa: F401

    import labeltools.splits  # noqa: F401

    inp = out.parent / "in"  # empty: the stubs read nothing, a cluster checks it exists
    inp.mkdir(parents=True, exist_ok=True)
    stub(n, inp)
    rss_before = _status_bytes("VmRSS")
    if trace:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0] if trace else 0
    start = time.perf_counter()
    report = pipeline.convert_dataset(inp, out, VocWriter(), list(LABELS), backend=backend,
                                      workers=2)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - base if trace else 0
    if trace:
        tracemalloc.stop()
    assert report.written + report.skipped == n, report
    rss = _status_bytes("VmHWM") - rss_before
    return {"seconds": seconds, "traced": peak, "rss": max(rss, 0),
            "written": report.written, "skipped": report.skipped}


def _measure(n: int, backend: str, out: Path, trace: bool, root: Path | None) -> dict[str, float]:
    """``client_peak`` in a fresh process (this one hosts the cluster's scheduler)."""
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from pathlib import Path\n"
        "from bench_memory import client_peak\n"
        "from labeltools import engine\n"
        f"backend = engine.ProcessBackend(2) if {backend!r} == 'pool' else {backend!r}\n"
        f"print(json.dumps(client_peak({n}, backend, Path({str(out)!r}), {trace!r})))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(root or HERE.parent))
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


#: tracemalloc slows the client ~5x: above this many files only RSS is measured.
TRACE_MAX = 10**5


def measure(sizes: tuple[int, ...], backends: dict[str, str], workdir: Path,
            root: Path | None = None, trace_max: int = TRACE_MAX) -> list[str]:
    """One line per (N, backend, run): traced peak (up to ``trace_max`` files) and RSS peak,
    each from its own pair of processes (a first run, then a rerun over its output)."""
    lines = []
    for size in sizes:
        for name, backend in backends.items():
            found: dict[str, dict[str, dict[str, float]]] = {}
            for trace in (True, False) if size <= trace_max else (False,):
                out = workdir / f"out-{name}-{size}"
                shutil.rmtree(out, ignore_errors=True)
                for run in ("first run", "rerun"):
                    m = _measure(size, backend, out, trace, root)
                    found.setdefault(run, {})["traced" if trace else "rss"] = m
                shutil.rmtree(out, ignore_errors=True)
            for run, got in found.items():
                traced = got.get("traced")
                shown = (f"traced {traced['traced'] / 2**20:7.1f} MiB ({traced['traced'] / size:5.0f}"
                         f" B/image)" if traced else f"traced {'-':>7}     {'':5}         ")
                rss = got["rss"]
                lines.append(
                    f"  N={size:>9,}  {name:<7} {run:<9}  {shown}   RSS +{rss['rss'] / 2**20:7.1f} MiB"
                    f" ({rss['rss'] / size:5.0f} B/image)   {rss['seconds']:6.1f} s"
                )
    return lines


def run(workdir: Path, quick: bool) -> list[str]:
    sizes = (10**4, 10**5) if quick else (10**4, 10**5, 10**6)
    backends = {"pool": "pool"}
    local_cluster = None
    try:
        from labeltools import cluster

        cluster._distributed()
        local_cluster = cluster.local_cluster(2)
        backends["cluster"] = local_cluster.scheduler_address
    except Exception as exc:  # the extra is missing: the pool only
        note = f"no cluster: {exc}"
    else:
        note = "LocalCluster of 2 worker processes"
    lines = [f"convert_dataset (VOC) client, stubbed per-file work; pool of 2, {note}:"]
    try:
        lines += measure(sizes, backends, workdir)
    finally:
        if local_cluster is not None:
            local_cluster.close()
    return lines


if __name__ == "__main__":
    # python benchmarks/bench_memory.py N [pool|ADDRESS] [--root CHECKOUT] [--no-trace]
    args = sys.argv[1:]
    root = Path(args[args.index("--root") + 1]) if "--root" in args else None
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for line in measure((int(args[0]),), {args[1]: args[1]}, Path(tmp), root,
                            trace_max=0 if "--no-trace" in args else TRACE_MAX):
            print(line, flush=True)
