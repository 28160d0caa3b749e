"""CLI-wide behaviour: --version, --help, documentation, the error translation."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from typer.testing import CliRunner

import labeltools
from labeltools.cli import app

from .conftest import ROOT, run_cli

runner = CliRunner()


def _commands() -> list[str]:
    from typer.main import get_command

    return list(get_command(app).commands)


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"labeltools {labeltools.__version__}\n"


def test_help_lists_every_command_with_summary():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in _commands():
        assert re.search(rf"{name}\s+\S", result.output), name


def test_every_command_has_help_and_is_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _commands():
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Usage:" in result.output
        assert f"labeltools {name}" in readme, f"README has no example of `labeltools {name}`"


def test_python_dash_m():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("labeltools ")


def _run_main(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``labeltools.__main__.main()`` (the console script) after ``prelude``, in a subprocess."""
    code = f"{prelude}\nimport sys\nsys.argv = ['labeltools', *{list(args)!r}]\n"
    code += "from labeltools.__main__ import main\nmain()\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_main_exits_fast_but_keeps_status_output_and_atexit_handlers():
    # main() skips the interpreter's teardown: atexit handlers and buffered output still happen.
    prelude = "import atexit, sys\natexit.register(lambda: sys.stdout.write('atexit ran\\n'))"
    ok = _run_main(prelude, "--version")
    assert (ok.returncode, ok.stdout) == (0, f"labeltools {labeltools.__version__}\natexit ran\n")
    usage = _run_main(prelude, "colormap")
    assert usage.returncode == 2 and "Missing argument" in usage.stderr
    assert usage.stdout == "atexit ran\n"
    big = _run_main("", "json2voc", "--help")
    assert big.returncode == 0 and big.stdout.rstrip().endswith("─╯")  # the last line of the box


def test_main_takes_the_ordinary_exit_with_a_thread_running():
    prelude = (
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.2), print('thread done'))).start()"
    )
    result = _run_main(prelude, "--version")
    assert result.returncode == 0
    assert result.stdout == f"labeltools {labeltools.__version__}\nthread done\n"


def test_usage_error_exit_2():
    result = runner.invoke(app, ["colormap"])
    assert result.exit_code == 2


def test_bar_warm_up_runs_once_at_the_first_finished_item():
    from labeltools.cli import _Bar

    calls = []
    with _Bar("x", warm_up=lambda: calls.append("warm")) as bar:
        bar(0, 3)
        assert calls == []  # before the work starts (and before a pool forks): not yet
        for done in (1, 2, 3):
            bar(done, 3)
    assert calls == ["warm"]


def test_help_lists_commands_in_readme_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = re.findall(r"^### `labeltools ([a-z0-9-]+)`", readme, re.M)
    result = runner.invoke(app, ["--help"])
    commands = result.output.split("Commands")[1]
    listed = re.findall(r"^│ ([a-z0-9-]+)\s", commands, re.M)
    assert listed == documented == _commands_in_help_order()


def _commands_in_help_order() -> list[str]:
    from typer.main import get_command

    group = get_command(app)
    return group.list_commands(None)
