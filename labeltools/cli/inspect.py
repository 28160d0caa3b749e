"""``labeltools dump-xlsx``: a label image's pixel values, cell by cell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._common import classes_option

_LegendClasses = classes_option("the one beside the label's folder")


def _parse_box(text: Optional[str]) -> Optional[tuple[int, int, int, int]]:
    if text is None:
        return None
    from ..xlsx import parse_box

    try:
        return parse_box(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--box") from None


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
    classes: _LegendClasses = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="Do not fill cells with their palette colour.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Write the plain value grid as CSV instead (no size limit).")
    ] = False,
) -> None:
    """Dump a label image's pixel values to Excel (one coloured cell per pixel) or CSV."""
    from ..xlsx import dump_csv, dump_xlsx

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


def register(app: typer.Typer) -> None:
    app.command("dump-xlsx")(dump_xlsx_cmd)
