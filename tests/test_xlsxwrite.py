"""The minimal .xlsx writer behind dump-xlsx, read back with openpyxl."""

from __future__ import annotations

import openpyxl
import pytest

from labeltools._xlsxwrite import Style, Workbook, column_letters


def test_column_letters():
    letters = column_letters(16_384)
    assert letters[:3] == ["A", "B", "C"]
    assert (letters[25], letters[26], letters[701], letters[702]) == ("Z", "AA", "ZZ", "AAA")
    assert letters[-1] == "XFD"  # Excel's last column


def test_round_trip(tmp_path):
    with Workbook() as wb:
        _fill(wb)
        wb.save(tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["data & more", "second"]
    sheet = book["data & more"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["name", "value", "share"], ["<a & b>", 3, 0.25], [" padded ", None, -1.5],
        ["bell?", None, None],
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].fill.fgColor.rgb == "FFFF0000"
    font = sheet["B2"].font
    assert (font.b, font.sz, font.color.rgb) == (True, 9, "FFFFFFFF")
    assert sheet["B2"].alignment.horizontal == "center"
    assert sheet["C2"].number_format == "0.00%"
    assert sheet["B3"].fill.fgColor.rgb == "FF00FF00"  # a styled blank keeps its fill
    assert sheet.sheet_format.defaultRowHeight == 18
    assert sheet.column_dimensions["A"].width == 7.5


def _fill(wb: Workbook) -> None:
    ws = wb.add_sheet("data & more")
    ws.set_column_width(0, 2, 7.5)
    ws.set_default_row_height(18)
    ws.freeze(1, 0)
    red = Style(fill="FF0000", font_color="FFFFFF", bold=True, font_size=9, center=True)
    ws.append(["name", "value", "share"], Style(bold=True))
    ws.append(["<a & b>", 3, 0.25], [None, red, Style(num_format="0.00%")])
    ws.append([" padded ", None, -1.5], [None, Style(fill="00FF00"), None])
    ws.append(["bell\x07"])  # not valid in XML: written as "?"
    wb.add_sheet("second").append([1])


def test_equal_styles_share_one_id():
    with Workbook() as wb:
        assert wb.style_id(Style()) == 0
        a = wb.style_id(Style(fill="123456"))
        assert wb.style_id(Style(fill="123456")) == a != wb.style_id(Style(fill="654321"))


def test_errors(tmp_path):
    with Workbook() as wb:
        with pytest.raises(ValueError, match="a workbook needs at least one sheet"):
            wb.save(tmp_path / "x.xlsx")
        with pytest.raises(ValueError, match=r"invalid sheet name 'a/b'"):
            wb.add_sheet("a/b")
        ws = wb.add_sheet("s")
        with pytest.raises(ValueError, match="duplicate sheet name 's'"):
            wb.add_sheet("s")
        with pytest.raises(TypeError, match="cell values must be int, float, str or None, got bool"):
            ws.append([True])
        with pytest.raises(ValueError, match="unsupported number format '0.000'"):
            wb.style_id(Style(num_format="0.000"))
