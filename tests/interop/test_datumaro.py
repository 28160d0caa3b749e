"""Datumaro's VOC importers read json2voc's output: our class names, our masks, void included."""

from __future__ import annotations

import numpy as np
import pytest

from labeltools import lblread
from labeltools.constants import IGNORE_INDEX, IGNORE_NAME

from ..conftest import run_cli
from .conftest import INTEROP

pytestmark = INTEROP

dm = pytest.importorskip("datumaro", reason="datumaro is not installed (pip install '.[interop]')")
from datumaro.components.annotation import AnnotationType  # noqa: E402


def _names(dataset) -> list[str]:
    return [label.name for label in dataset.categories()[AnnotationType.label]]


def _masks(item):
    return [a for a in item.annotations if a.type == AnnotationType.mask]


def _class_names(voc) -> list[str]:
    return (voc / "class_names.txt").read_text(encoding="utf-8").splitlines()


def test_voc_segmentation_masks_equal_our_pngs(converted):
    # Without SegmentationObject/, Datumaro gives one mask per class value of each label PNG.
    _, _, voc = converted
    ds = dm.Dataset.import_from(str(voc), "voc_segmentation")
    names = _names(ds)
    assert names == [*_class_names(voc), IGNORE_NAME]
    ids = (voc / "ImageSets" / "Segmentation" / "trainval.txt").read_text().split()
    items = {item.id: item for item in ds if item.subset == "trainval"}
    assert sorted(items) == sorted(ids)
    seen_void = 0
    for stem, item in items.items():
        png = lblread(voc / "SegmentationClass" / f"{stem}.png")
        masks = _masks(item)
        got = {names[m.label] for m in masks}
        want = {IGNORE_NAME if v == IGNORE_INDEX else names[v] for v in np.unique(png).tolist()}
        assert got == want, stem
        for m in masks:
            value = IGNORE_INDEX if names[m.label] == IGNORE_NAME else m.label
            np.testing.assert_array_equal(m.image, png == value, err_msg=f"{stem}: {names[m.label]}")
            seen_void += names[m.label] == IGNORE_NAME
    if converted[0] == "sample_data":
        assert seen_void  # street_001's __ignore__ region went through as void


def test_voc_instance_segmentation_masks_equal_our_pngs(converted):
    # With SegmentationObject/, one mask per instance id, labelled with its class.
    _, voc, _ = converted
    ds = dm.Dataset.import_from(str(voc), "voc_instance_segmentation")
    names = _names(ds)
    assert names == [*_class_names(voc), IGNORE_NAME]
    items = [item for item in ds if item.subset == "trainval"]
    assert items
    for item in items:
        cls = lblread(voc / "SegmentationClass" / f"{item.id}.png")
        obj = lblread(voc / "SegmentationObject" / f"{item.id}.png")
        masks = _masks(item)
        instance_ids = sorted(set(np.unique(obj).tolist()) - {0})
        assert sorted(m.group for m in masks) == instance_ids, item.id
        for m in masks:
            np.testing.assert_array_equal(m.image, obj == m.group, err_msg=f"{item.id}: instance {m.group}")
            under = np.unique(cls[obj == m.group]).tolist()
            assert under == [m.label], (item.id, m.group, under)


def test_datumaro_export_then_rgb2index_keeps_void(converted, tmp_path):
    # Datumaro writes colour masks and its labelmap.txt (ours, with the void line);
    # rgb2index --palette labelmap.txt gives our indices back, void as 255, not a class.
    _, _, voc = converted
    ds = dm.Dataset.import_from(str(voc), "voc_segmentation")
    export = tmp_path / "export"
    ds.export(str(export), "voc_segmentation", save_media=True)
    back = tmp_path / "back"
    done = run_cli(
        "rgb2index", str(export / "SegmentationClass"), str(back), "--palette", str(export / "labelmap.txt")
    )
    assert done.returncode == 0, done.stderr
    pngs = sorted((voc / "SegmentationClass").glob("*.png"))
    assert pngs
    for png in pngs:
        np.testing.assert_array_equal(lblread(back / png.name), lblread(png), err_msg=png.name)


def test_datumaro_voc_labelmap_ignored_is_void(tmp_path):
    # Datumaro's own VOC label map ends with "ignored:224,224,192::" (VocLabel.ignored = 255).
    from datumaro.plugins.data_formats.voc.format import (
        VocTask,
        make_voc_label_map,
        write_label_map,
    )

    from labeltools.palettes import read_labelmap

    path = tmp_path / "labelmap.txt"
    write_label_map(str(path), make_voc_label_map(VocTask.voc_segmentation))
    pal = read_labelmap(path)
    assert pal.indices.tolist() == [*range(21), IGNORE_INDEX]
    assert pal.colors[-1].tolist() == [224, 224, 192]
