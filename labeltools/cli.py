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
from collections.abc import Callable, Iterator
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


def _parse_box(text: Optional[str]) -> Optional[tuple[int, int, int, int]]:
    if text is None:
        return None
    from .xlsx import parse_box

    try:
        return parse_box(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("dump-xlsx")
def dump_xlsx_cmd(
    label: Annotated[Path, typer.Argument(help="Label image (P, L, RGB or 16-bit PNG).", dir_okay=False)],
    out: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx), or the CSV file with --csv.", dir_okay=False)],
    box: Annotated[
        Optional[str],
        typer.Option(
            "--box",
            metavar="X,Y,W,H",
            callback=_parse_box,
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

    out.parent.mkdir(parents=True, exist_ok=True)
    if as_csv:
        report = dump_csv(label, out, box=box)  # type: ignore[arg-type]
    else:
        report = dump_xlsx(label, out, box=box, classes=classes, color=not no_color)  # type: ignore[arg-type]
    x, y, w, h = report.box
    shown = ", ".join(
        ",".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in report.values[:12]
    )
    more = f", ... ({len(report.values)} in all)" if len(report.values) > 12 else ""
    typer.echo(
        f"Wrote {out}: {w}x{h} pixels at ({x}, {y}) of a {report.size[0]}x{report.size[1]} "
        f"{report.mode} image, palette {report.palette}"
    )
    typer.echo(f"values: {shown}{more}")


@contextlib.contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A transient rich progress bar on stderr (stdout stays clean for --json)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    # No auto-refresh thread: a running thread makes the engine fall back from fork to
    # the slower forkserver start; refreshing from the callback is enough.
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        # Nothing to animate in a log file or a pipe.
        disable=not console.is_terminal,
        auto_refresh=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            bar.refresh()

        yield update


_WORKERS_HELP = "Processes for the reads: 1 = none, 0 = one per CPU."


@app.command("check")
def check_cmd(
    dataset: Annotated[Path, typer.Argument(help="VOC dataset folder (with SegmentationClass/).", file_okay=False)],
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes", min=1, max=255,
            help="Valid values are 0..N-1 and 255 (default: the lines of class_names.txt).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (for CI).")] = False,
    workers: Annotated[int, typer.Option("--workers", min=0, help=_WORKERS_HELP)] = 1,
) -> None:
    """Check a VOC dataset: missing files, split leaks, colour masks, bad values, sizes. Exit 1 on errors."""
    from .check import check_dataset

    with _progress("checking") as progress:
        report = check_dataset(dataset, num_classes=num_classes, workers=workers, progress=progress)
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
