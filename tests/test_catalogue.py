"""The bad-input catalogue: one row per malformed or hostile input, across every command.

Each row builds its inputs in a fresh folder, runs one command (in this process through
typer's CliRunner, or as ``python -m labeltools`` where a real process matters: memory
limits for decompression bombs, signals, non-UTF-8 names, concurrent runs) and asserts
the README's promise:

* the exit status;
* the exact first line of stderr (``{t}`` is the row's folder; ``{...}`` matches
  anything). For a typer usage error (exit 2) the line compared is the message inside
  typer's error panel, prefixed ``Usage error:``;
* no traceback, and no exception other than ``SystemExit`` escaping the command;
* the files: ``unchanged`` (nothing under the row's folder changed), ``resumable``
  (json2voc stopped at a bad file: the folder is json2voc's, without split lists, and
  holds only complete files) or ``complete`` (exit 0 and a whole dataset);
* never a ``.labeltools-tmp-*`` file left anywhere.

A row whose command cannot be fixed yet is listed in ``KNOWN_FAILING`` with the reason;
it runs as a strict xfail, so fixing it turns the suite red until the entry is removed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests import hostile as h
from tests.hostile import b64, doc, jpeg_bytes, label_png, shape, write_doc

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


@dataclass
class Case:
    id: str
    kind: str
    build: Callable[[Path, h.Mounts], list[str]]
    status: int
    first: str
    after: str = "unchanged"
    proc: bool = False
    check: Callable[[Path, Outcome], None] | None = None


CASES: list[Case] = []


def row(id: str, kind: str, status: int, first: str, after: str = "unchanged",
        proc: bool = False, check: Callable[[Path, Outcome], None] | None = None) -> Callable:
    def register(build: Callable[[Path, h.Mounts], list[str]]) -> Callable:
        CASES.append(Case(id, kind, build, status, first, after, proc, check))
        return build

    return register


# --------------------------------------------------------------------------- builders

def j2v(t: Path, *extra: str) -> list[str]:
    return ["json2voc", str(t / "in"), str(t / "out"), "-j", "1", *extra]


def good_input(t: Path, n: int = 2) -> Path:
    return h.corpus(t / "in", n)


def one_doc(t: Path, shapes: list[Any] | None = None, **kw: Any) -> Path:
    """in/ with one good file a0 and the row's file bad.json."""
    h.corpus(t / "in", 1)
    return write_doc(t / "in", "bad", shapes, **kw)


def raw_doc(t: Path, text: str | bytes, name: str = "bad.json") -> Path:
    h.corpus(t / "in", 1)
    p = t / "in" / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def voc(t: Path, n: int = 4) -> Path:
    """A clean VOC dataset at t/voc made by json2voc (classes: _background_, car, person)."""
    import labeltools

    labeltools.json2voc(h.corpus(t / "src", n), t / "voc", workers=1)
    return t / "voc"


def put_label(t: Path, stem: str, data: bytes, with_image: bool = True) -> Path:
    d = t / "voc"
    (d / "SegmentationClass" / f"{stem}.png").write_bytes(data)
    if with_image:
        (d / "JPEGImages" / f"{stem}.jpg").write_bytes(jpeg_bytes())
    return d


def labels_folder(t: Path, *files: tuple[str, bytes]) -> Path:
    d = t / "labels"
    d.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (d / name).write_bytes(data)
    return d


def good_label(values: int | np.ndarray = 1) -> bytes:
    arr = np.zeros((h.H, h.W), np.uint8)
    arr[4:12, 4:20] = values
    return label_png(arr)


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


RGB_LABEL = h.png_bytes(np.full((h.H, h.W, 3), (128, 0, 0), np.uint8))
TRUNCATED_PNG = truncated(good_label())
JPEG_AS_PNG = jpeg_bytes()


def file_parent(t: Path) -> Path:
    (t / "afile").write_text("not a folder\n")
    return t / "afile"


# --------------------------------------------------------------------------- checks

def lists(t: Path, name: str) -> list[str]:
    return (t / "out" / "ImageSets" / "Segmentation" / f"{name}.txt").read_text().split()


def check_json(out: Outcome) -> dict[str, Any]:
    return json.loads(out.stdout)


def problem_ids(out: Outcome, kind: str) -> list[str]:
    for p in check_json(out)["problems"]:
        if p["kind"] == kind:
            return p["ids"]
    return []


# ============================================================================ json2voc
# --------------------------------------------------------------------- 1. data loss / escape

@row("j2v-symlinked-jpegimages", "escape", 1,
     "Error: {t}/out/JPEGImages: a symbolic link (to {t}/elsewhere); json2voc writes only "
     "inside OUTPUT_DIR and does not follow links out of it: replace the link with a folder")
def _(t, m):
    good_input(t)
    import labeltools

    labeltools.json2voc(t / "in", t / "out", workers=1)
    (t / "elsewhere").mkdir()
    (t / "elsewhere" / "precious.jpg").write_bytes(b"keep me")
    import shutil

    shutil.rmtree(t / "out" / "JPEGImages")
    (t / "out" / "JPEGImages").symlink_to(t / "elsewhere", target_is_directory=True)
    return j2v(t)


@row("j2v-symlinked-label-file", "escape", 0, "", after="complete",
     check=lambda t, o: (
         (t / "outside.png").read_bytes() == b"outside",
         (t / "out" / "SegmentationClass" / "a1.png").is_symlink() is False,
     ) == (True, True) or pytest.fail("a symlinked output was followed"))
def _(t, m):
    good_input(t)
    import labeltools

    labeltools.json2voc(t / "in", t / "out", workers=1)
    (t / "outside.png").write_bytes(b"outside")
    (t / "out" / "SegmentationClass" / "a1.png").unlink()
    (t / "out" / "SegmentationClass" / "a1.png").symlink_to(t / "outside.png")
    # A changed input forces a rewrite of a1's outputs.
    p = t / "in" / "a1.json"
    p.write_text(p.read_text().replace('"flags": {}', '"flags": {"x": true}', 1))
    return j2v(t)


def _test_list_kept(t: Path, o: Outcome) -> None:
    test = (t / "out" / "ImageSets" / "Segmentation" / "test.txt").read_text()
    assert test == (t / "test.txt.before").read_text(), "test.txt was changed"
    held_out = set(test.split())
    assert held_out, "the row needs a non-empty test list"
    leaked = held_out & (set(lists(t, "train")) | set(lists(t, "val")))
    assert not leaked, f"test ids put back into train/val: {sorted(leaked)}"


@row("j2v-keeps-split-test-list", "data loss", 0, "", after="complete", check=_test_list_kept)
def _(t, m):
    good_input(t, 10)
    import labeltools

    labeltools.json2voc(t / "in", t / "out", workers=1)
    from typer.testing import CliRunner

    from labeltools.cli import app

    done = CliRunner().invoke(app, ["split", str(t / "out"), "--test", "0.2", "--overwrite"])
    assert done.exit_code == 0, done.output
    test = t / "out" / "ImageSets" / "Segmentation" / "test.txt"
    (t / "test.txt.before").write_bytes(test.read_bytes())
    return j2v(t)


@row("j2v-keeps-user-file", "data loss", 0, "", after="complete",
     check=lambda t, o: (t / "out" / "SegmentationClass" / "mine.png").read_bytes() == b"user"
     or pytest.fail("a file json2voc did not write was deleted"))
def _(t, m):
    good_input(t)
    import labeltools

    labeltools.json2voc(t / "in", t / "out", workers=1)
    (t / "out" / "SegmentationClass" / "mine.png").write_bytes(b"user")
    return j2v(t)


@row("j2v-keeps-user-notes", "data loss", 0, "", after="complete",
     check=lambda t, o: (t / "out" / "JPEGImages" / "README.txt").read_bytes() == b"notes"
     or pytest.fail("a file json2voc did not write was deleted"))
def _(t, m):
    good_input(t)
    import labeltools

    labeltools.json2voc(t / "in", t / "out", workers=1)
    (t / "out" / "JPEGImages" / "README.txt").write_bytes(b"notes")
    return j2v(t)


_RUNNING: dict[Path, subprocess.Popen[bytes]] = {}


def _first_run_completes(t: Path, o: Outcome) -> None:
    holder = _RUNNING.pop(t)
    _, err = holder.communicate(b"", timeout=60)  # releases the lock
    assert holder.returncode == 0, err.decode()
    assert lists(t, "trainval"), "the refused run removed the dataset's lists"


@row("j2v-concurrent-run-locked", "concurrent", 1,
     "Error: {t}/out: the folder is in use by another labeltools json2voc run; wait for it to "
     "finish", after="any", proc=True, check=_first_run_completes)
def _(t, m):
    # "Another run" holds the folder: json2voc's own lock, taken by a process that waits,
    # so the row does not depend on timing (test_faults races two real runs).
    good_input(t)
    import labeltools

    labeltools.json2voc(t / "in", t / "out", workers=1)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from labeltools.incremental import Records\n"
         "with Records(Path(sys.argv[1]), 'json2voc').lock():\n"
         "    print('locked', flush=True); sys.stdin.read()",
         str(t / "out")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=h.cli_env(),
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
    _RUNNING[t] = holder
    return j2v(t)


# --------------------------------------------------------------------- 2. class names

NAME_RULE = ("a class name must be non-empty, without surrounding spaces, line breaks or "
             "control characters")


def _no_labelmap(t: Path, o: Outcome) -> None:
    """A ':' (labelmap.txt's separator) in a class name: class_names.txt holds it, and
    labelmap.txt is left out (with a warning) rather than written so that it misreads."""
    assert ":" in (t / "out" / "class_names.txt").read_text()
    assert not (t / "out" / "labelmap.txt").exists(), "labelmap.txt written with a ':' name"
    assert "labelmap.txt not written" in o.stdout


@row("j2v-label-empty", "class name", 1,
     "Error: {t}/in: 1 bad class name: '' (empty) in bad.json; " + NAME_RULE
     + "; rename it in the labelme files")
def _(t, m):
    one_doc(t, [shape("")])
    return j2v(t)


@row("j2v-label-trailing-space", "class name", 1,
     "Error: {t}/in: 1 bad class name: 'car ' (surrounding spaces) in bad.json; " + NAME_RULE
     + "; rename it in the labelme files")
def _(t, m):
    one_doc(t, [shape("car "), shape("car")])
    return j2v(t)


@row("j2v-label-leading-space", "class name", 1,
     "Error: {t}/in: 1 bad class name: ' person' (surrounding spaces) in bad.json; " + NAME_RULE
     + "; rename it in the labelme files")
def _(t, m):
    one_doc(t, [shape(" person")])
    return j2v(t)


@row("j2v-label-newline", "class name", 1,
     "Error: {t}/in: 1 bad class name: 'ca\\nr' (line break) in bad.json; " + NAME_RULE
     + "; rename it in the labelme files")
def _(t, m):
    one_doc(t, [shape("ca\nr")])
    return j2v(t)


@row("j2v-label-control", "class name", 1,
     "Error: {t}/in: 1 bad class name: '\\x07car' (control character) in bad.json; " + NAME_RULE
     + "; rename it in the labelme files")
def _(t, m):
    one_doc(t, [shape("\x07car")])
    return j2v(t)


@row("j2v-label-tab", "class name", 1,
     "Error: {t}/in: 1 bad class name: 'a\\tb' (control character) in bad.json; " + NAME_RULE
     + "; rename it in the labelme files")
def _(t, m):
    one_doc(t, [shape("a\tb")])
    return j2v(t)


@row("j2v-label-colon", "class name", 0, "", after="complete",
     check=_no_labelmap)
def _(t, m):
    one_doc(t, [shape("road:wet")])
    return j2v(t)


@row("j2v-label-two-bad", "class name", 1,
     "Error: {t}/in: 2 bad class names: '' (empty) in bad.json; 'x\\ny' (line break) in a0.json, "
     "bad.json; " + NAME_RULE + "; rename them in the labelme files")
def _(t, m):
    one_doc(t, [shape(""), shape("x\ny")])
    p = t / "in" / "a0.json"
    d = json.loads(p.read_text())
    d["shapes"].append(shape("x\ny"))
    p.write_text(json.dumps(d))
    return j2v(t)


@row("j2v-labels-file-colon", "class name", 0, "", after="complete",
     check=_no_labelmap)
def _(t, m):
    good_input(t)
    (t / "labels.txt").write_text("__ignore__\n_background_\ncar\nroad:wet\nperson\n")
    return j2v(t, "--labels", str(t / "labels.txt"))


@row("j2v-labels-file-control", "class name", 1,
     "Error: {t}/labels.txt: 1 bad class name: 'per\\x1bson' (control character) on line 3; "
     + NAME_RULE + "; fix the labels file")
def _(t, m):
    good_input(t)
    (t / "labels.txt").write_text("_background_\ncar\nper\x1bson\n")
    return j2v(t, "--labels", str(t / "labels.txt"))


@row("j2v-labels-option-colon", "class name", 0, "", after="complete",
     check=_no_labelmap)
def _(t, m):
    good_input(t)
    return j2v(t, "--labels", "car,a:b,person")


@row("j2v-labels-file-duplicate", "class name", 1,
     "Error: {t}/labels.txt: line 4: class name 'car' already given on line 2")
def _(t, m):
    good_input(t)
    (t / "labels.txt").write_text("_background_\ncar\nperson\ncar\n")
    return j2v(t, "--labels", str(t / "labels.txt"))


# --------------------------------------------------------------------- 3. bombs, nesting

def _bomb_doc(t: Path, kind: str) -> None:
    h.corpus(t / "in", 1)
    if kind == "png":
        write_doc(t / "in", "bad", image_bytes=h.png_bomb(), ext="png", w=h.BOMB, h=h.BOMB)
    elif kind == "jpeg":
        write_doc(t / "in", "bad", image_bytes=h.jpeg_bomb(), w=h.JPEG_BOMB, h=h.JPEG_BOMB)
    elif kind == "imagedata":
        d = doc("bad", [shape("car")], w=h.BOMB, h=h.BOMB, image=None,
                image_data=b64(h.png_bomb()))
        (t / "in" / "bad.json").write_text(json.dumps(d))
    elif kind == "mask":
        mask = shape("car", [[0, 0], [5, 5]], kind="mask", mask=b64(h.png_bomb(colour_type=0)))
        write_doc(t / "in", "bad", [mask])


BOMB_PX = str(h.BOMB * h.BOMB)


@row("j2v-bomb-png", "bomb", 1,
     "Error: {t}/in/bad.json: the image {t}/in/bad.png declares " + BOMB_PX
     + " pixels, more than labeltools decodes (the decompression-bomb limit, 178956970 pixels)",
     after="resumable", proc=True)
def _(t, m):
    _bomb_doc(t, "png")
    return j2v(t)


@row("j2v-bomb-jpeg", "bomb", 1,
     "Error: {t}/in/bad.json: the image {t}/in/bad.jpg declares 4225000000 pixels, more than "
     "labeltools decodes (the decompression-bomb limit, 178956970 pixels)",
     after="resumable", proc=True)
def _(t, m):
    _bomb_doc(t, "jpeg")
    return j2v(t)


@row("j2v-bomb-imagedata", "bomb", 1,
     "Error: {t}/in/bad.json: its embedded imageData declares " + BOMB_PX
     + " pixels, more than labeltools decodes (the decompression-bomb limit, 178956970 pixels)",
     after="resumable", proc=True)
def _(t, m):
    _bomb_doc(t, "imagedata")
    return j2v(t)


@row("j2v-bomb-mask-patch", "bomb", 1,
     "Error: {t}/in/bad.json: shape #0 (mask): the \"mask\" patch declares " + BOMB_PX
     + " pixels, more than labeltools decodes (the decompression-bomb limit, 178956970 pixels)",
     after="resumable", proc=True)
def _(t, m):
    _bomb_doc(t, "mask")
    return j2v(t)


@row("j2v-deep-nesting", "nesting", 1,
     "Error: {t}/in/bad.json: not valid JSON: nested too deeply",
     after="unchanged", proc=True)
def _(t, m):
    raw_doc(t, '{"shapes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return j2v(t)


@row("j2v-deep-nesting-shapes", "nesting", 1,
     "Error: {t}/in/bad.json: not valid JSON: nested too deeply",
     after="unchanged", proc=True)
def _(t, m):
    raw_doc(t, '{"version": "5", "shapes": [{"label": "car", "points": '
            + "[" * 50_000 + "]" * 50_000 + "}]}")
    return j2v(t)


# --------------------------------------------------------------------- 3. file system

@row("j2v-output-parent-is-file", "file system", 1,
     "Error: {t}/afile/out: cannot create the output folder: {t}/afile is a file")
def _(t, m):
    good_input(t)
    file_parent(t)
    return ["json2voc", str(t / "in"), str(t / "afile" / "out"), "-j", "1"]


@row("j2v-read-only-output", "file system", 1,
     "Error: {t}/ro/out: cannot create the output folder: read-only file system")
def _(t, m):
    good_input(t)
    (t / "ro").mkdir()
    m.read_only(t / "ro")
    return ["json2voc", str(t / "in"), str(t / "ro" / "out"), "-j", "1"]


@row("j2v-read-only-rerun", "file system", 1,
     "Error: {t}/ro/out: cannot write to the output folder: read-only file system")
def _(t, m):
    good_input(t)
    import labeltools

    (t / "ro").mkdir()
    labeltools.json2voc(t / "in", t / "ro" / "out", workers=1)
    h.corpus(t / "more", 3)
    (t / "in" / "a2.json").write_bytes((t / "more" / "a2.json").read_bytes())
    (t / "in" / "a2.jpg").write_bytes((t / "more" / "a2.jpg").read_bytes())
    m.read_only(t / "ro")
    return ["json2voc", str(t / "in"), str(t / "ro" / "out"), "-j", "1"]


@row("j2v-disk-full", "file system", 1,
     "Error: {t}/full/out: cannot write outputs of {t}/in/a{...}.json: [Errno 28] No space left "
     "on device",
     after="resumable", proc=True)
def _(t, m):
    # Noisy 200x150 JPEGs (~25 kB each, 3 outputs): 60 of them do not fit in 1 MiB.
    h.corpus(t / "in", 60, w=200, h=150)
    m.tmpfs(t / "full", "1m")
    return ["json2voc", str(t / "in"), str(t / "full" / "out"), "-j", "1"]


# --------------------------------------------------------------------- 3. names

@row("j2v-non-utf8-name", "file name", 1,
     "Error: {t}/in/caf\\xe9.json: the file name is not UTF-8, which VOC's id lists cannot "
     "hold; rename the file", after="unchanged", proc=True)
def _(t, m):
    good_input(t)
    src = t / "in" / "a0.json"
    d = json.loads(src.read_text())
    d["imagePath"] = "a0.jpg"
    os.makedirs(t / "in", exist_ok=True)
    with open(os.path.join(os.fsencode(t / "in"), b"caf\xe9.json"), "w") as fh:
        json.dump(d, fh)
    return j2v(t)


# --------------------------------------------------------------------- 4. bad pixels

@row("j2v-truncated-jpeg", "bad pixels", 1,
     "Error: {t}/in/bad.json: the image {t}/in/bad.jpg is truncated (JPEG end marker missing)",
     after="resumable")
def _(t, m):
    one_doc(t, image_bytes=truncated(jpeg_bytes(seed=5)))
    return j2v(t)


def _grey16_ok(t: Path, o: Outcome) -> None:
    img = np.asarray(Image.open(t / "out" / "JPEGImages" / "bad.jpg").convert("L"), np.float64)
    ramp = np.linspace(0, 255, h.W)
    assert np.abs(img.mean(axis=0) - ramp).max() < 8, "16-bit values not scaled to 8 bits"


@row("j2v-16bit-png-photo", "bad pixels", 0, "", after="complete", check=_grey16_ok)
def _(t, m):
    one_doc(t, image_bytes=h.grey16_png(), ext="png")
    return j2v(t)


def _covers(value: int, share: float = 1.0) -> Callable[[Path, Outcome], None]:
    def check(t: Path, o: Outcome) -> None:
        from labeltools import lblread

        lbl = lblread(t / "out" / "SegmentationClass" / "bad.png")
        assert (lbl == value).mean() >= share, f"class {value} covers {(lbl == value).mean():.0%}"

    return check


@row("j2v-coords-beyond-2-31", "bad pixels", 0, "", after="complete", check=_covers(1))
def _(t, m):
    big = 3e9
    one_doc(t, [shape("car", [[-big, -big], [big, -big], [big, big], [-big, big]])])
    return j2v(t)


@row("j2v-rectangle-beyond-2-31", "bad pixels", 0, "", after="complete", check=_covers(1))
def _(t, m):
    one_doc(t, [shape("car", [[-5e9, -5e9], [5e9, 5e9]], kind="rectangle")])
    return j2v(t)


@row("j2v-circle-radius-1e9", "bad pixels", 0, "", after="complete", check=_covers(1))
def _(t, m):
    one_doc(t, [shape("car", [[10, 10], [10 + 1e9, 10]], kind="circle")])
    return j2v(t)


@row("j2v-upper-case-JSON", "skipped input", 0, "", after="complete",
     check=lambda t, o: (t / "out" / "SegmentationClass" / "B.png").is_file()
     or pytest.fail("B.JSON was skipped"))
def _(t, m):
    good_input(t)
    write_doc(t / "in", "B")
    (t / "in" / "B.json").rename(t / "in" / "B.JSON")
    return j2v(t)


@row("j2v-dangling-symlink", "skipped input", 1,
     "Error: {t}/in/gone.json: a broken symbolic link (to {t}/nowhere.json)")
def _(t, m):
    good_input(t)
    (t / "in" / "gone.json").symlink_to(t / "nowhere.json")
    return j2v(t)


@row("j2v-looping-symlink", "skipped input", 1,
     "Error: {t}/in/loop.json: a symbolic link loop")
def _(t, m):
    good_input(t)
    (t / "in" / "loop.json").symlink_to(t / "in" / "loop2.json")
    (t / "in" / "loop2.json").symlink_to(t / "in" / "loop.json")
    return j2v(t)


# --------------------------------------------------------------------- everyday json2voc

@row("j2v-shapes-not-list", "json types", 1,
     'Error: {t}/in/bad.json: "shapes" must be an array, got object')
def _(t, m):
    raw_doc(t, json.dumps(doc("bad", {"0": shape("car")})))  # type: ignore[arg-type]
    return j2v(t)


@row("j2v-label-number", "json types", 1,
     'Error: {t}/in/bad.json: shape #0: "label" must be a string, got 7')
def _(t, m):
    one_doc(t, [shape(7)])  # type: ignore[arg-type]
    return j2v(t)


@row("j2v-points-string", "json types", 1,
     'Error: {t}/in/bad.json: shape #0 (polygon): "points" must be an array of [x, y], got "1,2,3,4"', after="resumable")
def _(t, m):
    one_doc(t, [shape("car", "1,2,3,4")])
    return j2v(t)


@row("j2v-point-bool", "json types", 1,
     "Error: {t}/in/bad.json: shape #0 (polygon): point #1 must be [x, y] numbers, got [true, 5]", after="resumable")
def _(t, m):
    one_doc(t, [shape("car", [[1, 1], [True, 5], [9, 9]])])
    return j2v(t)


@row("j2v-image-height-string", "json types", 1,
     'Error: {t}/in/bad.json: "imageHeight" must be a positive integer or null, got "24"', after="resumable")
def _(t, m):
    one_doc(t, h="24")
    return j2v(t)


@row("j2v-group-id-string", "json types", 1,
     'Error: {t}/in/bad.json: shape #0 (polygon): "group_id" must be an integer or null, got "one"', after="resumable")
def _(t, m):
    one_doc(t, [shape("car", group_id="one")])
    return j2v(t)


@row("j2v-top-level-list", "json types", 1,
     "Error: {t}/in/bad.json: expected a labelme JSON object, got a JSON array")
def _(t, m):
    raw_doc(t, "[]")
    return j2v(t)


@row("j2v-invalid-json", "json types", 1,
     "Error: {t}/in/bad.json: invalid JSON at line 1, column 13: Expecting value")
def _(t, m):
    raw_doc(t, '{"shapes": [}')
    return j2v(t)


@row("j2v-empty-file", "json types", 1,
     "Error: {t}/in/bad.json: invalid JSON at line 1, column 1: Expecting value")
def _(t, m):
    raw_doc(t, b"")
    return j2v(t)


@row("j2v-not-utf8-content", "json types", 1,
     "Error: {t}/in/bad.json: expected UTF-8 JSON, invalid continuation byte at byte 32")
def _(t, m):
    raw_doc(t, b'{"shapes": [], "imagePath": "caf\xe9.jpg"}')
    return j2v(t)


@row("j2v-nan-point", "nan", 1,
     "Error: {t}/in/bad.json: shape #0 (polygon): point #1 is not finite: [NaN, 2]", after="resumable")
def _(t, m):
    h.corpus(t / "in", 1)
    write_doc(t / "in", "bad")
    p = t / "in" / "bad.json"
    p.write_text(p.read_text().replace("[20, 2]", "[NaN, 2]", 1))
    return j2v(t)


@row("j2v-infinite-point", "nan", 1,
     "Error: {t}/in/bad.json: shape #0 (polygon): point #1 is not finite: [Infinity, 2]", after="resumable")
def _(t, m):
    h.corpus(t / "in", 1)
    write_doc(t / "in", "bad")
    p = t / "in" / "bad.json"
    p.write_text(p.read_text().replace("[20, 2]", "[Infinity, 2]", 1))
    return j2v(t)


@row("j2v-missing-image", "missing image", 1,
     "Error: {t}/in/bad.json: image file not found: {t}/in/bad.jpg (imagePath 'bad.jpg')", after="resumable")
def _(t, m):
    one_doc(t)
    (t / "in" / "bad.jpg").unlink()
    return j2v(t)


@row("j2v-no-image-at-all", "missing image", 1,
     'Error: {t}/in/bad.json: no image: "imageData" is empty and "imagePath" is null', after="resumable")
def _(t, m):
    h.corpus(t / "in", 1)
    (t / "in" / "bad.json").write_text(json.dumps(doc("bad", [shape("car")], image=None)))
    return j2v(t)


@row("j2v-image-path-is-folder", "missing image", 1,
     "Error: {t}/in/bad.json: image file not found: {t}/in/bad.jpg (imagePath 'bad.jpg')", after="resumable")
def _(t, m):
    one_doc(t)
    (t / "in" / "bad.jpg").unlink()
    (t / "in" / "bad.jpg").mkdir()
    return j2v(t)


@row("j2v-image-not-an-image", "missing image", 1,
     "Error: {t}/in/bad.json: the image {t}/in/bad.jpg is not a readable image", after="resumable")
def _(t, m):
    one_doc(t, image_bytes=b"this is text, not a JPEG\n")
    return j2v(t)


@row("j2v-bad-base64-imagedata", "base64", 1,
     'Error: {t}/in/bad.json: "imageData" is not valid base64 (Only base64 data is allowed)', after="resumable")
def _(t, m):
    h.corpus(t / "in", 1)
    d = doc("bad", [shape("car")], image=None, image_data="%%%not base64%%%")
    (t / "in" / "bad.json").write_text(json.dumps(d))
    return j2v(t)


@row("j2v-imagedata-not-image", "base64", 1,
     "Error: {t}/in/bad.json: its embedded imageData is not a readable image", after="resumable")
def _(t, m):
    h.corpus(t / "in", 1)
    d = doc("bad", [shape("car")], image=None, image_data=b64(b"plain text"))
    (t / "in" / "bad.json").write_text(json.dumps(d))
    return j2v(t)


@row("j2v-bad-base64-mask", "base64", 1,
     'Error: {t}/in/bad.json: shape #0 (mask): "mask" is not valid base64 (Only base64 data is allowed)', after="resumable")
def _(t, m):
    one_doc(t, [shape("car", [[0, 0], [5, 5]], kind="mask", mask="@@@")])
    return j2v(t)


@row("j2v-size-mismatch", "size mismatch", 1,
     "Error: {t}/in/bad.json: imageHeight x imageWidth is 30x40 but the image {t}/in/bad.jpg is 24x32", after="resumable")
def _(t, m):
    one_doc(t, w=40, h=30)
    return j2v(t)


@row("j2v-unknown-label", "unknown labels", 1,
     "Error: {t}/in: 1 label not in --labels: 'person' in a1.json; add it to the labels or pass --unknown ignore|background")
def _(t, m):
    good_input(t)
    return j2v(t, "--labels", "car")


@row("j2v-over-255-classes", "classes", 1, 
     "Error: {t}/in: 258 classes do not fit an 8-bit label PNG "
     "(classes 0..254, 255 = void); use --npy to write int32 SegmentationClassNpy labels")
def _(t, m):
    one_doc(t, [shape(f"c{i:03d}") for i in range(256)])
    return j2v(t)


@row("j2v-unknown-shape-type", "json types", 1,
     "Error: {t}/in/bad.json: shape #0: unknown shape_type 'blob'; expected one of polygon, rectangle, circle, line, linestrip, point, oriented_rectangle, mask", after="resumable")
def _(t, m):
    one_doc(t, [shape("car", kind="blob")])
    return j2v(t)


@row("j2v-rectangle-three-points", "json types", 1,
     "Error: {t}/in/bad.json: shape #0 (rectangle) needs 2 points, got 3", after="resumable")
def _(t, m):
    one_doc(t, [shape("car", [[0, 0], [4, 4], [8, 8]], kind="rectangle")])
    return j2v(t)


@row("j2v-no-input-folder", "paths", 1,
     "Error: {t}/in: no such input folder")
def _(t, m):
    return j2v(t)


@row("j2v-no-json-files", "paths", 1,
     "Error: {t}/in: no labelme *.json files found (use --recursive to search subfolders)")
def _(t, m):
    (t / "in").mkdir()
    (t / "in" / "x.jpg").write_bytes(jpeg_bytes())
    return j2v(t)


@row("j2v-output-is-file", "paths", 1,
     "Error: {t}/out: expected an output folder, found a file")
def _(t, m):
    good_input(t)
    (t / "out").write_text("a file")
    return j2v(t)


@row("j2v-output-foreign", "paths", 1,
     "Error: {t}/out: the folder is not empty and was not made by labeltools json2voc; choose a new or empty output folder")
def _(t, m):
    good_input(t)
    (t / "out").mkdir()
    (t / "out" / "thesis.tex").write_text("mine")
    return j2v(t)


@row("j2v-labels-file-missing", "paths", 1,
     "Error: {t}/labels.txt: no such labels file")
def _(t, m):
    good_input(t)
    return j2v(t, "--labels", str(t / "labels.txt"))


@row("j2v-val-ratio-1", "options", 2,
     "Usage error: Invalid value for --val-ratio: must be in [0, 1), got 1.0")
def _(t, m):
    good_input(t)
    return j2v(t, "--val-ratio", "1")


# ============================================================================ check

@row("check-bomb-label-is-a-row", "bomb", 1, "", proc=True,
     check=lambda t, o: problem_ids(o, "unreadable_label") == ["bomb"]
     or pytest.fail(f"bomb label not reported as a row: {o.stdout[:300]}"))
def _(t, m):
    voc(t)
    put_label(t, "bomb", h.png_bomb())
    return ["check", str(t / "voc"), "--json", "-j", "1"]


@row("check-bomb-image-is-a-row", "bomb", 1, "", proc=True,
     check=lambda t, o: problem_ids(o, "unreadable_image") == ["a0"]
     or pytest.fail(f"bomb image not reported as a row: {o.stdout[:300]}"))
def _(t, m):
    voc(t)
    (t / "voc" / "JPEGImages" / "a0.jpg").write_bytes(h.jpeg_bomb())
    return ["check", str(t / "voc"), "--json", "-j", "1"]


@row("check-jpeg-bytes-label", "bad pixels", 1, "",
     check=lambda t, o: problem_ids(o, "unreadable_label") == ["a0"]
     or pytest.fail(f"a JPEG saved as .png passed: {o.stdout[:400]}"))
def _(t, m):
    voc(t)
    put_label(t, "a0", JPEG_AS_PNG, with_image=False)
    return ["check", str(t / "voc"), "--json", "-j", "1"]


@row("check-rgb-label", "rgb", 1, "",
     check=lambda t, o: problem_ids(o, "rgb_label") == ["a0"] or pytest.fail(o.stdout))
def _(t, m):
    voc(t)
    put_label(t, "a0", RGB_LABEL, with_image=False)
    return ["check", str(t / "voc"), "--json", "-j", "1"]


@row("check-truncated-label", "truncated png", 1, "",
     check=lambda t, o: problem_ids(o, "unreadable_label") == ["a0"] or pytest.fail(o.stdout))
def _(t, m):
    voc(t)
    put_label(t, "a0", TRUNCATED_PNG, with_image=False)
    return ["check", str(t / "voc"), "--json", "-j", "1"]


@row("check-out-of-range", "out of range", 1, "",
     check=lambda t, o: problem_ids(o, "out_of_range") == ["a0"] or pytest.fail(o.stdout))
def _(t, m):
    voc(t)
    put_label(t, "a0", good_label(40), with_image=False)
    return ["check", str(t / "voc"), "--json", "-j", "1"]


@row("check-no-dataset", "paths", 1,
     "Error: {t}/nowhere: expected a VOC dataset folder with SegmentationClass/, found none")
def _(t, m):
    return ["check", str(t / "nowhere")]


@row("check-bad-class-names-file", "class name", 1,
     "Error: {t}/voc/class_names.txt: expected UTF-8 text, invalid start byte at byte 21")
def _(t, m):
    voc(t)
    (t / "voc" / "class_names.txt").write_bytes(b"_background_\ncar:red\n\xff\xfe\n")
    return ["check", str(t / "voc"), "-j", "1"]


# ============================================================================ stats

@row("stats-bomb-label", "bomb", 1,
     "Error: {t}/voc/SegmentationClass/bomb.png: declares " + BOMB_PX + " pixels, more than "
     "labeltools decodes (the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    voc(t)
    put_label(t, "bomb", h.png_bomb())
    return ["stats", str(t / "voc"), "-j", "1"]


@row("stats-jpeg-bytes-label", "bad pixels", 1, 
     "Error: {t}/voc/SegmentationClass/a0.png: expected a PNG label image, found a JPEG file")
def _(t, m):
    voc(t)
    put_label(t, "a0", JPEG_AS_PNG)
    return ["stats", str(t / "voc"), "-j", "1"]


@row("stats-rgb-label", "rgb", 1,
     "Error: {t}/voc/SegmentationClass/a0.png: expected class indices (a P or L PNG), found RGB colours; convert colour masks with `labeltools rgb2index`")
def _(t, m):
    voc(t)
    put_label(t, "a0", RGB_LABEL)
    return ["stats", str(t / "voc"), "-j", "1"]


@row("stats-truncated-label", "truncated png", 1,
     "Error: {t}/voc/SegmentationClass/a0.png: cannot read image header: Truncated File Read")
def _(t, m):
    voc(t)
    put_label(t, "a0", TRUNCATED_PNG)
    return ["stats", str(t / "voc"), "-j", "1"]


@row("stats-missing-list", "paths", 1,
     "Error: {t}/voc/ImageSets/Segmentation/nope.txt: no such list file")
def _(t, m):
    voc(t)
    return ["stats", str(t / "voc"), "--list", "nope.txt"]


@row("stats-plot-parent-is-file", "file system", 1,
     "Error: {t}/afile/plot.png: cannot write: {t}/afile is a file")
def _(t, m):
    voc(t)
    file_parent(t)
    return ["stats", str(t / "voc"), "-j", "1", "--plot", str(t / "afile" / "plot.png")]


# ============================================================================ split

def _split(t: Path, *opts: str) -> list[str]:
    voc(t, 6)
    return ["split", str(t / "voc"), "--overwrite", "-j", "1", *opts]


@row("split-val-1.5", "options", 2, "Usage error: Invalid value for --val-ratio: must be in [0, 1), got 1.5")
def _(t, m):
    return _split(t, "--val", "1.5")


@row("split-val-nan", "options", 2, "Usage error: Invalid value for --val-ratio: must be in [0, 1), got nan")
def _(t, m):
    return _split(t, "--val-ratio", "nan")


@row("split-val-inf", "options", 2, "Usage error: Invalid value for --val-ratio: must be in [0, 1), got inf")
def _(t, m):
    return _split(t, "--val-ratio", "inf")


@row("split-test-negative", "options", 2,
     "Usage error: Invalid value for --test-ratio: must be in [0, 1), got -0.1")
def _(t, m):
    return _split(t, "--test", "-0.1")


@row("split-test-nan", "options", 2,
     "Usage error: Invalid value for --test-ratio: must be in [0, 1), got nan")
def _(t, m):
    return _split(t, "--test-ratio", "nan")


@row("split-ratios-sum-over-1", "options", 2,
     "Usage error: Invalid value for --val-ratio: --val-ratio 0.6 and --test-ratio 0.6 add up "
     "to 1.2; "
     "together they must be below 1")
def _(t, m):
    return _split(t, "--val", "0.6", "--test", "0.6")


@row("split-read-only-dataset", "file system", 1,
     "Error: {t}/voc/ImageSets/Segmentation/train.txt: cannot write: read-only file system")
def _(t, m):
    _split(t)
    m.read_only(t / "voc")
    return ["split", str(t / "voc"), "--overwrite", "-j", "1"]


@row("split-bomb-label-stratify", "bomb", 1,
     "Error: {t}/voc/SegmentationClass/bomb.png: declares " + BOMB_PX + " pixels, more than "
     "labeltools decodes (the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    voc(t, 6)
    put_label(t, "bomb", h.png_bomb())
    return ["split", str(t / "voc"), "--overwrite", "--stratify", "-j", "1"]


@row("split-no-dataset", "paths", 1,
     "Error: {t}/nowhere: no such dataset folder")
def _(t, m):
    return ["split", str(t / "nowhere")]


# ============================================================================ weights

@row("weights-bomb-label", "bomb", 1,
     "Error: {t}/voc/SegmentationClass/bomb.png: declares " + BOMB_PX + " pixels, more than "
     "labeltools decodes (the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    voc(t)
    put_label(t, "bomb", h.png_bomb())
    return ["weights", str(t / "voc"), "-j", "1"]


@row("weights-out-of-range", "out of range", 1, 
     "Error: {t}/voc/SegmentationClass: 1 of 4 label files hold values >= 3 (the number of "
     "classes) other than 255: 40 (128 px in a0.png); fix the labels, give the right number of "
     "classes, or leave them out (--ignore-out-of-range)")
def _(t, m):
    voc(t)
    put_label(t, "a0", good_label(40))
    return ["weights", str(t / "voc"), "-j", "1"]


@row("weights-rgb-label", "rgb", 1,
     "Error: {t}/voc/SegmentationClass/a0.png: expected class indices (a P or L PNG), found RGB colours; convert colour masks with `labeltools rgb2index`")
def _(t, m):
    voc(t)
    put_label(t, "a0", RGB_LABEL)
    return ["weights", str(t / "voc"), "-j", "1"]


@row("weights-truncated-label", "truncated png", 1,
     "Error: {t}/voc/SegmentationClass/a0.png: cannot read image header: Truncated File Read")
def _(t, m):
    voc(t)
    put_label(t, "a0", TRUNCATED_PNG)
    return ["weights", str(t / "voc"), "-j", "1"]


@row("weights-jpeg-bytes-label", "bad pixels", 1, 
     "Error: {t}/voc/SegmentationClass/a0.png: expected a PNG label image, found a JPEG file")
def _(t, m):
    voc(t)
    put_label(t, "a0", JPEG_AS_PNG)
    return ["weights", str(t / "voc"), "-j", "1"]


@row("weights-empty-folder", "paths", 1,
     "Error: {t}/labels: no label PNGs in this folder")
def _(t, m):
    (t / "labels").mkdir()
    return ["weights", str(t / "labels"), "--num-classes", "3"]


@row("weights-out-parent-is-file", "file system", 1,
     "Error: {t}/afile/w.npy: cannot write: {t}/afile is a file")
def _(t, m):
    voc(t)
    file_parent(t)
    return ["weights", str(t / "voc"), "-j", "1", "--out", str(t / "afile" / "w.npy")]


# weights.npy is written (whole) before the counts: only the counts are missing.
@row("weights-disk-full", "file system", 1,
     "Error: {t}/full/counts.json: cannot write: no space left on device", after="any")
def _(t, m):
    voc(t)
    m.tmpfs(t / "full", "8k")
    # Fill the tmpfs so that the small JSON write fails.
    fd = os.open(t / "full" / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 1024):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return ["weights", str(t / "voc"), "-j", "1", "--out", str(t / "w.npy"),
            "--counts", str(t / "full" / "counts.json")]


# ============================================================================ rgb2index

@row("rgb2index-bomb", "bomb", 1,
     "Error: {t}/masks/bomb.png: declares " + BOMB_PX + " pixels, more than labeltools decodes "
     "(the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    labels_folder(t, ("bomb.png", h.png_bomb(colour_type=2)))
    (t / "labels").rename(t / "masks")
    return ["rgb2index", str(t / "masks"), str(t / "out"), "-j", "1"]


@row("rgb2index-unknown-colour", "bad pixels", 1,
     "Error: {t}/m.png: 1 colour not in the VOC palette: (1,2,3) 1 px at (x=0, y=0)")
def _(t, m):
    arr = np.full((h.H, h.W, 3), (128, 0, 0), np.uint8)
    arr[0, 0] = (1, 2, 3)
    (t / "m.png").write_bytes(h.png_bytes(arr))
    return ["rgb2index", str(t / "m.png"), str(t / "out.png")]


@row("rgb2index-truncated", "truncated png", 1,
     "Error: {t}/m.png: cannot decode image: image file is truncated")
def _(t, m):
    (t / "m.png").write_bytes(truncated(RGB_LABEL + b"\0" * 0))
    return ["rgb2index", str(t / "m.png"), str(t / "out.png")]


@row("rgb2index-jpeg-bytes", "bad pixels", 1, 
     "Error: {t}/m.png: expected a PNG colour mask, found a JPEG file (its lossy colours "
     "match no palette exactly)")
def _(t, m):
    (t / "m.png").write_bytes(JPEG_AS_PNG)
    return ["rgb2index", str(t / "m.png"), str(t / "out.png")]


@row("rgb2index-missing-input", "paths", 1,
     "Error: {t}/m.png: no such file or folder")
def _(t, m):
    return ["rgb2index", str(t / "m.png"), str(t / "out.png")]


@row("rgb2index-out-parent-is-file", "file system", 1,
     "Error: {t}/afile/out.png: cannot write: {t}/afile is a file")
def _(t, m):
    (t / "m.png").write_bytes(RGB_LABEL)
    file_parent(t)
    return ["rgb2index", str(t / "m.png"), str(t / "afile" / "out.png")]


@row("rgb2index-read-only-out", "file system", 1,
     "Error: {t}/ro/out.png: cannot write: read-only file system")
def _(t, m):
    (t / "m.png").write_bytes(RGB_LABEL)
    (t / "ro").mkdir()
    m.read_only(t / "ro")
    return ["rgb2index", str(t / "m.png"), str(t / "ro" / "out.png")]


@row("rgb2index-bad-palette-file", "class name", 1,
     "Error: {t}/labelmap.txt: line 2: expected a colour r,g,b with values in 0..255, found '300,0,0'")
def _(t, m):
    (t / "m.png").write_bytes(RGB_LABEL)
    (t / "labelmap.txt").write_text("background:0,0,0::\ncar:300,0,0::\n")
    return ["rgb2index", str(t / "m.png"), str(t / "out.png"), "--palette", str(t / "labelmap.txt")]


# ============================================================================ index2rgb

@row("index2rgb-bomb", "bomb", 1,
     "Error: {t}/labels/bomb.png: declares " + BOMB_PX + " pixels, more than labeltools decodes "
     "(the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    labels_folder(t, ("bomb.png", h.png_bomb()))
    return ["index2rgb", str(t / "labels"), str(t / "out"), "-j", "1"]


@row("index2rgb-bomb-photo", "bomb", 1,
     "Error: {t}/photos/a.jpg: declares 4225000000 pixels, more than labeltools decodes "
     "(the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    labels_folder(t, ("a.png", good_label()))
    (t / "photos").mkdir()
    (t / "photos" / "a.jpg").write_bytes(h.jpeg_bomb())
    return ["index2rgb", str(t / "labels"), str(t / "out"), "--images", str(t / "photos"), "-j", "1"]


@row("index2rgb-rgb-input", "rgb", 1,
     "Error: {t}/labels/a.png: expected class indices (a P or L PNG), found RGB colours; convert colour masks with `labeltools rgb2index`", after="resumable")
def _(t, m):
    labels_folder(t, ("a.png", RGB_LABEL))
    return ["index2rgb", str(t / "labels"), str(t / "out"), "-j", "1"]


@row("index2rgb-truncated", "truncated png", 1,
     "Error: {t}/labels/a.png: cannot read image header: Truncated File Read", after="resumable")
def _(t, m):
    labels_folder(t, ("a.png", TRUNCATED_PNG))
    return ["index2rgb", str(t / "labels"), str(t / "out"), "-j", "1"]


@row("index2rgb-missing-input", "paths", 1,
     "Error: {t}/nothing: no such file or folder")
def _(t, m):
    return ["index2rgb", str(t / "nothing"), str(t / "out")]


@row("index2rgb-out-parent-is-file", "file system", 1,
     "Error: {t}/afile/out: cannot create the output folder: {t}/afile is a file")
def _(t, m):
    labels_folder(t, ("a.png", good_label()))
    file_parent(t)
    return ["index2rgb", str(t / "labels"), str(t / "afile" / "out"), "-j", "1"]


# ============================================================================ eval

def _eval(t: Path, pred: bytes, stem: str = "a0") -> list[str]:
    voc(t)
    preds = t / "pred"
    preds.mkdir()
    for p in (t / "voc" / "SegmentationClass").iterdir():
        (preds / p.name).write_bytes(p.read_bytes())
    (preds / f"{stem}.png").write_bytes(pred)
    return ["eval", str(t / "voc"), str(preds), "--list", str(t / "ids.txt"), "-j", "1"]


def _ids(t: Path) -> None:
    (t / "ids.txt").write_text("a0\na1\n")


@row("eval-out-of-range-pred", "out of range", 1, 
     "Error: {t}/pred/a0.png: Results image 'a0' has out of range value 30 (the value "
     "should be <= 2)")
def _(t, m):
    _ids(t)
    return _eval(t, good_label(30))


@row("eval-rgb-pred", "rgb", 1,
     "Error: {t}/pred/a0.png: expected class indices (a P or L PNG), found RGB colours; convert colour masks with `labeltools rgb2index`")
def _(t, m):
    _ids(t)
    return _eval(t, RGB_LABEL)


@row("eval-truncated-pred", "truncated png", 1,
     "Error: {t}/pred/a0.png: cannot read image header: Truncated File Read")
def _(t, m):
    _ids(t)
    return _eval(t, TRUNCATED_PNG)


@row("eval-jpeg-bytes-pred", "bad pixels", 1, 
     "Error: {t}/pred/a0.png: expected a PNG label image, found a JPEG file")
def _(t, m):
    _ids(t)
    return _eval(t, JPEG_AS_PNG)


@row("eval-size-mismatch-pred", "size mismatch", 1,
     "Error: {t}/pred/a0.png: Results image 'a0' is the wrong size, was 10 x 10, should be 24 x 32 (height x width of the ground truth)")
def _(t, m):
    _ids(t)
    return _eval(t, label_png(np.zeros((10, 10), np.uint8)))


@row("eval-missing-pred", "paths", 1,
     "Error: {t}/pred: no prediction for 1 of 2 ids: a1")
def _(t, m):
    _ids(t)
    args = _eval(t, good_label())
    (t / "pred" / "a1.png").unlink()
    return args


@row("eval-bomb-pred", "bomb", 1,
     "Error: {t}/pred/a0.png: declares " + BOMB_PX + " pixels, more than labeltools decodes "
     "(the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    _ids(t)
    return _eval(t, h.png_bomb())


@row("eval-json-parent-is-file", "file system", 1,
     "Error: {t}/afile/m.json: cannot write: {t}/afile is a file")
def _(t, m):
    _ids(t)
    args = _eval(t, good_label())
    file_parent(t)
    return [*args, "--json", str(t / "afile" / "m.json")]


# ============================================================================ dump-xlsx

@row("xlsx-10000x10000", "size", 1,
     "Error: {t}/big.png: 10000x10000 pixels are 100000000 cells, more than dump-xlsx writes "
     "(at most 4194304, e.g. 2048x2048); dump a region with --box x,y,w,h, or use --csv",
     proc=True)
def _(t, m):
    img = Image.new("P", (10_000, 10_000), 0)
    img.save(t / "big.png")
    return ["dump-xlsx", str(t / "big.png"), str(t / "big.xlsx")]


@row("xlsx-bomb", "bomb", 1,
     "Error: {t}/bomb.png: declares " + BOMB_PX + " pixels, more than labeltools decodes "
     "(the decompression-bomb limit, 178956970 pixels)", proc=True)
def _(t, m):
    (t / "bomb.png").write_bytes(h.png_bomb())
    return ["dump-xlsx", str(t / "bomb.png"), str(t / "b.xlsx")]


@row("xlsx-truncated", "truncated png", 1,
     "Error: {t}/l.png: cannot read image header: Truncated File Read")
def _(t, m):
    (t / "l.png").write_bytes(TRUNCATED_PNG)
    return ["dump-xlsx", str(t / "l.png"), str(t / "l.xlsx")]


@row("xlsx-missing-label", "paths", 1,
     "Error: {t}/l.png: no such file")
def _(t, m):
    return ["dump-xlsx", str(t / "l.png"), str(t / "l.xlsx")]


@row("xlsx-box-outside", "options", 1,
     "Error: {t}/l.png: --box 100,100,5,5 reaches x + w = 105, y + h = 105 beyond the 32x24 image")
def _(t, m):
    (t / "l.png").write_bytes(good_label())
    return ["dump-xlsx", str(t / "l.png"), str(t / "l.xlsx"), "--box", "100,100,5,5"]


@row("xlsx-out-parent-is-file", "file system", 1,
     "Error: {t}/afile/l.xlsx: cannot write: {t}/afile is a file")
def _(t, m):
    (t / "l.png").write_bytes(good_label())
    file_parent(t)
    return ["dump-xlsx", str(t / "l.png"), str(t / "afile" / "l.xlsx")]


@row("xlsx-disk-full", "file system", 1,
     "Error: {t}/full/l.xlsx: cannot write: no space left on device")
def _(t, m):
    arr = h.photo(300, 300)[:, :, 0]
    (t / "l.png").write_bytes(label_png(arr))
    m.tmpfs(t / "full", "16k")
    return ["dump-xlsx", str(t / "l.png"), str(t / "full" / "l.xlsx"), "--no-color"]


# ============================================================================ colormap

@row("colormap-out-parent-is-file", "file system", 1,
     "Error: {t}/afile/legend.png: cannot write: {t}/afile is a file")
def _(t, m):
    file_parent(t)
    return ["colormap", str(t / "afile" / "legend.png")]


@row("colormap-read-only", "file system", 1,
     "Error: {t}/ro/legend.png: cannot write: read-only file system")
def _(t, m):
    (t / "ro").mkdir()
    m.read_only(t / "ro")
    return ["colormap", str(t / "ro" / "legend.png")]


@row("colormap-disk-full", "file system", 1,
     "Error: {t}/full/legend.png: cannot write: no space left on device")
def _(t, m):
    m.tmpfs(t / "full", "4k")
    return ["colormap", str(t / "full" / "legend.png"), "--n", "256"]


@row("colormap-names-not-utf8", "class name", 1,
     "Error: {t}/names.txt: expected UTF-8 text, invalid continuation byte at byte 16")
def _(t, m):
    (t / "names.txt").write_bytes(b"_background_\ncaf\xe9\n")
    return ["colormap", str(t / "legend.png"), "--names", str(t / "names.txt")]


@row("colormap-out-is-folder", "paths", 2,
     "Usage error: Invalid value for 'out': File '{t}/legend.png' is a directory.")
def _(t, m):
    (t / "legend.png").mkdir()
    return ["colormap", str(t / "legend.png")]


# ============================================================================ runner

KNOWN_FAILING: dict[str, str] = {}


def _invoke(args: list[str], cwd: Path) -> Outcome:
    from typer.testing import CliRunner

    from labeltools.cli import app

    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": "1"})
    finally:
        os.chdir(old)
    exc = result.exception
    if isinstance(exc, SystemExit):
        exc = None
    return Outcome(result.exit_code, result.stdout, result.stderr, exc)


def _run_proc(args: list[str], cwd: Path) -> Outcome:
    done = h.run_proc(args, cwd=cwd)
    return Outcome(done.returncode, done.stdout.decode("utf-8", "backslashreplace"),
                   done.stderr.decode("utf-8", "backslashreplace"))


def message_line(stderr: str) -> str:
    """The first line of stderr; for a typer usage error, the message in its panel."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("╭─ Error"):
            body = []
            for inner in lines[i + 1:]:
                if inner.startswith("╰"):
                    break
                body.append(inner.strip().strip("│").strip())
            return "Usage error: " + " ".join(body)
    return lines[0] if lines else ""


def _matches(expected: str, actual: str, t: Path) -> bool:
    expected = expected.replace("{t}", str(t))
    if "{...}" not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split("{...}"))
    return re.fullmatch(pattern, actual) is not None


def _assert_files(case: Case, t: Path, before: dict[str, str]) -> None:
    assert not h.temp_files(t), f"temporary files left: {h.temp_files(t)}"
    after = h.tree(t)
    if case.after == "unchanged":
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert not changed, f"files changed by a failing command: {changed[:10]}"
    elif case.after == "resumable":
        out = next((t / p for p in ("out", "full/out", "ro/out") if (t / p).exists()), None)
        if out is not None:
            assert (out / ".labeltools-json2voc.json").is_file(), "not json2voc's folder"
            sets = out / "ImageSets" / "Segmentation"
            assert not (sets / "train.txt").exists(), "split lists of an unfinished run"
            for png in (out / "SegmentationClass").glob("*.png"):
                Image.open(png).load()
    elif case.after == "complete":
        out = t / "out"
        ids = lists(t, "trainval")
        for i in ids:
            assert (out / "JPEGImages" / f"{i}.jpg").is_file(), i
            assert (out / "SegmentationClass" / f"{i}.png").is_file(), i


def _params() -> list[Any]:
    out = []
    for case in CASES:
        marks = []
        if case.id in KNOWN_FAILING:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILING[case.id]))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def test_catalogue_size() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES), "duplicate row ids"
    assert {c.id.split("-")[0] for c in CASES} >= {
        "j2v", "check", "stats", "split", "weights", "rgb2index", "index2rgb", "eval", "xlsx",
        "colormap",
    }
    assert set(KNOWN_FAILING) <= {c.id for c in CASES}


@pytest.mark.parametrize("case", _params())
def test_row(case: Case, tmp_path: Path) -> None:
    t = tmp_path
    with h.mounts() as m:
        args = case.build(t, m)
        before = h.tree(t)
        outcome = (_run_proc if case.proc else _invoke)(args, t)
        text = outcome.stdout + outcome.stderr
        assert "Traceback" not in text, text[-2000:]
        assert outcome.exception is None, repr(outcome.exception)
        actual = message_line(outcome.stderr)
        assert (outcome.status, _matches(case.first, actual, t)) == (case.status, True), (
            f"status {outcome.status} (want {case.status}); first line:\n  {actual}\nwant:\n  "
            f"{case.first.replace('{t}', str(t))}"
        )
        if case.check is not None:
            case.check(t, outcome)
        _assert_files(case, t, before)
