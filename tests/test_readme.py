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
