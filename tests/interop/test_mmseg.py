"""mmseg's BaseSegDataset, configured as the README says, reads json2voc's output."""

from __future__ import annotations

import re

import numpy as np
import pytest

from labeltools import lblread

from ..conftest import ROOT
from .conftest import INTEROP

pytestmark = INTEROP

pytest.importorskip("mmseg", reason="mmsegmentation is not installed (.ci/run installs it for this tier)")


def _without_compiled_ops() -> None:
    """Let mmseg import on mmcv-lite (mmcv without its compiled ops, which pip cannot build here).

    ``mmseg.utils`` imports ``mmcv.ops.point_sample`` for Mask2Former's matcher, a model op
    that reading a dataset never calls. With full mmcv this does nothing; with mmcv-lite a
    stand-in module that raises when called takes its place, and the rest is mmseg's own code.
    """
    import sys
    import types

    try:
        import mmcv.ops  # noqa: F401
    except ImportError:
        stub = types.ModuleType("mmcv.ops")

        def point_sample(*args, **kwargs):
            raise NotImplementedError("mmcv.ops is not installed (mmcv-lite)")

        stub.point_sample = point_sample
        sys.modules["mmcv.ops"] = stub


_without_compiled_ops()


def readme_config(data_root: str, classes: tuple[str, ...]) -> dict:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- mmseg-config.*?-->\n```python\n(.*?)```", readme, re.S)
    assert block, "README has no mmseg-config block"
    namespace: dict = {}
    exec(block.group(1), namespace)
    dataset = namespace["train_dataloader"]["dataset"]
    assert dataset["data_root"] == "out/voc"
    return {**dataset, "data_root": data_root, "metainfo": {"classes": classes}}


def test_readme_classes_are_sample_data_class_names():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- mmseg-config.*?-->\n```python\n(.*?)```", readme, re.S)
    namespace: dict = {}
    exec(block.group(1), namespace)
    names = (ROOT / "sample_data" / "class_names.txt").read_text().split()
    assert namespace["classes"] == tuple(names)


def test_base_seg_dataset_from_the_readme_config(converted):
    import mmseg.datasets  # noqa: F401 - registers the datasets and their transforms
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    # As mmseg's register_all_modules(), without importing its models (compiled mmcv ops).
    init_default_scope("mmseg")
    _, voc, _ = converted
    classes = tuple((voc / "class_names.txt").read_text(encoding="utf-8").splitlines())
    ds = DATASETS.build(readme_config(str(voc), classes))
    ids = (voc / "ImageSets" / "Segmentation" / "train.txt").read_text().split()
    assert len(ds) == len(ids) > 0
    assert tuple(ds.metainfo["classes"]) == classes
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        stem = info["seg_map_path"].rsplit("/", 1)[-1][: -len(".png")]
        assert stem in ids
        assert info["label_map"] is None and info["reduce_zero_label"] is False
        sample = ds[i]["data_samples"]
        gt = sample.gt_sem_seg.data.numpy()[0]
        np.testing.assert_array_equal(gt, lblread(voc / "SegmentationClass" / f"{stem}.png"))
        assert tuple(ds[i]["inputs"].shape[1:]) == gt.shape  # image and label of the same size
