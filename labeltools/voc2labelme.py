"""voc2json (this module is not called voc2json: ``labeltools.voc2json`` is the function):
label masks (a VOC dataset, or index / colour PNGs) -> editable labelme JSON.

One JSON per label PNG, ``OUTPUT_DIR/<id>.json`` (labelme 5.x schema, ``imageData``
null), beside a copy of its image (or, with ``copy_images=False``, pointing at the
original through a relative ``imagePath``), plus ``OUTPUT_DIR/labels.txt`` in
labelme's convention, so::

    labelme OUTPUT_DIR --labels OUTPUT_DIR/labels.txt         # edit the shapes
    labeltools json2voc OUTPUT_DIR NEW --labels OUTPUT_DIR/labels.txt

redraws the input's class and object maps (exactly with ``shape="mask"`` or
``"auto"``; see :mod:`labeltools.vectorize`). Each file is converted by the pure,
picklable :func:`convert_label` through :func:`labeltools.engine.run`; every file
is written atomically.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .constants import BACKGROUND_NAME, IGNORE_INDEX, IGNORE_NAME
from .engine import BackendSpec, run
from .errors import (
    DatasetError,
    ImageReadError,
    LabelImageError,
    LabelNameError,
    OutputError,
    PaletteError,
)
from .io.files import atomic_path, atomic_write_text
from .vectorize import DEFAULT_EPSILON, SHAPE_MODES, maps_to_shapes

__all__ = [
    "LABELME_VERSION",
    "LABELS_FILE",
    "Voc2jsonFile",
    "Voc2jsonReport",
    "Voc2jsonSettings",
    "convert_label",
    "labelme_json",
    "voc2json",
]

PathLike = str | os.PathLike[str]

#: The ``version`` written into each JSON: the labelme 5.x schema (shapes with
#: ``description`` and ``mask``), which labelme 5 and later read.
LABELME_VERSION = "5.5.0"
#: labelme's label list, written into OUTPUT_DIR (``__ignore__``, ``_background_``, ...).
LABELS_FILE = "labels.txt"
#: Photo extensions looked for beside a label, in this order.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG", ".bmp", ".tif", ".tiff")
_IMAGE_DIR = "JPEGImages"
_OBJECT_DIR = "SegmentationObject"
_LABELMAP = "labelmap.txt"
#: EXIF orientations that swap width and height (transposes and 90-degree turns).
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class Voc2jsonSettings:
    """What :func:`convert_label` needs besides the file: small and picklable."""

    output_dir: Path
    names: tuple[str, ...]
    shape: str = "auto"
    epsilon: float = DEFAULT_EPSILON
    copy_images: bool = True
    palette: Any = None  # a labeltools.palettes.Palette for colour masks; None = VOC's


@dataclass(frozen=True)
class Voc2jsonFile:
    """What :func:`convert_label` wrote for one label: the JSON and the shapes per type."""

    stem: str
    json_path: str
    image_path: str
    shapes: tuple[tuple[str, int], ...]
    width: int
    height: int


@dataclass(frozen=True)
class Voc2jsonReport:
    """The result of :func:`voc2json`."""

    root: Path
    output_dir: Path
    names: tuple[str, ...]
    names_source: str
    objects: bool
    shape: str
    epsilon: float
    files: tuple[Voc2jsonFile, ...]
    seconds: float

    @property
    def shapes(self) -> dict[str, int]:
        """Shapes per ``shape_type`` over every file, sorted by type."""
        total: dict[str, int] = {}
        for f in self.files:
            for kind, n in f.shapes:
                total[kind] = total.get(kind, 0) + n
        return dict(sorted(total.items()))

    def to_dict(self) -> dict[str, object]:
        return {
            "input": str(self.root),
            "output_dir": str(self.output_dir),
            "class_names": list(self.names),
            "names_source": self.names_source,
            "objects": self.objects,
            "shape": self.shape,
            "epsilon": self.epsilon,
            "images": len(self.files),
            "shapes": self.shapes,
            "seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------- one file


def labelme_json(doc: dict[str, Any]) -> str:
    """``doc`` as JSON text: one key per line, one shape per line.

    labelme's own ``indent=2`` puts every coordinate on a line of its own and runs
    json's pure-Python encoder (a quarter of voc2json's time); one compact line per
    shape keeps the file readable and diffable at the C encoder's speed.
    """
    dumps = json.dumps
    lines = []
    for key, value in doc.items():
        if key == "shapes" and value:
            inner = ",\n".join(f"    {dumps(s, ensure_ascii=False)}" for s in value)
            lines.append(f'  "shapes": [\n{inner}\n  ]')
        else:
            lines.append(f"  {dumps(key)}: {dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"



def _read_classes(path: Path, palette: Any) -> np.ndarray:
    """Class indices of a label PNG: P / L indices as they are, RGB(A) colours by the palette."""
    # Public names through the package: the modules behind them are being reshaped.
    from . import lblread, match_colors, voc_palette
    from .masks import unknown_colors_message

    try:
        return lblread(path)  # the common case: one open
    except LabelImageError:
        with _open(path) as img:  # lblread refused it, so it opens: RGB, RGBA or another mode
            if img.mode not in ("RGB", "RGBA"):
                raise
            try:
                rgb = np.asarray(img.convert("RGB"))
            except OSError as exc:
                raise ImageReadError(f"{path}: cannot decode image: {exc}") from exc
    pal = palette if palette is not None else voc_palette()
    match = match_colors(rgb, pal)
    if match.unknown:
        raise PaletteError(unknown_colors_message(str(path), pal, match))
    return match.index


def _open(path: Path) -> Any:
    """``Image.open`` (header only) with the library's one-line errors."""
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(path)
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except (UnidentifiedImageError, IsADirectoryError):
        raise ImageReadError(f"{path}: not a readable image file") from None
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read image header: {exc}") from exc


def _image_size(path: Path) -> tuple[int, int]:
    """Upright (width, height) of a photo, as labelme shows it, from its header."""
    from . import exif_orientation

    with _open(path) as img:
        w, h = img.size
        if img.format == "PNG" and "exif" not in img.info:
            return w, h  # getexif() would decode the whole PNG; PNGs are upright
        return (h, w) if exif_orientation(img) in _SWAPPING_ORIENTATIONS else (w, h)


def convert_label(settings: Voc2jsonSettings, job: tuple[str, str, str | None, str]) -> Voc2jsonFile:
    """Write ``OUTPUT_DIR/<stem>.json`` (and the image copy) for one label PNG.

    ``job = (stem, class PNG, object PNG or None, image)``. Raises a
    :class:`~labeltools.errors.LabeltoolsError` with a one-line message for bad input.
    """
    stem, cls_path, obj_path, image = job
    cls = _read_classes(Path(cls_path), settings.palette)
    obj = None
    if obj_path is not None:
        from . import lblread

        obj = lblread(obj_path)
        if obj.shape != cls.shape:
            raise LabelImageError(
                f"{obj_path}: object map is {obj.shape[0]}x{obj.shape[1]} but its class map "
                f"{cls_path} is {cls.shape[0]}x{cls.shape[1]} (height x width)"
            )
    height, width = cls.shape
    img_w, img_h = _image_size(Path(image))
    if (img_w, img_h) != (width, height):
        raise ImageReadError(
            f"{cls_path}: label is {height}x{width} but its image {image} is {img_h}x{img_w} "
            f"(height x width, upright)"
        )
    present = np.flatnonzero(np.bincount(cls.ravel(), minlength=IGNORE_INDEX + 1)[:IGNORE_INDEX])
    top = int(present[-1]) if present.size else 0
    if top >= len(settings.names):
        raise LabelImageError(
            f"{cls_path}: class value {top} has no name: {len(settings.names)} class names "
            f"(0..{len(settings.names) - 1}); pass --names with a longer list"
        )
    shapes = maps_to_shapes(cls, obj, settings.names, shape=settings.shape, epsilon=settings.epsilon)

    out = settings.output_dir
    target = out / f"{stem}.json"
    src = Path(image)
    if settings.copy_images:
        copy = out / f"{stem}{src.suffix}"
        with atomic_path(copy) as tmp:
            shutil.copyfile(src, tmp)
        rel = copy.name
    else:
        rel = Path(os.path.relpath(src.resolve(), out.resolve())).as_posix()
    doc = {
        "version": LABELME_VERSION,
        "flags": {},
        "shapes": shapes,
        "imagePath": rel,
        "imageData": None,
        "imageHeight": height,
        "imageWidth": width,
    }
    atomic_write_text(target, labelme_json(doc))
    counts: dict[str, int] = {}
    for s in shapes:
        counts[s["shape_type"]] = counts.get(s["shape_type"], 0) + 1
    return Voc2jsonFile(stem, str(target), rel, tuple(sorted(counts.items())), width, height)


# --------------------------------------------------------------------------- the dataset


def _names_from(path: Path) -> tuple[str, ...]:
    """Class names by index from class_names.txt / labels.txt, or from a labelmap.txt."""
    from . import class_names_by_index

    if path.name.lower().endswith(_LABELMAP):
        from . import read_palette

        pal = read_palette(path)
        by_index = {int(i): n for n, i in zip(pal.names, pal.indices.tolist()) if i != IGNORE_INDEX}
        return tuple(by_index.get(i, "") for i in range(max(by_index, default=-1) + 1))
    return class_names_by_index(path)


def _class_names(root: Path, names: PathLike | Sequence[str] | None) -> tuple[tuple[str, ...], str]:
    if names is not None and not isinstance(names, (str, os.PathLike)):
        found, source = tuple(names), "names"
        if found[:1] == (IGNORE_NAME,):  # labelme's labels.txt order
            found = found[1:]
    elif names is not None:
        found, source = _names_from(Path(names)), str(names)
    else:
        for candidate in ("class_names.txt", _LABELMAP):
            if (root / candidate).is_file():
                found, source = _names_from(root / candidate), str(root / candidate)
                break
        else:
            raise LabelNameError(
                f"{root}: no class_names.txt or labelmap.txt to name the classes; pass --names"
            )
    if not found:
        raise LabelNameError(f"{source}: no class names")
    # Class 0 is labelme's _background_, whatever the list calls it.
    clean = (BACKGROUND_NAME, *found[1:])
    for i, name in enumerate(clean):
        if not name or name == IGNORE_NAME or (i and name == BACKGROUND_NAME):
            raise LabelNameError(
                f"{source}: class {i} has the name {name!r}, which labelme cannot use as a class"
            )
    return clean, source


def _find_image(folder: Path, stem: str, label: Path) -> Path:
    for ext in IMAGE_EXTENSIONS:
        cand = folder / f"{stem}{ext}"
        if cand.is_file():
            return cand
    raise ImageReadError(
        f"{label}: no image {stem}.jpg (or .jpeg, .png, ...) in {folder}; labelme needs the photo"
    )


def _check_output(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: expected an output folder, found a file")
    if out.is_dir() and not overwrite and any(out.iterdir()):
        raise OutputError(
            f"{out}: the folder is not empty; choose a new or empty folder or pass --overwrite"
        )


def voc2json(
    dataset: PathLike,
    output_dir: PathLike,
    *,
    images: PathLike | None = None,
    names: PathLike | Sequence[str] | None = None,
    palette: PathLike | None = None,
    list_file: PathLike | None = None,
    objects: bool = True,
    shape: str = "auto",
    epsilon: float = DEFAULT_EPSILON,
    copy_images: bool = True,
    overwrite: bool = False,
    workers: int | None = None,
    backend: BackendSpec = None,
    progress: Callable[[int, int], None] | None = None,
) -> Voc2jsonReport:
    """Turn a VOC dataset (or a folder of label PNGs and ``images``) into labelme JSON files.

    ``dataset``: a VOC root (``SegmentationClass``, ``SegmentationObject`` when present
    and ``objects``, ``JPEGImages``), its ``SegmentationClass`` folder, or any folder of
    index / colour PNGs with ``images`` naming the photos' folder. ``names``: a
    class_names.txt / labels.txt / labelmap.txt file or a list (default: the dataset's
    class_names.txt, else labelmap.txt). ``palette``: colours of RGB masks (default: the
    dataset's labelmap.txt, else VOC's). ``shape``: ``"auto"``, ``"polygon"`` or
    ``"mask"``; ``epsilon``: polygon tolerance in pixels. ``workers``: ``None``/0 = all
    CPUs, 1 = this process; ``backend`` (an engine Backend, an Executor, a Dask address)
    overrides it. ``progress(done, total)`` as files finish. Returns a :class:`Voc2jsonReport`.
    """
    start = time.perf_counter()
    if shape not in SHAPE_MODES:
        raise ValueError(f"shape must be one of {', '.join(SHAPE_MODES)}, got {shape!r}")
    if not (isinstance(epsilon, (int, float)) and epsilon >= 0):
        raise ValueError(f"epsilon must be a number of pixels >= 0, got {epsilon!r}")
    from .formats.voc import find_labels

    found = find_labels(dataset, list_file)
    root = found.root
    class_names, names_source = _class_names(root, names)
    image_dir = Path(images) if images is not None else root / _IMAGE_DIR
    if not image_dir.is_dir():
        hint = "" if images is not None else " (a label folder needs --images DIR)"
        raise DatasetError(f"{image_dir}: no such image folder{hint}")
    object_dir = root / _OBJECT_DIR
    use_objects = objects and found.label_dir.name == "SegmentationClass" and object_dir.is_dir()

    pal = None
    palette_path = Path(palette) if palette is not None else root / _LABELMAP
    if palette is not None or palette_path.is_file():
        from . import read_palette

        pal = read_palette(palette_path)

    jobs = []
    for label in found.paths:
        stem = label.stem
        obj = None
        if use_objects:
            obj_path = object_dir / label.name
            if not obj_path.is_file():
                raise DatasetError(f"{label}: no object map {obj_path} (the folder exists)")
            obj = str(obj_path)
        jobs.append((stem, str(label), obj, str(_find_image(image_dir, stem, label))))

    out = Path(output_dir)
    _check_output(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    labels_txt = "".join(f"{n}\n" for n in (IGNORE_NAME, *class_names))
    atomic_write_text(out / LABELS_FILE, labels_txt)
    settings = Voc2jsonSettings(out, class_names, shape, float(epsilon), copy_images, pal)
    fn = functools.partial(convert_label, settings)
    files = tuple(run(
        fn, jobs, workers=workers, backend=backend, progress=progress,
        reads=(root, image_dir), writes=(out,),
    ))
    return Voc2jsonReport(
        root=root,
        output_dir=out,
        names=class_names,
        names_source=names_source,
        objects=use_objects,
        shape=shape,
        epsilon=float(epsilon),
        files=files,
        seconds=time.perf_counter() - start,
    )

