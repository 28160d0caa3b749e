"""``labeltools json2voc``: labelme JSON folders -> a PASCAL-VOC segmentation dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..constants import UNKNOWN_LABEL_MODES
from ._common import (
    Bar,
    JsonReport,
    LibraryChoice,
    Scheduler,
    ValRatio,
    Workers,
    echo_json,
    import_tables,
)


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
        str,
        typer.Option(
            "--unknown",
            click_type=LibraryChoice(UNKNOWN_LABEL_MODES),
            help="Labels not in --labels: error (list them all, write nothing), "
            "ignore (void, 255) or background (0).",
        ),
    ] = "error",
    val_ratio: ValRatio = 0.2,
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
    workers: Workers = 0,
    scheduler: Scheduler = None,
    as_json: JsonReport = False,
) -> None:
    """Convert a folder of labelme JSON files into a PASCAL-VOC segmentation dataset."""
    from ..pipeline import json2voc

    if npy and nonpy:
        raise typer.BadParameter("--npy and --nonpy contradict each other", param_hint="--npy")
    if viz and noviz:
        raise typer.BadParameter("--viz and --noviz contradict each other", param_hint="--viz")
    if not 0 <= val_ratio < 1:
        raise typer.BadParameter(f"must be in [0, 1), got {val_ratio}", param_hint="--val-ratio")
    with Bar("json2voc", warm_up=None if as_json else import_tables) as progress:
        report = json2voc(
            input_dir,
            output_dir,
            labels,
            unknown=unknown,
            val_ratio=val_ratio,
            seed=seed,
            recursive=recursive,
            objects=not noobject,
            npy=npy,
            viz=viz,
            overwrite=overwrite,
            keep_going=keep_going,
            workers=workers, backend=scheduler,
            progress=progress,
        )
    if as_json:
        echo_json(report.to_dict(), ensure_ascii=False)
    else:
        _print_summary(report)
    if report.failures:
        for failure in report.failures:
            typer.echo(f"Failed: {failure.error}", err=True)
        typer.echo(f"Error: {len(report.failures)} of {len(report.files)} files failed", err=True)
        raise typer.Exit(1)


def _print_summary(report: Any) -> None:
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


def register(app: typer.Typer) -> None:
    app.command("json2voc")(json2voc_cmd)
