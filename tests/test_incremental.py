"""incremental: ownership marker, manifest + journal, up-to-date check, stale-file sweep."""

import json
import os

import pytest

from labeltools import OutputError
from labeltools.incremental import Records, options_digest, stamp, sweep, up_to_date


def test_marker_and_records_are_named_by_the_tool(tmp_path):
    records = Records(tmp_path / "out", "json2voc")
    assert records.marker.name == ".labeltools-json2voc.json"
    assert records.manifest.relative_to(tmp_path / "out").as_posix() == (
        ".labeltools-json2voc/manifest.json"
    )
    records.claim()
    assert json.loads(records.marker.read_text()) == {"tool": "labeltools json2voc", "format": 1}
    assert Records(tmp_path / "out", "json2coco").is_ours_or_empty() is False


def test_foreign_folder_and_file_are_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"not made by labeltools json2yolo; choose a new"):
        Records(tmp_path / "out", "json2yolo").claim()
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match=r"file: expected an output folder, found a file$"):
        Records(tmp_path / "file", "json2voc").claim()


def test_journal_wins_over_manifest_and_a_torn_line_is_ignored(tmp_path):
    records = Records(tmp_path, "json2voc")
    records.folder.mkdir()
    records.manifest.write_text(json.dumps({"a": {"v": 1}, "b": {"v": 1}}))
    with records.open_journal() as journal:
        records.journal_entry(journal, "b", {"v": 2})
    with records.journal.open("a") as journal:
        journal.write('{"stem": "c", "v"')  # what a SIGKILL leaves
    assert records.read() == {"a": {"v": 1}, "b": {"v": 2}}
    records.commit({"a": {"v": 3}})
    assert not records.journal.exists()
    assert records.read() == {"a": {"v": 3}}


def test_journal_and_manifest_take_a_record_as_its_json_text(tmp_path):
    # The pipeline hands over FileReport.record_json (encoded once, in the worker): the
    # lines must read back exactly as the dict form's would.
    records = Records(tmp_path, "json2voc")
    records.folder.mkdir()
    record = {"outputs": {"image": "JPEGImages/a.jpg"}, "report": {"n": [1, 2]}}
    text = json.dumps(record, sort_keys=True)
    with records.open_journal() as journal:
        records.journal_entry(journal, "a", text)
        records.journal_entry(journal, "b", record)
        records.journal_entry(journal, "e", "{}")
    assert records.journal.read_text().splitlines() == [
        '{"stem": "a", "outputs": {"image": "JPEGImages/a.jpg"}, "report": {"n": [1, 2]}}',
        '{"stem": "b", "outputs": {"image": "JPEGImages/a.jpg"}, "report": {"n": [1, 2]}}',
        '{"stem": "e"}',
    ]
    assert records.read() == {"a": record, "b": record, "e": {}}
    with records.open_journal() as journal, pytest.raises(
        ValueError, match=r"^journal_entry: a record must be a JSON object, got '\[1\]'$"
    ):
        records.journal_entry(journal, "c", "[1]")
    with records.new_manifest() as manifest:
        manifest.add("a", text)
        manifest.add("b", record)
        manifest.commit()
    assert records.read() == {"a": record, "b": record}
    assert records.manifest.read_text().count(json.dumps(record, sort_keys=True)) == 2


def test_up_to_date_needs_inputs_options_and_outputs(tmp_path):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"jpeg")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").write_bytes(b"png")
    record = {
        "json_sha256": "s",
        "options": "o",
        "image": stamp(image, os.stat(image)),
        "outputs": {"class": "a.png"},
        "report": {"n": 1},
    }
    expected = lambda report: {"class": "a.png"}  # noqa: E731
    root = str(tmp_path / "out")
    assert up_to_date(record, "s", "o", expected, root)
    assert not up_to_date(record, "other", "o", expected, root)
    assert not up_to_date(record, "s", "other", expected, root)
    assert not up_to_date(record, "s", "o", lambda report: {"class": "b.png"}, root)
    assert not up_to_date(record, "s", "o", lambda report: report["missing"], root)
    assert not up_to_date(None, "s", "o", expected, root)
    image.write_bytes(b"changed jpeg")
    assert not up_to_date(record, "s", "o", expected, root)


def test_options_digest_ignores_key_order():
    assert options_digest({"a": 1, "b": [2]}) == options_digest({"b": [2], "a": 1})
    assert options_digest({"a": 1}) != options_digest({"a": 2})


def test_sweep_keeps_claimed_files_and_wanted_folders(tmp_path):
    for rel in ("images/a.jpg", "images/old.jpg", "viz/a.jpg", "lists/all/train.txt",
                ".labeltools-tmp-0123456789ab.json", "top.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / "empty").mkdir()
    keep = {os.path.join(str(tmp_path), "images", "a.jpg")}
    sweep(tmp_path, ("images", "viz", "lists/all", "empty"), ("images", "empty"), keep)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == ["empty", "images", "images/a.jpg", "top.txt"]


def test_manifest_is_one_record_per_line_and_reads_back(tmp_path):
    from labeltools.incremental import MANIFEST_HEAD

    records = Records(tmp_path, "json2voc")
    records.folder.mkdir()
    records.commit({"b": {"v": [1, "é"]}, "a": {"v": 2}})
    text = records.manifest.read_text()
    assert text.startswith(MANIFEST_HEAD) and text.count("\n") == 4
    assert json.loads(text) == {"a": {"v": 2}, "b": {"v": [1, "é"]}}
    assert list(records.summaries()) == [("a", {"v": 2}), ("b", {"v": [1, "é"]})]
    assert list(records.summaries()) == list(records.summaries())  # read again each time
    records.commit({})
    assert json.loads(records.manifest.read_text()) == {}


def test_previous_records_read_a_one_line_manifest_and_the_journal(tmp_path):
    records = Records(tmp_path, "json2voc")
    records.folder.mkdir()
    old = {"a": {"v": 1, "outputs": {"image": "JPEGImages/a.jpg"}},
           "b": {"v": 1, "outputs": {"image": "JPEGImages/b.jpg", "x": 3}}}
    records.manifest.write_text(json.dumps(old, sort_keys=True) + "\n")  # labeltools < 2026-12
    with records.open_journal() as journal:
        records.journal_entry(journal, "b", {"v": 2, "outputs": {"image": "JPEGImages/B.jpg"}})
    with records.journal.open("a") as journal:
        journal.write('{"stem": "c", "v"')  # what a SIGKILL leaves
    with records.previous() as previous:
        assert previous.get("a") == old["a"]
        assert previous.get("b") == {"v": 2, "outputs": {"image": "JPEGImages/B.jpg"}}
        assert previous.get("c") is None and previous.get("z") is None
        owned = previous.owned
    assert all(str(tmp_path / f"JPEGImages/{s}.jpg") in owned for s in ("a", "b", "B"))
    assert str(tmp_path / "JPEGImages/c.jpg") not in owned and 3 not in owned
    # The one-line manifest was rewritten one record per line, the same JSON.
    assert json.loads(records.manifest.read_text()) == old
    assert records.manifest.read_text().count("\n") == 4


def test_a_torn_journal_line_does_not_swallow_the_next_entry(tmp_path):
    records = Records(tmp_path, "json2voc")
    records.folder.mkdir()
    records.journal.write_text('{"stem": "a", "v": 1}\n{"stem": "c", "v"')
    with records.open_journal() as journal:
        records.journal_entry(journal, "b", {"v": 2})
    assert records.read() == {"a": {"v": 1}, "b": {"v": 2}}


def test_path_set_holds_hashes():
    from labeltools.incremental import PathSet

    paths = PathSet(["/o/a.png", "/o/b.png"])
    paths.update(["/o/c.png"])
    paths.add("/o/a.png")
    assert "/o/a.png" in paths and "/o/c.png" in paths and "/o/d.png" not in paths
    assert len(paths) == 4  # a duplicate is kept: membership does not mind
    paths.add("/o/d.png")
    assert "/o/d.png" in paths and None not in paths
