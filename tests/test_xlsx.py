"""dump_xlsx / dump_csv: pixel dumps read back cell by cell."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from PIL import Image

from labeltools import lblsave, xlsx
from labeltools.errors import LabelValueError
from labeltools.xlsx import dump_csv, dump_xlsx, parse_box

# 4 rows x 5 columns: background, aeroplane (1), person (15), void (255).
LBL = np.array(
    [
        [0, 0, 1, 1, 255],
        [0, 15, 15, 1, 255],
        [0, 15, 15, 0, 0],
        [255, 255, 0, 0, 0],
    ],
    dtype=np.uint8,
)


def _grid(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(min_row=2, min_col=2, values_only=True)]


def _col_width(ws, col: int) -> float:
    # openpyxl keys a <col min max> range by its first column only.
    return next(d.width for d in ws.column_dimensions.values() if d.min <= col <= d.max)


@pytest.fixture
def dataset(tmp_path):
    """A VOC-like folder: SegmentationClass/a.png plus class_names.txt beside it."""
    seg = tmp_path / "ds" / "SegmentationClass"
    seg.mkdir(parents=True)
    lblsave(seg / "a.png", LBL)
    names = ["_background_", "aeroplane"] + [f"c{i}" for i in range(2, 15)] + ["person"]
    (tmp_path / "ds" / "class_names.txt").write_text("\n".join(names) + "\n")
    return seg / "a.png"


def test_p_image_reads_back_cell_by_cell_with_fills(dataset, tmp_path):
    out = tmp_path / "a.xlsx"
    report = dump_xlsx(dataset, out)
    assert report.values == (0, 1, 15, 255)
    assert report.counts == (9, 3, 4, 4)
    assert (report.mode, report.palette) == ("P", "VOC")
    assert (report.size, report.box) == ((5, 4), (0, 0, 5, 4))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["pixels", "legend", "info"]
    ws = wb["pixels"]
    assert _grid(ws) == LBL.tolist()
    assert [c.value for c in ws[1]] == ["y \\ x", 0, 1, 2, 3, 4]
    assert [ws.cell(row=r, column=1).value for r in range(2, 6)] == [0, 1, 2, 3]
    assert ws.freeze_panes == "B2"
    expected_fill = {0: "FF000000", 1: "FF800000", 15: "FFC08080", 255: "FFE0E0C0"}
    for y in range(4):
        for x in range(5):
            cell = ws.cell(row=y + 2, column=x + 2)
            assert cell.fill.fill_type == "solid"
            assert cell.fill.fgColor.rgb == expected_fill[int(LBL[y, x])]
    # Contrasting text: white on black background, black on the pale void colour, and
    # 255 marked in bold dark red.
    assert ws["B2"].font.color.rgb == "FFFFFFFF"
    assert ws["F2"].font.b and ws["F2"].font.color.rgb == "FFC00000"
    # Narrow columns: the sheet looks like the image when zoomed out.
    assert all(_col_width(ws, col) < 5 for col in range(2, 7))
    # Printed / exported to PDF: landscape, every column on one page across.
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.orientation, ws.page_setup.fitToWidth) == ("landscape", 1)


def test_legend_and_info(dataset, tmp_path):
    out = tmp_path / "a.xlsx"
    dump_xlsx(dataset, out)
    wb = openpyxl.load_workbook(out)
    legend = [r for r in wb["legend"].iter_rows(values_only=True)]
    assert legend[0] == ("value", "class", "swatch", "pixels", "share")
    assert [r[:2] + r[3:] for r in legend[1:]] == [
        (0, "_background_", 9, 0.45),
        (1, "aeroplane", 3, 0.15),
        (15, "person", 4, 0.2),
        (255, "void / ignore", 4, 0.2),
    ]
    assert wb["legend"]["C3"].fill.fgColor.rgb == "FF800000"
    info = dict(wb["info"].iter_rows(values_only=True))
    assert info["mode"] == "P"
    assert info["size"] == "5x4"
    assert info["palette"] == "VOC"
    assert info["unique values"] == "4"
    assert info["values"] == "0; 1; 15; 255"


def test_classes_option_overrides_and_no_color(dataset, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("__ignore__\nbg\nplane\n")  # labelme's labels.txt: __ignore__ is 255
    out = tmp_path / "a.xlsx"
    report = dump_xlsx(dataset, out, classes=names, color=False)
    assert not report.colored
    wb = openpyxl.load_workbook(out)
    assert [r[1] for r in wb["legend"].iter_rows(min_row=2, values_only=True)] == [
        "bg", "plane", "", "void / ignore",
    ]
    assert wb["pixels"]["C3"].fill.fill_type is None


def test_l_and_non_voc_palette(tmp_path):
    grey = tmp_path / "grey.png"
    Image.fromarray(LBL).save(grey)
    report = dump_xlsx(grey, tmp_path / "g.xlsx")
    assert (report.mode, report.palette) == ("L", "none (greyscale indices)")
    ws = openpyxl.load_workbook(tmp_path / "g.xlsx")["pixels"]
    assert _grid(ws) == LBL.tolist()
    assert ws["D2"].fill.fgColor.rgb == "FF800000"  # grey indices get VOC colours

    odd = tmp_path / "odd.png"
    img = Image.fromarray(LBL)
    img.putpalette([10, 20, 30] * 256)
    img.save(odd)
    report = dump_xlsx(odd, tmp_path / "o.xlsx")
    assert report.palette == "other"
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["pixels"]
    assert ws["D2"].fill.fgColor.rgb == "FF0A141E"  # the image's own palette colour


def test_rgb_mask_gives_colour_text_and_voc_index(tmp_path):
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[0, 1] = rgb[0, 2] = (128, 0, 0)  # VOC 1
    rgb[1, 2] = (1, 2, 3)  # not a VOC colour
    path = tmp_path / "mask.png"
    Image.fromarray(rgb).save(path)
    report = dump_xlsx(path, tmp_path / "m.xlsx")
    assert report.values == ((0, 0, 0), (1, 2, 3), (128, 0, 0))
    wb = openpyxl.load_workbook(tmp_path / "m.xlsx")
    assert _grid(wb["pixels"]) == [["0,0,0", "128,0,0", "128,0,0"], ["0,0,0", "0,0,0", "1,2,3"]]
    assert wb["pixels"]["C2"].fill.fgColor.rgb == "FF800000"
    legend = list(wb["legend"].iter_rows(min_row=2, values_only=True))
    # Most frequent colour first; the VOC index only for VOC colours.
    assert [r[:3] for r in legend] == [("0,0,0", 0, ""), ("128,0,0", 1, ""), ("1,2,3", None, "")]
    info = dict(wb["info"].iter_rows(values_only=True))
    assert info["mode"] == "RGB"
    assert info["note"].startswith(
        "an RGB colour mask: cells hold r,g,b colours, not class indices"
    )


def test_16bit_keeps_values(tmp_path):
    wide = np.array([[0, 300], [65535, 1]], dtype=np.uint16)
    path = tmp_path / "wide.png"
    Image.fromarray(wide).save(path)
    with Image.open(path) as img:
        assert img.mode == "I;16"
    report = dump_xlsx(path, tmp_path / "w.xlsx")
    assert report.values == (0, 1, 300, 65535)
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["pixels"]
    assert _grid(ws) == wide.tolist()
    assert ws["C3"].fill.fgColor.rgb == "FF800000"  # 1 keeps its VOC colour
    assert ws["C2"].fill.fill_type is None  # 300 has none
    np.testing.assert_array_equal(
        np.loadtxt(dump_csv(path, tmp_path / "w.csv").out, delimiter=",", dtype=np.int64), wide
    )


def test_box_dumps_region_with_image_coordinates(dataset, tmp_path):
    out = tmp_path / "box.xlsx"
    report = dump_xlsx(dataset, out, box=(1, 1, 3, 2))
    assert report.box == (1, 1, 3, 2)
    ws = openpyxl.load_workbook(out)["pixels"]
    assert _grid(ws) == LBL[1:3, 1:4].tolist()
    assert [c.value for c in ws[1]][1:] == [1, 2, 3]
    assert [ws.cell(row=r, column=1).value for r in (2, 3)] == [1, 2]


def test_box_beyond_image_is_an_error(dataset, tmp_path):
    with pytest.raises(LabelValueError) as exc:
        dump_xlsx(dataset, tmp_path / "x.xlsx", box=(3, 0, 3, 2))
    assert str(exc.value) == (
        f"{dataset}: --box 3,0,3,2 reaches x + w = 6, y + h = 2 beyond the 5x4 image"
    )
    assert not (tmp_path / "x.xlsx").exists()


def test_parse_box():
    assert parse_box("1, 2,30,4") == (1, 2, 30, 4)
    with pytest.raises(ValueError, match=r"expected x,y,w,h \(four integers\), got '1,2,3'"):
        parse_box("1,2,3")
    with pytest.raises(ValueError, match="expected x, y >= 0 and w, h >= 1, got '0,0,0,1'"):
        parse_box("0,0,0,1")


def test_sheet_size_limit_is_checked_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 4)  # 4 pixel rows + the header row = 5
    path = tmp_path / "a.png"
    lblsave(path, LBL)
    with pytest.raises(LabelValueError) as exc:
        dump_xlsx(path, tmp_path / "a.xlsx")
    assert str(exc.value) == (
        f"{path}: the image is 5x4 pixels, which needs 6 columns and 5 rows with the "
        f"coordinate headers; a sheet holds at most 16384 columns and 4 rows: dump a region "
        f"with --box x,y,w,h, or use --csv"
    )
    # A region that fits is fine, and CSV has no limit.
    assert dump_xlsx(path, tmp_path / "b.xlsx", box=(0, 0, 5, 3)).box == (0, 0, 5, 3)
    assert dump_csv(path, tmp_path / "a.csv").box == (0, 0, 5, 4)


def test_real_column_limit_on_a_wide_thin_image(tmp_path):
    path = tmp_path / "wide.png"
    lblsave(path, np.zeros((1, 16_384), dtype=np.uint8))
    with pytest.raises(LabelValueError, match="needs 16385 columns and 2 rows"):
        dump_xlsx(path, tmp_path / "w.xlsx")


def test_csv_plain_grid(dataset, tmp_path):
    out = tmp_path / "a.csv"
    dump_csv(dataset, out, box=(0, 0, 3, 2))
    assert out.read_text() == "0,0,1\n0,15,15\n"
    rgb = tmp_path / "mask.png"
    Image.fromarray(np.array([[[128, 0, 0], [0, 0, 0]]], dtype=np.uint8)).save(rgb)
    dump_csv(rgb, tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text() == '"128,0,0","0,0,0"\n'


def test_too_many_values_are_not_coloured(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_COLOURED_VALUES", 3)
    out = tmp_path / "a.xlsx"
    report = dump_xlsx(dataset, out)
    assert not report.colored
    wb = openpyxl.load_workbook(out)
    assert wb["pixels"]["C3"].fill.fill_type is None
    legend = list(wb["legend"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in legend] == [0, 1, 15, "... 1 less frequent values not listed"]
    info = list(wb["info"].iter_rows(values_only=True))
    assert info[-1] == ("note", "4 distinct values: too many to colour (at most 3)")


def test_rgba_mask_keeps_alpha(tmp_path):
    rgba = np.array([[[128, 0, 0, 255], [128, 0, 0, 0]]], dtype=np.uint8)
    path = tmp_path / "mask.png"
    Image.fromarray(rgba).save(path)
    report = dump_xlsx(path, tmp_path / "m.xlsx")
    assert report.values == ((128, 0, 0, 0), (128, 0, 0, 255))
    wb = openpyxl.load_workbook(tmp_path / "m.xlsx")
    assert _grid(wb["pixels"]) == [["128,0,0,255", "128,0,0,0"]]
    legend = [r[:2] for r in wb["legend"].iter_rows(min_row=2, values_only=True)]
    # Only an opaque VOC colour is that class; a transparent one is no class.
    assert legend == [("128,0,0,0", None), ("128,0,0,255", 1)]


def test_library_box_must_be_positive(dataset, tmp_path):
    with pytest.raises(LabelValueError) as exc:
        dump_xlsx(dataset, tmp_path / "x.xlsx", box=(0, 0, 0, 2))
    assert str(exc.value) == f"{dataset}: --box 0,0,0,2 needs x, y >= 0 and w, h >= 1"
