"""``labelme.utils.draw`` (labelme <= 3.x): colour maps and label pictures.

``draw_label`` and ``draw_instances`` drew with matplotlib (a plot with a legend, and
matplotlib's DejaVu Sans font); they import it on first use, as labelme did, so
their pictures are the ones labelme drew with the same matplotlib and Pillow.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["draw_instances", "draw_label", "label2rgb", "label_colormap"]

#: The colour map interleaves 3 bits of the index per step over 8 steps: 24 bits.
_COLORMAP_STEPS = 8


def label_colormap(N: int = 256) -> np.ndarray:  # noqa: N803 - labelme's parameter name
    """``labelme.utils.draw.label_colormap`` (labelme <= 3.16.7): ``(N, 3)`` float32 in [0, 1].

    The VOC palette divided by 255, for any ``N`` (indices above 255 continue the
    bit interleave, as labelme's loop did).
    """
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 0:
        raise ValueError(f"label_colormap: N must be an int >= 0, got {N!r}")
    index = np.arange(int(N), dtype=np.int64)
    cmap = np.zeros((int(N), 3), dtype=np.int64)
    for j in range(_COLORMAP_STEPS):
        for channel in range(3):
            cmap[:, channel] |= ((index >> (3 * j + channel)) & 1) << (7 - j)
    return cmap.astype(np.float32) / 255


def _colormap_or_default(colormap: np.ndarray | None, n_labels: int) -> np.ndarray:
    if colormap is None:
        return label_colormap(n_labels)
    cmap = np.asarray(colormap)
    if cmap.ndim != 2 or cmap.shape[1] != 3:
        raise ValueError(f"colormap must be an (N, 3) array of RGB values, got shape {cmap.shape}")
    if cmap.size and not (cmap.min() >= 0 and cmap.max() <= 1):
        raise ValueError(
            f"colormap values must be in [0, 1], got {float(cmap.min())}..{float(cmap.max())}"
        )
    return cmap


def label2rgb(
    lbl: np.ndarray,
    img: np.ndarray | None = None,
    n_labels: int | None = None,
    alpha: float = 0.5,
    thresh_suppress: float = 0,
    colormap: np.ndarray | None = None,
) -> np.ndarray:
    """labelme 3.x's ``label2rgb``: uint8 ``(H, W, 3)`` label colours, -1 black.

    With ``img``, blended ``alpha`` : ``1 - alpha`` with the image in grey.
    ``thresh_suppress`` is accepted and unused, as in labelme.
    """
    lbl = np.asarray(lbl)
    if n_labels is None:
        n_labels = len(np.unique(lbl))
    cmap = (_colormap_or_default(colormap, n_labels) * 255).astype(np.uint8)
    if lbl.size and (int(lbl.max()) >= len(cmap) or int(lbl.min()) < -1):
        raise ValueError(
            f"label2rgb: label values must be in [-1, {len(cmap) - 1}] for {len(cmap)} colours, "
            f"got {int(lbl.min())}..{int(lbl.max())}"
        )
    viz = cmap[lbl]
    viz[lbl == -1] = (0, 0, 0)  # unlabeled
    if img is not None:
        gray = np.asarray(Image.fromarray(img).convert("LA").convert("RGB"))
        viz = (alpha * viz + (1 - alpha) * gray).astype(np.uint8)
    return viz


def draw_label(
    label: np.ndarray,
    img: np.ndarray | None = None,
    label_names: Sequence[str] | None = None,
    colormap: np.ndarray | None = None,
    **kwargs,
) -> np.ndarray:
    """labelme 3.x's ``draw_label``: the colourised label with a legend of the present values.

    Drawn by matplotlib (Agg) like labelme, then resized to the label's size.
    """
    import matplotlib.pyplot as plt

    label = np.asarray(label)
    backend = plt.rcParams["backend"]
    plt.switch_backend("agg")
    plt.subplots_adjust(left=0, right=1, top=1, bottom=0, wspace=0, hspace=0)
    plt.margins(0, 0)
    plt.gca().xaxis.set_major_locator(plt.NullLocator())
    plt.gca().yaxis.set_major_locator(plt.NullLocator())

    if label_names is None:
        label_names = [str(v) for v in range(label.max() + 1)]
    cmap = _colormap_or_default(colormap, len(label_names))
    viz = label2rgb(label, img, n_labels=len(label_names), colormap=cmap, **kwargs)
    plt.imshow(viz)
    plt.axis("off")

    handles, titles = [], []
    for value, name in enumerate(label_names):
        if value not in label:
            continue
        handles.append(plt.Rectangle((0, 0), 1, 1, fc=cmap[value]))
        titles.append(f"{value}: {name}")
    plt.legend(handles, titles, loc="lower right", framealpha=0.5)

    f = io.BytesIO()
    plt.savefig(f, bbox_inches="tight", pad_inches=0)
    plt.cla()
    plt.close()
    plt.switch_backend(backend)

    size = (viz.shape[1], viz.shape[0])
    return np.asarray(Image.open(f).resize(size, Image.Resampling.BILINEAR).convert("RGB"))


def draw_instances(
    image: np.ndarray | None = None,
    bboxes: Sequence[Sequence[float]] | None = None,
    labels: Sequence[int] | None = None,
    masks: None = None,
    captions: Sequence[str] | None = None,
) -> np.ndarray:
    """labelme 3.x's ``draw_instances``: boxes outlined in their label's colour, captioned.

    ``bboxes`` are ``(xmin, ymin, xmax, ymax)``; the caption is written at the top-left
    corner in matplotlib's DejaVu Sans. ``masks`` was never implemented (must be None).
    """
    import matplotlib

    missing = [n for n, v in (("image", image), ("bboxes", bboxes), ("labels", labels),
                              ("captions", captions)) if v is None]
    if missing:
        raise ValueError(f"draw_instances: {', '.join(missing)} must be given")
    if masks is not None:
        raise ValueError("draw_instances: masks are not supported (labelme never drew them)")
    viz = Image.fromarray(image)
    draw = ImageDraw.ImageDraw(viz)
    font_path = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data/fonts/ttf/DejaVuSans.ttf")
    font = ImageFont.truetype(font_path)
    cmap = label_colormap(255)
    for bbox, label, caption in zip(bboxes, labels, captions):
        color = tuple((cmap[label] * 255).astype(np.uint8).tolist())
        xmin, ymin, xmax, ymax = bbox
        draw.rectangle((xmin, ymin, xmax, ymax), outline=color)
        draw.text((xmin, ymin), caption, font=font)
    return np.asarray(viz)
