"""Colour masks <-> class indices: ``rgb2index`` and ``index2rgb``.

Colour masks (RGB PNGs in VOC colours, CVAT / Datumaro exports, OpenCV scripts)
become VOC index PNGs in one vectorised pass per image: every pixel's colour is
packed into a 24-bit key and looked up in the palette's table (see
:mod:`labeltools.palettes`). Unlike deeplab's ``encode_segmap``, which silently
turns any colour it does not know into background, an unknown colour is an error
that says which colour, how many pixels and where.

Input modes: RGB, and RGBA with the alpha channel ignored (the colour decides, also
under a transparent pixel: writers store background as ``(0, 0, 0, 0)``, and a
class colour stays a class colour). P images already hold indices and are kept as
they are (with a note when their palette is not VOC's). Grey (L) images are
ambiguous (indices, or grey colours?) and need an explicit palette, which then maps
each grey value ``v`` as the colour ``(v, v, v)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._scratch import work_array
from .colormap import label_colormap
from .constants import IGNORE_INDEX, UNKNOWN_COLOR_MODES
from .errors import ImageReadError, OutputError, PaletteError
from .io.files import label_files
from .palettes import (
    RGB_MASK,
    Palette,
    pack_pixels,
    pack_rgb,
    read_palette,
    unpack_key,
    voc_palette,
)

if TYPE_CHECKING:
    from PIL import Image

    from .engine import BackendSpec

__all__ = [
    "ColorMatch",
    "Index2RgbReport",
    "MaskReport",
    "Rgb2IndexReport",
    "UnknownColor",
    "index2rgb",
    "index2rgb_files",
    "match_colors",
    "rgb2index",
    "rgb2index_files",
]

#: How many unknown colours an error message lists before summarising the rest.
MAX_LISTED_COLORS = 20
#: How many further failing files an error message names.
MAX_LISTED_FILES = 5
#: ``unknown=`` choices.
UNKNOWN_MODES = UNKNOWN_COLOR_MODES


@dataclass(frozen=True)
class UnknownColor:
    """A colour in no class: how many pixels have it and the first one (row-major)."""

    color: tuple[int, int, int]
    pixels: int
    x: int
    y: int

    def __str__(self) -> str:
        r, g, b = self.color
        return f"({r},{g},{b}) {self.pixels} px at (x={self.x}, y={self.y})"


@dataclass(frozen=True)
class ColorMatch:
    """Result of :func:`match_colors`.

    ``index``: (H, W) uint8 class indices, unknown colours set to 255 (ignore).
    ``unknown``: the unknown colours, most pixels first. ``bgr_swapped``: every
    unknown colour is a palette colour with red and blue swapped (an OpenCV BGR write).
    """

    index: np.ndarray
    unknown: tuple[UnknownColor, ...]
    bgr_swapped: bool

    @property
    def unknown_pixels(self) -> int:
        return sum(u.pixels for u in self.unknown)


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) RGB or (H, W, 4) RGBA array, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise ValueError(f"expected a uint8 colour array, got {rgb.dtype}")
    return rgb


def _known(keys: np.ndarray, palette: Palette) -> np.ndarray:
    """Which packed colours are in the palette (a 255 in the table may be void or unknown)."""
    looked = palette.lookup_table()[keys]
    return (looked != IGNORE_INDEX) | np.isin(keys, palette.ignore_keys())


def _match_keys(key: np.ndarray, palette: Palette, *, scratch: bool = False) -> ColorMatch:
    """Look ``key`` up in ``palette``; ``scratch``: the index goes into this thread's work
    array ``masks.index`` (valid until the next call) instead of a new array."""
    out = work_array("masks.index", key.shape, np.uint8) if scratch else None
    flags = work_array("masks.flags", key.shape, np.bool_)
    # Unknown colours come out as 255 already. Keys are < 2**24, the table's length:
    # "clip" never clips, and unlike "raise" it writes into ``out`` unbuffered.
    index = np.take(palette.lookup_table(), key, out=out, mode="clip")
    n_void = np.count_nonzero(np.equal(index, IGNORE_INDEX, out=flags))
    if n_void == 0:
        return ColorMatch(index, (), False)
    ignore = palette.ignore_keys()
    # VOC masks outline every object in void: when the palette has one void colour,
    # counting it settles "is every 255 void?" in one pass, without gathering positions.
    if ignore.size == 1 and np.count_nonzero(np.equal(key, ignore[0], out=flags)) == n_void:
        return ColorMatch(index, (), False)
    maybe = np.flatnonzero(index == IGNORE_INDEX)
    candidates = key.ravel()[maybe]
    bad = ~np.isin(candidates, ignore)
    if not bad.any():
        return ColorMatch(index, (), False)
    flat_bad = maybe[bad]
    keys, first, counts = np.unique(candidates[bad], return_index=True, return_counts=True)
    width = key.shape[1]
    order = np.lexsort((first, -counts))  # most pixels first; ties: first seen first
    unknown = tuple(
        UnknownColor(
            unpack_key(int(keys[i])),
            int(counts[i]),
            int(flat_bad[first[i]] % width),
            int(flat_bad[first[i]] // width),
        )
        for i in order
    )
    swapped = ((keys & 0xFF) << 16) | (keys & 0xFF00) | (keys >> 16)
    return ColorMatch(index, unknown, bool(_known(swapped, palette).all()))


def match_colors(rgb: np.ndarray, palette: Palette | None = None) -> ColorMatch:
    """Map each pixel's colour to its class index in one pass (alpha, if any, ignored).

    ``palette`` defaults to the VOC palette. Unknown colours become 255 and are
    listed in the result; nothing is raised for them here.
    """
    rgb = _check_rgb(rgb)
    pal = palette if palette is not None else voc_palette()
    return _match_keys(pack_pixels(rgb), pal)


def unknown_colors_message(source: str, palette: Palette, match: ColorMatch) -> str:
    """The one-line error for a mask with unknown colours."""
    n = len(match.unknown)
    listed = ", ".join(str(u) for u in match.unknown[:MAX_LISTED_COLORS])
    if n > MAX_LISTED_COLORS:
        rest = match.unknown[MAX_LISTED_COLORS:]
        listed += f", and {len(rest)} more colours ({sum(u.pixels for u in rest)} px)"
    msg = f"{source}: {n} colour{'s' if n != 1 else ''} not in {palette.label}: {listed}"
    if match.bgr_swapped:
        msg += (
            "; all of them are palette colours with red and blue swapped: the mask was "
            "probably written by OpenCV in BGR order (convert it with "
            "cv2.cvtColor(mask, cv2.COLOR_BGR2RGB) before saving)"
        )
    return msg


def rgb2index(rgb: np.ndarray, palette: Palette | None = None, unknown: str = "error") -> np.ndarray:
    """Turn an (H, W, 3) RGB or (H, W, 4) RGBA colour mask into (H, W) uint8 indices.

    ``palette`` defaults to the VOC palette (void colour -> 255). An unknown colour
    raises :class:`~labeltools.errors.PaletteError` listing each one with its pixel
    count and first position (``unknown="error"``), or becomes 255 (``"ignore"``).
    """
    if unknown not in UNKNOWN_MODES:
        raise ValueError(f"unknown must be one of {', '.join(UNKNOWN_MODES)}, got {unknown!r}")
    pal = palette if palette is not None else voc_palette()
    match = match_colors(rgb, pal)
    if match.unknown and unknown == "error":
        raise PaletteError(unknown_colors_message("image", pal, match))
    return match.index


def index2rgb(index: np.ndarray) -> np.ndarray:
    """Colour (H, W) integer class indices with the VOC palette: (H, W, 3) uint8."""
    index = np.asarray(index)
    if index.ndim != 2:
        raise ValueError(f"expected a 2-D (H, W) index array, got shape {index.shape}")
    if not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"expected an integer index array, got {index.dtype}")
    if index.dtype != np.uint8 and index.size and (index.min() < 0 or index.max() > 255):
        raise ValueError(
            f"index values must be in [0, 255], got min {index.min()}, max {index.max()}"
        )
    return label_colormap(256)[index.astype(np.uint8, copy=False)]


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class MaskReport:
    """What :func:`rgb2index_files` did with one file.

    ``mode``: the input's PIL mode; ``unknown``: its unknown colours;
    ``written``: False when unknown colours stopped it (``unknown="error"``);
    ``note``: something worth telling (a P input with a non-VOC palette).
    """

    src: str
    dst: str
    mode: str
    unknown: tuple[UnknownColor, ...] = ()
    bgr_swapped: bool = False
    written: bool = True
    note: str = ""
    message: str = ""


@dataclass(frozen=True)
class Rgb2IndexReport:
    files: tuple[MaskReport, ...]
    palette: str

    @property
    def written(self) -> int:
        return sum(r.written for r in self.files)

    @property
    def unknown_pixels(self) -> int:
        return sum(u.pixels for r in self.files for u in r.unknown)

    @property
    def files_with_unknown(self) -> tuple[MaskReport, ...]:
        return tuple(r for r in self.files if r.unknown)


def _pairs(inp: Path, out: Path, what: str) -> list[tuple[Path, Path]]:
    if inp.is_dir():
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: IN {inp} is a folder, so OUT must be a folder, found a file")
        if out.resolve() == inp.resolve():
            raise OutputError(f"{out}: OUT is the input folder; write the {what} to another folder")
        # Sorted, so reports and errors come in the same order on every file system.
        files = label_files(inp)
        if not files:
            raise ImageReadError(f"{inp}: no .png files in this folder")
        out.mkdir(parents=True, exist_ok=True)
        return [(f, out / (f.stem + ".png")) for f in files]
    if not inp.exists():
        raise ImageReadError(f"{inp}: no such file or folder")
    dst = out / (inp.stem + ".png") if out.is_dir() else out
    if dst.resolve() == inp.resolve():
        raise OutputError(f"{dst}: OUT is the input file; write the {what} to another path")
    dst.parent.mkdir(parents=True, exist_ok=True)
    return [(inp, dst)]


def _folders(pairs: Sequence[tuple[Path, Path]], side: int) -> tuple[Path, ...]:
    """The folders of the inputs (``side`` 0) or outputs (1): what a remote worker must reach."""
    return tuple(dict.fromkeys(pair[side].parent for pair in pairs))


#: How Pillow hands over RGB / RGBA pixels as 4 bytes each (the colour in the first three).
_FOUR_BYTE_RAWMODE = {"RGB": "RGBX", "RGBA": "RGBA"}
#: Pixels leave Pillow in pieces of this many bytes (at least one row): pieces this
#: small come from reused heap memory, where one whole-image ``tobytes`` would be a
#: fresh mmap that page-faults (more than the rest of the conversion costs).
_PIECE_BYTES = 1 << 16


def _image_keys(img: Image.Image) -> np.ndarray:
    """(H, W) uint32 colour keys of an RGB or RGBA image, as :func:`pack_pixels` packs them.

    The keys live in this thread's work array ``masks.keys``: valid until the next call.
    """
    from PIL import Image

    # Pillow keeps an RGB pixel in 4 bytes: "RGBX" copies them out as they are, where
    # np.asarray repacks them to 3 bytes that pack_pixels then reads back as unaligned
    # words; a little-endian uint32 of those bytes is the key once the 4th is masked off.
    rawmode = _FOUR_BYTE_RAWMODE[img.mode]
    img.load()
    width, height = img.size
    words = work_array("masks.keys", (height, width), np.dtype("<u4"))
    raw = words.reshape(-1).view(np.uint8)
    make_encoder = getattr(Image, "_getencoder", None)
    if make_encoder is None:  # pragma: no cover - every Pillow since 2.x has it
        raw[:] = np.frombuffer(img.tobytes("raw", rawmode), np.uint8)
    else:
        encoder = make_encoder(img.mode, "raw", (rawmode,))
        encoder.setimage(img.im, (0, 0, width, height))
        pos, status = 0, 0
        while not status:
            _, status, piece = encoder.encode(max(_PIECE_BYTES, width * 4))
            raw[pos : pos + len(piece)] = np.frombuffer(piece, np.uint8)
            pos += len(piece)
        if status < 0 or pos != raw.size:
            raise OSError(f"raw encoder error {status} after {pos} of {raw.size} bytes")
    return np.bitwise_and(words, RGB_MASK, out=words)


def _convert_one(
    pair: tuple[Path, Path], palette: Palette, explicit: bool, unknown: str
) -> MaskReport:
    from .io.errors import pillow_errors
    from .io.images import is_voc_palette, open_header
    from .io.labelpng import write_label

    src, dst = pair
    with open_header(src) as img, pillow_errors(src, "pixels"):
        mode = img.mode
        if mode == "P":
            index = np.array(img, dtype=np.uint8)
            note = "" if is_voc_palette(img) else "P input with a non-VOC palette: indices kept"
            write_label(dst, index)
            return MaskReport(str(src), str(dst), mode, note=note)
        if mode in _FOUR_BYTE_RAWMODE:
            key = _image_keys(img)
        elif mode in ("L", "LA", "1"):
            if not explicit:
                raise PaletteError(
                    f"{src}: a grey ({mode}) image holds values, not colours: if they are "
                    f"class indices use the file as it is; to map grey colours (v,v,v) to "
                    f"classes pass a palette"
                )
            grey = np.asarray(img.convert("L"))
            key = pack_rgb(grey, grey, grey)
        else:
            raise PaletteError(f"{src}: expected an RGB, RGBA, P or L mask, found mode {mode}")
    match = _match_keys(key, palette, scratch=True)
    if match.unknown and unknown == "error":
        return MaskReport(
            str(src), str(dst), mode, match.unknown, match.bgr_swapped, written=False,
            message=unknown_colors_message(str(src), palette, match),
        )
    write_label(dst, match.index)
    return MaskReport(str(src), str(dst), mode, match.unknown, match.bgr_swapped)


def rgb2index_files(
    inp: str | os.PathLike[str],
    out: str | os.PathLike[str],
    palette: str | os.PathLike[str] | Palette | None = None,
    unknown: str = "error",
    *,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> Rgb2IndexReport:
    """Convert a colour-mask PNG, or a folder of them, to VOC index PNGs.

    ``inp`` a file -> ``out`` a file (or an existing folder to put it in);
    ``inp`` a folder -> ``out`` a folder, one ``<stem>.png`` per input ``*.png``.
    ``palette``: ``None``/``"voc"``, a ``labelmap.txt`` or ``.csv`` path, or a
    :class:`~labeltools.palettes.Palette`. With ``unknown="error"`` every file is
    checked, files with unknown colours are not written, and one
    :class:`~labeltools.errors.PaletteError` reports the first of them (and names
    the others); ``"ignore"`` writes 255 for them and lists them in the report.
    """
    if unknown not in UNKNOWN_MODES:
        raise ValueError(f"unknown must be one of {', '.join(UNKNOWN_MODES)}, got {unknown!r}")
    explicit = palette is not None
    pal = palette if isinstance(palette, Palette) else read_palette(palette)
    pairs = _pairs(Path(inp), Path(out), "index PNGs")
    import functools

    from .engine import run

    pal.lookup_table()  # built once here; forked workers inherit it instead of each building it
    fn = functools.partial(_convert_one, palette=pal, explicit=explicit, unknown=unknown)
    reports = tuple(run(
        fn, pairs, workers=workers, backend=backend, progress=progress,
        reads=_folders(pairs, 0), writes=_folders(pairs, 1),
    ))
    failed = [r for r in reports if not r.written]
    if failed:
        msg = failed[0].message
        if len(failed) > 1:
            others = [Path(r.src).name for r in failed[1 : 1 + MAX_LISTED_FILES]]
            more = len(failed) - 1 - len(others)
            msg += (
                f" (and {len(failed) - 1} more file{'s' if len(failed) > 2 else ''} with unknown "
                f"colours: {', '.join(others)}{f' and {more} more' if more else ''})"
            )
        raise PaletteError(msg)
    return Rgb2IndexReport(reports, pal.label)


@dataclass(frozen=True)
class Index2RgbReport:
    files: tuple[str, ...]
    overlays: bool


def _find_photo(folder: Path, stem: str) -> Path:
    for ext in (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"):
        cand = folder / (stem + ext)
        if cand.is_file():
            return cand
    raise ImageReadError(f"{folder}: no image for label {stem} (looked for {stem}.jpg, .jpeg, .png)")


def _colourise_one(
    pair: tuple[Path, Path],
    images: Path | None,
    alpha: float,
    names: Sequence[str] | None,
) -> str:
    from PIL import Image

    from .io.files import atomic_path
    from .io.images import open_image
    from .io.labelpng import lblread
    from .viz import label_overlay

    src, dst = pair
    index = lblread(src)
    if images is None:
        img = Image.fromarray(index2rgb(index))
    else:
        photo_path = _find_photo(images, src.stem)
        photo = open_image(photo_path).convert("RGB")
        if photo.size != (index.shape[1], index.shape[0]):
            raise ImageReadError(
                f"{photo_path}: image is {photo.width}x{photo.height} but label {src} is "
                f"{index.shape[1]}x{index.shape[0]}"
            )
        img = label_overlay(np.asarray(photo), index, alpha=alpha, names=names)
    with atomic_path(dst, suffix=".png") as tmp:
        img.save(tmp, format="PNG")
    return str(dst)


def index2rgb_files(
    inp: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    images: str | os.PathLike[str] | None = None,
    alpha: float = 0.5,
    names: Sequence[str] | None = None,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> Index2RgbReport:
    """Colour index PNGs (P or L) with the VOC palette as RGB PNGs.

    With ``images`` (a folder of photos named like the labels), draw each label over
    its photo with opacity ``alpha`` and a legend of the classes present (named from
    ``names`` when given).
    """
    if not (isinstance(alpha, (int, float)) and 0 <= alpha <= 1):
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    photo_dir = Path(images) if images is not None else None
    if photo_dir is not None and not photo_dir.is_dir():
        raise ImageReadError(f"{photo_dir}: no such image folder")
    pairs = _pairs(Path(inp), Path(out), "colour PNGs")
    import functools

    from .engine import run

    fn = functools.partial(
        _colourise_one, images=photo_dir, alpha=float(alpha),
        names=tuple(names) if names is not None else None,
    )
    written = tuple(run(
        fn, pairs, workers=workers, backend=backend, progress=progress,
        reads=_folders(pairs, 0) + ((photo_dir,) if photo_dir else ()),
        writes=_folders(pairs, 1),
    ))
    return Index2RgbReport(written, photo_dir is not None)
