"""Colour palettes: which RGB colour stands for which class index.

Three sources: the VOC colour map (the default; its void colour (224, 224, 192) is
255), a Datumaro / CVAT ``labelmap.txt`` (``name:r,g,b:parts:actions``) and a CSV
of ``index,name,r,g,b``. A palette is looked up through a table indexed by the
packed 24-bit colour, built once per palette, so converting an image is a single
gather, whatever the number of classes.
"""

from __future__ import annotations

import csv
import functools
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .colormap import VOID_COLOR, label_colormap
from .constants import IGNORE_INDEX, IGNORE_NAME
from .errors import PaletteError

__all__ = ["Palette", "labelmap_name_ok", "labelmap_text", "read_labelmap", "read_palette", "voc_palette"]

#: Datumaro's name for VOC's void label (its ``VocLabel.ignored``, value 255): its VOC
#: exporter writes ``ignored:224,224,192::``. labelme (and labeltools) call it ``__ignore__``.
DATUMARO_VOID_NAME = "ignored"

#: Number of 24-bit RGB colours: the size of the lookup table.
_N_COLORS = 1 << 24
#: The low 24 bits of a little-endian uint32 read at a pixel: its R, G and B bytes.
RGB_MASK = np.uint32(0xFFFFFF)


def pack_rgb(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pack colour channels into one uint32 key per pixel: ``r | g << 8 | b << 16``.

    The byte order is that of a little-endian uint32 read at a pixel's first byte,
    which is what :func:`pack_pixels` does without splitting channels.
    """
    key = np.asarray(b).astype(np.uint32) << 16
    key |= np.asarray(g).astype(np.uint32) << 8
    key |= np.asarray(r)
    return key


def unpack_key(key: int) -> tuple[int, int, int]:
    """The ``(r, g, b)`` of a packed key."""
    return key & 0xFF, (key >> 8) & 0xFF, (key >> 16) & 0xFF


def pack_pixels(arr: np.ndarray) -> np.ndarray:
    """(H, W) uint32 keys of an (H, W, 3) RGB or (H, W, 4) RGBA uint8 array (alpha dropped).

    One pass: each key is a little-endian uint32 read straight from the pixel's bytes
    (overlapping the next pixel's first byte, masked off), instead of widening and
    shifting three channel planes.
    """
    h, w, ch = arr.shape
    n = h * w
    if not arr.flags.c_contiguous or n < 2:
        return pack_rgb(arr[..., 0], arr[..., 1], arr[..., 2])
    flat = arr.reshape(-1)
    key = np.empty(n, dtype=np.uint32)
    if ch == 4:
        words = np.ndarray((n,), dtype="<u4", buffer=flat)
        np.bitwise_and(words, RGB_MASK, out=key)
    else:
        # The last pixel's 4-byte read would run past the buffer: it is packed alone.
        words = np.ndarray((n - 1,), dtype="<u4", buffer=flat, strides=(3,))
        np.bitwise_and(words, RGB_MASK, out=key[:-1])
        r, g, b = (int(v) for v in flat[-3:])
        key[-1] = r | g << 8 | b << 16
    return key.reshape(h, w)


@dataclass(frozen=True, eq=False)
class Palette:
    """Colour -> class index. ``colors[i]`` (uint8 RGB) is class ``indices[i]``.

    ``names[i]`` is the class name when the source gives one (else ``""``);
    ``source`` is ``"voc"`` or the palette file's path, for messages.
    """

    colors: np.ndarray
    indices: np.ndarray
    names: tuple[str, ...]
    source: str
    num_classes: int | None = None

    @property
    def label(self) -> str:
        """How messages name this palette: ``the VOC palette`` or ``palette <file>``."""
        if self.source != "voc":
            return f"palette {self.source}"
        if self.num_classes is None:
            return "the VOC palette"
        return f"the VOC palette's first {self.num_classes} colours"

    def lookup_table(self) -> np.ndarray:
        """The ``2**24`` uint8 table: packed colour -> class index; 255 for unknown colours.

        16 MiB, built on first use and cached per palette content, so a folder (and
        each worker process, which gets the palette pickled) builds it once. A 255
        is an unknown colour unless the colour is one of :meth:`ignore_keys`.
        """
        return _lookup_table(self.colors.tobytes(), self.indices.tobytes())

    def ignore_keys(self) -> np.ndarray:
        """Sorted packed keys of the colours that really mean 255 (void)."""
        c = self.colors[self.indices == IGNORE_INDEX]
        return np.sort(pack_rgb(c[:, 0], c[:, 1], c[:, 2]))


@functools.lru_cache(maxsize=4)
def _lookup_table(colors: bytes, indices: bytes) -> np.ndarray:
    c = np.frombuffer(colors, dtype=np.uint8).reshape(-1, 3)
    # uint8 (not a wider type with an "unknown" code): half the memory and cache misses;
    # the rare 255s are checked against the void colours afterwards.
    lut = np.full(_N_COLORS, IGNORE_INDEX, dtype=np.uint8)
    lut[pack_rgb(c[:, 0], c[:, 1], c[:, 2])] = np.frombuffer(indices, dtype=np.uint8)
    lut.flags.writeable = False
    return lut


@functools.lru_cache(maxsize=8)
def voc_palette(num_classes: int | None = None) -> Palette:
    """The VOC colour map as a palette, its void colour (224, 224, 192) being 255.

    By default all 256 colours. ``num_classes`` keeps only the colours of classes
    ``0 .. num_classes - 1`` (plus void), so that any other colour is reported:
    with all 256, a mask written in BGR order by OpenCV goes unnoticed, because
    the VOC colours of indices below 64 are closed under swapping red and blue.
    """
    if num_classes is not None and not 1 <= num_classes <= IGNORE_INDEX:
        raise ValueError(f"voc_palette: num_classes must be in [1, {IGNORE_INDEX}], got {num_classes}")
    cmap = label_colormap(256)
    if num_classes is None:
        return Palette(cmap, np.arange(256, dtype=np.uint8), ("",) * 256, "voc")
    keep = [*range(num_classes), IGNORE_INDEX]
    return Palette(
        cmap[keep], np.array(keep, dtype=np.uint8), ("",) * len(keep), "voc", num_classes=num_classes
    )


def _parse_color(path: Path, lineno: int, text: str) -> tuple[int, int, int]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise PaletteError(
            f"{path}: line {lineno}: expected a colour r,g,b with values in 0..255, found {text!r}"
        )
    return values[0], values[1], values[2]


def _build(path: Path, entries: list[tuple[int, int, str, tuple[int, int, int]]]) -> Palette:
    """``entries`` = (line, index, name, colour); reject colours given twice."""
    seen: dict[tuple[int, int, int], tuple[int, str]] = {}
    for lineno, _, name, color in entries:
        if color in seen:
            first_line, first_name = seen[color]
            raise PaletteError(
                f"{path}: line {lineno}: colour {color} of {name!r} is already the colour of "
                f"{first_name!r} on line {first_line}; a colour must name one class"
            )
        seen[color] = (lineno, name)
    if VOID_COLOR not in seen and all(i != IGNORE_INDEX for _, i, _, _ in entries):
        # VOC's void border colour means "ignore" in every VOC-style mask.
        entries = [*entries, (0, IGNORE_INDEX, IGNORE_NAME, VOID_COLOR)]
    colors = np.array([e[3] for e in entries], dtype=np.uint8).reshape(-1, 3)
    indices = np.array([e[1] for e in entries], dtype=np.uint8)
    return Palette(colors, indices, tuple(e[2] for e in entries), str(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PaletteError(f"{path}: no such palette file") from None
    except IsADirectoryError:
        raise PaletteError(f"{path}: expected a palette file, found a directory") from None
    except UnicodeDecodeError as exc:
        raise PaletteError(f"{path}: expected UTF-8 text, {exc.reason} at byte {exc.start}") from None


def labelmap_name_ok(name: str) -> bool:
    """Whether ``name`` survives a ``labelmap.txt`` line unchanged.

    Datumaro splits each line on every ``:`` and strips it, and a line starting with
    ``#`` is a comment: a name with a ``:``, a line break, surrounding spaces or a
    leading ``#`` reads back as something else (or not at all).
    """
    return (
        bool(name)
        and name == name.strip()
        and not name.startswith("#")
        and not any(c in name for c in ":\r\n")
    )


def labelmap_text(names: Sequence[str]) -> str | None:
    """The ``labelmap.txt`` of classes ``names`` (index = position): :func:`read_labelmap`'s pair.

    One ``name:r,g,b::`` line per class in its VOC colour, then ``__ignore__:224,224,192::``,
    which declares VOC's void colour: without it Datumaro's VOC importer stops at the first
    void pixel ("Undeclared color"). Last, so that Datumaro's label ids (line positions)
    stay the class indices; labelme's name, so that :func:`read_labelmap` reads it as 255.
    ``None`` when a name cannot be written (:func:`labelmap_name_ok`): the format has no
    escape for ``:``.
    """
    if not all(labelmap_name_ok(name) for name in names):
        return None
    cmap = label_colormap(256)
    lines = ["# label:color_rgb:parts:actions"]
    for i, name in enumerate(names):
        r, g, b = (int(c) for c in cmap[i % 256])
        lines.append(f"{name}:{r},{g},{b}::")
    r, g, b = VOID_COLOR
    lines.append(f"{IGNORE_NAME}:{r},{g},{b}::")
    return "\n".join(lines) + "\n"


def _is_void(name: str, color_text: str) -> bool:
    if name == IGNORE_NAME:
        return True
    # Datumaro's VOC label map ends with ``ignored`` in the void colour: VOC's 255, which
    # a class index by line position (21 in VOC) would silently turn into a class.
    return name == DATUMARO_VOID_NAME and color_text.replace(" ", "") in (
        "",
        ",".join(str(c) for c in VOID_COLOR),
    )


def read_labelmap(path: str | os.PathLike[str]) -> Palette:
    """Read a Datumaro / CVAT ``labelmap.txt``: ``name:r,g,b:parts:actions`` per line.

    Lines starting with ``#`` (the ``# label:color_rgb:parts:actions`` header) and
    blank lines are skipped. Class index = position among the label lines, except
    void, which is 255 and takes no index: labelme's ``__ignore__`` (what json2voc
    writes) and Datumaro's ``ignored`` in the VOC void colour (what its VOC exporter
    writes). A label without a colour gets the VOC colour of its index, as Datumaro
    does. The VOC void colour maps to 255 unless the file gives it to a class.
    """
    p = Path(path)
    entries: list[tuple[int, int, str, tuple[int, int, int]]] = []
    names: dict[str, int] = {}
    index = 0
    for lineno, raw in enumerate(_read_text(p).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if not 2 <= len(fields) <= 4 or not fields[0].strip():
            raise PaletteError(
                f"{p}: line {lineno}: expected name:r,g,b:parts:actions, found {line!r}"
            )
        name = fields[0].strip()
        if name in names:
            raise PaletteError(
                f"{p}: line {lineno}: label {name!r} already defined on line {names[name]}"
            )
        names[name] = lineno
        if _is_void(name, fields[1]):
            cls = IGNORE_INDEX
        else:
            if index >= IGNORE_INDEX:
                raise PaletteError(
                    f"{p}: line {lineno}: more than {IGNORE_INDEX} classes; "
                    f"an 8-bit label PNG holds indices 0..{IGNORE_INDEX - 1}"
                )
            cls = index
            index += 1
        color_text = fields[1].strip()
        if color_text:
            color = _parse_color(p, lineno, color_text)
        else:
            color = tuple(int(v) for v in label_colormap(256)[cls])  # type: ignore[assignment]
        entries.append((lineno, cls, name, color))
    if not entries:
        raise PaletteError(f"{p}: expected name:r,g,b:parts:actions lines, found none")
    return _build(p, entries)


def labelmap_class_names(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The class names of a ``labelmap.txt`` by index (void lines are no class)."""
    pal = read_labelmap(path)
    return tuple(n for n, i in zip(pal.names, pal.indices) if i != IGNORE_INDEX)


CSV_HEADER = ("index", "name", "r", "g", "b")


def read_color_csv(path: str | os.PathLike[str]) -> Palette:
    """Read a CSV palette of ``index,name,r,g,b`` rows (an optional header row first)."""
    p = Path(path)
    rows = list(csv.reader(io.StringIO(_read_text(p))))
    entries: list[tuple[int, int, str, tuple[int, int, int]]] = []
    indices: dict[int, int] = {}
    for lineno, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not cells or all(not c for c in cells):
            continue
        if lineno == 1 and tuple(c.lower() for c in cells) == CSV_HEADER:
            continue
        if len(cells) != 5:
            raise PaletteError(
                f"{p}: line {lineno}: expected 5 fields index,name,r,g,b, found {len(cells)}: "
                f"{','.join(row)!r}"
            )
        try:
            cls = int(cells[0])
        except ValueError:
            cls = -1
        if not 0 <= cls <= IGNORE_INDEX:
            raise PaletteError(
                f"{p}: line {lineno}: expected a class index in 0..{IGNORE_INDEX}, found {cells[0]!r}"
            )
        if cls in indices:
            raise PaletteError(
                f"{p}: line {lineno}: index {cls} already defined on line {indices[cls]}"
            )
        indices[cls] = lineno
        color = _parse_color(p, lineno, ",".join(cells[2:]))
        entries.append((lineno, cls, cells[1], color))
    if not entries:
        raise PaletteError(f"{p}: expected index,name,r,g,b rows, found none")
    return _build(p, entries)


def read_palette(spec: str | os.PathLike[str] | None, num_classes: int | None = None) -> Palette:
    """``None`` or ``"voc"``: :func:`voc_palette` (``num_classes`` applies to it only);
    ``*.csv``: :func:`read_color_csv`; any other file: :func:`read_labelmap`."""
    if spec is None or (isinstance(spec, str) and spec.lower() == "voc"):
        return voc_palette(num_classes)
    p = Path(spec)
    if p.suffix.lower() == ".csv":
        return read_color_csv(p)
    return read_labelmap(p)
