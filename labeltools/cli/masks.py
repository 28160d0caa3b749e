"""Colour masks and palettes: ``rgb2index``, ``index2rgb``, ``colormap``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..constants import UNKNOWN_COLOR_MODES
from ._common import Bar, LibraryChoice, Scheduler, Workers, classes_option, plural

_LegendClasses = classes_option("the one beside IN's folder, if any; used with --images")
_ColormapClasses = classes_option("none: indices only")


def rgb2index_cmd(
    inp: Annotated[Path, typer.Argument(metavar="IN", help="Colour-mask PNG (RGB/RGBA/P), or a folder of them.")],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Index PNG to write, or a folder (for a folder IN).")],
    palette: Annotated[
        Optional[str],
        typer.Option(
            "--palette",
            help="Colour -> class: 'voc' (default; void (224,224,192) -> 255), a Datumaro/CVAT "
            "labelmap.txt (name:r,g,b:parts:actions) or a CSV of index,name,r,g,b. Needed for grey (L) masks.",
        ),
    ] = None,
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes",
            min=1,
            max=255,
            help="With the VOC palette: accept only the colours of classes 0..N-1 (and void), "
            "which catches stray and BGR-swapped colours.",
        ),
    ] = None,
    unknown: Annotated[
        str,
        typer.Option(
            "--unknown",
            click_type=LibraryChoice(UNKNOWN_COLOR_MODES),
            help="A colour not in the palette: 'error' (list them, write nothing for that file) "
            "or 'ignore' (write 255 and report the counts).",
        ),
    ] = "error",
    workers: Workers = 0,
    scheduler: Scheduler = None,
) -> None:
    """Convert colour masks to VOC index PNGs (P mode, VOC palette), one pass per image."""
    from ..masks import rgb2index_files
    from ..palettes import read_palette

    if num_classes is not None and palette not in (None, "voc"):
        raise typer.BadParameter("only applies to the VOC palette", param_hint="--num-classes")
    pal = read_palette(palette, num_classes) if (palette is not None or num_classes is not None) else None
    with Bar("rgb2index") as bar:
        report = rgb2index_files(inp, out, pal, unknown, workers=workers, backend=scheduler, progress=bar)
    for r in report.files:
        if r.note:
            typer.echo(f"Note: {r.src}: {r.note}", err=True)
    bad = report.files_with_unknown
    for r in bad:
        listed = ", ".join(str(u) for u in r.unknown[:5])
        more = f", and {len(r.unknown) - 5} more" if len(r.unknown) > 5 else ""
        typer.echo(f"Warning: {r.src}: unknown colours written as 255: {listed}{more}", err=True)
    modes: dict[str, int] = {}
    for r in report.files:
        modes[r.mode] = modes.get(r.mode, 0) + 1
    mode_text = ", ".join(f"{n} {m}" for m, n in sorted(modes.items()))
    typer.echo(
        f"Wrote {plural(report.written, 'index PNG')} to {out} "
        f"({mode_text}; {report.palette}); unknown colours: {report.unknown_pixels} px "
        f"in {plural(len(bad), 'file')}"
    )


def index2rgb_cmd(
    inp: Annotated[Path, typer.Argument(metavar="IN", help="Index PNG (P or L), or a folder of them.")],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="RGB PNG to write, or a folder (for a folder IN).")],
    images: Annotated[
        Optional[Path],
        typer.Option("--images", help="Folder of photos named like the labels (e.g. JPEGImages): draw overlays with a legend."),
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0, max=1.0, help="Label opacity in overlays.")] = 0.5,
    classes: _LegendClasses = None,
    workers: Workers = 0,
    scheduler: Scheduler = None,
) -> None:
    """Colour index PNGs with the VOC palette, or overlay them on their photos."""
    from ..formats.voc import CLASS_NAMES_FILE
    from ..labels import class_names_by_index
    from ..masks import index2rgb_files

    if classes is None and images is not None:
        base = inp if inp.is_dir() else inp.parent
        guess = base.parent / CLASS_NAMES_FILE
        classes = guess if guess.is_file() else None
    class_names = class_names_by_index(classes) if classes is not None else None
    with Bar("index2rgb") as bar:
        report = index2rgb_files(
            inp, out, images=images, alpha=alpha, names=class_names, workers=workers, backend=scheduler, progress=bar
        )
    kind = "overlay" if report.overlays else "colour PNG"
    typer.echo(f"Wrote {plural(len(report.files), kind)} to {out}")


def colormap_cmd(
    out: Annotated[Path, typer.Argument(help="Legend image to write (PNG).", dir_okay=False)],
    n: Annotated[int, typer.Option("--n", min=1, max=256, help="Number of classes to show.")] = 21,
    classes: _ColormapClasses = None,
) -> None:
    """Draw the VOC palette as a legend image: swatch, index and class name."""
    from ..labels import class_names_by_index
    from ..viz import colormap_legend, save_png

    img = colormap_legend(n, class_names_by_index(classes) if classes is not None else None)
    save_png(img, out)
    typer.echo(f"Wrote {out} ({n} classes, {img.width}x{img.height})")


def register(app: typer.Typer) -> None:
    app.command("rgb2index")(rgb2index_cmd)
    app.command("index2rgb")(index2rgb_cmd)
    app.command("colormap")(colormap_cmd)
