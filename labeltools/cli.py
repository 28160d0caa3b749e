"""The ``labeltools`` command line: options -> one library call -> a report.

This is the only module that imports typer and rich, and nothing in the library
imports it. Library errors (:class:`~labeltools.errors.LabeltoolsError`) become
``Error: <message>`` on stderr and exit status 1 in exactly one place,
:meth:`_Group.invoke`; usage errors keep typer's exit status 2; anything else
escaping is a bug and shows its traceback.

Heavy imports (NumPy, Pillow, the pipelines) happen inside the commands so that
``labeltools --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from .errors import LabeltoolsError


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LabeltoolsError as exc:
            # typer.echo, not rich: a message may contain [brackets] from file names.
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None

    def list_commands(self, ctx: Any) -> list[str]:
        # --help lists commands in the order of the workflow (and of the README).
        rank = {name: i for i, name in enumerate(_WORKFLOW)}
        return sorted(self.commands, key=lambda name: rank.get(name, len(rank)))


#: Command order in --help: convert, check, prepare for training, evaluate, inspect.
_WORKFLOW = (
    "json2voc", "check", "stats", "split", "weights", "rgb2index", "index2rgb", "eval",
    "dump-xlsx", "colormap",
)


app = typer.Typer(
    cls=_Group,
    name="labeltools",
    help="labelme annotations -> PASCAL VOC segmentation datasets, and the tools to check them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# Parameters several commands share: one definition, one help text.
_Workers = Annotated[
    int,
    typer.Option(
        "--workers", "-j", min=0,
        help="Processes to use: 0 = one per CPU (the default), 1 = this process only. "
        "Results are the same for any number.",
    ),
]
_DatasetOrLabels = Annotated[
    Path,
    typer.Argument(metavar="DATASET|LABEL_DIR", help="VOC dataset folder, or a folder of label PNGs."),
]
_IdList = Annotated[
    Optional[Path],
    typer.Option("--list", help="Only these ids (e.g. train.txt; looked up in ImageSets/Segmentation too)."),
]


def _version_callback(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"labeltools {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        Optional[bool],
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = None,
) -> None:
    """labelme annotations -> PASCAL VOC segmentation datasets, and the tools to check them."""


# --------------------------------------------------------------------------- json2voc

class _Unknown(str, Enum):
    error = "error"
    ignore = "ignore"
    background = "background"


@app.command("json2voc")
def json2voc_cmd(
    input_dir: Annotated[Path, typer.Argument(help="Folder of labelme *.json files.")],
    output_dir: Annotated[
        Path, typer.Argument(help="Dataset folder to create (new, empty, or made by json2voc).")
    ],
    labels: Annotated[
        Optional[str],
        typer.Option(
            "--labels",
            help="labels.txt (labelme's: __ignore__, _background_, classes...) or comma-separated "
            "names. Default: every label found in the input, _background_ first, then sorted.",
        ),
    ] = None,
    unknown: Annotated[
        _Unknown,
        typer.Option(
            "--unknown",
            help="Labels not in --labels: error (list them all, write nothing), "
            "ignore (void, 255) or background (0).",
        ),
    ] = _Unknown.error,
    val_ratio: Annotated[
        float, typer.Option("--val-ratio", help="Share of images in val.txt, in [0, 1).")
    ] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the train/val split.")] = 0,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also read *.json files in subfolders.")
    ] = False,
    noobject: Annotated[
        bool, typer.Option("--noobject", help="Do not write SegmentationObject (instance) labels.")
    ] = False,
    npy: Annotated[
        bool,
        typer.Option(
            "--npy", help="Also write int32 .npy labels (-1 = ignore); needed beyond 255 classes."
        ),
    ] = False,
    nonpy: Annotated[
        bool,
        typer.Option("--nonpy", help="No .npy labels (the default; labelme2voc.py's spelling)."),
    ] = False,
    viz: Annotated[
        bool,
        typer.Option(
            "--viz", help="Also write SegmentationClassVisualization overlays with a legend."
        ),
    ] = False,
    noviz: Annotated[
        bool, typer.Option("--noviz", help="No overlays (the default; labelme2voc.py's spelling).")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Rebuild every image, even those that are up to date."),
    ] = False,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going",
            "-k",
            help="Convert the other files when one fails; list the failures, exit 1.",
        ),
    ] = False,
    workers: _Workers = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Convert a folder of labelme JSON files into a PASCAL-VOC segmentation dataset."""
    import json as json_mod

    from .convert import json2voc

    if npy and nonpy:
        raise typer.BadParameter("--npy and --nonpy contradict each other", param_hint="--npy")
    if viz and noviz:
        raise typer.BadParameter("--viz and --noviz contradict each other", param_hint="--viz")
    if not 0 <= val_ratio < 1:
        raise typer.BadParameter(f"must be in [0, 1), got {val_ratio}", param_hint="--val-ratio")
    with _Bar("json2voc", warm_up=None if as_json else _import_tables) as progress:
        report = json2voc(
            input_dir,
            output_dir,
            labels,
            unknown=unknown.value,
            val_ratio=val_ratio,
            seed=seed,
            recursive=recursive,
            objects=not noobject,
            npy=npy,
            viz=viz,
            overwrite=overwrite,
            keep_going=keep_going,
            workers=workers,
            progress=progress,
        )
    if as_json:
        typer.echo(json_mod.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_json2voc_summary(report)
    if report.failures:
        for failure in report.failures:
            typer.echo(f"Failed: {failure.error}", err=True)
        typer.echo(f"Error: {len(report.failures)} of {len(report.files)} files failed", err=True)
        raise typer.Exit(1)


def _import_tables() -> None:
    import rich.console  # noqa: F401
    import rich.table  # noqa: F401


def _print_json2voc_summary(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"json2voc: {report.output_dir}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("images written", str(report.written))
    table.add_row("images skipped (up to date)", str(report.skipped))
    table.add_row("images failed", str(len(report.failures)))
    for kind, n in report.shapes.items():
        table.add_row(f"shapes: {kind}", str(n))
    source = report.labels.source
    origin = "discovered in the input" if source == "discovered" else f"from {source}"
    table.add_row("classes", f"{len(report.labels.names)} ({origin})")
    if report.split is not None:
        table.add_row("split", ", ".join(f"{k} {len(v)}" for k, v in report.split.lists().items()))
    table.add_row("time", f"{report.seconds:.2f} s")
    console.print(table)

    pixels = report.pixels
    total = sum(pixels.values()) + report.ignored_pixels
    classes = Table(title="pixels per class")
    classes.add_column("index", justify="right")
    classes.add_column("class")
    classes.add_column("pixels", justify="right")
    classes.add_column("share", justify="right")
    for i, (name, n) in enumerate(pixels.items()):
        if n:
            classes.add_row(str(i), name, str(n), f"{100 * n / total:.2f} %" if total else "-")
    if report.ignored_pixels:
        classes.add_row(
            "255", "__ignore__", str(report.ignored_pixels),
            f"{100 * report.ignored_pixels / total:.2f} %",
        )
    console.print(classes)
    for warning in report.warnings:
        console.print(f"Warning: {warning}", markup=False)


# --------------------------------------------------------------------------- masks, split, weights



class _Bar:
    """A transient rich progress bar on stderr, fed by the library's progress(done, total).

    Refreshed from the caller's thread (no auto-refresh thread), so the engine can
    still fork its worker processes cheaply.
    """

    #: Seconds between redraws.
    INTERVAL = 0.1

    def __init__(self, description: str, warm_up: Callable[[], object] | None = None) -> None:
        """``warm_up`` is called once, at the first finished item: imports the report at the
        end needs (rich's tables: ~20 ms) then overlap with the worker processes' remaining
        work instead of adding to the run (the pool has forked by then, so no import runs
        in a child). Without a pool it costs what it would have cost at the end.
        """
        import os
        import sys
        import time

        self._clock = time.monotonic
        self._last = 0.0
        self._warm_up = warm_up
        # Not a terminal (a pipe, a CI log): no bar, and no stray blank line from one;
        # and no rich import either (a tenth of a small job's start-up). rich's own
        # overrides (FORCE_COLOR, TTY_COMPATIBLE) still turn the bar on.
        self._enabled = False
        if not (sys.stderr.isatty() or "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text("" if speed is None else f"{speed:.0f} files/s")

        console = Console(stderr=True)
        self._enabled = console.is_terminal
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            auto_refresh=False,
        )
        self._task = self._progress.add_task(description, total=None)

    def __enter__(self) -> _Bar:
        if self._enabled:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._progress.stop()

    def __call__(self, done: int, total: int) -> None:
        if done and self._warm_up is not None:
            warm_up, self._warm_up = self._warm_up, None
            warm_up()
        if not self._enabled:
            return
        self._progress.update(self._task, completed=done, total=total)
        now = self._clock()
        if done == total or now - self._last >= self.INTERVAL:
            self._last = now
            self._progress.refresh()


def _table(title: str, columns: list[str]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    return table


def _print(obj: Any) -> None:
    from rich.console import Console

    title = getattr(obj, "title", None)
    if isinstance(title, str) and title:
        # Printed as a plain line: rich would wrap a long title (a dataset path) to the
        # table's width over several lines.
        typer.echo(title)
        obj.title = None
    Console().print(obj)


@app.command("rgb2index")
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
            help="A colour not in the palette: 'error' (list them, write nothing for that file) "
            "or 'ignore' (write 255 and report the counts).",
        ),
    ] = "error",
    workers: _Workers = 0,
) -> None:
    """Convert colour masks to VOC index PNGs (P mode, VOC palette), one pass per image."""
    from .masks import UNKNOWN_MODES, rgb2index_files
    from .palettes import read_palette

    if unknown not in UNKNOWN_MODES:
        raise typer.BadParameter(f"must be one of {', '.join(UNKNOWN_MODES)}, got {unknown!r}", param_hint="--unknown")
    if num_classes is not None and palette not in (None, "voc"):
        raise typer.BadParameter("only applies to the VOC palette", param_hint="--num-classes")
    pal = read_palette(palette, num_classes) if (palette is not None or num_classes is not None) else None
    with _Bar("rgb2index") as bar:
        report = rgb2index_files(inp, out, pal, unknown, workers=workers, progress=bar)
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
        f"Wrote {report.written} index PNG{'s' if report.written != 1 else ''} to {out} "
        f"({mode_text}; {report.palette}); unknown colours: {report.unknown_pixels} px "
        f"in {len(bad)} file{'s' if len(bad) != 1 else ''}"
    )


@app.command("index2rgb")
def index2rgb_cmd(
    inp: Annotated[Path, typer.Argument(metavar="IN", help="Index PNG (P or L), or a folder of them.")],
    out: Annotated[Path, typer.Argument(metavar="OUT", help="RGB PNG to write, or a folder (for a folder IN).")],
    images: Annotated[
        Optional[Path],
        typer.Option("--images", help="Folder of photos named like the labels (e.g. JPEGImages): draw overlays with a legend."),
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0, max=1.0, help="Label opacity in overlays.")] = 0.5,
    names: Annotated[
        Optional[Path],
        typer.Option("--names", exists=True, dir_okay=False, help="class_names.txt for the legend (default: the one beside IN's folder, if any)."),
    ] = None,
    workers: _Workers = 0,
) -> None:
    """Colour index PNGs with the VOC palette, or overlay them on their photos."""
    from .masks import index2rgb_files
    from .voc import CLASS_NAMES_FILE, class_names_by_index

    if names is None and images is not None:
        base = inp if inp.is_dir() else inp.parent
        guess = base.parent / CLASS_NAMES_FILE
        names = guess if guess.is_file() else None
    class_names = class_names_by_index(names) if names is not None else None
    with _Bar("index2rgb") as bar:
        report = index2rgb_files(
            inp, out, images=images, alpha=alpha, names=class_names, workers=workers, progress=bar
        )
    n = len(report.files)
    kind = "overlay" if report.overlays else "colour PNG"
    typer.echo(f"Wrote {n} {kind}{'s' if n != 1 else ''} to {out}")


@app.command("split")
def split_cmd(
    dataset: Annotated[Path, typer.Argument(help="VOC dataset folder (JPEGImages/, SegmentationClass/).")],
    val: Annotated[float, typer.Option("--val", help="Share of ids for val.")] = 0.2,
    test: Annotated[float, typer.Option("--test", help="Share of ids for test (0 = no test list).")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (the split is the same for a seed on any machine).")] = 0,
    stratify: Annotated[
        bool,
        typer.Option("--stratify", help="Balance class presence across splits (iterative stratification)."),
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing split lists.")] = False,
    workers: _Workers = 0,
) -> None:
    """Write ImageSets/Segmentation/{train,val,test,trainval}.txt for a VOC dataset."""
    from .splits import split_dataset

    with _Bar("reading labels") as bar:
        report = split_dataset(
            dataset, val=val, test=test, seed=seed, stratify=stratify, overwrite=overwrite,
            workers=workers, progress=bar,
        )
    method = "stratified" if report.stratified else "random"
    table = _table(
        f"{method} split of {len(report.split.trainval) + len(report.split.test)} ids (seed {seed})",
        ["split", "ids", "worst class", "deviation"],
    )
    for b in report.balance:
        worst = "-" if b.worst_class is None else str(b.worst_class)
        table.add_row(b.name, str(b.size), worst, f"{b.deviation * 100:.1f} pp")
    _print(table)
    typer.echo("deviation: |share of the split's images containing the class - share over all ids|")
    for p in report.files:
        typer.echo(f"Wrote {p}")
    for p in report.removed:
        typer.echo(f"Removed stale {p}")


@app.command("weights")
def weights_cmd(
    dataset: _DatasetOrLabels,
    list_file: _IdList = None,
    num_classes: Annotated[
        Optional[int],
        typer.Option("--num-classes", min=1, max=255, help="Number of classes (default: lines of class_names.txt)."),
    ] = None,
    method: Annotated[
        str,
        typer.Option("--method", help="enet (1/ln(1.02+f), as pytorch-deeplab-xception), median-frequency, inverse or inverse-sqrt."),
    ] = "enet",
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Weights .npy to write (default: <dataset>_classes_weights.npy in the dataset root)."),
    ] = None,
    dataset_name: Annotated[
        Optional[str],
        typer.Option("--dataset-name", help="Write <NAME>_classes_weights.npy in the dataset root, the file a trainer loads (deeplab: pascal)."),
    ] = None,
    counts_out: Annotated[Optional[Path], typer.Option("--counts", help="Also write the raw counts and weights as JSON.")] = None,
    ignore_out_of_range: Annotated[
        bool,
        typer.Option("--ignore-out-of-range", help="Leave label values >= N (other than 255) out instead of failing."),
    ] = False,
    workers: _Workers = 0,
) -> None:
    """Class-balancing loss weights from the pixel counts of the label PNGs."""
    import json

    from ._files import atomic_write_text
    from .weights import METHODS, counts_to_json, dataset_weights, weights_path

    if method not in METHODS:
        raise typer.BadParameter(f"must be one of {', '.join(METHODS)}, got {method!r}", param_hint="--method")
    if dataset_name is not None:
        if out is not None:
            raise typer.BadParameter("give --out or --dataset-name, not both", param_hint="--dataset-name")
        try:
            weights_path(dataset, dataset_name)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--dataset-name") from None
    with _Bar("counting pixels") as bar:
        result = dataset_weights(
            dataset, list_file=list_file, num_classes=num_classes, method=method,
            ignore_out_of_range=ignore_out_of_range, workers=workers, progress=bar,
        )
    labels, w = result.labels, result.weights
    names = labels.class_names
    counts = w.counts
    target = result.save(out, dataset_name=dataset_name)
    if counts_out is not None:
        counts_out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(counts_out, json.dumps(counts_to_json(w, names), indent=2) + "\n")
    table = _table(
        f"{method} weights ({counts.num_images} labels)",
        ["class", "pixels", "share", "weight"],
    )
    shares = counts.shares()
    for c in range(counts.num_classes):
        label = f"{c} {names[c]}" if names is not None and c < len(names) else str(c)
        table.add_row(label, f"{int(counts.pixels[c]):,}", f"{shares[c] * 100:.2f} %", f"{w.weights[c]:.4f}")
    _print(table)
    if counts.ignored:
        typer.echo(f"ignored (255): {counts.ignored:,} px, not counted")
    if counts.out_of_range:
        values = ", ".join(str(o.value) for o in counts.out_of_range_values)
        typer.echo(f"out of range ({values}): {counts.out_of_range} px, left out", err=True)
    if w.zero_classes:
        named = ", ".join(
            f"{c} ({names[c]})" if names is not None and c < len(names) else str(c) for c in w.zero_classes
        )
        typer.echo(
            f"Warning: class{'es' if len(w.zero_classes) > 1 else ''} {named} "
            f"{'have' if len(w.zero_classes) > 1 else 'has'} no pixels; weight set to "
            f"{w.weights[w.zero_classes[0]]:.4f} (the largest)",
            err=True,
        )
    typer.echo(f"Wrote {target}" + (f" and {counts_out}" if counts_out is not None else ""))


# --------------------------------------------------------------------------- dump-xlsx, check, stats

def _parse_box(text: Optional[str]) -> Optional[tuple[int, int, int, int]]:
    if text is None:
        return None
    from .xlsx import parse_box

    try:
        return parse_box(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--box") from None


@app.command("dump-xlsx")
def dump_xlsx_cmd(
    label: Annotated[
        Path,
        typer.Argument(metavar="LABEL", help="Label image (P, L, RGB or 16-bit PNG).", dir_okay=False),
    ],
    out: Annotated[
        Path,
        typer.Argument(
            metavar="OUT.xlsx", help="Workbook to write, or the CSV file with --csv.", dir_okay=False
        ),
    ],
    box: Annotated[
        Optional[str],
        typer.Option(
            "--box",
            metavar="X,Y,W,H",
            help="Dump only this region: left, top, width, height in pixels.",
        ),
    ] = None,
    classes: Annotated[
        Optional[Path],
        typer.Option(
            "--classes",
            exists=True,
            dir_okay=False,
            help="class_names.txt for the legend (default: the one beside the label's folder).",
        ),
    ] = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="Do not fill cells with their palette colour.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Write the plain value grid as CSV instead (no size limit).")
    ] = False,
) -> None:
    """Dump a label image's pixel values to Excel (one coloured cell per pixel) or CSV."""
    from .xlsx import dump_csv, dump_xlsx

    region = _parse_box(box)
    out.parent.mkdir(parents=True, exist_ok=True)
    if as_csv:
        report = dump_csv(label, out, box=region)
    else:
        report = dump_xlsx(label, out, box=region, classes=classes, color=not no_color)
    x, y, w, h = report.box
    shown = ", ".join(
        f"({','.join(map(str, v))})" if isinstance(v, tuple) else str(v)
        for v in report.values[:12]
    )
    more = f", ... ({len(report.values)} in all)" if len(report.values) > 12 else ""
    typer.echo(
        f"Wrote {out}: {w}x{h} pixels at ({x}, {y}) of a {report.size[0]}x{report.size[1]} "
        f"{report.mode} image, palette {report.palette}"
    )
    typer.echo(f"values: {shown}{more}")


@app.command("check")
def check_cmd(
    dataset: Annotated[
        Path,
        typer.Argument(
            metavar="DATASET", help="VOC dataset folder (with SegmentationClass/).", file_okay=False
        ),
    ],
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes", min=1, max=255,
            help="Valid values are 0..N-1 and 255 (default: the lines of class_names.txt).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (for CI).")] = False,
    workers: _Workers = 0,
) -> None:
    """Check a VOC dataset: missing files, split leaks, colour masks, bad values, sizes. Exit 1 on errors."""
    from .check import check_dataset

    with _Bar("checking") as bar:
        report = check_dataset(dataset, num_classes=num_classes, workers=workers, progress=bar)
    if as_json:
        import json

        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_check(report)
    if not report.ok:
        raise typer.Exit(1)


#: Ids shown per problem in the table (--json lists them all).
_SHOWN_IDS = 5


def _print_check(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    lists = ", ".join(f"{name} {n}" for name, n in report.lists) or "none"
    classes = (
        f"{report.num_classes} (from {report.num_classes_source})"
        if report.num_classes is not None
        else "unknown (values not range-checked; pass --num-classes)"
    )
    console.print(
        f"{report.root}: {report.labels} labels, {report.images} images, lists: {lists}; "
        f"classes: {classes}",
        markup=False,
        soft_wrap=True,
    )
    if not report.problems:
        console.print("OK: no problems found")
        return
    table = Table("severity", "problem", "count", "first ids", show_lines=False)
    styles = {"error": "bold red", "warning": "yellow", "note": "dim"}
    for p in report.problems:
        shown = [f"{i} ({d})" if d else i for i, d in zip(p.ids[:_SHOWN_IDS], p.details)]
        if p.count > _SHOWN_IDS:
            shown.append("...")
        summary = p.summary + (f": {', '.join(map(str, p.values))}" if p.values else "")
        table.add_row(
            f"[{styles[p.severity]}]{p.severity}[/]", _escape(summary), str(p.count),
            _escape(", ".join(shown)),
        )
    console.print(table)
    console.print(
        f"Found {report.count('error')} kinds of error, {report.count('warning')} of warning, "
        f"{report.count('note')} of note."
    )


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


#: Label sizes listed by `stats` (the rest are summed in one line).
_SHOWN_SIZES = 5


@app.command("stats")
def stats_cmd(
    dataset: _DatasetOrLabels,
    list_file: _IdList = None,
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes", min=1, max=255,
            help="Number of classes (default: lines of class_names.txt, else the largest value + 1).",
        ),
    ] = None,
    plot: Annotated[
        Optional[Path],
        typer.Option("--plot", dir_okay=False, help="Also draw a bar chart of the class shares (PNG)."),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="Log-scale bars in --plot (rare classes stay visible).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
    workers: _Workers = 0,
) -> None:
    """Per-class pixels, share and images, and the label sizes, of a dataset."""
    from .stats import dataset_stats

    with _Bar("counting pixels") as bar:
        stats = dataset_stats(
            dataset, list_file=list_file, num_classes=num_classes, workers=workers, progress=bar
        )
    if plot is not None:
        from ._files import atomic_path
        from .viz import class_share_chart

        scale = ", log scale" if log else ""
        title = f"{stats.root.name}: share of labelled pixels per class ({stats.num_images} labels{scale})"
        img = class_share_chart(stats.class_names, stats.counts.shares().tolist(), log=log, title=title)
        plot.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(plot, suffix=".png") as tmp:
            img.save(tmp, format="PNG")
    if as_json:
        import json

        typer.echo(json.dumps(stats.to_dict(), indent=2))
    else:
        _print_stats(stats)
    if plot is not None:
        typer.echo(f"Wrote {plot}", err=as_json)


def _print_stats(stats: Any) -> None:
    c = stats.counts
    shares = c.shares()
    table = _table(
        f"{stats.root}: {c.num_images} labels, {c.num_classes} classes "
        f"(from {stats.num_classes_source})",
        ["class", "pixels", "share", "images"],
    )
    for i in range(c.num_classes):
        name = f"{i} {stats.class_names[i]}".rstrip()
        table.add_row(name, f"{int(c.pixels[i]):,}", f"{shares[i] * 100:.2f} %", str(int(c.images[i])))
    _print(table)
    typer.echo(f"labelled {c.labelled:,} px; ignored (255) {c.ignored:,} px")
    if c.out_of_range:
        values = ", ".join(str(o.value) for o in c.out_of_range_values)
        typer.echo(f"out of range (values {values}): {c.out_of_range:,} px, in no class")
    sizes = [f"{w}x{h} ({n})" for (w, h), n in stats.sizes[:_SHOWN_SIZES]]
    rest = sum(n for _, n in stats.sizes[_SHOWN_SIZES:])
    if rest:
        sizes.append(f"{len(stats.sizes) - _SHOWN_SIZES} other sizes ({rest})")
    typer.echo("label sizes: " + ", ".join(sizes))


# --------------------------------------------------------------------------- eval

class _AbsentPolicy(str, Enum):
    # Mirrors labeltools.metrics.ABSENT_POLICIES (not imported here: keeps --help fast).
    nan = "nan"
    zero = "zero"


def _percent(value: float) -> str:
    import math

    return "n/a" if math.isnan(value) else f"{100 * value:.2f}"


@app.command("eval")
def eval_cmd(
    gt: Annotated[
        Path,
        typer.Argument(
            help="Ground truth: a folder of <id>.png label images, or a VOC dataset root "
            "(SegmentationClass/, ImageSets/Segmentation/val.txt, class_names.txt)."
        ),
    ],
    pred: Annotated[
        Path, typer.Argument(help="Folder of predicted <id>.png index images (P or L mode).")
    ],
    id_list: Annotated[
        Optional[Path],
        typer.Option(
            "--list",
            dir_okay=False,
            help="Ids to score, one per line "
            "(default: the dataset's val.txt, or every PNG of a GT folder).",
        ),
    ] = None,
    classes: Annotated[
        Optional[Path],
        typer.Option(
            "--classes",
            dir_okay=False,
            help="class_names.txt: one name per line, index = line number "
            "(default: the dataset's class_names.txt).",
        ),
    ] = None,
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes", min=1, max=255, help="Number of classes, when there is no names file."
        ),
    ] = None,
    ignore_index: Annotated[
        int,
        typer.Option(
            "--ignore-index",
            min=0,
            max=255,
            help="Ground-truth value that is never scored (VOC's void).",
        ),
    ] = 255,
    absent: Annotated[
        _AbsentPolicy,
        typer.Option(
            "--absent",
            help="A score that is 0/0 (a class in neither GT nor prediction): 'nan' = n/a and left "
            "out of the means (deeplab, mmseg); 'zero' = 0 and averaged in (torchmetrics).",
        ),
    ] = _AbsentPolicy.nan,
    json_out: Annotated[
        Optional[Path],
        typer.Option(
            "--json",
            dir_okay=False,
            help="Write every score, the matrix, the ids and settings as JSON.",
        ),
    ] = None,
    csv_out: Annotated[
        Optional[Path],
        typer.Option(
            "--csv", dir_okay=False, help="Write the raw confusion matrix (rows = GT) as CSV."
        ),
    ] = None,
    plot_out: Annotated[
        Optional[Path],
        typer.Option(
            "--plot", dir_okay=False, help="Write a row-normalised confusion-matrix heatmap (PNG)."
        ),
    ] = None,
    workers: _Workers = 0,
) -> None:
    """Score predicted label PNGs against ground truth: PA, class accuracy, IoU, mIoU, FWIoU."""
    import csv
    import io
    import json

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ._files import atomic_path, atomic_write_text
    from .evaluation import evaluate

    with _Bar("eval") as bar:
        result = evaluate(
            gt,
            pred,
            ids=id_list,
            num_classes=num_classes,
            class_names=classes,
            ignore_index=ignore_index,
            absent=absent.value,
            workers=workers,
            progress=bar,
        )
    m = result.metrics
    n_ids = len(result.ids)
    table = Table(title=f"{n_ids} image{'' if n_ids == 1 else 's'}, {result.num_classes} classes")
    for header in ("#", "class", "IoU %", "acc %", "precision %", "GT pixels", "pred pixels"):
        table.add_column(header, justify="left" if header == "class" else "right")
    for i, name in enumerate(result.class_names):
        table.add_row(
            str(i),
            Text(name),  # a name is not rich markup: "[crowd]" stays visible
            _percent(m.iou[i]),
            _percent(m.accuracy[i]),
            _percent(m.precision[i]),
            str(int(m.gt_pixels[i])),
            str(int(m.pred_pixels[i])),
        )
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:
        # A report saved to a file keeps long class names whole instead of wrapping at 80.
        out.width = max(out.width, 160)
    out.print(table)
    out.print(
        f"PA {_percent(m.pixel_accuracy)}  mAcc {_percent(m.mean_accuracy)}  "
        f"mIoU {_percent(m.mean_iou)}  FWIoU {_percent(m.fw_iou)}"
    )
    for warning in result.warnings:
        typer.echo(f"Warning: {warning}", err=True)

    for path in (json_out, csv_out, plot_out):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
        typer.echo(f"Wrote {json_out}")
    if csv_out is not None:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["gt \\ pred", *result.class_names])
        for name, row in zip(result.class_names, result.confusion.counts, strict=True):
            writer.writerow([name, *(int(v) for v in row)])
        atomic_write_text(csv_out, buf.getvalue())
        typer.echo(f"Wrote {csv_out}")
    if plot_out is not None:
        from .viz import confusion_matrix_image

        img = confusion_matrix_image(result.confusion.counts, result.class_names)
        with atomic_path(plot_out, suffix=".png") as tmp:
            img.save(tmp, format="PNG")
        typer.echo(f"Wrote {plot_out} ({img.width}x{img.height})")


# --------------------------------------------------------------------------- colormap

@app.command("colormap")
def colormap_cmd(
    out: Annotated[Path, typer.Argument(help="Legend image to write (PNG).", dir_okay=False)],
    n: Annotated[int, typer.Option("--n", min=1, max=256, help="Number of classes to show.")] = 21,
    names: Annotated[
        Optional[Path],
        typer.Option(
            "--names",
            exists=True,
            dir_okay=False,
            help="class_names.txt: one name per line, index = line number.",
        ),
    ] = None,
) -> None:
    """Draw the VOC palette as a legend image: swatch, index and class name."""
    from ._files import atomic_path
    from .viz import palette_legend
    from .voc import class_names_by_index

    class_names = list(class_names_by_index(names)) if names is not None else None
    if class_names is not None and len(class_names) < n:
        class_names += [""] * (n - len(class_names))
    indices = list(range(n))
    img = palette_legend(indices, class_names[:n] if class_names is not None else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".png") as tmp:
        img.save(tmp, format="PNG")
    typer.echo(f"Wrote {out} ({n} classes, {img.width}x{img.height})")
