"""The ``dedupe`` command: a group whose subcommands load on first use.

A subcommand's module is imported only when that command runs or ``--help``
lists it, so ``dedupe clean`` never pays for the imports of other commands.
Add a command with one line in :data:`COMMANDS`.

Errors reach the user as one line on stderr, ``dedupe: error: ...``, with
exit status 2: bad options and arguments (click usage errors) and every
:class:`~dedupe.errors.DedupeError`. Commands pick their other exit codes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from dedupe import __version__
from dedupe.cli.common import OneLineError, error_message
from dedupe.errors import DedupeError

# Command name -> "module:attribute" of its click command.
COMMANDS = {
    "clean": "dedupe.cli.clean:clean",
    "corpus": "dedupe.cli.corpus:corpus",
    "index": "dedupe.cli.index:index",
}


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise  # the help text, shown as it is
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        raise OneLineError(exc.format_message() + hint) from None
    except DedupeError as exc:
        raise OneLineError(error_message(exc)) from None


class LazyGroup(click.Group):
    """A click group that imports the commands in :data:`COMMANDS` on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _one_line_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_errors():
            return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="dedupe")
def main() -> None:
    """Find and remove repeated and near-repeated text."""
