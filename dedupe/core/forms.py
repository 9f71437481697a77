"""How a paragraph reads: the article's own prose, or words wrapped in links and markup.

When a text holds two copies of the same words, the copy to keep is the one
that reads as the article: a paragraph of its own, not the same words inside a
share link's URL, an image's alt text, a list of links or a block of data.
Forms are judged on the raw paragraph text (comparison keys have lost the
markup) and only ever order copies against each other; no paragraph is removed
for its form alone.
"""

from __future__ import annotations

import re
from enum import IntEnum

# Markup spans: URLs, markdown link and image targets ``](...)``, angle-bracket
# URLs, HTML tags and JSON keys. What they cover is not words of the text.
_MARKUP = re.compile(
    r"\]\(<[^>]*>\)"  # markdown link target in angle brackets (may hold spaces)
    r"|\]\([^)]*\)"  # markdown link target
    r"|<(?:https?:|www\.)[^>]*>"  # angle-bracket URL
    r"|(?:[a-z][a-z0-9+.-]*://|www\.)\S+"  # URL
    r"|</?[a-zA-Z][^<>]{0,200}>"  # HTML tag
    r'|"[^"\n]{1,40}"\s*:'  # JSON key
)
# Format characters a line may start with (a byte-order mark where files were
# joined, a zero-width space): they hide a list mark from the patterns.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
# Every markup span holds one of these: most lines of prose hold none.
_MAY_HOLD_MARKUP = re.compile(r'\]\(|://|www\.|<|":')
# A line made of links, images and list marks only: navigation, not content.
_LINK_ONLY = re.compile(
    r"\s*(?:[*+\-\u2022|]\s*|\d+[.)]\s+|#+\s*)*"
    r"(?:!?\[[^\]]*\]\([^)]*\)[\s|,\u00b7\u2022*_-]*|<(?:https?:|www\.)[^>]*>\s*"
    r"|(?:https?://|www\.)\S+\s*)+"
)
# Marks a converter puts before a line that is not running text: list bullets
# (``*``, ``+``, ``-``, ``o``, numbered), headings, quotes, table cells,
# a link or image opening.
_WRAPPER = re.compile(r"\s*(?:[*+\-\u2022>|#]|o\s|\d+[.)]\s|!?\[[^\]]*\]\()")
_DATA = re.compile(r"\s*(?:[\[{]\s*\"|<[a-zA-Z!])")
_SENTENCE_END = tuple(".!?\u3002\uff01\uff1f\"')\u201d\u2019\u00bb")
_ELLIPSIS = ("...", "\u2026")
# Share of a paragraph's characters in markup at which it reads as markup.
_MARKUP_SHARE = 0.4


class Form(IntEnum):
    """How a paragraph reads, best first: the order in which copies claim to be kept."""

    PROSE = 0
    """Running text: the article's own line."""
    WRAPPED = 1
    """Words wrapped in light markup: a list item, a heading, a link's text, a
    paragraph with an inline link."""
    MARKUP = 2
    """Mostly URLs, link targets, tags or data: a share link carrying the text
    in its URL, an image with alt text, a JSON or HTML blob."""


def _visible(text: str) -> int:
    return sum(len(word) for word in text.split())


def markup_share(text: str) -> float:
    """The share of the non-space characters of ``text`` that lie in markup."""
    letters = _visible(text)
    if not letters or not _MAY_HOLD_MARKUP.search(text):
        return 0.0
    covered = sum(_visible(m.group()) for m in _MARKUP.finditer(text))
    return min(1.0, covered / letters)


def form_of(text: str) -> Form:
    """The :class:`Form` of one paragraph's raw text."""
    text = text.lstrip(_INVISIBLE)
    if _DATA.match(text) or markup_share(text) >= _MARKUP_SHARE:
        return Form.MARKUP
    if _WRAPPER.match(text) or _MARKUP.search(text):
        return Form.WRAPPED
    return Form.PROSE


def link_only(text: str) -> bool:
    """True for a line of links, images and list marks only (a menu item, a
    share button): noise, which may go as a repeat however short it is."""
    text = text.lstrip(_INVISIBLE)
    return _LINK_ONLY.fullmatch(text) is not None


def is_fragment(text: str, key: str, container_key: str) -> bool:
    """True when a paragraph contained in a longer one reads as a cut piece of
    it (a teaser, a truncated summary) rather than a sentence of its own:
    the container starts with it, or it stops without ending a sentence."""
    stripped = text.rstrip()
    if container_key.startswith(key) or stripped.endswith(_ELLIPSIS):
        return True
    return not stripped.endswith(_SENTENCE_END)
