"""What the commands share: option types, old option spellings, choice lists, the progress
bar, tables and printing.

One concept has one option name and one help text everywhere, defined here once as an
``Annotated`` type (sqlite-utils' ``output_options`` idea):

- ``--workers/-j N`` (:data:`Workers`): processes; 0 = one per CPU (the default).
- ``--scheduler ADDRESS`` (:data:`Scheduler`): a Dask cluster instead (``backend=``).
- ``--classes FILE`` (:func:`classes_option`): a ``class_names.txt`` (index = line number).
- ``--val-ratio`` / ``--test-ratio`` (:data:`ValRatio`, :data:`TestRatio`): the share of ids
  in a split list.
- ``--json`` (:data:`JsonReport`): a flag; print the command's report as JSON on stdout
  instead of tables (nothing else goes to stdout). A JSON file that a command writes is
  named by an option taking its path (``eval --json-file``, ``weights --counts``).
- ``--list FILE`` (:data:`IdList`), ``DATASET|LABEL_DIR`` (:data:`DatasetOrLabels`).

Renamed options keep their old spelling as a hidden alias (:data:`OLD_SPELLINGS`), so
scripts written against an older labeltools keep working.

Nothing here imports NumPy, Pillow or the pipelines: ``labeltools --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

try:  # recent typer vendors click as typer._click
    from typer._click.types import ParamType
except ImportError:  # pragma: no cover - older typer, on click itself
    from click import ParamType

# --------------------------------------------------------------------------- shared options

Workers = Annotated[
    int,
    typer.Option(
        "--workers", "-j", min=0,
        help="Processes to use: 0 = one per CPU (the default), 1 = this process only. "
        "Results are the same for any number.",
    ),
]
#: Where the work runs, beyond this machine: one option for every command that maps files.
Scheduler = Annotated[
    Optional[str],
    typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="Run on a Dask cluster: tcp://host:8786 (a running scheduler), or local / local:N "
        "(N worker processes started for this run). Needs pip install 'labeltools[dask]'.",
    ),
]
DatasetOrLabels = Annotated[
    Path,
    typer.Argument(metavar="DATASET|LABEL_DIR", help="VOC dataset folder, or a folder of label PNGs."),
]
IdList = Annotated[
    Optional[Path],
    typer.Option("--list", help="Only these ids (e.g. train.txt; looked up in ImageSets/Segmentation too)."),
]
JsonReport = Annotated[
    bool,
    typer.Option("--json", help="Print the report as JSON on stdout, instead of tables (for scripts and CI)."),
]
ValRatio = Annotated[float, typer.Option("--val-ratio", help="Share of ids in val.txt, in [0, 1).")]
TestRatio = Annotated[
    float, typer.Option("--test-ratio", help="Share of ids in test.txt (0 = no test list).")
]


def classes_option(default: str) -> Any:
    """The ``--classes class_names.txt`` option; ``default`` says what is used without it."""
    return Annotated[
        Optional[Path],
        typer.Option(
            "--classes",
            exists=True,
            dir_okay=False,
            help=f"class_names.txt: one name per line, index = line number (default: {default}).",
        ),
    ]


#: Old option spellings, per command: old -> new. The command line is rewritten before it
#: is parsed, so an old spelling behaves exactly like the new one and --help shows only
#: the new one.
OLD_SPELLINGS: Mapping[str, Mapping[str, str]] = {
    "split": {"--val": "--val-ratio", "--test": "--test-ratio"},
    "index2rgb": {"--names": "--classes"},
    "colormap": {"--names": "--classes"},
    "eval": {"--json": "--json-file"},
}


def new_spellings(command: str, args: Sequence[str]) -> list[str]:
    """``args`` of ``command`` with every old option spelling replaced by the new one
    (``--old VALUE`` and ``--old=VALUE``; nothing after ``--``)."""
    renames = OLD_SPELLINGS.get(command)
    if not renames:
        return list(args)
    out = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + list(args[i:])
        name, eq, value = arg.partition("=")
        out.append(renames[name] + eq + value if name in renames else arg)
    return out


# --------------------------------------------------------------------------- choice lists

class LibraryChoice(ParamType):
    """One of a tuple the library defines in :mod:`labeltools.constants` (e.g.
    ``UNKNOWN_LABEL_MODES``), so the choices are never retyped here. constants imports
    nothing, so --help lists them without importing NumPy or the pipelines."""

    name = "choice"

    def __init__(self, choices: Sequence[str]) -> None:
        self.choices = tuple(choices)

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        return "<" + "|".join(self.choices) + ">"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        if value in self.choices:
            return value
        self.fail(f"must be one of {', '.join(self.choices)}, got {value!r}", param, ctx)


# --------------------------------------------------------------------------- progress

class Bar:
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

    def __enter__(self) -> Bar:
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


def import_tables() -> None:
    """A :class:`Bar` warm-up for commands that end with rich tables."""
    import rich.console  # noqa: F401
    import rich.table  # noqa: F401


# --------------------------------------------------------------------------- printing

def table(title: str, columns: list[str]) -> Any:
    """A rich table: the first column left-aligned, the numbers right-aligned."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        t.add_column(col, justify="left" if i == 0 else "right")
    return t


def print_table(obj: Any) -> None:
    """Print a rich renderable; its title as a plain line first."""
    from rich.console import Console

    title = getattr(obj, "title", None)
    if isinstance(title, str) and title:
        # Printed as a plain line: rich would wrap a long title (a dataset path) to the
        # table's width over several lines.
        typer.echo(title)
        obj.title = None
    Console().print(obj)


def echo_json(doc: Any, **dumps: Any) -> None:
    """``--json``: one JSON document on stdout (indented by 2)."""
    import json

    typer.echo(json.dumps(doc, indent=2, **dumps))


def escape(text: str) -> str:
    """``text`` shown literally by rich (a file or class name may hold ``[brackets]``)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def percent(value: float) -> str:
    """A score as a percentage with two decimals, ``n/a`` for NaN."""
    import math

    return "n/a" if math.isnan(value) else f"{100 * value:.2f}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
