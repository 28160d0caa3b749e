import numpy as np
import pytest

from labeltools import label_colormap


def _voc_colormap_reference(n=256):
    # The seed's voc_colormap / VOCdevkit's VOClabelcolormap.m, transcribed loop for loop.
    def bitget(val, idx):
        return (val & (1 << idx)) != 0

    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= bitget(c, 0) << 7 - j
            g |= bitget(c, 1) << 7 - j
            b |= bitget(c, 2) << 7 - j
            c >>= 3
        cmap[i, :] = [r, g, b]
    return cmap


def test_dtype_and_shape():
    cmap = label_colormap()
    assert cmap.dtype == np.uint8
    assert cmap.shape == (256, 3)
    assert label_colormap(21).shape == (21, 3)


def test_known_entries():
    cmap = label_colormap()
    assert cmap[0].tolist() == [0, 0, 0]
    assert cmap[1].tolist() == [128, 0, 0]
    assert cmap[15].tolist() == [192, 128, 128]
    assert cmap[20].tolist() == [0, 64, 128]
    assert cmap[255].tolist() == [224, 224, 192]


def test_equals_reference_for_all_256_entries():
    np.testing.assert_array_equal(label_colormap(256), _voc_colormap_reference(256))


def test_all_256_colours_distinct():
    assert len({tuple(c) for c in label_colormap().tolist()}) == 256


def test_cached_and_read_only():
    a = label_colormap()
    assert a is label_colormap()
    with pytest.raises(ValueError, match="read-only"):
        a[0, 0] = 1


@pytest.mark.parametrize("n", [0, 257, -1])
def test_bad_n(n):
    with pytest.raises(ValueError, match=rf"n must be in \[1, 256\], got {n}"):
        label_colormap(n)


def test_n_must_be_int():
    with pytest.raises(TypeError, match="n must be an int, got float"):
        label_colormap(2.0)
