"""labeltools.io: its lazy names, and counting plain label PNGs without Pillow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import labeltools.io as lio


def test_all_is_sorted_and_every_name_resolves():
    assert lio.__all__ == sorted(lio.__all__)
    for name in lio.__all__:
        assert getattr(lio, name) is not None
    assert set(lio.__all__) <= set(dir(lio))


def test_unknown_name():
    import pytest

    with pytest.raises(AttributeError, match=r"module 'labeltools.io' has no attribute 'nope'"):
        lio.nope  # noqa: B018


def test_reading_and_writing_plain_labels_does_not_import_pillow(tmp_path):
    code = (
        "import sys, numpy as np; from labeltools.io import read_label, write_label, label_files; "
        f"p = write_label({str(tmp_path / 'a')!r}, np.eye(3, dtype=np.uint8)); "
        "assert read_label(p).tolist() == np.eye(3).tolist(); "
        f"assert label_files({str(tmp_path)!r}) == (p,); "
        "assert 'PIL' not in sys.modules, 'PIL imported'"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, cwd=root)
