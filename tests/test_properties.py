"""Property tests: readers either return a valid result or raise a LabeltoolsError.

Generated labelme documents and arbitrary bytes go to the labelme reader (and the
rasteriser behind it); arbitrary and damaged bytes go to the label-PNG reader and to
the per-file readers of ``check`` and ``stats``. Anything else escaping (a
``RecursionError``, a Pillow ``DecompressionBombError``, a ``struct.error``, a
warning: the suite turns warnings into errors) is a bug.

Bounded: ~150 examples per property, no deadline (the machine is shared).
"""

from __future__ import annotations

import base64
import json
import math
import shutil
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labeltools
from labeltools import LabeltoolsError
from tests import hostile as h

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

# --------------------------------------------------------------------------- strategies

SHAPE_TYPES = ["polygon", "rectangle", "circle", "line", "linestrip", "point",
               "oriented_rectangle", "mask"]

numbers = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-100, 100),
)
json_leaf = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=8))
json_any = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)
points = st.one_of(
    st.lists(st.lists(numbers, min_size=2, max_size=2), max_size=6),
    st.lists(st.tuples(st.floats(-5, 40), st.floats(-5, 30)).map(list), max_size=6),
    json_any,
)


def _mask_patch() -> st.SearchStrategy[Any]:
    def png(w: int, hh: int, fill: int) -> str:
        arr = np.full((hh, w), fill, np.uint8)
        return base64.b64encode(h.png_bytes(arr)).decode()

    return st.one_of(
        st.builds(png, st.integers(1, 8), st.integers(1, 8), st.sampled_from([0, 1, 255])),
        st.text(max_size=12),
        st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode()),
        st.none(),
    )


shapes = st.fixed_dictionaries(
    {
        "label": st.one_of(st.sampled_from(["car", "person", "__ignore__", "_background_"]),
                           st.text(max_size=6), json_leaf),
        "points": points,
        "shape_type": st.one_of(st.sampled_from(SHAPE_TYPES), json_leaf),
    },
    optional={
        "group_id": st.one_of(st.none(), st.integers(-5, 2**40), json_leaf),
        "mask": _mask_patch(),
        "flags": json_any,
        "description": json_any,
    },
)

documents = st.fixed_dictionaries(
    {"shapes": st.one_of(st.lists(shapes, max_size=5), json_any)},
    optional={
        "version": json_leaf,
        "imagePath": st.one_of(st.just("img.jpg"), st.just("img.png"), json_leaf),
        "imageData": st.one_of(st.none(), st.just(h.b64(h.jpeg_bytes())),
                               st.binary(max_size=32).map(h.b64), json_leaf),
        "imageHeight": st.one_of(st.just(h.H), st.integers(-2, 2**33), json_leaf),
        "imageWidth": st.one_of(st.just(h.W), st.integers(-2, 2**33), json_leaf),
        "flags": json_any,
    },
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


@st.composite
def pngs(draw: st.DrawFn) -> bytes:
    """Structurally plausible PNGs: any header values, any (small) IDAT, chunks dropped."""
    # Sizes stay below 30000 per side: a reader that decodes without looking at the
    # declared size must not take the test machine's memory (the catalogue has the bombs).
    w = draw(st.integers(0, 30000))
    hh = draw(st.integers(0, 30000))
    depth = draw(st.sampled_from([1, 2, 4, 8, 16, 3]))
    colour = draw(st.sampled_from([0, 2, 3, 4, 6, 5]))
    interlace = draw(st.sampled_from([0, 1, 2]))
    ihdr = struct.pack(">IIBBBBB", w, hh, depth, colour, 0, draw(st.sampled_from([0, 1])),
                       interlace)
    raw = draw(st.binary(max_size=256))
    idat = zlib.compress(raw) if draw(st.booleans()) else raw
    parts = [_chunk(b"IHDR", ihdr)]
    if draw(st.booleans()):
        parts.append(_chunk(b"PLTE", draw(st.binary(min_size=3, max_size=96))))
    parts.append(_chunk(b"IDAT", idat))
    if draw(st.booleans()):
        parts.append(_chunk(b"IEND", b""))
    data = b"\x89PNG\r\n\x1a\n" + b"".join(parts)
    if draw(st.booleans()):
        data = data[: draw(st.integers(8, len(data)))]
    return data


GOOD_LABEL = h.label_png(np.arange(h.W * h.H, dtype=np.uint32).reshape(h.H, h.W) % 3)


@st.composite
def damaged_labels(draw: st.DrawFn) -> bytes:
    """A valid label PNG with a few bytes overwritten, or cut short."""
    data = bytearray(GOOD_LABEL)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))):]
    return bytes(data)


label_bytes = st.one_of(st.binary(max_size=512), pngs(), damaged_labels())


# --------------------------------------------------------------------------- helpers

class _Tmp:
    """One scratch folder per test function (hypothesis reuses it across examples)."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="labeltools-prop-"))
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _read_doc(folder: Path, data: bytes) -> None:
    path = folder / "doc.json"
    path.write_bytes(data)
    try:
        ann = labeltools.read_labelme(path)
    except LabeltoolsError:
        return
    # A document the reader accepts has well-typed shapes...
    for s in ann.shapes:
        assert isinstance(s.label, str)
        assert all(math.isfinite(x) and math.isfinite(y) for x, y in s.points)
    # ...and rasterises on a small canvas, or says why not.
    try:
        lbl, ins = labeltools.shapes_to_label(
            (h.H, h.W), ann.shapes, {"_background_": 0, "car": 1, "person": 2, "__ignore__": -1}
        )
    except LabeltoolsError:
        return
    assert lbl.shape == (h.H, h.W) and lbl.dtype == np.int32
    assert ins.shape == (h.H, h.W)


def _nan_to_text(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


# --------------------------------------------------------------------------- properties

@SETTINGS
@given(documents)
def test_generated_labelme_documents(doc: dict[str, Any]) -> None:
    with _Tmp() as folder:
        (folder / "img.jpg").write_bytes(h.jpeg_bytes())
        _read_doc(folder, _nan_to_text(doc))


@SETTINGS
@given(st.one_of(st.binary(max_size=512), json_any.map(_nan_to_text),
                 st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
                 st.integers(1, 5000).map(lambda n: b'{"shapes": ' + b"[" * n)))
def test_arbitrary_bytes_to_labelme_reader(data: bytes) -> None:
    with _Tmp() as folder:
        _read_doc(folder, data)


def _lblread(path: Path) -> None:
    try:
        lbl = labeltools.lblread(path)
    except LabeltoolsError:
        return
    assert lbl.dtype == np.uint8 and lbl.ndim == 2


@SETTINGS
@given(label_bytes)
def test_arbitrary_bytes_to_label_png_reader(data: bytes) -> None:
    with _Tmp() as folder:
        path = folder / "x.png"
        path.write_bytes(data)
        _lblread(path)


def _dataset(folder: Path, data: bytes) -> Path:
    root = folder / "voc"
    (root / "SegmentationClass").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    (root / "SegmentationClass" / "x.png").write_bytes(data)
    (root / "SegmentationClass" / "ok.png").write_bytes(GOOD_LABEL)
    (root / "JPEGImages" / "x.jpg").write_bytes(h.jpeg_bytes())
    (root / "JPEGImages" / "ok.jpg").write_bytes(h.jpeg_bytes())
    (root / "class_names.txt").write_text("_background_\ncar\nperson\n")
    return root


@SETTINGS
@given(label_bytes)
def test_arbitrary_bytes_to_check(data: bytes) -> None:
    """check reads every label; a bad one is a row of its report, never an exception."""
    from labeltools import check_dataset

    with _Tmp() as folder:
        report = check_dataset(_dataset(folder, data), workers=1)
        assert report.labels == 2
        if report.ok:
            assert labeltools.lblread(folder / "voc" / "SegmentationClass" / "x.png").ndim == 2


@SETTINGS
@given(label_bytes)
def test_arbitrary_bytes_to_stats(data: bytes) -> None:
    from labeltools import dataset_stats

    with _Tmp() as folder:
        try:
            stats = dataset_stats(_dataset(folder, data), workers=1)
        except LabeltoolsError:
            return
        assert stats.counts.num_images == 2


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_a_labelme_error(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"shapes": ' + b"[" * depth + b"]" * depth + b"}")
    with pytest.raises(LabeltoolsError, match="deep.json: "):
        labeltools.read_labelme(path)
