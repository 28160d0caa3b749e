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
