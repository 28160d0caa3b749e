"""conversion: one labelme file -> its outputs through a writer, and the record kept of it."""

import shutil
from pathlib import Path

import pytest

from labeltools import LabelmeFormatError, lblread
from labeltools.conversion import Settings, convert_file
from labeltools.formats.voc import VocWriter
from labeltools.labels import label_set

from .test_pipeline import rect, write_labelme

NAMES = ("_background_", "cat", "dog")


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """One image: a cat and a dog, two instances."""
    src = tmp_path / "in"
    write_labelme(src, "a", [rect("cat", 2, 2, 10, 10), rect("dog", 20, 5, 30, 20)])
    return src


def settings_for(out, **kw):
    return Settings(out, VocWriter(**kw).bind(label_set(NAMES, "x")), NAMES)


def test_convert_file_makes_missing_folders(small, tmp_path):
    # Folders are made when the first write finds them missing, not checked per file.
    settings = settings_for(tmp_path / "out")
    report = convert_file(settings, (str(small / "a.json"), "a", None))
    assert report.status == "written"
    assert sorted(report.record["outputs"].values()) == [
        "JPEGImages/a.jpg", "SegmentationClass/a.png", "SegmentationObject/a.png"
    ]
    shutil.rmtree(tmp_path / "out" / "SegmentationObject")
    again = convert_file(settings, (str(small / "a.json"), "a", None))
    assert again.record == report.record
    assert lblread(tmp_path / "out" / "SegmentationObject" / "a.png")[5, 25] == 2


def test_record_report_and_skip(small, tmp_path):
    settings = settings_for(tmp_path / "out")
    report = convert_file(settings, (str(small / "a.json"), "a", None))
    rec = report.record["report"]
    assert sorted(rec) == ["height", "ignored", "instances", "pixels", "shapes", "width"]
    assert (report.width, report.height, report.instances) == (rec["width"], rec["height"], 2)
    assert report.shapes == (("rectangle", 2),)
    again = convert_file(settings, (str(small / "a.json"), "a", report.record))
    assert again.status == "skipped"
    assert again == report.__class__(**{**report.__dict__, "status": "skipped"})


def test_options_digest_covers_names_unknown_and_writer_options(tmp_path):
    base = settings_for(tmp_path)
    assert base.digest != settings_for(tmp_path, npy=True).digest
    other = Settings(tmp_path, base.writer, base.names, unknown="ignore")
    assert base.digest != other.digest
    assert len(base.digest) == 64


def test_bad_input_is_a_failed_report(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{")
    report = convert_file(settings_for(tmp_path / "out"), (str(bad), "x", None))
    assert (report.status, report.error_type) == ("failed", LabelmeFormatError.__name__)
    assert report.error.startswith(f"{bad}: invalid JSON at line 1")
