"""viz: the colormap legend and the atomic PNG writer (the charts are tested with their commands)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from labeltools.viz import colormap_legend, confusion_matrix_image, palette_legend, save_png


def test_colormap_legend_pads_and_cuts_names():
    img = colormap_legend(3, ["bg", "cat"])
    assert img.mode == "RGB"
    assert img.tobytes() == palette_legend([0, 1, 2], ["bg", "cat", ""]).tobytes()
    cut = colormap_legend(2, ["bg", "cat", "dog"])
    assert cut.tobytes() == palette_legend([0, 1], ["bg", "cat"]).tobytes()
    assert colormap_legend(2).tobytes() == palette_legend([0, 1]).tobytes()


def test_colormap_legend_bad_n():
    with pytest.raises(ValueError, match=r"colormap_legend: n must be an int in \[1, 256\], got 0"):
        colormap_legend(0)


def test_save_png_is_atomic_and_makes_the_folder(tmp_path):
    img = Image.fromarray(np.full((2, 3, 3), 7, dtype=np.uint8))
    path = save_png(img, tmp_path / "a" / "b.png")
    assert path == tmp_path / "a" / "b.png"
    with Image.open(path) as back:
        assert back.format == "PNG" and back.size == (3, 2)
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.png"]  # no temporary left


def test_confusion_matrix_image_shades_rows():
    img = confusion_matrix_image(
        np.array([[5, 0, 0], [0, 5, 0], [0, 0, 0]]), ["a", "b", "c"], cell=30
    )
    colours = np.asarray(img).reshape(-1, 3)
    dark = np.all(colours == (8, 48, 107), axis=1).sum()  # 100 % of a row: the darkest blue
    grey = np.all(colours == (225, 225, 225), axis=1).sum()  # class c has no ground truth
    # Cells are 31 x 31 pixels with their outline; the diagonal ones hold a "100" label.
    assert 2 * 20 * 20 < dark < 2 * 31 * 31
    assert 3 * 20 * 20 < grey < 3 * 31 * 31
