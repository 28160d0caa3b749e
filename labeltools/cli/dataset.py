"""Commands on a VOC dataset: ``check``, ``stats``, ``split``, ``weights``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..constants import WEIGHT_METHODS
from ._common import (
    Bar,
    DatasetOrLabels,
    IdList,
    JsonReport,
    LibraryChoice,
    Scheduler,
    TestRatio,
    ValRatio,
    Workers,
    echo_json,
    escape,
    print_table,
    table,
)

# --------------------------------------------------------------------------- check

#: Ids shown per problem in the table (--json lists them all).
_SHOWN_IDS = 5


def check_cmd(
    dataset: Annotated[
        Path,
        typer.Argument(
            metavar="DATASET", help="VOC dataset folder (with SegmentationClass/).", file_okay=False
        ),
    ],
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes", min=1, max=255,
            help="Valid values are 0..N-1 and 255 (default: the lines of class_names.txt).",
        ),
    ] = None,
    as_json: JsonReport = False,
    workers: Workers = 0,
    scheduler: Scheduler = None,
) -> None:
    """Check a VOC dataset: missing files, split leaks, colour masks, bad values, sizes. Exit 1 on errors."""
    from ..check import check_dataset

    with Bar("checking") as bar:
        report = check_dataset(dataset, num_classes=num_classes, workers=workers, backend=scheduler, progress=bar)
    if as_json:
        echo_json(report.to_dict())
    else:
        _print_check(report)
    if not report.ok:
        raise typer.Exit(1)


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
    problems = Table("severity", "problem", "count", "first ids", show_lines=False)
    styles = {"error": "bold red", "warning": "yellow", "note": "dim"}
    for p in report.problems:
        shown = [f"{i} ({d})" if d else i for i, d in zip(p.ids[:_SHOWN_IDS], p.details)]
        if p.count > _SHOWN_IDS:
            shown.append("...")
        summary = p.summary + (f": {', '.join(map(str, p.values))}" if p.values else "")
        problems.add_row(
            f"[{styles[p.severity]}]{p.severity}[/]", escape(summary), str(p.count),
            escape(", ".join(shown)),
        )
    console.print(problems)
    console.print(
        f"Found {report.count('error')} kinds of error, {report.count('warning')} of warning, "
        f"{report.count('note')} of note."
    )


# --------------------------------------------------------------------------- stats

#: Label sizes listed by `stats` (the rest are summed in one line).
_SHOWN_SIZES = 5


def stats_cmd(
    dataset: DatasetOrLabels,
    list_file: IdList = None,
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes", min=1, max=255,
            help="Number of classes (default: lines of class_names.txt, else the largest value + 1).",
        ),
    ] = None,
    plot: Annotated[
        Optional[Path],
        typer.Option("--plot", dir_okay=False, help="Also draw a bar chart of the class shares (PNG)."),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="Log-scale bars in --plot (rare classes stay visible).")] = False,
    as_json: JsonReport = False,
    workers: Workers = 0,
    scheduler: Scheduler = None,
) -> None:
    """Per-class pixels, share and images, and the label sizes, of a dataset."""
    from ..stats import dataset_stats, share_chart

    with Bar("counting pixels") as bar:
        stats = dataset_stats(
            dataset, list_file=list_file, num_classes=num_classes, workers=workers, backend=scheduler, progress=bar
        )
    if plot is not None:
        from ..viz import save_png

        save_png(share_chart(stats, log=log), plot)
    if as_json:
        echo_json(stats.to_dict())
    else:
        _print_stats(stats)
    if plot is not None:
        typer.echo(f"Wrote {plot}", err=as_json)


def _print_stats(stats: Any) -> None:
    c = stats.counts
    shares = c.shares()
    t = table(
        f"{stats.root}: {c.num_images} labels, {c.num_classes} classes "
        f"(from {stats.num_classes_source})",
        ["class", "pixels", "share", "images"],
    )
    for i in range(c.num_classes):
        name = f"{i} {stats.class_names[i]}".rstrip()
        t.add_row(name, f"{int(c.pixels[i]):,}", f"{shares[i] * 100:.2f} %", str(int(c.images[i])))
    print_table(t)
    typer.echo(f"labelled {c.labelled:,} px; ignored (255) {c.ignored:,} px")
    if c.out_of_range:
        values = ", ".join(str(o.value) for o in c.out_of_range_values)
        typer.echo(f"out of range (values {values}): {c.out_of_range:,} px, in no class")
    sizes = [f"{w}x{h} ({n})" for (w, h), n in stats.sizes[:_SHOWN_SIZES]]
    rest = sum(n for _, n in stats.sizes[_SHOWN_SIZES:])
    if rest:
        sizes.append(f"{len(stats.sizes) - _SHOWN_SIZES} other sizes ({rest})")
    typer.echo("label sizes: " + ", ".join(sizes))


# --------------------------------------------------------------------------- split

def split_cmd(
    dataset: Annotated[Path, typer.Argument(help="VOC dataset folder (JPEGImages/, SegmentationClass/).")],
    val_ratio: ValRatio = 0.2,
    test_ratio: TestRatio = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (the split is the same for a seed on any machine).")] = 0,
    stratify: Annotated[
        bool,
        typer.Option("--stratify", help="Balance class presence across splits (iterative stratification)."),
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing split lists.")] = False,
    workers: Workers = 0,
    scheduler: Scheduler = None,
) -> None:
    """Write ImageSets/Segmentation/{train,val,test,trainval}.txt for a VOC dataset."""
    from ..splits import split_dataset

    for hint, ratio in (("--val-ratio", val_ratio), ("--test-ratio", test_ratio)):
        if not 0 <= ratio < 1:  # also refuses nan, which fails every comparison
            raise typer.BadParameter(f"must be in [0, 1), got {ratio}", param_hint=hint)
    if val_ratio + test_ratio >= 1:
        raise typer.BadParameter(
            f"--val-ratio {val_ratio} and --test-ratio {test_ratio} add up to "
            f"{val_ratio + test_ratio:g}; together they must be below 1",
            param_hint="--val-ratio",
        )
    with Bar("reading labels") as bar:
        report = split_dataset(
            dataset, val=val_ratio, test=test_ratio, seed=seed, stratify=stratify,
            overwrite=overwrite, workers=workers, backend=scheduler, progress=bar,
        )
    method = "stratified" if report.stratified else "random"
    t = table(
        f"{method} split of {len(report.split.trainval) + len(report.split.test)} ids (seed {seed})",
        ["split", "ids", "worst class", "deviation"],
    )
    for b in report.balance:
        worst = "-" if b.worst_class is None else str(b.worst_class)
        t.add_row(b.name, str(b.size), worst, f"{b.deviation * 100:.1f} pp")
    print_table(t)
    typer.echo("deviation: |share of the split's images containing the class - share over all ids|")
    for p in report.files:
        typer.echo(f"Wrote {p}")
    for p in report.removed:
        typer.echo(f"Removed stale {p}")


# --------------------------------------------------------------------------- weights

def weights_cmd(
    dataset: DatasetOrLabels,
    list_file: IdList = None,
    num_classes: Annotated[
        Optional[int],
        typer.Option("--num-classes", min=1, max=255, help="Number of classes (default: lines of class_names.txt)."),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            click_type=LibraryChoice(WEIGHT_METHODS),
            help="enet (1/ln(1.02+f), as pytorch-deeplab-xception), median-frequency, inverse or inverse-sqrt.",
        ),
    ] = "enet",
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Weights .npy to write (default: <dataset>_classes_weights.npy in the dataset root)."),
    ] = None,
    dataset_name: Annotated[
        Optional[str],
        typer.Option("--dataset-name", help="Write <NAME>_classes_weights.npy in the dataset root, the file a trainer loads (deeplab: pascal)."),
    ] = None,
    counts_out: Annotated[Optional[Path], typer.Option("--counts", help="Also write the raw counts and weights as JSON.")] = None,
    ignore_out_of_range: Annotated[
        bool,
        typer.Option("--ignore-out-of-range", help="Leave label values >= N (other than 255) out instead of failing."),
    ] = False,
    workers: Workers = 0,
    scheduler: Scheduler = None,
) -> None:
    """Class-balancing loss weights from the pixel counts of the label PNGs."""
    from ..weights import dataset_weights, save_counts, weights_path

    if dataset_name is not None:
        # Before counting: a bad name should not cost a pass over the dataset.
        if out is not None:
            raise typer.BadParameter("give --out or --dataset-name, not both", param_hint="--dataset-name")
        try:
            weights_path(dataset, dataset_name)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--dataset-name") from None
    with Bar("counting pixels") as bar:
        result = dataset_weights(
            dataset, list_file=list_file, num_classes=num_classes, method=method,
            ignore_out_of_range=ignore_out_of_range, workers=workers, backend=scheduler, progress=bar,
        )
    target = result.save(out, dataset_name=dataset_name)
    if counts_out is not None:
        save_counts(counts_out, result)
    names = result.labels.class_names
    w = result.weights
    counts = w.counts
    t = table(f"{method} weights ({counts.num_images} labels)", ["class", "pixels", "share", "weight"])
    shares = counts.shares()
    for c in range(counts.num_classes):
        label = f"{c} {names[c]}" if names is not None and c < len(names) else str(c)
        t.add_row(label, f"{int(counts.pixels[c]):,}", f"{shares[c] * 100:.2f} %", f"{w.weights[c]:.4f}")
    print_table(t)
    if counts.ignored:
        typer.echo(f"ignored (255): {counts.ignored:,} px, not counted")
    if counts.out_of_range:
        values = ", ".join(str(o.value) for o in counts.out_of_range_values)
        typer.echo(f"out of range ({values}): {counts.out_of_range} px, left out", err=True)
    if w.zero_classes:
        named = ", ".join(
            f"{c} ({names[c]})" if names is not None and c < len(names) else str(c) for c in w.zero_classes
        )
        typer.echo(
            f"Warning: class{'es' if len(w.zero_classes) > 1 else ''} {named} "
            f"{'have' if len(w.zero_classes) > 1 else 'has'} no pixels; weight set to "
            f"{w.weights[w.zero_classes[0]]:.4f} (the largest)",
            err=True,
        )
    typer.echo(f"Wrote {target}" + (f" and {counts_out}" if counts_out is not None else ""))


def register(app: typer.Typer) -> None:
    app.command("check")(check_cmd)
    app.command("stats")(stats_cmd)
    app.command("split")(split_cmd)
    app.command("weights")(weights_cmd)
