"""CLI-wide behaviour: --version, --help, documentation, the error translation."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import labeltools
from labeltools.__main__ import main
from labeltools.cli import OLD_SPELLINGS, app
from labeltools.cli._common import new_spellings

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
    """``labeltools.__main__.console_main()`` (the console script) after ``prelude``, in a subprocess."""
    code = f"{prelude}\nimport sys\nsys.argv = ['labeltools', *{list(args)!r}]\n"
    code += "from labeltools.__main__ import console_main\nconsole_main()\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_console_main_exits_fast_but_keeps_status_output_and_atexit_handlers():
    # console_main() skips the interpreter's teardown: atexit handlers and buffered output still happen.
    prelude = "import atexit, sys\natexit.register(lambda: sys.stdout.write('atexit ran\\n'))"
    ok = _run_main(prelude, "--version")
    assert (ok.returncode, ok.stdout) == (0, f"labeltools {labeltools.__version__}\natexit ran\n")
    usage = _run_main(prelude, "colormap")
    assert usage.returncode == 2 and "Missing argument" in usage.stderr
    assert usage.stdout == "atexit ran\n"
    big = _run_main("", "json2voc", "--help")
    assert big.returncode == 0 and big.stdout.rstrip().endswith("─╯")  # the last line of the box


def test_console_main_takes_the_ordinary_exit_with_a_thread_running():
    prelude = (
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(1.0), print('thread done'))).start()"
    )
    result = _run_main(prelude, "--version")
    assert result.returncode == 0
    assert result.stdout == f"labeltools {labeltools.__version__}\nthread done\n"


def test_usage_error_exit_2():
    result = runner.invoke(app, ["colormap"])
    assert result.exit_code == 2


def test_bar_warm_up_runs_once_at_the_first_finished_item():
    from labeltools.cli._common import Bar

    calls = []
    with Bar("x", warm_up=lambda: calls.append("warm")) as bar:
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


def test_main_returns_the_exit_status_in_process(tmp_path, capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"labeltools {labeltools.__version__}\n"
    assert main(["colormap"]) == 2  # a usage error
    assert "Missing argument" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 1  # a library error
    assert capsys.readouterr().err == (
        f"Error: {tmp_path}: expected a VOC dataset folder with SegmentationClass/, found none\n"
    )
    assert main(["json2voc", "--help"]) == 0
    assert "--val-ratio" in capsys.readouterr().out


def test_main_turns_a_message_exit_into_status_1(monkeypatch, capsys):
    def app(**kwargs):
        sys.exit("boom")

    monkeypatch.setattr("labeltools.cli.app", app)
    assert main([]) == 1
    assert capsys.readouterr().err == "boom\n"


def test_python_dash_m_is_the_console_script():
    prelude = "import atexit, sys\natexit.register(lambda: sys.stdout.write('atexit ran\\n'))"
    code = f"{prelude}\nimport runpy\nsys.argv = ['labeltools', 'colormap']\n"
    code += "runpy.run_module('labeltools', run_name='__main__')\nprint('not reached')\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (2, "atexit ran\n")  # os._exit: nothing after


def test_help_imports_no_numpy_pillow_or_pipeline():
    code = (
        "import sys\nfrom labeltools.__main__ import main\nmain(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'PIL') "
        "or m in ('labeltools.pipeline', 'labeltools.masks', 'labeltools.metrics')))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


ALIASES = [(c, old, new) for c, renames in OLD_SPELLINGS.items() for old, new in renames.items()]


@pytest.mark.parametrize(("command", "old", "new"), ALIASES)
def test_old_spellings_are_hidden_from_help(command, old, new):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    options = re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", result.output)
    assert new in options and old not in options


def test_new_spellings_rewrites_options_only():
    args = ["voc", "--val", "0.3", "--test=0.2", "--seed", "1", "--", "--val"]
    assert new_spellings("split", args) == [
        "voc", "--val-ratio", "0.3", "--test-ratio=0.2", "--seed", "1", "--", "--val",
    ]
    assert new_spellings("json2voc", ["--val", "x"]) == ["--val", "x"]


def test_choice_errors_name_the_librarys_choices():
    result = runner.invoke(app, ["json2voc", "in", "out", "--unknown", "skip"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "must be one of error, ignore, background, got 'skip'" in result.output


def _library_choices():
    from typer.main import get_command

    from labeltools.cli._common import LibraryChoice

    group = get_command(app)
    return [
        (name, param.name, param.type)
        for name, command in group.commands.items()
        for param in command.params
        if isinstance(param.type, LibraryChoice)
    ]


def test_choice_options_list_the_librarys_tuples():
    from labeltools import masks, metrics, pipeline, weights
    from labeltools.formats import yolo

    choices = {(c, p): kind.choices for c, p, kind in _library_choices()}
    assert choices == {
        ("json2voc", "unknown"): pipeline.UNKNOWN_MODES,
        ("json2coco", "unknown"): pipeline.UNKNOWN_MODES,
        ("json2yolo", "unknown"): pipeline.UNKNOWN_MODES,
        ("json2yolo", "parts"): yolo.PARTS,
        ("rgb2index", "unknown"): masks.UNKNOWN_MODES,
        ("weights", "method"): weights.METHODS,
        ("eval", "absent"): metrics.ABSENT_POLICIES,
    }


def test_command_help_imports_no_numpy():
    code = (
        "import sys\nfrom labeltools.__main__ import main\n"
        "for c in ('json2voc', 'json2yolo', 'rgb2index', 'weights', 'eval'): main([c, '--help'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'PIL')))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "<error|ignore|background>" in result.stdout and "<nan|zero>" in result.stdout
    assert "<merge|split>" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"
