"""json2coco / json2yolo end to end: resume, splits, failures, --map, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labeltools import json2coco, json2voc, json2yolo, label_map
from labeltools.cli import app
from labeltools.errors import LabelNameError

from .conftest import ROOT, SAMPLE_DATA, run_cli
from .test_cli_convert import _corpus
from .test_pipeline import tree_bytes

pytest.importorskip("pycocotools")
pytest.importorskip("cv2")

runner = CliRunner()
LABELS = str(SAMPLE_DATA / "labels.txt")
#: What each converter's journal is called, and a file that exists only once a run ends.
JOURNAL = {"json2coco": ".labeltools-json2coco/journal.jsonl",
           "json2yolo": ".labeltools-json2yolo/journal.jsonl"}
FINAL = {"json2coco": "annotations/instances_train.json", "json2yolo": "data.yaml"}


def comparable(root: Path) -> dict[str, bytes]:
    """Every file's bytes; data.yaml's absolute ``path`` line made relative."""
    files = tree_bytes(root)
    if "data.yaml" in files:
        files["data.yaml"] = files["data.yaml"].replace(str(root.resolve()).encode(), b"ROOT")
    return files


@pytest.mark.parametrize("command", ["json2coco", "json2yolo"])
def test_sigkill_then_rerun_is_byte_identical_to_a_clean_run(tmp_path, command):
    src = tmp_path / "in"
    _corpus(src, 150)
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "labeltools", command, str(src), str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    journal = out / JOURNAL[command]
    while time.monotonic() < deadline:
        if journal.is_file() and journal.read_bytes().count(b"\n") >= 10:
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / FINAL[command]).exists()  # killed halfway: not finished

    resumed = run_cli(command, str(src), str(out), "--workers", "1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] >= 10 and summary["written"] + summary["skipped"] == 150
    clean = run_cli(command, str(src), str(tmp_path / "clean"), "--workers", "2")
    assert clean.returncode == 0, clean.stderr
    assert comparable(out) == comparable(tmp_path / "clean")
    again = run_cli(command, str(src), str(out), "--workers", "2", "--json")
    assert json.loads(again.stdout)["skipped"] == 150


def _coco_split(root: Path, split: str) -> list[str]:
    doc = json.loads((root / "annotations" / f"instances_{split}.json").read_text())
    return sorted(Path(i["file_name"]).stem for i in doc["images"])


def _yolo_split(root: Path, split: str) -> list[str]:
    return sorted(p.stem for p in (root / "images" / split).glob("*.jpg"))


def _voc_split(root: Path, split: str) -> list[str]:
    return (root / "ImageSets" / "Segmentation" / f"{split}.txt").read_text().split()


def test_the_three_converters_split_alike(tmp_path):
    src = tmp_path / "in"
    _corpus(src, 23)
    kw = {"val_ratio": 0.3, "seed": 7, "workers": 1}
    json2voc(src, tmp_path / "voc", **kw)
    json2coco(src, tmp_path / "coco", **kw)
    json2yolo(src, tmp_path / "yolo", **kw)
    for split in ("train", "val"):
        voc = _voc_split(tmp_path / "voc", split)
        assert voc == _coco_split(tmp_path / "coco", split) == _yolo_split(tmp_path / "yolo", split)
        labels = sorted(p.stem for p in (tmp_path / "yolo" / "labels" / split).glob("*.txt"))
        assert labels == voc
    assert len(_voc_split(tmp_path / "voc", "val")) == 7


def test_a_failure_under_keep_going_moves_yolo_files_to_their_final_split(tmp_path):
    src = tmp_path / "in"
    _corpus(src, 12)
    for stem in ("k003", "k007"):  # fail in the conversion pass (the label pass reads JSON only)
        (src / f"{stem}.jpg").write_bytes(b"not a jpeg")
    voc = json2voc(src, tmp_path / "voc", keep_going=True, workers=1)
    yolo = json2yolo(src, tmp_path / "yolo", keep_going=True, workers=1)
    assert len(voc.failures) == len(yolo.failures) == 2
    for split in ("train", "val"):
        assert _yolo_split(tmp_path / "yolo", split) == _voc_split(tmp_path / "voc", split)
    before = comparable(tmp_path / "yolo")
    json2yolo(src, tmp_path / "yolo", keep_going=True, workers=1)  # moved files are rewritten
    assert comparable(tmp_path / "yolo") == before


def test_map_merges_ignores_and_drops_on_every_converter(tmp_path):
    mapping = label_map(["car=vehicle", "pole=vehicle", "fence=__ignore__", "ball=-", "horse=pony"])
    reports = [
        json2voc(SAMPLE_DATA, tmp_path / "voc", workers=1, label_map=mapping),
        json2coco(SAMPLE_DATA, tmp_path / "coco", workers=1, label_map=mapping),
        json2yolo(SAMPLE_DATA, tmp_path / "yolo", workers=1, label_map=mapping),
    ]
    for report in reports:
        assert report.labels.names == ("_background_", "person", "tree", "vehicle")
        assert report.remapped == {"ball=-": 4, "car=vehicle": 2, "fence=__ignore__": 2,
                                   "pole=vehicle": 2}
        assert report.warnings[0] == "--map horse=pony: no shape is labelled 'horse'"
    doc = json.loads((tmp_path / "coco" / "annotations" / "instances_train.json").read_text())
    assert [c["name"] for c in doc["categories"]] == ["person", "tree", "vehicle"]
    # 17 instances, less 4 balls and 2 fences.
    assert reports[1].instances == 11
    assert reports[2].instances == 11
    voc = tmp_path / "voc"
    assert (voc / "class_names.txt").read_text() == "_background_\nperson\ntree\nvehicle\n"


def test_map_applies_before_the_unknown_label_check(tmp_path):
    with pytest.raises(LabelNameError, match=r"1 label not in --labels: 'plant' in "):
        json2coco(SAMPLE_DATA, tmp_path / "o", "car,person,tree,ball,fence,pole",
                  label_map=label_map(["tree=plant"]), workers=1)
    report = json2coco(SAMPLE_DATA, tmp_path / "o", "car,person,plant,ball,fence,pole",
                       label_map=label_map(["tree=plant"]), workers=1)
    assert report.written == 5


def test_no_map_changes_nothing_in_json2voc(tmp_path):
    plain = json2voc(SAMPLE_DATA, tmp_path / "a", LABELS, workers=1)
    mapped = json2voc(SAMPLE_DATA, tmp_path / "b", LABELS, workers=1,
                      label_map=label_map(["nothing=here"]))
    assert plain.remapped is None and mapped.remapped == {}
    assert "remapped" not in plain.to_dict()
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    manifest = ".labeltools-json2voc/manifest.json"
    assert {k: v for k, v in a.items() if k != manifest} == {
        k: v for k, v in b.items() if k != manifest}


def test_cli_json2coco_json_summary(tmp_path):
    result = run_cli("json2coco", str(SAMPLE_DATA), str(tmp_path / "o"), "--labels", LABELS,
                     "--map", "ball=-", "--rle", "--json", "--workers", "1")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["instances"] == 13 and doc["remapped"] == {"ball=-": 4}
    assert "pixels" not in doc
    ann = json.loads((tmp_path / "o" / "annotations" / "instances_train.json").read_text())
    assert all(isinstance(a["segmentation"], dict) for a in ann["annotations"])


def test_cli_map_file_and_bad_rules(tmp_path):
    rules = tmp_path / "map.txt"
    rules.write_text("# typo\nball=-\n")
    result = runner.invoke(app, ["json2yolo", str(SAMPLE_DATA), str(tmp_path / "o"),
                                 "--map-file", str(rules), "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["remapped"] == {"ball=-": 4}
    result = runner.invoke(app, ["json2voc", str(SAMPLE_DATA), str(tmp_path / "v"), "--map", "ball"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: --map: a label rule must be SRC=DST (DST a label, __ignore__, _background_ "
        "or - to drop), got 'ball'\n"
    )


def test_switching_parts_rewrites_the_rows_as_a_fresh_run(tmp_path):
    out = tmp_path / "o"
    json2yolo(SAMPLE_DATA, out, LABELS, workers=1)
    merged = comparable(out)
    json2yolo(SAMPLE_DATA, out, LABELS, workers=1, parts="split")
    json2yolo(SAMPLE_DATA, tmp_path / "fresh", LABELS, workers=1, parts="split")
    switched = comparable(out)
    assert switched == comparable(tmp_path / "fresh")
    # sample_data's two objects in pieces: the people of yard_003 and portrait_004 (a
    # polygon body and a circle head, grouped) get a row more each.
    changed = sorted(k for k in switched if k.startswith("labels/") and switched[k] != merged[k])
    assert changed == ["labels/train/yard_003.txt", "labels/val/portrait_004.txt"]
    assert sum(switched[k].count(b"\n") - merged[k].count(b"\n") for k in changed) == 2


def test_json2yolo_writes_each_image_straight_into_its_split(tmp_path, monkeypatch):
    from labeltools.io.files import TMP_PREFIX

    moves = []
    real_replace = os.replace

    def replace(src, dst):
        if not os.path.basename(src).startswith(TMP_PREFIX):  # not an atomic write's rename
            moves.append((src, dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    json2yolo(SAMPLE_DATA, tmp_path / "o", LABELS, workers=1)
    assert (tmp_path / "o/images/val/portrait_004.jpg").is_file()
    assert moves == []  # the pipeline told the writer the split before writing


def test_cli_parts(tmp_path):
    result = runner.invoke(app, ["json2yolo", str(SAMPLE_DATA), str(tmp_path / "o"), "--parts",
                                 "split", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["instances"] == 17
    result = runner.invoke(app, ["json2yolo", str(SAMPLE_DATA), str(tmp_path / "p"), "--parts",
                                 "each"])
    assert result.exit_code == 2
    assert "Invalid value for '--parts': must be one of merge, split, got 'each'" in result.output
    assert not (tmp_path / "p").exists()


def test_cli_val_ratio_is_a_usage_error(tmp_path):
    for command in ("json2coco", "json2yolo"):
        result = runner.invoke(app, [command, str(SAMPLE_DATA), str(tmp_path / "o"),
                                     "--val-ratio", "1"])
        assert result.exit_code == 2
        assert "must be in [0, 1), got 1.0" in result.output


def test_hidden_objects_are_a_warning(tmp_path):
    from .test_pipeline import rect, write_labelme

    src = tmp_path / "in"
    write_labelme(src, "a", [rect("cat", 2, 2, 5, 5), rect("dog", 0, 0, 20, 20)])
    report = json2coco(src, tmp_path / "o", workers=1)
    assert report.warnings[-1] == (
        "1 object(s) have no visible pixel (later shapes cover them) and no annotation: a (1)"
    )


def test_a_missing_dependency_names_the_package(monkeypatch):
    from labeltools.errors import LabeltoolsError
    from labeltools.exports import require

    monkeypatch.setitem(sys.modules, "cv2", None)  # None in sys.modules: the import fails
    with pytest.raises(LabeltoolsError, match=r"^json2yolo needs opencv-python-headless: pip "
                                              r"install 'labeltools\[export\]'"):
        require("json2yolo")
