"""Opening photos and label images: EXIF orientation, palettes."""

import numpy as np
from PIL import Image

from labeltools import exif_orientation, is_voc_palette, open_image, read_image


def test_is_voc_palette_false_for_other_palette():
    img = Image.new("P", (1, 1))
    img.putpalette([255, 0, 0] * 256)
    assert not is_voc_palette(img)
    assert not is_voc_palette(Image.new("L", (1, 1)))


def _exif_jpeg(path, orientation):
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :10] = 255  # a white band on the left of the stored grid
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, exif=exif, quality=95)


def test_open_image_applies_exif_orientation(tmp_path):
    _exif_jpeg(tmp_path / "r.jpg", 6)  # 6 = rotate 90 degrees clockwise to view
    with Image.open(tmp_path / "r.jpg") as raw:
        assert raw.size == (40, 20)
        assert exif_orientation(raw) == 6
    up = open_image(tmp_path / "r.jpg")
    assert up.size == (20, 40)
    arr = read_image(tmp_path / "r.jpg")
    assert arr.shape == (40, 20, 3)
    assert arr[:8, :, 0].mean() > 200  # the band is now at the top
    assert arr[-8:, :, 0].mean() < 50
    assert exif_orientation(up) == 1


def test_read_image_without_exif(tmp_path):
    Image.new("RGB", (5, 3), (10, 20, 30)).save(tmp_path / "p.png")
    arr = read_image(tmp_path / "p.png")
    assert arr.shape == (3, 5, 3)
    assert arr[0, 0].tolist() == [10, 20, 30]
