"""torchvision's VOCSegmentation reads json2voc's output through a VOCdevkit-style link."""

from __future__ import annotations

import numpy as np
import pytest

from labeltools import lblread

from .conftest import INTEROP

pytestmark = INTEROP

datasets = pytest.importorskip(
    "torchvision.datasets", reason="torchvision is not installed (.ci/run installs it for this tier)"
)


@pytest.mark.parametrize("image_set", ["train", "val", "trainval"])
def test_voc_segmentation_targets_are_our_indices(converted, image_set, tmp_path):
    name, voc, _ = converted
    devkit = tmp_path / "VOCdevkit"
    devkit.mkdir()
    (devkit / "VOC2012").symlink_to(voc, target_is_directory=True)
    ds = datasets.VOCSegmentation(str(tmp_path), year="2012", image_set=image_set, download=False)
    ids = (voc / "ImageSets" / "Segmentation" / f"{image_set}.txt").read_text().split()
    assert len(ds) == len(ids) > 0
    for i, stem in enumerate(ids):
        img, target = ds[i]
        assert target.mode == "P", stem
        np.testing.assert_array_equal(np.array(target), lblread(voc / "SegmentationClass" / f"{stem}.png"))
        assert img.size == target.size, stem  # torchvision ignores EXIF: json2voc wrote it upright
    if name == "sample_data" and image_set == "trainval":
        assert "portrait_004" in ids  # the EXIF-rotated phone photo


def test_weights_file_loads_in_cross_entropy_loss(converted):
    # The README: CrossEntropyLoss(weight=torch.from_numpy(np.load(path)).float(), ignore_index=255).
    import torch

    from labeltools import dataset_weights

    _, voc, _ = converted
    path = dataset_weights(voc, list_file="train.txt").save(dataset_name="pascal")
    assert path == voc / "pascal_classes_weights.npy"  # what deeplab's train.py loads
    weight = torch.from_numpy(np.load(path)).float()
    loss = torch.nn.CrossEntropyLoss(weight=weight, ignore_index=255)
    stem = (voc / "ImageSets" / "Segmentation" / "train.txt").read_text().split()[0]
    target = torch.from_numpy(lblread(voc / "SegmentationClass" / f"{stem}.png").astype(np.int64))
    logits = torch.zeros((1, len(weight), *target.shape))
    value = loss(logits, target[None])  # void pixels (255) are skipped, not an index error
    assert torch.isfinite(value) and abs(float(value) - float(np.log(len(weight)))) < 1e-5
