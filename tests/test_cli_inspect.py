"""CLI: dump-xlsx (the workbook itself is tested in test_xlsx.py)."""

from __future__ import annotations

import numpy as np
import openpyxl
from PIL import Image
from typer.testing import CliRunner

from labeltools.cli import app

from . import test_xlsx
from .conftest import run_cli
from .test_xlsx import LBL, _grid

runner = CliRunner()

# The label image of the library's tests, as a fixture here too.
dataset = test_xlsx.dataset


def test_cli_dump_xlsx(dataset, tmp_path):
    out = tmp_path / "out" / "a.xlsx"
    result = runner.invoke(app, ["dump-xlsx", str(dataset), str(out), "--box", "0,0,5,2"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Wrote {out}: 5x2 pixels at (0, 0) of a 5x4 P image, palette VOC\n"
        "values: 0, 1, 15, 255\n"
    )
    assert _grid(openpyxl.load_workbook(out)["pixels"]) == LBL[:2].tolist()


def test_cli_dump_csv(dataset, tmp_path):
    out = tmp_path / "a.csv"
    result = runner.invoke(app, ["dump-xlsx", str(dataset), str(out), "--csv"])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0] == "0,0,1,1,255"


def test_cli_dump_xlsx_errors(dataset, tmp_path):
    result = run_cli("dump-xlsx", str(dataset), str(tmp_path / "a.xlsx"), "--box", "4,0,2,1")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {dataset}: --box 4,0,2,1 reaches x + w = 6, y + h = 1 beyond the 5x4 image\n"
    )
    out = str(tmp_path / "a.xlsx")
    result = runner.invoke(app, ["dump-xlsx", str(dataset), out, "--box", "1,2"])
    assert result.exit_code == 2
    assert "expected x,y,w,h (four integers), got '1,2'" in result.output


def test_cli_dump_rgb_lists_colours(tmp_path):
    path = tmp_path / "mask.png"
    Image.fromarray(np.array([[[128, 0, 0], [0, 0, 0]]], dtype=np.uint8)).save(path)
    result = runner.invoke(app, ["dump-xlsx", str(path), str(tmp_path / "m.xlsx")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "values: (0,0,0), (128,0,0)"
