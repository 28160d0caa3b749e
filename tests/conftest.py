"""Shared fixtures: paths to sample_data and the third-party oracle in ../shared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
# ../shared from the main checkout; worktrees elsewhere point LABELTOOLS_SHARED at it.
SHARED = Path(os.environ.get("LABELTOOLS_SHARED") or ROOT.parent / "shared")
LABELME_FIXTURE = SHARED / "fixtures" / "labelme_semantic"


@pytest.fixture
def labelme_fixture() -> Path:
    """labelme's own semantic-segmentation example (GPL data, read in place, never copied)."""
    if not LABELME_FIXTURE.is_dir():
        pytest.skip(f"labelme fixture not found at {LABELME_FIXTURE} (only in the project workspace)")
    return LABELME_FIXTURE


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m labeltools ARGS`` in a subprocess with this checkout on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "labeltools", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
