"""Run labeltools' benchmarks: ``python benchmarks/run.py [NAME ...] [--quick]``.

Each ``benchmarks/bench_<name>.py`` defines ``run(workdir: Path, quick: bool) -> list[str]``
that builds its own seeded corpus under ``workdir``, times labeltools against a reference
implementation *in the same invocation* (this machine is shared and noisy: only ratios
measured side by side mean anything) and returns report lines. Benchmarks are not tests:
the test suite checks outputs, this runner measures.
"""

from __future__ import annotations

import argparse
import compileall
import importlib
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {available()})")
    parser.add_argument("--quick", action="store_true", help="small corpora: check the runner works")
    parser.add_argument("--workdir", type=Path, help="where corpora and outputs go (default: a temp dir)")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available()}")
    # An installed labeltools has bytecode; a checkout run with PYTHONDONTWRITEBYTECODE
    # (set on this machine) would recompile every module in every timed process (~30 ms),
    # which no user pays. The references are single scripts, compiled either way.
    compileall.compile_dir(HERE.parent / "labeltools", quiet=1)
    with tempfile.TemporaryDirectory(prefix="labeltools-bench-") as tmp:
        root = args.workdir or Path(tmp)
        for name in names:
            module = importlib.import_module(f"bench_{name}")
            workdir = root / name
            workdir.mkdir(parents=True, exist_ok=True)
            print(f"== {name}", flush=True)
            start = time.perf_counter()
            for line in module.run(workdir, quick=args.quick):
                print(f"   {line}", flush=True)
            print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
