"""The comparison key of a text: what two texts must share to count as the same.

Keys are used for comparison only; output text is never normalised.
"""

from __future__ import annotations

import re
import unicodedata

# Scripts written without spaces between words: each character is a token.
UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x2FA1F),  # CJK extensions B-F, compatibility supplement
)
_UNSPACED_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in UNSPACED_RANGES)
_TOKEN = re.compile(f"[{_UNSPACED_CLASS}]|[^\\s{_UNSPACED_CLASS}]+")
_DIGIT = re.compile(r"\d")
# dedupe.core._minhash_numba finds the same URLs without this pattern: change both.
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+")


class _PunctuationToSpace(dict[int, "int | None"]):
    """A ``str.translate`` table mapping punctuation to a space and dropping
    invisible format characters (BOM, zero-width space, soft hyphen), filled as
    characters are met (building it for all of Unicode would slow start-up)."""

    def __missing__(self, codepoint: int) -> int | None:
        category = unicodedata.category(chr(codepoint))
        value = 0x20 if category.startswith("P") else None if category == "Cf" else codepoint
        self[codepoint] = value
        return value


_PUNCTUATION_TO_SPACE = _PunctuationToSpace()


def _fold_punctuation(text: str) -> str:
    return text.translate(_PUNCTUATION_TO_SPACE)


def _url_token(match: re.Match[str]) -> str:
    # A URL is one token: split at its punctuation, a slug would read as the
    # sentence it was made from and seem to contain it.
    return "".join(_fold_punctuation(match.group()).split())


def fold(text: str) -> str:
    """Unicode NFKC, then case folded: the first step of :func:`normalize`."""
    return unicodedata.normalize("NFKC", text).casefold()


def may_have_url(folded: str) -> bool:
    """False when a folded text holds no URL for :func:`normalize` to make one token."""
    return "://" in folded or "www." in folded


def normalize(text: str, *, fold_digits: bool = False) -> str:
    """The comparison key of ``text``.

    Unicode NFKC, case folded, each URL made one token, invisible format characters (BOM, zero-width
    space, soft hyphen) dropped, every punctuation character (straight or curly
    quotes, dashes, full stops ...) turned into a space, runs of whitespace
    collapsed to one space, no leading or trailing space. With ``fold_digits``
    every decimal digit becomes ``0``, so "5 May 2020" and "6 May 2021" agree.
    """
    key = fold(text)
    if may_have_url(key):
        key = _URL.sub(_url_token, key)
    key = _fold_punctuation(key)
    if fold_digits:
        key = _DIGIT.sub("0", key)
    return " ".join(key.split())


def fold_digits(key: str) -> str:
    """``key`` with every decimal digit made ``0`` ("5 May 2020" ~ "6 May 2021")."""
    return _DIGIT.sub("0", key)


def tokens(key: str) -> list[str]:
    """Word tokens of a key; in scripts written without spaces (CJK, Thai ...)
    every character is a token."""
    return _TOKEN.findall(key)
