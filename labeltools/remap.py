"""``--map SRC=DST`` and ``--map-file``: rename, merge, ignore or drop labels on the way in.

A rule ``SRC=DST`` sends every shape labelled ``SRC`` to ``DST``: another label (a
typo fixed, two classes merged), ``__ignore__`` (void), ``_background_`` (class 0),
or ``-`` (the shape is dropped, as if it were not in the file). Rules apply once and
all at the same time (``a=b`` and ``b=c`` send ``a`` to ``b``, not to ``c``), to the
labels as written in the JSON, before anything else looks at them: label discovery,
the unknown-label check, rasterising. Labels without a rule are left alone.

Instances are those of the file as annotated: two shapes that were different
instances (``car`` and ``truck`` with the same ``group_id``) stay different after
``car=vehicle`` and ``truck=vehicle``; their group ids are renumbered per file so
the rasteriser, which keys instances on ``(label, group_id)``, cannot join them.

Kept beside :mod:`labeltools.labels` (not in it): that module stays free of the
labelme records, and remapping is a step of the conversion pipeline.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .constants import BACKGROUND_NAME, IGNORE_NAME
from .errors import LabelNameError
from .formats.labelme import Annotation, Shape

__all__ = ["DROP", "LabelMap", "label_map", "parse_map_file", "parse_map_rules"]

PathLike = str | os.PathLike[str]

#: The ``DST`` of a rule that drops its shapes.
DROP = "-"


@dataclass(frozen=True)
class LabelMap:
    """Label rules ``SRC -> DST`` (``DST`` may be :data:`DROP`), in the order given."""

    rules: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    @property
    def table(self) -> dict[str, str]:
        return dict(self.rules)

    @staticmethod
    def rule_name(src: str, dst: str) -> str:
        """How a summary names a rule: ``SRC=DST``."""
        return f"{src}={dst}"

    def map_labels(self, labels: Iterable[str]) -> tuple[list[str], dict[str, int]]:
        """The labels of one file's shapes after the rules (dropped ones left out),
        and how many shapes each rule touched (``SRC=DST`` -> count, only rules that did)."""
        table = self.table
        out: list[str] = []
        counts: dict[str, int] = {}
        for label in labels:
            dst = table.get(label)
            if dst is None:
                out.append(label)
                continue
            name = self.rule_name(label, dst)
            counts[name] = counts.get(name, 0) + 1
            if dst != DROP:
                out.append(dst)
        return out, counts

    def apply(self, shapes: Sequence[Shape]) -> tuple[tuple[Shape, ...], dict[str, int]]:
        """``shapes`` after the rules, and the shapes each rule touched (see :meth:`map_labels`).

        Without a rule touching them, the very same shapes come back. Otherwise group
        ids are renumbered 1, 2, ... per ``(original label, group_id)``, so no two
        instances of the file as annotated can merge.
        """
        table = self.table
        if not any(s.label in table for s in shapes):
            return tuple(shapes), {}
        groups: dict[tuple[str, int], int] = {}
        out: list[Shape] = []
        counts: dict[str, int] = {}
        for shape in shapes:
            dst = table.get(shape.label)
            group_id = shape.group_id
            if group_id is not None:
                group_id = groups.setdefault((shape.label, group_id), len(groups) + 1)
            if dst is not None:
                name = self.rule_name(shape.label, dst)
                counts[name] = counts.get(name, 0) + 1
                if dst == DROP:
                    continue
            out.append(dataclasses.replace(
                shape, label=shape.label if dst is None else dst, group_id=group_id
            ))
        return tuple(out), counts

    def apply_annotation(self, ann: Annotation) -> tuple[Annotation, dict[str, int]]:
        """:meth:`apply` on an annotation's shapes (the same annotation when nothing applies)."""
        shapes, counts = self.apply(ann.shapes)
        if not counts:
            return ann, counts
        return dataclasses.replace(ann, shapes=shapes), counts

    def unused(self, found: Iterable[str]) -> list[str]:
        """Warnings for rules whose ``SRC`` is none of the ``found`` labels."""
        seen = set(found)
        return [
            f"--map {self.rule_name(src, dst)}: no shape is labelled {src!r}"
            for src, dst in self.rules
            if src not in seen
        ]


def _parse_rule(text: str, where: str) -> tuple[str, str]:
    src, sep, dst = text.partition("=")
    src, dst = src.strip(), dst.strip()
    if not sep or not src or not dst:
        raise LabelNameError(
            f"{where}: a label rule must be SRC=DST (DST a label, {IGNORE_NAME}, "
            f"{BACKGROUND_NAME} or {DROP} to drop), got {text.strip()!r}"
        )
    if src == dst:
        raise LabelNameError(f"{where}: rule {text.strip()!r} maps {src!r} to itself")
    if src == IGNORE_NAME:
        raise LabelNameError(
            f"{where}: rule {text.strip()!r}: {IGNORE_NAME} is void, not a label to remap"
        )
    return src, dst


def parse_map_rules(rules: Iterable[str], where: str = "--map") -> LabelMap:
    """Rules from ``SRC=DST`` strings (``--map``, repeatable). A ``SRC`` given twice is an error."""
    parsed: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for text in rules:
        src, dst = _parse_rule(text, where)
        if src in seen:
            raise LabelNameError(
                f"{where}: {src!r} has two rules: {src}={seen[src]} and {src}={dst}"
            )
        seen[src] = dst
        parsed.append((src, dst))
    return LabelMap(tuple(parsed))


def parse_map_file(path: PathLike) -> LabelMap:
    """Rules from a file: one ``SRC=DST`` a line; blank lines and lines starting with ``#`` skipped."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LabelNameError(f"{p}: no such label map file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelNameError(f"{p}: cannot read the label map file: {exc}") from None
    rules = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            rules.append((n, line))
    for n, line in rules:
        _parse_rule(line, f"{p}:{n}")  # the line number in the message
    return parse_map_rules((line for _, line in rules), str(p))


def label_map(rules: Sequence[str] = (), map_file: PathLike | None = None) -> LabelMap:
    """``--map-file`` rules then ``--map`` rules, as one map (a label given twice is an error)."""
    from_file = parse_map_file(map_file) if map_file is not None else LabelMap()
    if not rules:
        return from_file
    texts = [LabelMap.rule_name(s, d) for s, d in from_file.rules] + list(rules)
    return parse_map_rules(texts, "--map" if map_file is None else f"{map_file} and --map")
