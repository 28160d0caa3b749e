"""A minimal Office Open XML (.xlsx) writer: just what a pixel dump needs.

Why not xlsxwriter or openpyxl: a 500x375 label is 187,500 cells, and both spend
3 to 12 microseconds of Python per cell building its XML (measured in
``benchmarks/bench_xlsx.py``). Here a row of cells is one string join over
pre-built fragments (a cell's XML depends only on its column and its value), which
is about 10x faster. Supported: several sheets; numbers, inline strings and styled
blanks; per-cell styles (font size / bold / colour, solid fill, centring, a number
format); column widths, a default row height, frozen panes and fit-to-width
printing. The files follow ECMA-376's element order and read back in openpyxl and
LibreOffice.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Style", "Workbook", "Worksheet", "column_letters"]

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_BOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: Excel's default font; a sheet whose styles name none looks odd in LibreOffice.
_FONT_NAME = "Calibri"
_DEFAULT_FONT_SIZE = 11
#: Built-in number formats (ECMA-376 18.8.30) need no <numFmts> entry.
_BUILTIN_NUM_FORMATS = {"General": 0, "0": 1, "0.00": 2, "0%": 9, "0.00%": 10}
#: Bytes per read when copying a sheet's spooled rows into the package.
_COPY_CHUNK = 1 << 20
#: Sheet names: at most 31 characters, none of these.
_MAX_SHEET_NAME = 31
_BAD_SHEET_CHARS = set("[]:*?/\\")


def column_letters(n: int) -> list[str]:
    """Excel's names of the first ``n`` columns: A, B, ..., Z, AA, AB, ..."""
    out = []
    for i in range(1, n + 1):
        name = ""
        while i:
            i, rem = divmod(i - 1, 26)
            name = chr(ord("A") + rem) + name
        out.append(name)
    return out


@dataclass(frozen=True)
class Style:
    """A cell's look. Colours are ``"RRGGBB"`` hex strings."""

    font_size: float = _DEFAULT_FONT_SIZE
    bold: bool = False
    font_color: str | None = None
    fill: str | None = None
    center: bool = False
    num_format: str = "General"


class _Styles:
    """Deduplicated fonts, fills and cell formats; style id 0 is the default look."""

    def __init__(self) -> None:
        self._fonts: dict[tuple, int] = {}
        self._fills: dict[str | None, int] = {None: 0}  # 0 none, 1 gray125: required first two
        self._xfs: dict[Style, int] = {}
        self.id(Style())

    def id(self, style: Style) -> int:
        if style.num_format not in _BUILTIN_NUM_FORMATS:
            raise ValueError(f"unsupported number format {style.num_format!r}")
        if style not in self._xfs:
            font = (style.font_size, style.bold, style.font_color)
            self._fonts.setdefault(font, len(self._fonts))
            if style.fill not in self._fills:
                self._fills[style.fill] = len(self._fills) + 1  # after gray125
            self._xfs[style] = len(self._xfs)
        return self._xfs[style]

    def xml(self) -> str:
        fonts = []
        for size, bold, color in self._fonts:
            rgb = f'<color rgb="FF{color}"/>' if color else '<color theme="1"/>'
            fonts.append(
                f'<font>{"<b/>" if bold else ""}<sz val="{size:g}"/>{rgb}'
                f'<name val="{_FONT_NAME}"/><family val="2"/></font>'
            )
        fills = ['<fill><patternFill patternType="none"/></fill>',
                 '<fill><patternFill patternType="gray125"/></fill>']
        fills += [
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/>'
            f'<bgColor indexed="64"/></patternFill></fill>'
            for rgb in self._fills if rgb is not None
        ]
        xfs = []
        for style in self._xfs:
            font = self._fonts[(style.font_size, style.bold, style.font_color)]
            fill = self._fills[style.fill]
            num = _BUILTIN_NUM_FORMATS[style.num_format]
            attrs = f'numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
            if num:
                attrs += ' applyNumberFormat="1"'
            if font:
                attrs += ' applyFont="1"'
            if fill:
                attrs += ' applyFill="1"'
            if style.center:
                xfs.append(f'<xf {attrs} applyAlignment="1"><alignment horizontal="center"/></xf>')
            else:
                xfs.append(f"<xf {attrs}/>")
        return (
            f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
            f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
            f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
            '<borders count="1">'
            "<border><left/><right/><top/><bottom/><diagonal/></border></borders>"
            '<cellStyleXfs count="1">'
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


#: Control characters XML 1.0 cannot hold (a file name may contain them).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(value: str) -> str:
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<t{space}>{escape(_XML_INVALID.sub('?', value))}</t>"


class Worksheet:
    """Rows are appended in order and spooled, as finished XML, to a temporary file.

    Memory stays flat however large the sheet (a 16,000 x 16,000 label is 256 M cells);
    the sheet's header, which names its size, is written in front of them on save.
    """

    def __init__(self, book: Workbook, name: str) -> None:
        self._book = book
        self.name = name
        self._data = tempfile.TemporaryFile()
        self._n_rows = 0
        self._cols: list[tuple[int, int, float]] = []
        self._row_height: float | None = None
        self._freeze = (0, 0)
        self._fit_width = False
        self._width = 0
        self._letters: list[str] = []

    def set_column_width(self, first: int, last: int, width: float) -> None:
        """Width (in characters) of the 0-based columns ``first..last``."""
        self._cols.append((first, last, width))

    def set_default_row_height(self, points: float) -> None:
        self._row_height = points

    def freeze(self, rows: int, cols: int) -> None:
        """Keep the first ``rows`` rows and ``cols`` columns in view when scrolling."""
        self._freeze = (rows, cols)

    def fit_to_page_width(self) -> None:
        """Print (and export to PDF) landscape, scaled so that all columns fit one page across."""
        self._fit_width = True

    def letters(self, n: int) -> list[str]:
        """Column names of the first ``n`` columns (cached: rows reuse them)."""
        if len(self._letters) < n:
            self._letters = column_letters(n)
        return self._letters[:n]

    def _row_open(self) -> str:
        r = self._n_rows + 1
        if self._row_height is None:
            return f'<row r="{r}">'
        return f'<row r="{r}" ht="{self._row_height:g}" customHeight="1">'

    def append(
        self, values: Sequence[object], styles: Sequence[Style | None] | Style | None = None
    ) -> None:
        """Append a row: ints/floats as numbers, str as text, None as a blank (styled if given)."""
        r = str(self._n_rows + 1)
        letters = self.letters(len(values))
        if not isinstance(styles, (list, tuple)):
            styles = [styles] * len(values)
        cells = []
        for letter, value, style in zip(letters, values, styles):
            s = f' s="{self._book.style_id(style)}"' if style is not None else ""
            ref = f'<c r="{letter}{r}"{s}'
            if value is None:
                if style is not None:
                    cells.append(ref + "/>")
            elif isinstance(value, str):
                cells.append(f'{ref} t="inlineStr"><is>{_text(value)}</is></c>')
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(
                    f"cell values must be int, float, str or None, got {type(value).__name__}"
                )
            else:
                cells.append(f"{ref}><v>{value!r}</v></c>")
        self.append_xml(cells, len(values))

    def append_xml(self, cells: Iterable[str], width: int) -> None:
        """Append a row of ready-made ``<c>`` elements spanning ``width`` columns (fast path)."""
        self._data.write((self._row_open() + "".join(cells) + "</row>").encode("utf-8"))
        self._n_rows += 1
        self._width = max(self._width, width)

    @property
    def next_row(self) -> int:
        """The 1-based number of the row :meth:`append` writes next."""
        return self._n_rows + 1

    def close(self) -> None:
        self._data.close()

    def write_xml(self, fh: IO[bytes], selected: bool) -> None:
        """Write the whole worksheet part to ``fh``."""
        for part in self._head(selected):
            fh.write(part.encode("utf-8"))
        self._data.seek(0)
        shutil.copyfileobj(self._data, fh, _COPY_CHUNK)
        for part in self._tail():
            fh.write(part.encode("utf-8"))

    def _head(self, selected: bool) -> Iterable[str]:
        n_rows, n_cols = self._n_rows, max(self._width, 1)
        last = f"{column_letters(n_cols)[-1]}{max(n_rows, 1)}"
        yield f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        if self._fit_width:
            yield '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        yield f'<dimension ref="A1:{last}"/>'
        tab = ' tabSelected="1"' if selected else ""
        view = f'<sheetView{tab} workbookViewId="0">'
        rows, cols = self._freeze
        if rows or cols:
            top_left = f"{column_letters(cols + 1)[-1]}{rows + 1}"
            panes = {(True, True): "bottomRight", (True, False): "bottomLeft"}
            pane = panes.get((rows > 0, cols > 0), "topRight")
            split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
            view += (
                f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" state="frozen"/>'
                f'<selection pane="{pane}" activeCell="{top_left}" sqref="{top_left}"/>'
            )
        yield f"<sheetViews>{view}</sheetView></sheetViews>"
        if self._row_height is not None:
            yield f'<sheetFormatPr defaultRowHeight="{self._row_height:g}" customHeight="1"/>'
        else:
            yield '<sheetFormatPr defaultRowHeight="15"/>'
        if self._cols:
            yield "<cols>"
            for first, last_col, width in sorted(self._cols):
                yield (
                    f'<col min="{first + 1}" max="{last_col + 1}" width="{width:g}" '
                    'customWidth="1"/>'
                )
            yield "</cols>"
        yield "<sheetData>"

    def _tail(self) -> Iterable[str]:
        yield "</sheetData>"
        yield (
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
            'header="0.3" footer="0.3"/>'
        )
        if self._fit_width:
            # fitToHeight 0: as many pages down as needed.
            yield '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        yield "</worksheet>"


class Workbook:
    """Sheets in the order added; :meth:`save` writes the whole package at once.

    Use it as a context manager (or call :meth:`close`) to drop the sheets' spooled rows.
    """

    def __init__(self) -> None:
        self._sheets: list[Worksheet] = []
        self._styles = _Styles()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for sheet in self._sheets:
            sheet.close()

    def style_id(self, style: Style) -> int:
        """The cell-format index of ``style`` (the same index for equal styles)."""
        return self._styles.id(style)

    def add_sheet(self, name: str) -> Worksheet:
        if not name or len(name) > _MAX_SHEET_NAME or _BAD_SHEET_CHARS & set(name):
            raise ValueError(f"invalid sheet name {name!r}")
        if any(s.name == name for s in self._sheets):
            raise ValueError(f"duplicate sheet name {name!r}")
        sheet = Worksheet(self, name)
        self._sheets.append(sheet)
        return sheet

    def save(self, path: str | Path) -> None:
        if not self._sheets:
            raise ValueError("a workbook needs at least one sheet")
        n = len(self._sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT_SHEET}"/>'
            for i in range(1, n + 1)
        )
        content_types = (
            f'{_XML_HEAD}<Types xmlns="{_CT_NS}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT_BOOK}"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT_STYLES}"/>{overrides}</Types>'
        )
        root_rels = (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        )
        sheets = "".join(
            f'<sheet name={quoteattr(s.name)} sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(self._sheets, start=1)
        )
        workbook = (
            f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
        )
        book_rels = (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        )
        # Level 1: the sheet XML is highly repetitive, so it still shrinks ~20x, at a
        # fraction of the default level's time.
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr("[Content_Types].xml", content_types)
            zf.writestr("_rels/.rels", root_rels)
            zf.writestr("xl/workbook.xml", workbook)
            zf.writestr("xl/_rels/workbook.xml.rels", book_rels)
            zf.writestr("xl/styles.xml", self._styles.xml())
            for i, sheet in enumerate(self._sheets, start=1):
                with zf.open(f"xl/worksheets/sheet{i}.xml", "w") as fh:
                    sheet.write_xml(fh, selected=i == 1)
