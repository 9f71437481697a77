"""What more than one ``dedupe`` command needs: the one-line error and HTML input.

Command modules import from here, never from each other.
"""

from __future__ import annotations

from typing import IO, Any

import click

USAGE_EXIT = 2


class OneLineError(click.ClickException):
    """A failure shown as ``dedupe: error: MESSAGE`` on one line, exit status 2."""

    exit_code = USAGE_EXIT

    def show(self, file: IO[Any] | None = None) -> None:
        message = " ".join(self.format_message().splitlines())
        click.echo(f"dedupe: error: {message}", file=file, err=file is None)


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
