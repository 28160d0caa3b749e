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


class _ProgressBar:
    """A rich progress bar on stderr driven by the library's ``progress(done, total)`` callback.

    No refresh thread (``auto_refresh=False``): the engine forks worker processes
    cheaply only while the process runs a single thread.
    """

    #: Seconds between redraws; the callback can fire thousands of times a second.
    REFRESH_EVERY = 0.1

    def __init__(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        console = Console(stderr=True)
        # Only for a person watching: a redirected stderr gets no bar and no stray newline.
        self._enabled = console.is_terminal
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            auto_refresh=False,
        )
        self._task = self._progress.add_task(description, total=None)
        self._last = 0.0

    def __enter__(self) -> _ProgressBar:
        if self._enabled:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self._progress.stop()

    def __call__(self, done: int, total: int) -> None:
        import time

        if not self._enabled:
            return
        self._progress.update(self._task, completed=done, total=total)
        now = time.monotonic()
        if done == total or now - self._last >= self.REFRESH_EVERY:
            self._last = now
            self._progress.refresh()


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
    workers: Annotated[
        int, typer.Option("--workers", "-j", min=0, help="Worker processes (0 = one per CPU).")
    ] = 1,
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

    with _ProgressBar("eval") as bar:
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
    table = Table(title=f"{len(result.ids)} images, {result.num_classes} classes")
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
