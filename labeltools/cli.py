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

import contextlib
import time
from collections.abc import Callable, Iterator
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
        # --help lists commands in the order they are defined (the workflow order).
        return list(self.commands)


app = typer.Typer(
    cls=_Group,
    name="labeltools",
    help="labelme annotations -> PASCAL VOC segmentation datasets, and the tools to check them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
    from .classnames import read_class_names
    from .viz import palette_legend

    class_names = list(read_class_names(names)) if names is not None else None
    if class_names is not None and len(class_names) < n:
        class_names += [""] * (n - len(class_names))
    indices = list(range(n))
    img = palette_legend(indices, class_names[:n] if class_names is not None else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".png") as tmp:
        img.save(tmp, format="PNG")
    typer.echo(f"Wrote {out} ({n} classes, {img.width}x{img.height})")


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
    workers: Annotated[
        Optional[int],
        typer.Option("--workers", "-j", min=0, help="Processes to use (default / 0: all CPUs)."),
    ] = None,
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
    with _progress_bar("json2voc") as progress:
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


@contextlib.contextmanager
def _progress_bar(what: str) -> Iterator[Callable[[int, int], None] | None]:
    """A transient rich progress bar on stderr, fed by a ``progress(done, total)`` callback.

    ``None`` when stderr is not a terminal: a log file or a pipe gets no bar at all.
    No refresh thread (``auto_refresh=False``): the engine forks its workers, and
    forking a process that runs threads can deadlock the children.
    """
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:.0f} files/s")

    bar = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    )
    task = None
    last = 0.0
    min_interval = 0.1  # seconds between redraws: drawing costs more than converting a file

    def update(done: int, total: int) -> None:
        nonlocal task, last
        if task is None:
            task = bar.add_task(what, total=total)
        now = time.monotonic()
        redraw = done == total or now - last >= min_interval
        bar.update(task, completed=done, total=total, refresh=redraw)
        if redraw:
            last = now

    with bar:
        yield update


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
