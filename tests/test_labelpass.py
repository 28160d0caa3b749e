"""labelpass: every label of every file, read before anything is written."""

from __future__ import annotations

import json

import pytest

from labeltools import json2voc
from labeltools.errors import LabelmeFormatError
from labeltools.labelpass import LABEL_BATCH, scan_batch, scan_labels

from .test_pipeline import rect, write_labelme


def test_scan_labels_reads_the_labels_in_shape_order(tmp_path):
    path = write_labelme(tmp_path, "a", [rect("cat", 0, 0, 4, 4), rect("dog", 1, 1, 3, 3),
                                         rect("cat", 2, 2, 5, 5)])
    assert scan_labels(str(path)) == (("cat", "dog", "cat"), None, None)
    assert scan_batch([str(path)] * 2) == [(("cat", "dog", "cat"), None, None)] * 2


def test_scan_labels_gives_the_full_readers_error_and_never_raises(tmp_path):
    doc = json.loads(write_labelme(tmp_path, "a", [rect("cat", 0, 0, 4, 4)]).read_text())
    doc["shapes"][0]["label"] = 5
    (tmp_path / "number.json").write_text(json.dumps(doc))
    (tmp_path / "torn.json").write_text('{"shapes": [\n')
    assert scan_labels(str(tmp_path / "number.json")) == (
        (), "LabelmeFormatError", f'{tmp_path / "number.json"}: shape #0: "label" must be a string, got 5')
    assert scan_labels(str(tmp_path / "torn.json")) == (
        (), "LabelmeFormatError",
        f"{tmp_path / 'torn.json'}: invalid JSON at line 2, column 1: Expecting value")
    assert scan_labels(str(tmp_path / "gone.json")) == (
        (), "LabelmeFormatError", f"{tmp_path / 'gone.json'}: no such file")


def test_label_pass_maps_batches_and_raises_the_first_bad_file(tmp_path):
    src = tmp_path / "in"
    for i in range(LABEL_BATCH + 5):
        write_labelme(src, f"f{i:03d}", [rect("cat" if i % 2 else "dog", 0, 0, 4, 4)])
    (src / f"f{LABEL_BATCH + 2:03d}.json").write_text("[]")  # in the second batch
    with pytest.raises(LabelmeFormatError, match=r"\.json: expected a labelme JSON object, got a JSON array$"):
        json2voc(src, tmp_path / "out", None, workers=2)
    assert not (tmp_path / "out").exists()  # nothing written before every label is known
    report = json2voc(src, tmp_path / "out", None, workers=2, keep_going=True)
    assert [f.stem for f in report.failures] == [f"f{LABEL_BATCH + 2:03d}"]
    assert report.labels.names == ("_background_", "cat", "dog")
    assert report.written == LABEL_BATCH + 4
