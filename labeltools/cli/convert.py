"""``labeltools json2voc / json2coco / json2yolo``: labelme JSON folders -> datasets.

The three converters share one pipeline and so one set of options (defined once
below): labels, ``--unknown``, ``--map``, the split, resume, workers, ``--json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..constants import UNKNOWN_LABEL_MODES, YOLO_PARTS
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

InputDir = Annotated[Path, typer.Argument(help="Folder of labelme *.json files.")]
LabelsOption = Annotated[
    Optional[str],
    typer.Option(
        "--labels",
        help="labels.txt (labelme's: __ignore__, _background_, classes...) or comma-separated "
        "names. Default: every label found in the input, _background_ first, then sorted.",
    ),
]
UnknownOption = Annotated[
    str,
    typer.Option(
        "--unknown",
        click_type=LibraryChoice(UNKNOWN_LABEL_MODES),
        help="Labels not in --labels: error (list them all, write nothing), "
        "ignore (void, 255) or background (0).",
    ),
]
MapRules = Annotated[
    Optional[list[str]],
    typer.Option(
        "--map",
        metavar="SRC=DST",
        help="Relabel shapes before anything else: DST is another label (merge, rename), "
        "__ignore__, _background_, or - (drop the shape). Repeatable.",
    ),
]
MapFile = Annotated[
    Optional[Path],
    typer.Option("--map-file", help="--map rules from a file, one SRC=DST a line (# comments)."),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the train/val split.")]
RecursiveOption = Annotated[
    bool, typer.Option("--recursive", "-r", help="Also read *.json files in subfolders.")
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Rebuild every image, even those that are up to date.")
]
KeepGoingOption = Annotated[
    bool,
    typer.Option(
        "--keep-going", "-k", help="Convert the other files when one fails; list the failures, exit 1."
    ),
]


def _label_map(rules: list[str] | None, map_file: Path | None) -> Any:
    if not rules and map_file is None:
        return None
    from ..remap import label_map

    return label_map(rules or (), map_file)


def _check_val_ratio(val_ratio: float) -> None:
    if not 0 <= val_ratio < 1:
        raise typer.BadParameter(f"must be in [0, 1), got {val_ratio}", param_hint="--val-ratio")


def json2voc_cmd(
    input_dir: InputDir,
    output_dir: Annotated[
        Path, typer.Argument(help="Dataset folder to create (new, empty, or made by json2voc).")
    ],
    labels: LabelsOption = None,
    unknown: UnknownOption = "error",
    map_rules: MapRules = None,
    map_file: MapFile = None,
    val_ratio: ValRatio = 0.2,
    seed: SeedOption = 0,
    recursive: RecursiveOption = False,
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
    overwrite: OverwriteOption = False,
    keep_going: KeepGoingOption = False,
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
    _check_val_ratio(val_ratio)
    label_map = _label_map(map_rules, map_file)
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
            label_map=label_map,
        )
    _finish(report, as_json, "json2voc")


def json2coco_cmd(
    input_dir: InputDir,
    output_dir: Annotated[
        Path, typer.Argument(help="Dataset folder to create (new, empty, or made by json2coco).")
    ],
    labels: LabelsOption = None,
    unknown: UnknownOption = "error",
    map_rules: MapRules = None,
    map_file: MapFile = None,
    val_ratio: ValRatio = 0.2,
    seed: SeedOption = 0,
    recursive: RecursiveOption = False,
    rle: Annotated[
        bool,
        typer.Option(
            "--rle", help="RLE for every instance (default: polygons where the vertices say it all)."
        ),
    ] = False,
    overwrite: OverwriteOption = False,
    keep_going: KeepGoingOption = False,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    as_json: JsonReport = False,
) -> None:
    """Convert a folder of labelme JSON files into a COCO instance-segmentation dataset."""
    from ..exports import json2coco

    _check_val_ratio(val_ratio)
    label_map = _label_map(map_rules, map_file)
    with Bar("json2coco", warm_up=None if as_json else import_tables) as progress:
        report = json2coco(
            input_dir, output_dir, labels, rle=rle, unknown=unknown, val_ratio=val_ratio,
            seed=seed, recursive=recursive, overwrite=overwrite, keep_going=keep_going,
            workers=workers, backend=scheduler, progress=progress, label_map=label_map,
        )
    _finish(report, as_json, "json2coco")


def json2yolo_cmd(
    input_dir: InputDir,
    output_dir: Annotated[
        Path, typer.Argument(help="Dataset folder to create (new, empty, or made by json2yolo).")
    ],
    labels: LabelsOption = None,
    unknown: UnknownOption = "error",
    map_rules: MapRules = None,
    map_file: MapFile = None,
    val_ratio: ValRatio = 0.2,
    seed: SeedOption = 0,
    recursive: RecursiveOption = False,
    parts: Annotated[
        str,
        typer.Option(
            "--parts",
            click_type=LibraryChoice(YOLO_PARTS),
            help="An object in several pieces (grouped shapes, or cut apart by a later "
            "shape): merge = one row, the pieces linked by zero-width slits as Ultralytics' "
            "COCO converter does; split = one row per piece (read as separate objects). "
            "Holes are slit-joined to their piece either way.",
        ),
    ] = "merge",
    overwrite: OverwriteOption = False,
    keep_going: KeepGoingOption = False,
    workers: Workers = 0,
    scheduler: Scheduler = None,
    as_json: JsonReport = False,
) -> None:
    """Convert a folder of labelme JSON files into an Ultralytics YOLO segmentation dataset."""
    from ..exports import json2yolo

    _check_val_ratio(val_ratio)
    label_map = _label_map(map_rules, map_file)
    with Bar("json2yolo", warm_up=None if as_json else import_tables) as progress:
        report = json2yolo(
            input_dir, output_dir, labels, parts=parts, unknown=unknown, val_ratio=val_ratio,
            seed=seed, recursive=recursive, overwrite=overwrite, keep_going=keep_going,
            workers=workers, backend=scheduler, progress=progress, label_map=label_map,
        )
    _finish(report, as_json, "json2yolo")


def _finish(report: Any, as_json: bool, command: str) -> None:
    if as_json:
        doc = report.to_dict()
        if command != "json2voc":  # pixels are VOC's; the others count instances
            doc.pop("pixels")
            doc.pop("ignored_pixels")
            doc["instances"] = report.instances
        echo_json(doc, ensure_ascii=False)
    else:
        _print_summary(report, command)
    if report.failures:
        for failure in report.failures:
            typer.echo(f"Failed: {failure.error}", err=True)
        typer.echo(f"Error: {len(report.failures)} of {report.images} files failed", err=True)
        raise typer.Exit(1)


def _print_summary(report: Any, command: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{command}: {report.output_dir}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("images written", str(report.written))
    table.add_row("images skipped (up to date)", str(report.skipped))
    table.add_row("images failed", str(len(report.failures)))
    for kind, n in report.shapes.items():
        table.add_row(f"shapes: {kind}", str(n))
    for rule, n in (report.remapped or {}).items():
        table.add_row(f"--map {rule}", f"{n} shape{'s' if n != 1 else ''}")
    if command != "json2voc":
        table.add_row("instances", str(report.instances))
    source = report.labels.source
    origin = "discovered in the input" if source == "discovered" else f"from {source}"
    table.add_row("classes", f"{len(report.labels.names)} ({origin})")
    if report.split is not None:
        table.add_row("split", ", ".join(f"{k} {len(v)}" for k, v in report.split.lists().items()))
    table.add_row("time", f"{report.seconds:.2f} s")
    console.print(table)
    if command != "json2voc":
        for warning in report.warnings:
            console.print(f"Warning: {warning}", markup=False)
        return

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
    app.command("json2coco")(json2coco_cmd)
    app.command("json2yolo")(json2yolo_cmd)
