"""The ``labeltools`` command line: options -> one library call -> a report.

This package is the only place that imports typer and rich, and nothing in the library
imports it. Library errors (:class:`~labeltools.errors.LabeltoolsError`) become
``Error: <message>`` on stderr and exit status 1 in exactly one place,
:meth:`_Group.invoke`; usage errors keep typer's exit status 2; anything else
escaping is a bug and shows its traceback.

Layout: :mod:`._common` holds what commands share (option types, the progress bar,
tables); each command group is one module with a ``register(app)`` function, listed in
:data:`COMMAND_MODULES`. Adding a command is a module plus one line there.

Heavy imports (NumPy, Pillow, the pipelines) happen inside the commands so that
``labeltools --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from ..errors import LabeltoolsError
from ._common import OLD_SPELLINGS, new_spellings

# Command modules written against the single-file cli.py (``labeltools._cli_<name>``)
# import these names from here; new modules import them from ._common.
from ._common import Bar as _Bar  # noqa: F401
from ._common import DatasetOrLabels as _DatasetOrLabels  # noqa: F401
from ._common import IdList as _IdList  # noqa: F401
from ._common import Workers as _Workers  # noqa: F401
from ._common import escape as _escape  # noqa: F401
from ._common import import_tables as _import_tables  # noqa: F401
from ._common import percent as _percent  # noqa: F401
from ._common import print_table as _print  # noqa: F401
from ._common import table as _table  # noqa: F401

__all__ = ["COMMAND_MODULES", "OLD_SPELLINGS", "app"]

#: The modules that add commands (each has ``register(app)``), relative to this package
#: or absolute (``"labeltools._cli_voc2json"``).
COMMAND_MODULES = (".convert", ".dataset", ".masks", ".evaluate", ".inspect", ".voc2json")

#: What Ctrl-C prints, and the exit status (128 + SIGINT, as a shell reports it).
INTERRUPTED = "Interrupted: rerun the same command to resume"
INTERRUPTED_STATUS = 130

#: Command order in --help: convert, check, prepare for training, evaluate, inspect.
_WORKFLOW = (
    "json2voc", "json2coco", "json2yolo", "check", "stats", "split", "weights", "rgb2index",
    "index2rgb", "eval", "dump-xlsx", "colormap", "voc2json",
)


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LabeltoolsError as exc:
            # typer.echo, not rich: a message may contain [brackets] from file names.
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            # Every write is atomic and json2voc resumes, so Ctrl-C loses nothing; say so.
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(INTERRUPTED_STATUS) from None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        return name, command, new_spellings(name, rest)

    def list_commands(self, ctx: Any) -> list[str]:
        # --help lists commands in the order of the workflow (and of the README).
        rank = {name: i for i, name in enumerate(_WORKFLOW)}
        return sorted(self.commands, key=lambda name: rank.get(name, len(rank)))


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
        from .. import __version__

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


for _module in COMMAND_MODULES:
    importlib.import_module(_module, __name__).register(app)
