"""HTML input: extract a page's text with its paragraph structure, then clean it.

Extraction is delegated to a maintained library (the optional extra ``html``);
each extractor below returns one paragraph per line, so the cleaned text can
be split with :attr:`dedupe.core.paragraphs.ParagraphMode.LINE`.

``trafilatura`` (the default) keeps the main text of the page and drops
navigation, footers and comment sections; ``inscriptis`` and ``html2text``
convert the whole page, boilerplate included, and leave removing it to the
cleaning stages and the index. ``benchmarks/html_extractors.py`` measures them.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from dedupe.cleaning.pipeline import CleanResult
from dedupe.core.paragraphs import ParagraphMode
from dedupe.errors import InputError, OptionsError

_BLANK_RUN = re.compile(r"\n\s*\n+")


class Extractor(str, Enum):
    """A library that turns HTML into text; ``AUTO`` takes the first installed
    one in the order of this enumeration."""

    AUTO = "auto"
    TRAFILATURA = "trafilatura"
    INSCRIPTIS = "inscriptis"
    HTML2TEXT = "html2text"


@dataclass(frozen=True, slots=True)
class HtmlCleanResult:
    """The text extracted from a page, which extractor produced it, and its cleaning."""

    extractor: Extractor
    extracted: str
    result: CleanResult

    @property
    def text(self) -> str:
        return self.result.text


def _lines(text: str) -> str:
    """One paragraph per line: blank-line runs and trailing spaces removed."""
    lines = (line.strip() for line in _BLANK_RUN.sub("\n", text.replace("\r\n", "\n")).split("\n"))
    return "\n".join(line for line in lines if line)


def _trafilatura(html: str) -> str:
    import trafilatura

    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, favor_recall=True, deduplicate=False
    )
    return _lines(text or "")


def _inscriptis(html: str) -> str:
    from inscriptis import get_text

    text: str = get_text(html)
    return _lines(text)


def _html2text(html: str) -> str:
    import html2text

    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_links = True
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = False
    return _lines(converter.handle(html))


_EXTRACT: dict[Extractor, Callable[[str], str]] = {
    Extractor.TRAFILATURA: _trafilatura,
    Extractor.INSCRIPTIS: _inscriptis,
    Extractor.HTML2TEXT: _html2text,
}


def available() -> list[Extractor]:
    """The installed extractors, in the order ``AUTO`` tries them."""
    return [e for e in _EXTRACT if importlib.util.find_spec(e.value) is not None]


def resolve_extractor(extractor: Extractor | str = Extractor.AUTO) -> Extractor:
    """The concrete extractor for ``extractor``; :class:`OptionsError` if it is not installed."""
    try:
        chosen = Extractor(extractor)
    except ValueError:
        choices = ", ".join(e.value for e in Extractor)
        raise OptionsError(f"extractor must be one of {choices}, not {extractor!r}") from None
    installed = available()
    if chosen is Extractor.AUTO:
        if not installed:
            raise OptionsError("reading HTML needs an extractor: pip install 'dedupe-text[html]'")
        return installed[0]
    if chosen not in installed:
        raise OptionsError(f"extractor {chosen.value} is not installed: pip install {chosen.value}")
    return chosen


def extract_text(
    html: str, *, extractor: Extractor | str = Extractor.AUTO
) -> tuple[Extractor, str]:
    """The page text of ``html``, one paragraph per line, and the extractor that ran."""
    chosen = resolve_extractor(extractor)
    try:
        return chosen, _EXTRACT[chosen](html)
    except (ValueError, TypeError, LookupError) as exc:
        # The extractors raise these on markup they cannot parse at all.
        raise InputError(f"cannot read the HTML with {chosen.value}: {exc}") from None


def clean_html(
    html: str, *, extractor: Extractor | str = Extractor.AUTO, **options: Any
) -> HtmlCleanResult:
    """Extract the text of ``html`` and clean it.

    ``extractor``: ``"auto"`` (trafilatura if installed, then inscriptis, then
    html2text) or one of them by name. ``options`` are those of
    :func:`dedupe.clean`; paragraphs are lines unless ``mode`` says otherwise.
    """
    from dedupe.cleaning.pipeline import clean

    chosen, text = extract_text(html, extractor=extractor)
    options.setdefault("mode", ParagraphMode.LINE)
    result = clean(text, **options)
    return HtmlCleanResult(extractor=chosen, extracted=text, result=result)
