"""Cross-document boilerplate: paragraphs that recur on many pages of a site.

A paragraph's key is its comparison key (:func:`dedupe.normalize.normalize`,
digits folded by default so "(c) 2020" and "(c) 2021" agree) hashed to 64
bits. Each document counts each key once. A key is boilerplate on a site
(the ``url`` field's host, ``www.`` dropped; one site for the whole corpus
when records carry no url) when it appears in at least ``min_docs`` of the
site's documents and in at least ``min_share`` of them; it is then cut from
every document of that site. Only exact keys are counted: a footer that
varies by more than digits, case, punctuation or spacing is not found.

The counts are taken over the documents that survive the near-duplicate
stage, so ten copies of one article do not make its paragraphs boilerplate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

from dedupe.errors import OptionsError
from dedupe.normalize import normalize
from dedupe.paragraphs import Paragraph, ParagraphMode, join_kept, split_paragraphs

DEFAULT_MIN_DOCS = 5
DEFAULT_MIN_SHARE = 0.5
# Entries counted at once; larger inputs are counted in key partitions.
_PARTITION_ENTRIES = 1 << 23

Keys = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class BoilerplateOptions:
    """``min_docs``: documents of a site a paragraph must appear in;
    ``min_share``: share (0-1] of the site's documents it must appear in;
    ``fold_digits``: compare with every digit as ``0``; ``mode``: paragraph
    splitting, as in ``dedupe clean``."""

    min_docs: int = DEFAULT_MIN_DOCS
    min_share: float = DEFAULT_MIN_SHARE
    fold_digits: bool = True
    mode: ParagraphMode = ParagraphMode.AUTO

    def __post_init__(self) -> None:
        if self.min_docs < 2:
            raise OptionsError(f"boilerplate min docs must be at least 2, not {self.min_docs}")
        if not 0.0 < self.min_share <= 1.0:
            raise OptionsError(f"boilerplate min share must be in (0, 1], not {self.min_share}")


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
    """The unsigned 64-bit hash of a paragraph key (XXH3-64, as shingles are hashed)."""
    return xxh3_64_intdigest(key.encode("utf-8"))


def _keyed(text: str, options: BoilerplateOptions) -> list[tuple[Paragraph, int | None]]:
    out: list[tuple[Paragraph, int | None]] = []
    for p in split_paragraphs(text, mode=options.mode):
        key = paragraph_key(p.text, fold_digits=options.fold_digits)
        # A paragraph of punctuation only ("* * *") has no key and is never boilerplate.
        out.append((p, key_hash(key) if key else None))
    return out


def document_keys(text: str, options: BoilerplateOptions) -> Keys:
    """The distinct paragraph keys of a document, sorted."""
    hashes = {h for _, h in _keyed(text, options) if h is not None}
    return np.array(sorted(hashes), dtype=np.uint64)


@dataclass(frozen=True, slots=True)
class Cut:
    """A document with its boilerplate paragraphs cut out; ``removed``: the
    key and text of each cut paragraph, in document order."""

    text: str
    removed: tuple[tuple[int, str], ...]


def cut_boilerplate(text: str, keys: Keys, options: BoilerplateOptions) -> Cut:
    """``text`` without the paragraphs whose key is in the sorted ``keys``."""
    if not len(keys):
        return Cut(text, ())
    keyed = _keyed(text, options)
    wanted = set(keys.tolist())
    removed = [(p, h) for p, h in keyed if h is not None and h in wanted]
    if not removed:
        return Cut(text, ())
    paragraphs = [p for p, _ in keyed]
    return Cut(
        join_kept(text, paragraphs, (p.index for p, _ in removed)),
        tuple((h, p.text) for p, h in removed),
    )


class KeyStore:
    """The paragraph keys of every document, appended in document order to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("wb")
        self._sizes: list[npt.NDArray[np.int64]] = []

    def append(self, hashes: Keys, sizes: npt.NDArray[np.int64]) -> None:
        self._file.write(hashes.tobytes())
        self._sizes.append(sizes)

    def close(self) -> None:
        self._file.close()

    def sizes(self) -> npt.NDArray[np.int64]:
        return np.concatenate([np.empty(0, np.int64), *self._sizes])


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """Boilerplate keys per site: ``site[k]`` (site number), ``key[k]``,
    ``documents[k]`` (kept documents of the site holding it), sorted by site
    then key."""

    site: npt.NDArray[np.int64]
    key: Keys
    documents: npt.NDArray[np.int64]

    def keys_of(self, site: int) -> Keys:
        lo, hi = np.searchsorted(self.site, [site, site + 1])
        return self.key[lo:hi]


def count_boilerplate(
    store: KeyStore,
    doc_site: npt.NDArray[np.int64],
    counted: npt.NDArray[np.bool_],
    options: BoilerplateOptions,
) -> Boilerplate:
    """Boilerplate keys over the documents with ``counted`` set; ``doc_site``
    gives each document's site number."""
    store.close()
    sizes = store.sizes()
    total = int(sizes.sum())
    empty = Boilerplate(np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, np.int64))
    if not total:
        return empty
    keys = np.memmap(store.path, dtype=np.uint64, mode="r", shape=(total,))
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    site_docs = np.bincount(doc_site[counted], minlength=int(doc_site.max(initial=0)) + 1)
    parts = max(1, -(-total // _PARTITION_ENTRIES))
    found: list[Boilerplate] = []
    for part in range(parts):
        chosen = counted[owner]
        if parts > 1:
            chosen &= (np.asarray(keys) % np.uint64(parts)) == np.uint64(part)
        k = np.asarray(keys[chosen])
        s = doc_site[owner[chosen]]
        order = np.lexsort((k, s))
        k, s = k[order], s[order]
        if not len(k):
            continue
        new = np.ones(len(k), dtype=bool)
        new[1:] = (k[1:] != k[:-1]) | (s[1:] != s[:-1])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, len(k)))
        site = s[starts]
        keep = (counts >= options.min_docs) & (counts >= options.min_share * site_docs[site])
        found.append(Boilerplate(site[keep], k[starts][keep], counts[keep]))
    if not found:
        return empty
    site = np.concatenate([b.site for b in found])
    key = np.concatenate([b.key for b in found])
    docs = np.concatenate([b.documents for b in found])
    order = np.lexsort((key, site))
    return Boilerplate(site[order], key[order], docs[order])


@dataclass(frozen=True, slots=True)
class BoilerplateParagraph:
    """A boilerplate paragraph: its text (first cut copy, in input order),
    the kept documents holding it and the sites it was cut from."""

    text: str
    documents: int
    sites: tuple[str, ...]


def describe(
    boilerplate: Boilerplate, site_names: Sequence[str], samples: dict[int, str]
) -> list[BoilerplateParagraph]:
    """One entry per boilerplate key, most widespread first."""
    by_key: dict[int, tuple[int, list[str]]] = {}
    for site, key, docs in zip(
        boilerplate.site.tolist(),
        boilerplate.key.tolist(),
        boilerplate.documents.tolist(),
        strict=True,
    ):
        count, sites = by_key.get(key, (0, []))
        if site_names[site]:
            sites.append(site_names[site])
        by_key[key] = (count + docs, sites)
    entries = [
        BoilerplateParagraph(samples.get(key, ""), count, tuple(sorted(sites)))
        for key, (count, sites) in by_key.items()
    ]
    entries.sort(key=lambda e: (-e.documents, e.text, e.sites))
    return entries
