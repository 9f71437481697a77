"""The README's commands are the ones CI runs; every command has help and a
README mention; the public names are exported, sorted and importable."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import dedupe
from dedupe.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """The shell lines of the first code block of the README."""
    block = re.search(r"```sh\n(.*?)```", README, re.DOTALL)
    assert block is not None
    return [ln for ln in block.group(1).splitlines() if ln and not ln.startswith("#")]


def test_readme_opens_with_install_and_test_commands() -> None:
    run, test = readme_commands()
    assert "dedupe clean samples/" in run
    assert "pytest" in test
    assert "[test]" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_commands()[1] in ci


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out.extend(commands(command, (*prefix, name)))
    return out


ALL = commands(main)


def test_the_commands_are_there() -> None:
    assert {("clean",), ("corpus",), ("index",)} <= set(ALL)


@pytest.mark.parametrize("command", ALL, ids=[" ".join(c) for c in ALL])
def test_every_command_has_help_and_a_readme_mention(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert f"dedupe {' '.join(command)}" in README


def test_public_names_are_sorted_and_importable() -> None:
    assert dedupe.__all__ == sorted(dedupe.__all__)
    for name in dedupe.__all__:
        assert getattr(dedupe, name) is not None
    assert set(dir(dedupe)) >= set(dedupe.__all__)
