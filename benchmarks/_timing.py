"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` wall-clock runs of ``fn()``, in seconds (least disturbed by noise)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def set_aside(out: Path, trash: Path) -> None:
    """Move a previous run's output folder ``out`` into ``trash`` (deleted after the timing).

    Not deleted in between: on ext4, creating files soon after thousands were deleted is
    several times slower (the inode allocator steps over every recently freed inode:
    json2yolo's 4000 files took 0.5 ms each to create right after ``rm -rf``, 2026-12-02),
    which would charge a run for the deletions of the one before it. A rename frees nothing.
    """
    if out.exists():
        trash.mkdir(parents=True, exist_ok=True)
        out.rename(trash / f"{out.name}-{len(list(trash.iterdir()))}")


def run_cli(*args: str) -> float:
    """Run ``python -m labeltools ARGS`` as a whole process (start-up included); return seconds."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "labeltools", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start
