"""pipeline: json2voc on the library side: outputs, images, limits, resuming, the output folder."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeltools import (
    InputError,
    LabelmeFormatError,
    LabelNameError,
    LabelValueError,
    OutputError,
    json2voc,
    lblread,
    split_ids,
)
from labeltools.labels import parse_labels

MARKER_NAME = ".labeltools-json2voc.json"
RECORDS_DIR = ".labeltools-json2voc"

from .conftest import SAMPLE_DATA

W, H = 40, 30


# --------------------------------------------------------------------------- helpers


def photo(w: int = W, h: int = H, seed: int = 0) -> Image.Image:
    """A smooth picture (JPEG keeps it close) whose orientation is obvious: red grows rightwards."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 40 * seed % 256)], -1)
    return Image.fromarray(rgb.astype(np.uint8))


def open_img(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return img


def jpeg_bytes(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90, **kw)
    return buf.getvalue()


def rect(label: str, x0: float, y0: float, x1: float, y1: float, group_id: int | None = None) -> dict:
    return {"label": label, "points": [[x0, y0], [x1, y1]], "group_id": group_id,
            "shape_type": "rectangle", "flags": {}}


def write_labelme(folder: Path, stem: str, shapes: list[dict], *, image: bytes | None = None,
                  ext: str = "jpg", embed: bool = False, image_path: str | None = None,
                  size: tuple[int, int] = (W, H)) -> Path:
    """A labelme JSON (and its image file unless embedded) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    data = image if image is not None else jpeg_bytes(photo(*size))
    if not embed:
        (folder / f"{stem}.{ext}").write_bytes(data)
    doc = {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path if image_path is not None else f"{stem}.{ext}",
        "imageData": base64.b64encode(data).decode() if embed else None,
        "imageHeight": size[1],
        "imageWidth": size[0],
    }
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(doc))
    return path


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Three images with cats and dogs, one with an instance group."""
    src = tmp_path / "in"
    write_labelme(src, "a", [rect("cat", 2, 2, 10, 10), rect("dog", 20, 5, 30, 20)])
    write_labelme(src, "b", [rect("dog", 0, 0, 5, 5), rect("dog", 6, 6, 12, 12, 1),
                             rect("dog", 14, 14, 20, 20, 1)])
    write_labelme(src, "c", [rect("cat", 5, 5, 25, 25), rect("__ignore__", 10, 10, 15, 15)])
    return src


# --------------------------------------------------------------------------- outputs


def test_small_dataset_exact_pixels_and_layout(small, tmp_path):
    out = tmp_path / "out"
    report = json2voc(small, out, "cat,dog", workers=1, npy=True)
    assert (report.written, report.skipped, len(report.failures)) == (3, 0, 0)
    assert report.shapes == {"rectangle": 7}
    assert (out / "class_names.txt").read_text() == "_background_\ncat\ndog\n"
    assert (out / "labelmap.txt").read_text() == (
        "# label:color_rgb:parts:actions\n_background_:0,0,0::\ncat:128,0,0::\ndog:0,128,0::\n"
        "__ignore__:224,224,192::\n"
    )
    cls = lblread(out / "SegmentationClass" / "a.png")
    assert cls.shape == (H, W)
    assert cls[2, 2] == 1 and cls[10, 10] == 1 and cls[11, 11] == 0 and cls[5, 20] == 2
    assert open_img(out / "SegmentationClass" / "a.png").mode == "P"
    # __ignore__ -> 255 in the PNG, -1 in the NPY, and no instance there.
    c = lblread(out / "SegmentationClass" / "c.png")
    assert c[12, 12] == 255 and c[6, 6] == 1
    npy = np.load(out / "SegmentationClassNpy" / "c.npy")
    assert npy.dtype == np.int32 and npy[12, 12] == -1 and npy[6, 6] == 1
    obj_c = lblread(out / "SegmentationObject" / "c.png")
    assert obj_c[12, 12] == 0 and obj_c[6, 6] == 1
    # group_id 1 makes the two grouped dogs one instance; the ungrouped one is its own.
    obj = lblread(out / "SegmentationObject" / "b.png")
    assert (obj[2, 2], obj[8, 8], obj[16, 16]) == (1, 2, 2)
    assert np.array_equal(np.load(out / "SegmentationObjectNpy" / "b.npy"), obj.astype(np.int32))
    assert report.pixels["cat"] == 81 + 21 * 21 - 36
    assert report.ignored_pixels == 36
    split = split_ids(["a", "b", "c"], val=0.2, seed=0)
    sets = out / "ImageSets" / "Segmentation"
    assert (sets / "train.txt").read_text() == "".join(f"{s}\n" for s in split.train)
    assert (sets / "val.txt").read_text() == "".join(f"{s}\n" for s in split.val)
    assert (sets / "trainval.txt").read_text() == "a\nb\nc\n"
    assert not (out / "SegmentationClassVisualization").exists()


def test_every_shape_type_of_sample_data(tmp_path):
    out = tmp_path / "voc"
    report = json2voc(SAMPLE_DATA, out, SAMPLE_DATA / "labels.txt", workers=1, viz=True)
    assert set(report.shapes) == {
        "circle", "line", "linestrip", "mask", "oriented_rectangle", "point", "polygon", "rectangle"
    }
    assert report.written == 5 and not report.failures
    from labeltools import read_labelme, shapes_to_label

    values = parse_labels(SAMPLE_DATA / "labels.txt").values()
    for json_path in sorted(SAMPLE_DATA.glob("*.json")):
        ann = read_labelme(json_path)
        stem = json_path.stem
        jpg = open_img(out / "JPEGImages" / f"{stem}.jpg")
        cls, ins = shapes_to_label((jpg.height, jpg.width), ann.shapes, values)
        ins[cls == -1] = 0
        assert np.array_equal(lblread(out / "SegmentationClass" / f"{stem}.png"), cls.astype(np.uint8))
        assert np.array_equal(lblread(out / "SegmentationObject" / f"{stem}.png"), ins.astype(np.uint8))
        viz = open_img(out / "SegmentationClassVisualization" / f"{stem}.jpg")
        assert viz.height >= jpg.height and viz.width > jpg.width


def test_jpeg_is_copied_byte_for_byte(small, tmp_path):
    json2voc(small, tmp_path / "out", "cat,dog", workers=1)
    assert (tmp_path / "out" / "JPEGImages" / "a.jpg").read_bytes() == (small / "a.jpg").read_bytes()


def test_exif_rotated_jpeg_is_written_upright_without_orientation(tmp_path):
    src = tmp_path / "in"
    stored = photo(W, H)  # 40 wide, 30 high as stored; orientation 6 = turn 90 degrees clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    write_labelme(src, "rot", [rect("cat", 0, 0, 4, 4)], image=jpeg_bytes(stored, exif=exif),
                  size=(H, W))
    out = tmp_path / "out"
    json2voc(src, out, "cat", workers=1)
    jpg = open_img(out / "JPEGImages" / "rot.jpg")
    assert jpg.size == (H, W)
    assert 0x0112 not in jpg.getexif()
    assert lblread(out / "SegmentationClass" / "rot.png").shape == (W, H)
    # The pixels are the upright picture: its top-left corner is the stored bottom-left one.
    upright = np.asarray(stored.transpose(Image.Transpose.ROTATE_270), dtype=np.int16)
    assert np.abs(np.asarray(jpg, dtype=np.int16) - upright).mean() < 3


def test_embedded_image_data_becomes_jpeg(tmp_path):
    src = tmp_path / "in"
    png = io.BytesIO()
    photo().save(png, format="PNG")
    write_labelme(src, "emb_png", [rect("cat", 0, 0, 4, 4)], image=png.getvalue(), embed=True,
                  image_path="missing.png")
    jpg = jpeg_bytes(photo(seed=1))
    write_labelme(src, "emb_jpg", [rect("cat", 0, 0, 4, 4)], image=jpg, embed=True, image_path="")
    out = tmp_path / "out"
    json2voc(src, out, "cat", workers=1)
    converted = open_img(out / "JPEGImages" / "emb_png.jpg")
    assert (converted.format, converted.size) == ("JPEG", (W, H))
    assert (out / "JPEGImages" / "emb_jpg.jpg").read_bytes() == jpg


def test_png_source_becomes_jpeg(tmp_path):
    src = tmp_path / "in"
    png = io.BytesIO()
    photo().save(png, format="PNG")
    write_labelme(src, "p", [rect("cat", 0, 0, 4, 4)], image=png.getvalue(), ext="png")
    json2voc(src, tmp_path / "out", "cat", workers=1)
    assert open_img(tmp_path / "out" / "JPEGImages" / "p.jpg").format == "JPEG"


def test_windows_image_path(tmp_path):
    src = tmp_path / "in"
    data = jpeg_bytes(photo())
    (src / "images").mkdir(parents=True)
    (src / "images" / "w.jpg").write_bytes(data)
    write_labelme(src / "ann", "w", [rect("cat", 0, 0, 4, 4)], image=data, embed=False,
                  image_path="..\\images\\w.jpg")
    (src / "ann" / "w.jpg").unlink()  # only the Windows path can find it
    json2voc(src / "ann", tmp_path / "out", "cat", workers=1)
    assert (tmp_path / "out" / "JPEGImages" / "w.jpg").read_bytes() == data


def test_image_path_cannot_move_outputs_out_of_output_dir(tmp_path):
    src = tmp_path / "in"
    data = jpeg_bytes(photo())
    (tmp_path / "elsewhere.jpg").write_bytes(data)
    write_labelme(src, "x", [rect("cat", 0, 0, 4, 4)], image=data, image_path="../elsewhere.jpg")
    (src / "x.jpg").unlink()
    out = tmp_path / "out"
    json2voc(src, out, "cat", workers=1)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written - {"in/x.json", "elsewhere.jpg"} == {
        f"out/{p}" for p in tree_bytes(out)
    }


# --------------------------------------------------------------------------- labels in the data


def test_unknown_labels_listed_with_their_files_and_nothing_written(small, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(LabelNameError) as exc:
        json2voc(small, out, "cat", workers=1)
    assert str(exc.value) == (
        f"{small}: 1 label not in --labels: 'dog' in a.json, b.json; "
        "add it to the labels or pass --unknown ignore|background"
    )
    assert not out.exists()


@pytest.mark.parametrize(("mode", "value"), [("ignore", 255), ("background", 0)])
def test_unknown_labels_opt_in(small, tmp_path, mode, value):
    out = tmp_path / "out"
    json2voc(small, out, "cat", unknown=mode, workers=1)
    cls = lblread(out / "SegmentationClass" / "a.png")
    assert cls[5, 20] == value and cls[2, 2] == 1


def test_labels_discovered_when_not_given(small, tmp_path):
    report = json2voc(small, tmp_path / "out", workers=1)
    assert report.labels.names == ("_background_", "cat", "dog")
    assert report.labels.source == "discovered"
    assert report.to_dict()["labels_source"] == "discovered"


def test_more_than_255_classes(tmp_path):
    src = tmp_path / "in"
    names = [f"c{i:03d}" for i in range(256)]
    write_labelme(src, "a", [rect("c255", 0, 0, 4, 4)])
    with pytest.raises(LabelValueError) as exc:
        json2voc(src, tmp_path / "out", names, workers=1)
    assert str(exc.value) == (
        "labels: 257 classes do not fit an 8-bit label PNG (classes 0..254, 255 = void); "
        "use --npy to write int32 SegmentationClassNpy labels"
    )
    out = tmp_path / "npy"
    report = json2voc(src, out, names, npy=True, workers=1)
    assert not (out / "SegmentationClass").exists()
    assert np.load(out / "SegmentationClassNpy" / "a.npy")[2, 2] == 256
    assert report.pixels["c255"] == 25
    assert report.warnings == (
        "val.txt is empty: a val ratio of 0.2 leaves the val split empty with 1 ids; "
        "use a larger ratio or more data",
        "257 classes: no SegmentationClass PNGs, see SegmentationClassNpy",
    )


def test_more_than_254_instances(tmp_path):
    src = tmp_path / "in"
    shapes = [{"label": "cat", "points": [[i % 40, i // 40]], "shape_type": "point"} for i in range(255)]
    write_labelme(src, "many", shapes)
    with pytest.raises(LabelValueError) as exc:
        json2voc(src, tmp_path / "out", "cat", workers=1)
    assert str(exc.value) == (
        f"{src / 'many.json'}: 255 instances do not fit an 8-bit SegmentationObject PNG "
        "(ids 1..254); use --npy to keep them in SegmentationObjectNpy"
    )
    out = tmp_path / "npy"
    report = json2voc(src, out, "cat", npy=True, workers=1)
    assert not (out / "SegmentationObject" / "many.png").exists()
    assert np.load(out / "SegmentationObjectNpy" / "many.npy").max() == 255
    assert report.instances == 255
    # The overflow is remembered: a rerun skips the file.
    assert json2voc(src, out, "cat", npy=True, workers=1).skipped == 1


# --------------------------------------------------------------------------- inputs


def test_not_a_labelme_file_is_named(small, tmp_path):
    (small / "bad.json").write_text('{"hello": 1}')
    with pytest.raises(LabelmeFormatError, match=r"bad\.json: not a labelme file: no \"shapes\" list$"):
        json2voc(small, tmp_path / "out", "cat,dog", workers=1)
    assert not (tmp_path / "out").exists()


def test_keep_going_converts_the_rest(small, tmp_path):
    write_labelme(small, "d", [rect("cat", 0, 0, 4, 4)])
    (small / "d.jpg").unlink()
    out = tmp_path / "out"
    report = json2voc(small, out, "cat,dog", workers=1, keep_going=True)
    assert [f.stem for f in report.failures] == ["d"]
    assert report.failures[0].error.startswith(f"{small / 'd.json'}: image file not found")
    assert report.written == 3
    assert (out / "ImageSets" / "Segmentation" / "trainval.txt").read_text() == "a\nb\nc\n"


def test_first_failure_stops_without_keep_going(small, tmp_path):
    write_labelme(small, "d", [rect("cat", 0, 0, 4, 4)])
    (small / "d.jpg").unlink()
    from labeltools import ImageReadError

    with pytest.raises(ImageReadError, match=r"d\.json: image file not found"):
        json2voc(small, tmp_path / "out", "cat,dog", workers=1)
    assert not (tmp_path / "out" / "ImageSets" / "Segmentation" / "train.txt").exists()


def test_two_inputs_with_one_stem(tmp_path):
    src = tmp_path / "in"
    one = write_labelme(src / "x", "same", [rect("cat", 0, 0, 4, 4)])
    two = write_labelme(src / "y", "same", [rect("cat", 0, 0, 4, 4)])
    with pytest.raises(InputError) as exc:
        json2voc(src, tmp_path / "out", "cat", recursive=True, workers=1)
    assert str(exc.value) == f"{one} and {two} both map to the output name 'same'; rename one of them"


def test_recursive_and_no_inputs(tmp_path):
    src = tmp_path / "in"
    write_labelme(src / "sub", "deep", [rect("cat", 0, 0, 4, 4)])
    with pytest.raises(InputError) as exc:
        json2voc(src, tmp_path / "out", "cat", workers=1)
    assert str(exc.value) == f"{src}: no labelme *.json files found (use --recursive to search subfolders)"
    assert json2voc(src, tmp_path / "out", "cat", recursive=True, workers=1).written == 1


# --------------------------------------------------------------------------- the output folder


def test_foreign_output_dir_is_refused(small, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError) as exc:
        json2voc(small, out, "cat,dog", workers=1)
    assert str(exc.value) == (
        f"{out}: the folder is not empty and was not made by labeltools json2voc; "
        "choose a new or empty output folder"
    )
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_rerun_skips_up_to_date_and_redoes_changed(small, tmp_path):
    out = tmp_path / "out"
    json2voc(small, out, "cat,dog", workers=1)
    first = tree_bytes(out)
    again = json2voc(small, out, "cat,dog", workers=1)
    assert (again.written, again.skipped) == (0, 3)
    assert again.pixels == json2voc(small, tmp_path / "clean", "cat,dog", workers=1).pixels
    assert tree_bytes(out) == first
    write_labelme(small, "b", [rect("cat", 0, 0, 5, 5)])  # new JSON and image
    seen = []
    json2voc(small, out, "cat,dog", workers=1, on_file=seen.append)
    assert [(f.stem, f.status) for f in seen] == [
        ("a", "skipped"), ("b", "written"), ("c", "skipped")
    ]
    assert lblread(out / "SegmentationClass" / "b.png")[2, 2] == 1


def test_record_names_the_resolved_image_and_its_stamp(tmp_path):
    src = tmp_path / "in"
    write_labelme(src, "a", [rect("cat", 2, 2, 10, 10)], image_path="link.jpg")
    (tmp_path / "photos").mkdir()
    real = tmp_path / "photos" / "a.jpg"
    real.write_bytes(jpeg_bytes(photo()))
    (src / "link.jpg").symlink_to(real)
    seen = []
    json2voc(src, tmp_path / "out", "cat", workers=1, on_file=seen.append)
    st = real.stat()
    assert seen[0].record["image"] == {
        "path": str(real.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns
    }
    assert seen[0].record["json"] == str((src / "a.json").resolve())
    assert (tmp_path / "out" / "JPEGImages" / "a.jpg").read_bytes() == real.read_bytes()


def test_changed_options_redo_everything_and_drop_old_outputs(small, tmp_path):
    out = tmp_path / "out"
    json2voc(small, out, "cat,dog", workers=1, npy=True, viz=True)
    report = json2voc(small, out, "cat,dog", workers=1)
    assert report.written == 3
    assert tree_bytes(out) == tree_bytes_of_clean(small, tmp_path / "clean")


def tree_bytes_of_clean(src: Path, out: Path) -> dict[str, bytes]:
    json2voc(src, out, "cat,dog", workers=1)
    return tree_bytes(out)


def test_removed_input_drops_its_outputs(small, tmp_path):
    out = tmp_path / "out"
    json2voc(small, out, "cat,dog", workers=1)
    (small / "c.json").unlink()
    json2voc(small, out, "cat,dog", workers=1)
    assert sorted(p.name for p in (out / "JPEGImages").iterdir()) == ["a.jpg", "b.jpg"]
    assert "c" not in json.loads((out / RECORDS_DIR / "manifest.json").read_text())


def test_overwrite_rebuilds_identically(small, tmp_path):
    out = tmp_path / "out"
    json2voc(small, out, "cat,dog", workers=1)
    first = tree_bytes(out)
    report = json2voc(small, out, "cat,dog", workers=1, overwrite=True)
    assert (report.written, report.skipped) == (3, 0)
    assert tree_bytes(out) == first
    assert (out / MARKER_NAME).is_file()


def test_torn_journal_and_leftover_temp_files_are_cleaned(small, tmp_path):
    out = tmp_path / "out"
    json2voc(small, out, "cat,dog", workers=1)
    clean = tree_bytes(out)
    # What a SIGKILL can leave: a temporary file, a torn journal line, no split lists.
    (out / "SegmentationClass" / ".labeltools-tmp-0123456789ab.png").write_bytes(b"\x89PNG")
    (out / RECORDS_DIR / "journal.jsonl").write_text('{"stem": "a", "json_sha')
    (out / "ImageSets" / "Segmentation" / "val.txt").unlink()
    json2voc(small, out, "cat,dog", workers=1)
    assert tree_bytes(out) == clean


def test_workers_1_and_2_identical(small, tmp_path):
    for i in range(4):
        write_labelme(small, f"e{i}", [rect("dog", i, i, 20 + i, 20)], image=jpeg_bytes(photo(seed=i)))
    json2voc(small, tmp_path / "w1", "cat,dog", workers=1, npy=True)
    json2voc(small, tmp_path / "w2", "cat,dog", workers=2, npy=True)
    assert tree_bytes(tmp_path / "w1") == tree_bytes(tmp_path / "w2")


def test_split_does_not_depend_on_input_order(small, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(small, copy)
    a = json2voc(small, tmp_path / "o1", "cat,dog", workers=1, seed=3, val_ratio=0.34)
    b = json2voc(copy, tmp_path / "o2", "cat,dog", workers=2, seed=3, val_ratio=0.34)
    assert a.split == b.split == split_ids(["c", "b", "a"], val=0.34, seed=3)


def test_bad_options(small, tmp_path):
    with pytest.raises(ValueError, match=r"^unknown must be one of error, ignore, background, got 'skip'$"):
        json2voc(small, tmp_path / "o", unknown="skip")
    with pytest.raises(ValueError, match=r"^val ratio must be in \[0, 1\), got 1\.5$"):
        json2voc(small, tmp_path / "o", val_ratio=1.5)
    assert not (tmp_path / "o").exists()


def test_a_backend_replaces_the_local_pool(small, tmp_path):
    """The seam for a cluster: json2voc's label pass and conversion both run on the Backend."""
    import pickle

    seen: list[list[str]] = []

    class Recording:
        workers = 2

        def map_chunks(self, task, chunks):
            for index, chunk in enumerate(chunks):
                task, chunk = pickle.loads(pickle.dumps((task, chunk)))  # as a remote worker
                # The label pass maps batches (lists) of paths; the conversion one job per file.
                seen.append([Path(p).name for i in chunk for p in (i if isinstance(i, list) else [i[0]])])
                yield index, task(chunk)

    report = json2voc(small, tmp_path / "out", "cat,dog", backend=Recording())
    names = ["a.json", "b.json", "c.json"]
    assert [n for chunk in seen for n in chunk] == names + names  # label pass, then conversion
    assert report.written == 3


def test_keep_going_over_a_file_that_is_not_json(small, tmp_path):
    (small / "broken.json").write_text("{not json")
    seen = []
    report = json2voc(small, tmp_path / "out", "cat,dog", workers=2, keep_going=True,
                      on_file=seen.append)
    assert report.images == 4
    assert [(f.stem, f.status) for f in seen] == [
        ("a", "written"), ("b", "written"), ("broken", "failed"), ("c", "written")
    ]
    assert report.failures[0].error == (
        f"{small / 'broken.json'}: invalid JSON at line 1, column 2: "
        "Expecting property name enclosed in double quotes"
    )
    assert report.failures[0].error_type == "LabelmeFormatError"


def test_label_with_colon_gets_no_labelmap(small, tmp_path):
    # labelmap.txt splits on ':' (Datumaro too): such a name cannot be written so that it reads
    # back. class_names.txt holds it; a labelmap.txt of an earlier run is not left naming others.
    out = tmp_path / "out"
    json2voc(small, out, "cat,dog", workers=1)
    assert (out / "labelmap.txt").is_file()
    for path in small.glob("*.json"):
        path.write_text(path.read_text().replace('"cat"', '"cat:tabby"'))
    report = json2voc(small, out, "cat:tabby,dog", workers=1)
    assert not (out / "labelmap.txt").exists()
    assert (out / "class_names.txt").read_text() == "_background_\ncat:tabby\ndog\n"
    assert report.warnings[-1] == (
        "labelmap.txt not written: class name 'cat:tabby' cannot be a labelmap.txt name "
        "(name:r,g,b:parts:actions has no escape for ':'); class_names.txt has every name"
    )


def test_a_one_line_manifest_of_an_older_labeltools_still_resumes(small, tmp_path):
    out = tmp_path / "out"
    json2voc(small, out, "cat,dog", workers=1)
    first = tree_bytes(out)
    manifest = out / RECORDS_DIR / "manifest.json"
    records = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(records, sort_keys=True) + "\n")  # the layout before 2026-12
    again = json2voc(small, out, "cat,dog", workers=1)
    assert (again.written, again.skipped) == (0, 3)
    assert tree_bytes(out) == first  # the manifest is back one record per line


def test_an_executor_backend_keeps_the_label_map(small, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from labeltools.remap import label_map

    rules = label_map(["dog=cat"])
    with ThreadPoolExecutor(2) as pool:
        report = json2voc(small, tmp_path / "out", "cat", backend=pool, label_map=rules)
    assert report.remapped == {"dog=cat": 4}
    assert report.shapes == {"rectangle": 7}
