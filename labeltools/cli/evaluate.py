"""``labeltools eval``: score predicted label PNGs against the ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..constants import ABSENT_POLICIES
from ._common import Bar, LibraryChoice, Scheduler, Workers, classes_option, percent, plural

_EvalClasses = classes_option("the dataset's class_names.txt")


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
    classes: _EvalClasses = None,
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
        str,
        typer.Option(
            "--absent",
            click_type=LibraryChoice(ABSENT_POLICIES),
            help="A score that is 0/0 (a class in neither GT nor prediction): 'nan' = n/a and left "
            "out of the means (deeplab, mmseg); 'zero' = 0 and averaged in (torchmetrics).",
        ),
    ] = "nan",
    json_out: Annotated[
        Optional[Path],
        typer.Option(
            "--json-file",
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
    workers: Workers = 0,
    scheduler: Scheduler = None,
) -> None:
    """Score predicted label PNGs against ground truth: PA, class accuracy, IoU, mIoU, FWIoU."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..evaluation import evaluate, save_confusion_csv, save_eval_json

    with Bar("eval") as bar:
        result = evaluate(
            gt,
            pred,
            ids=id_list,
            num_classes=num_classes,
            class_names=classes,
            ignore_index=ignore_index,
            absent=absent,
            workers=workers, backend=scheduler,
            progress=bar,
        )
    m = result.metrics
    table = Table(title=f"{plural(len(result.ids), 'image')}, {result.num_classes} classes")
    for header in ("#", "class", "IoU %", "acc %", "precision %", "GT pixels", "pred pixels"):
        table.add_column(header, justify="left" if header == "class" else "right")
    for i, name in enumerate(result.class_names):
        table.add_row(
            str(i),
            Text(name),  # a name is not rich markup: "[crowd]" stays visible
            percent(m.iou[i]),
            percent(m.accuracy[i]),
            percent(m.precision[i]),
            str(int(m.gt_pixels[i])),
            str(int(m.pred_pixels[i])),
        )
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:
        # A report saved to a file keeps long class names whole instead of wrapping at 80.
        out.width = max(out.width, 160)
    out.print(table)
    out.print(
        f"PA {percent(m.pixel_accuracy)}  mAcc {percent(m.mean_accuracy)}  "
        f"mIoU {percent(m.mean_iou)}  FWIoU {percent(m.fw_iou)}"
    )
    for warning in result.warnings:
        typer.echo(f"Warning: {warning}", err=True)

    if json_out is not None:
        typer.echo(f"Wrote {save_eval_json(result, json_out)}")
    if csv_out is not None:
        typer.echo(f"Wrote {save_confusion_csv(result, csv_out)}")
    if plot_out is not None:
        from ..viz import confusion_matrix_image, save_png

        img = confusion_matrix_image(result.confusion.counts, result.class_names)
        typer.echo(f"Wrote {save_png(img, plot_out)} ({img.width}x{img.height})")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
