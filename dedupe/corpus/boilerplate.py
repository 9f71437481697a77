"""Cross-document boilerplate: paragraphs that recur on many pages of a site.

A paragraph's key is its comparison key (:func:`dedupe.core.normalize.normalize`,
digits folded by default so "(c) 2020" and "(c) 2021" agree) hashed to 64
bits. Each document counts each key once. A key is boilerplate on a site
(the ``url`` field's host, ``www.`` dropped; one site for the whole corpus
when records carry no url) when it appears in at least ``min_docs`` of the
site's documents and in at least ``min_share`` of them; it is then cut from
every document of that site.

Near-duplicate variants are counted together: among the keys a site repeats
(seen in two or more of its documents), visited most widespread first, a key
whose word-triple shingles are at least ``near_threshold`` similar (exact
Jaccard) to an earlier one joins that one's family (:func:`near_families`,
the decisions of :mod:`dedupe.cleaning.groups`, so chains never join). A family held
by enough of the site's documents is boilerplate as a whole: every key in it
is cut. A variant seen in one document only is not counted and not cut, and
only a site's ``NEAR_KEYS_PER_SITE`` most widespread repeated keys are
compared.

The counts are taken over the documents that survive the near-duplicate
stage, so ten copies of one article do not make its paragraphs boilerplate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dedupe.cleaning.groups import GroupOptions, Unit, find_duplicates
from dedupe.cleaning.pipeline import shingle_sets
from dedupe.core.keys import key_hash, paragraph_key
from dedupe.core.normalize import tokens
from dedupe.core.paragraphs import Paragraph, ParagraphMode, join_kept, split_paragraphs
from dedupe.core.shingles import ShingleOptions
from dedupe.core.verify import Method
from dedupe.errors import OptionsError
from dedupe.io.records import comparable
from dedupe.params import CORPUS_MIN_DOCS, MIN_SHARE, NEAR_KEYS_PER_SITE, SHINGLE_SIZE, THRESHOLD

# Entries counted at once; larger inputs are counted in key partitions.
_PARTITION_ENTRIES = 1 << 23

Keys = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BoilerplateOptions:
    """``min_docs``: documents of a site a paragraph must appear in;
    ``min_share``: share (0-1] of the site's documents it must appear in;
    ``near_threshold``: Jaccard similarity of word triples at which variants
    of a paragraph are counted together (``None``: exact keys only);
    ``fold_digits``: compare with every digit as ``0``; ``mode``: paragraph
    splitting, as in ``dedupe clean``."""

    min_docs: int = CORPUS_MIN_DOCS
    min_share: float = MIN_SHARE
    near_threshold: float | None = THRESHOLD
    fold_digits: bool = True
    mode: ParagraphMode = ParagraphMode.AUTO

    def __post_init__(self) -> None:
        if self.min_docs < 2:
            raise OptionsError(f"boilerplate min docs must be at least 2, not {self.min_docs}")
        if not 0.0 < self.min_share <= 1.0:
            raise OptionsError(f"boilerplate min share must be in (0, 1], not {self.min_share}")
        if self.near_threshold is not None and not 0.0 < self.near_threshold <= 1.0:
            raise OptionsError(
                f"boilerplate near threshold must be in (0, 1], not {self.near_threshold}"
            )


def _keyed(text: str, options: BoilerplateOptions) -> list[tuple[Paragraph, str, int | None]]:
    out: list[tuple[Paragraph, str, int | None]] = []
    for p in split_paragraphs(text, mode=options.mode):
        key = paragraph_key(p.text, fold_digits=options.fold_digits)
        # A paragraph of punctuation only ("* * *") has no key and is never boilerplate.
        out.append((p, key, key_hash(key) if key else None))
    return out


def document_keys(text: str, options: BoilerplateOptions) -> Keys:
    """The distinct paragraph keys of a document, sorted (``text`` without
    lone surrogates: see :func:`dedupe.io.records.comparable`)."""
    hashes = {h for _, _, h in _keyed(text, options) if h is not None}
    return np.array(sorted(hashes), dtype=np.uint64)


def key_texts(text: str, wanted: Keys, options: BoilerplateOptions) -> dict[int, str]:
    """The key (as text) of each paragraph of ``text`` whose key hash is wanted."""
    hashes = set(wanted.tolist())
    return {h: key for _, key, h in _keyed(text, options) if h is not None and h in hashes}


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
    # Keys come from the comparable text; the cut is made in ``text`` itself
    # (same offsets), so lone surrogates in kept paragraphs stay as they were.
    keyed = _keyed(comparable(text), options)
    wanted = set(keys.tolist())
    removed = [(p, h) for p, _, h in keyed if h is not None and h in wanted]
    if not removed:
        return Cut(text, ())
    paragraphs = [p for p, _, _ in keyed]
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


def _sorted_boilerplate(site: Ints, key: Keys, documents: Ints) -> Boilerplate:
    order = np.lexsort((key, site))
    return Boilerplate(site[order], key[order], documents[order])


@dataclass(frozen=True, slots=True)
class KeyCounts:
    """The paragraph keys a site repeats: ``key[k]`` is in ``documents[k]``
    (two or more) counted documents of site ``site[k]``, the first of them
    ``first[k]``; sorted by site then key. ``site_documents[s]``: counted
    documents of site ``s``."""

    site: Ints
    key: Keys
    documents: Ints
    first: Ints
    site_documents: Ints

    def passing(
        self, documents: Ints, site: Ints, options: BoilerplateOptions
    ) -> npt.NDArray[np.bool_]:
        """Whether a paragraph held by ``documents`` of ``site`` is boilerplate."""
        return (documents >= options.min_docs) & (
            documents >= options.min_share * self.site_documents[site]
        )

    def exact(self, options: BoilerplateOptions) -> Boilerplate:
        """The keys that are boilerplate on their own."""
        keep = self.passing(self.documents, self.site, options)
        return Boilerplate(self.site[keep], self.key[keep], self.documents[keep])


def count_keys(store: KeyStore, doc_site: Ints, counted: npt.NDArray[np.bool_]) -> KeyCounts:
    """Count the paragraph keys of the documents with ``counted`` set, per
    site (``doc_site`` gives each document's site number)."""
    store.close()
    sizes = store.sizes()
    total = int(sizes.sum())
    site_docs = np.bincount(doc_site[counted], minlength=int(doc_site.max(initial=0)) + 1)
    empty = np.empty(0, np.int64)
    if not total:
        return KeyCounts(empty, np.empty(0, np.uint64), empty, empty, site_docs)
    keys = np.memmap(store.path, dtype=np.uint64, mode="r", shape=(total,))
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    parts = max(1, -(-total // _PARTITION_ENTRIES))
    found: list[tuple[Ints, Keys, Ints, Ints]] = []
    for part in range(parts):
        chosen = counted[owner]
        if parts > 1:
            chosen &= (np.asarray(keys) % np.uint64(parts)) == np.uint64(part)
        k = np.asarray(keys[chosen])
        d = owner[chosen]
        s = doc_site[d]
        # Stable: within a (site, key) run, documents stay in input order.
        order = np.lexsort((k, s))
        k, s, d = k[order], s[order], d[order]
        if not len(k):
            continue
        new = np.ones(len(k), dtype=bool)
        new[1:] = (k[1:] != k[:-1]) | (s[1:] != s[:-1])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, len(k)))
        repeated = counts >= 2
        starts = starts[repeated]
        found.append((s[starts], k[starts], counts[repeated], d[starts]))
    if not found:
        return KeyCounts(empty, np.empty(0, np.uint64), empty, empty, site_docs)
    site, key, documents, first = (np.concatenate(column) for column in zip(*found, strict=True))
    order = np.lexsort((key, site))
    return KeyCounts(site[order], key[order], documents[order], first[order], site_docs)


def near_candidates(counts: KeyCounts, options: BoilerplateOptions) -> npt.NDArray[np.bool_]:
    """Which repeated keys may belong to a near-duplicate family that is
    boilerplate: on sites with enough documents and two or more repeated
    keys, the ``NEAR_KEYS_PER_SITE`` most widespread (then first seen)."""
    if options.near_threshold is None or not len(counts.key):
        return np.zeros(len(counts.key), dtype=bool)
    big = counts.site_documents[counts.site] >= options.min_docs
    per_site = np.bincount(counts.site, minlength=len(counts.site_documents))
    order = np.lexsort((counts.first, -counts.documents, counts.site))
    starts = np.searchsorted(counts.site[order], counts.site[order])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts
    return big & (per_site[counts.site] >= 2) & (rank < NEAR_KEYS_PER_SITE)


@dataclass(frozen=True, slots=True)
class Family:
    """Near-duplicate variants of a paragraph on one site: ``keys[0]`` the
    most widespread, each other key at least the near threshold similar to
    it; ``documents``: each key's own count."""

    site: int
    keys: tuple[int, ...]
    documents: tuple[int, ...]


def near_families(
    counts: KeyCounts,
    wanted: npt.NDArray[np.bool_],
    texts: dict[int, str],
    options: BoilerplateOptions,
) -> list[Family]:
    """Families of two or more keys among the ``wanted`` repeated keys
    (:func:`near_candidates`), site by site; ``texts``: key hash to key text."""
    if options.near_threshold is None:
        return []
    group = GroupOptions(threshold=options.near_threshold, min_words=0)
    shingling = ShingleOptions(size=SHINGLE_SIZE)
    families: list[Family] = []
    rows = np.flatnonzero(wanted)
    bounds = np.flatnonzero(np.diff(counts.site[rows], prepend=-1, append=-1))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        site_rows = rows[lo:hi]
        # Most widespread first, then first seen: the family's head is its most common form.
        site_rows = site_rows[np.lexsort((counts.first[site_rows], -counts.documents[site_rows]))]
        keys = counts.key[site_rows].tolist()
        documents = counts.documents[site_rows].tolist()
        if len(keys) < 2:
            continue
        key_text = [texts[k] for k in keys]
        units = [
            Unit(text, shingles, len(tokens(text)), len(text))
            for text, shingles in zip(key_text, shingle_sets(key_text, shingling), strict=True)
        ]
        members: dict[int, list[int]] = {}
        for index, decision in find_duplicates(units, group).items():
            if decision.method is Method.NEAR:
                members.setdefault(decision.twins[0], []).append(index)
        site = int(counts.site[site_rows[0]])
        for head, others in sorted(members.items()):
            chosen = [head, *sorted(others)]
            families.append(
                Family(site, tuple(keys[i] for i in chosen), tuple(documents[i] for i in chosen))
            )
    return families


def family_documents(
    store: KeyStore, doc_site: Ints, counted: npt.NDArray[np.bool_], families: Sequence[Family]
) -> Ints:
    """Counted documents holding a key of each family (a document holding
    two variants counts once)."""
    if not families:
        return np.empty(0, np.int64)
    family_of = {(f.site, key): n for n, f in enumerate(families) for key in f.keys}
    member_keys = np.unique(np.fromiter((k for _, k in family_of), np.uint64, len(family_of)))
    sizes = store.sizes()
    keys = np.fromfile(store.path, dtype=np.uint64)
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    hit = np.flatnonzero(np.isin(keys, member_keys) & counted[owner])
    sites = doc_site[owner[hit]].tolist()
    family = np.fromiter(
        (family_of.get((s, k), -1) for s, k in zip(sites, keys[hit].tolist(), strict=True)),
        dtype=np.int64,
        count=len(hit),
    )
    pairs = np.unique(np.stack([family, owner[hit]], axis=1)[family >= 0], axis=0)
    return np.bincount(pairs[:, 0], minlength=len(families)).astype(np.int64)


def find_boilerplate(
    counts: KeyCounts,
    families: Sequence[Family],
    family_docs: Ints,
    options: BoilerplateOptions,
) -> Boilerplate:
    """The boilerplate keys: those passing on their own, and every key of a
    family passing as a whole (each listed with its own document count)."""
    exact = counts.exact(options)
    sites = np.array([f.site for f in families], dtype=np.int64)
    passing = counts.passing(family_docs, sites, options).tolist() if families else []
    found = {
        (s, k): d
        for s, k, d in zip(
            exact.site.tolist(), exact.key.tolist(), exact.documents.tolist(), strict=True
        )
    }
    for family, ok in zip(families, passing, strict=True):
        if ok:
            for key, documents in zip(family.keys, family.documents, strict=True):
                found[(family.site, key)] = documents
    if len(found) == len(exact.key):
        return exact
    return _sorted_boilerplate(
        np.array([s for s, _ in found], dtype=np.int64),
        np.array([k for _, k in found], dtype=np.uint64),
        np.array(list(found.values()), dtype=np.int64),
    )


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
