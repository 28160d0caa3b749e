"""The README's set-up commands are the ones CI runs."""

from __future__ import annotations

import re

from .conftest import ROOT


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- setup-commands.*?-->\n```sh\n(.*?)```", readme, re.S)
    assert block, "README has no setup-commands block"
    return block.group(1).strip().splitlines()


def test_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_commands_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in setup_commands():
        assert command in ci, command


def quick_start_sessions() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ labeltools ...` in the Quick start."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    sessions: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                sessions.append((line[2:].split("  #")[0].strip(), []))
            elif sessions:
                sessions[-1][1].append(line)
    return sessions


def test_quick_start_runs_as_written(tmp_path):
    import shlex
    import shutil

    from .conftest import SAMPLE_DATA, run_cli

    shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data")
    sessions = quick_start_sessions()
    names = [c.split()[1] if c.startswith("labeltools") else c.split()[0] for c, _ in sessions]
    assert names == ["json2voc", "ls", "check", "stats", "weights", "index2rgb"]
    for command, expected in sessions:
        args = shlex.split(command)
        if args[0] == "ls":
            listing = sorted(p.name for p in (tmp_path / args[1]).iterdir() if not p.name.startswith("."))
            assert listing == sorted(" ".join(expected).split()), listing
            continue
        assert args[0] == "labeltools"
        result = run_cli(*args[1:], cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        out = result.stdout.splitlines()
        for line in expected:
            assert line in out, (command, line, out)


def test_python_api_example_runs(tmp_path, monkeypatch):
    import shutil

    import numpy as np

    import labeltools

    from .conftest import SAMPLE_DATA

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- api-example -->\n```python\n(.*?)```", readme, re.S).group(1)
    shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data")
    monkeypatch.chdir(tmp_path)
    scope = {"labeltools": labeltools}
    exec(compile(code, "README.md", "exec"), scope)
    # The values the comments promise:
    assert (scope["report"].written, scope["report"].skipped) == (5, 0)
    assert scope["w"].weights.weights.shape == (7,)
    assert scope["w"].weights.weights.dtype == np.float64
    assert scope["result"].metrics.mean_iou == 1.0
    assert scope["result"].confusion.counts.dtype == np.uint64
    assert (tmp_path / "out" / "park_002.xlsx").is_file()
    assert labeltools.check_dataset(tmp_path / "out" / "api").ok
    # The per-file reports, through on_file (a rerun over the same folder: all skipped).
    code = re.search(r"<!-- api-example-on-file -->\n```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(code, "README.md", "exec"), scope)
    statuses = [(r.stem, r.status) for r in scope["reports"]]
    assert statuses[:2] == [("garden_005", "skipped"), ("park_002", "skipped")]
    assert len(statuses) == 5
