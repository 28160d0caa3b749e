"""The pipeline's client memory per image stays small: a 10^6-file job must fit in a few hundred MB.

The real :func:`~labeltools.pipeline.convert_dataset` (label pass, resume records,
split, VOC finish, sweep) runs over synthetic jobs with its per-file seams stubbed
(the input listing, the label scan, ``convert_file``: no image is read or written),
in this process (``workers=1``, chunks of a fixed size). What is asserted is the
*slope*: peak traced bytes at N2 files minus at N1, over N2 - N1, so that constant
costs (imports, a chunk of reports in flight) do not count. ``benchmarks/bench_memory.py`` measures the same to
10^6 files, on a process pool and on a cluster.
"""

from __future__ import annotations

import functools
import tracemalloc

import pytest

from labeltools import engine, pipeline

try:
    from labeltools import labelpass
except ImportError:  # labeltools before the label pass had a module (to show the test fails there)
    labelpass = pipeline
from labeltools.conversion import _report_from_record
from labeltools.formats.voc import VocWriter

LABELS = ["_background_", "cat", "dog"]
#: Bytes per image the client may keep, at its peak. What it keeps (README, Running on
#: a cluster): the stem (~60 B for an 11-character name) and a pointer to its path,
#: 8 B per output path (3 for VOC) for the sweep's keep set and as many for the last
#: run's outputs, 16 B of index per last-run record, 1 B of status, and the split's
#: lists (~50 B while it is made): ~200 B. labeltools before the streamed records kept
#: ~4800 B (every report and record in memory); 300 B is the 300 MB at 10^6 images
#: the issue allows.
MAX_BYTES_PER_IMAGE = 300
CHUNK = 64


def _scan(paths):
    return [(("cat", "dog"), None, None) for _ in paths]


def _convert(settings, job):
    path, stem, previous = job
    if previous is not None:
        return _report_from_record(stem, path, "skipped", previous["report"], previous)
    report = {"shapes": [["polygon", 2]], "width": 64, "height": 48,
              "pixels": [2800, 190, 82], "ignored": 0, "instances": 2}
    record = {
        "json": f"/data/project/labelme/{stem}.json", "json_sha256": "0" * 64,
        "image": {"path": f"/data/project/labelme/{stem}.jpg", "size": 2143,
                  "mtime_ns": 1764633600123456789},
        "options": settings.digest, "outputs": settings.writer.item_outputs(stem, report),
        "report": report,
    }
    return _report_from_record(stem, path, "written", report, record)


def _stems(n):
    return [f"img_{i:07d}" for i in range(n)]  # made inside the measured call


def _peaks(monkeypatch, tmp_path, n):
    """Peak traced bytes of a first run and of a rerun (all up to date) over ``n`` files."""
    inp = tmp_path / f"in{n}"
    inp.mkdir(exist_ok=True)
    # One chunk size for both N: a chunk of reports in flight is a constant, not per image.
    for module in (pipeline, labelpass):  # the main pass and the label pass
        monkeypatch.setattr(module, "run", functools.partial(engine.run, chunk_size=CHUNK))
    monkeypatch.setattr(labelpass, "scan_batch", _scan)
    monkeypatch.setattr(pipeline, "convert_file", _convert)
    if hasattr(pipeline, "list_inputs"):
        from labeltools.inputs import Inputs

        monkeypatch.setattr(pipeline, "list_inputs",
                            lambda *a: Inputs(inp, _stems(n), [None] * n))
    else:  # labeltools before the lean listing (to show this test fails there)
        monkeypatch.setattr(pipeline, "find_inputs",
                            lambda *a: [(inp / f"{s}.json", s) for s in _stems(n)])
    peaks = []
    for _ in ("first run", "rerun"):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        report = pipeline.convert_dataset(inp, tmp_path / f"out{n}", VocWriter(), LABELS, workers=1)
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
        tracemalloc.stop()
        assert report.written + report.skipped == n
        del report
    return peaks


def test_client_memory_per_image_is_bounded(monkeypatch, tmp_path):
    _peaks(monkeypatch, tmp_path, 10)  # what a first run imports and caches: not per image
    small, large = 2_000, 8_000
    a = _peaks(monkeypatch, tmp_path, small)
    b = _peaks(monkeypatch, tmp_path, large)
    for what, low, high in zip(("first run", "rerun"), a, b):
        per_image = (high - low) / (large - small)
        assert per_image < MAX_BYTES_PER_IMAGE, f"{what}: {per_image:.0f} B per image"


@pytest.mark.parametrize("n", [1, 3])
def test_the_stubbed_job_is_a_real_run(monkeypatch, tmp_path, n):
    """The stubs go through the real pipeline: records, lists, a rerun that skips."""
    first, again = _peaks(monkeypatch, tmp_path, n)
    out = tmp_path / f"out{n}"
    ids = (out / "ImageSets" / "Segmentation" / "trainval.txt").read_text().split()
    assert ids == _stems(n)
    manifest = out / ".labeltools-json2voc" / "manifest.json"
    import json

    assert sorted(json.loads(manifest.read_text())) == ids
