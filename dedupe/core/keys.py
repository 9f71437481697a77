"""Keys that the corpus and the index must compute alike.

A paragraph's key decides which paragraphs count as one for boilerplate; a
URL's site decides whose documents are counted together. Both the corpus
(:mod:`dedupe.corpus.boilerplate`) and the persistent index
(:mod:`dedupe.index`) use these functions, so they agree.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from xxhash import xxh3_64_intdigest

from dedupe.core.normalize import normalize


def site_of(url: Any) -> str:
    """The site of a record's ``url`` value: its host, lower case, without a
    leading ``www.``; ``""`` when there is no usable url."""
    if not isinstance(url, str):
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def paragraph_key(text: str, *, fold_digits: bool = True) -> str:
    """The key under which a paragraph is counted for its site: the comparison
    key, digits folded by default so "(c) 2020" and "(c) 2021" count as one."""
    return normalize(text, fold_digits=fold_digits)


def key_hash(key: str) -> int:
    """The unsigned 64-bit hash of a paragraph key (XXH3-64 of its UTF-8; a lone
    surrogate, from a JSON escape, is encoded as its code point would be)."""
    return xxh3_64_intdigest(key.encode("utf-8", "surrogatepass"))
