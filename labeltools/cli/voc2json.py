"""``labeltools voc2json``: label masks -> editable labelme JSON."""

# No `from __future__ import annotations`: typer reads the annotations of the command
# defined inside register(), whose option types are local names there.

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer


class _ShapeMode(str, Enum):
    # Mirrors labeltools.vectorize.SHAPE_MODES (not imported here: keeps --help fast).
    auto = "auto"
    polygon = "polygon"
    mask = "mask"


def register(app: typer.Typer) -> None:
    """Add the ``voc2json`` command to ``app``."""
    from ._common import Bar, DatasetOrLabels, IdList, Scheduler, Workers

    @app.command("voc2json")
    def voc2json_cmd(
        dataset: DatasetOrLabels,
        output_dir: Annotated[
            Path,
            typer.Argument(metavar="OUTPUT_DIR", help="Folder for the labelme JSON files (new or empty)."),
        ],
        images: Annotated[
            Optional[Path],
            typer.Option("--images", help="Folder of the photos (default: DATASET/JPEGImages)."),
        ] = None,
        names: Annotated[
            Optional[Path],
            typer.Option(
                "--names",
                help="class_names.txt, labels.txt or labelmap.txt naming the classes "
                "(default: the dataset's class_names.txt, else labelmap.txt).",
            ),
        ] = None,
        palette: Annotated[
            Optional[str],
            typer.Option(
                "--palette",
                help="Colours of RGB masks: voc, a labelmap.txt or a .csv "
                "(default: the dataset's labelmap.txt, else voc).",
            ),
        ] = None,
        shape: Annotated[
            _ShapeMode,
            typer.Option(
                "--shape",
                help="polygon (outer contours, simplified by --epsilon), mask (labelme mask "
                "shapes, exact) or auto (a polygon where it redraws the region exactly, "
                "else a mask).",
            ),
        ] = _ShapeMode.auto,
        epsilon: Annotated[
            float,
            typer.Option("--epsilon", min=0, help="Polygon simplification tolerance in pixels."),
        ] = 1.0,  # labeltools.vectorize.DEFAULT_EPSILON (a test keeps them equal)
        noobject: Annotated[
            bool,
            typer.Option("--noobject", help="Ignore SegmentationObject: one shape per class region."),
        ] = False,
        no_copy: Annotated[
            bool,
            typer.Option("--no-copy", help="Point imagePath at the photos instead of copying them."),
        ] = False,
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Write into a non-empty OUTPUT_DIR.")
        ] = False,
        list_file: IdList = None,
        workers: Workers = 0,
        scheduler: Scheduler = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    ) -> None:
        """Turn label masks (a VOC dataset, or PNGs + --images) into labelme JSON to edit."""
        from ..voc2labelme import voc2json

        with Bar("voc2json") as progress:
            report = voc2json(
                dataset,
                output_dir,
                images=images,
                names=names,
                palette=palette,
                list_file=list_file,
                objects=not noobject,
                shape=shape.value,
                epsilon=epsilon,
                copy_images=not no_copy,
                overwrite=overwrite,
                workers=workers,
                backend=scheduler,
                progress=progress,
            )
        if as_json:
            import json

            typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        else:
            _print_summary(report)


def _print_summary(report: Any) -> None:
    shapes = ", ".join(f"{n} {kind}" for kind, n in report.shapes.items()) or "no shapes"
    source = "SegmentationObject" if report.objects else "class regions"
    typer.echo(
        f"voc2json: {len(report.files)} labelme files in {report.output_dir} "
        f"({shapes}; instances from {source}; {len(report.names)} classes from "
        f"{report.names_source}) in {report.seconds:.2f} s"
    )
    typer.echo(f"open them with: labelme {report.output_dir} --labels {report.output_dir / 'labels.txt'}")
