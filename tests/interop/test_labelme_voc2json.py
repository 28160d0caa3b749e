"""labelme itself reads voc2json's files: its LabelFile loads them and its own rasteriser
redraws the class and object maps they came from (labelme from PyPI, with mask shapes)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from labeltools import json2voc, lblread

from ..conftest import SAMPLE_DATA
from ..test_cli_voc2json import round_trip
from .conftest import INTEROP

pytestmark = INTEROP


@pytest.fixture(scope="module")
def sample_voc(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "voc"
    json2voc(SAMPLE_DATA, out, SAMPLE_DATA / "labels.txt", workers=1)
    return out


#: Run in a subprocess: importing labelme changes Pillow's global state (MAX_IMAGE_PIXELS).
_LABELME_REDRAW = """
import sys
import numpy as np
from labelme._label_file import LabelFile
from labelme.utils.shape import shapes_to_label
json_path, labels_txt, height, width, out = sys.argv[1:]
names = open(labels_txt).read().split()
values = {"__ignore__": -1, **{n: i for i, n in enumerate(names[1:])}}
lf = LabelFile(json_path)
assert lf.image_data
cls, ins = shapes_to_label((int(height), int(width)), lf.shapes, values)
np.save(out, np.stack([cls, ins]))
"""


@pytest.mark.parametrize("shape", ["auto", "mask"])
def test_labelme_reads_the_files_and_redraws_the_maps(sample_voc, tmp_path, shape):
    import importlib.util
    import subprocess

    if importlib.util.find_spec("labelme") is None:
        pytest.skip("labelme is not installed (.ci/run installs it for this tier)")
    if importlib.util.find_spec("cv2") is None:
        pytest.skip("OpenCV is not installed (the voc2json extra)")
    labelme_dir, _ = round_trip(sample_voc, tmp_path, shape=shape)
    for json_path in sorted(labelme_dir.glob("*.json")):
        want = lblread(sample_voc / "SegmentationClass" / f"{json_path.stem}.png").astype(np.int32)
        out = tmp_path / f"{json_path.stem}.npy"
        done = subprocess.run(
            [sys.executable, "-c", _LABELME_REDRAW, str(json_path), str(labelme_dir / "labels.txt"),
             str(want.shape[0]), str(want.shape[1]), str(out)],
            capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        cls, ins = np.load(out)
        want[want == 255] = -1
        assert np.array_equal(cls, want), json_path.stem
        want_obj = lblread(sample_voc / "SegmentationObject" / f"{json_path.stem}.png")
        assert np.array_equal(np.where(cls == -1, 0, ins), want_obj), json_path.stem
