"""What more than one ``dedupe`` command needs: the one-line error, error
messages in the words of the command line, and HTML input.

Command modules import from here, never from each other.
"""

from __future__ import annotations

import re
from typing import IO, Any

import click

from dedupe.errors import DedupeError, OptionsError

USAGE_EXIT = 2


class OneLineError(click.ClickException):
    """A failure shown as ``dedupe: error: MESSAGE`` on one line, exit status 2."""

    exit_code = USAGE_EXIT

    def show(self, file: IO[Any] | None = None) -> None:
        message = " ".join(self.format_message().splitlines())
        click.echo(f"dedupe: error: {message}", file=file, err=file is None)


# The library names its parameters in OptionsError messages ("num_perm must
# be ..."); a user typed an option. Longest names first: "boilerplate min
# docs" before "min docs".
_OPTION_NAMES = {
    "boilerplate near threshold": "--boilerplate-near",
    "boilerplate min share": "--boilerplate-min-share",
    "boilerplate min docs": "--boilerplate-min-docs",
    "paragraph mode": "--mode",
    "shingle size": "--shingle-size",
    "chunk size": "--chunk-size",
    "num_perm": "--num-perm",
    "min_words": "--min-words",
    "max_bytes": "--max-bytes",
    "threshold": "--threshold",
    "workers": "--workers",
}
_NAMED = re.compile("^(" + "|".join(re.escape(name) for name in _OPTION_NAMES) + r") (must be|is )")


def error_message(exc: DedupeError) -> str:
    """The one-line message of ``exc``, an :class:`OptionsError` naming the
    command-line option (``--num-perm must be ...``) instead of the library
    parameter."""
    message = str(exc)
    if isinstance(exc, OptionsError):
        message = _NAMED.sub(lambda m: f"{_OPTION_NAMES[m[1]]} {m[2]}", message)
    return message


HTML_SUFFIXES = (".html", ".htm")


def is_html(path: str, *, force: bool) -> bool:
    """Whether ``path`` is read as HTML: its name ends ``.html``/``.htm``, or ``force``."""
    return force or path.lower().endswith(HTML_SUFFIXES)


def page_text(source: str, text: str, *, html: bool) -> str:
    """The extracted page text of ``text`` read from ``source`` when that is HTML
    (:func:`is_html`), else ``text`` unchanged."""
    if not is_html(source, force=html):
        return text
    from dedupe.cleaning.html import extract_text

    return extract_text(text)[1]
