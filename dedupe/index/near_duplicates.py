"""``NearDuplicateIndex``: "have I seen this, or something nearly identical?"
document by document, surviving restarts and shared between processes, and
the site boilerplate learned as a crawl goes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING

from dedupe.cleaning.pipeline import CleanOptions, CleanResult, KeptBecause, Removal, clean_with
from dedupe.core.keys import paragraph_key
from dedupe.core.paragraphs import Paragraph, join_kept
from dedupe.core.verify import Method
from dedupe.errors import IndexStoreError, OptionsError
from dedupe.index.base import (
    Encoder,
    IndexMatch,
    IndexParams,
    IndexStats,
    IndexStore,
    checked_name,
    paragraph_hash,
)
from dedupe.params import (
    DOCUMENT_NGRAM,
    INDEX_MAX_MISS,
    INDEX_MIN_DOCS,
    MIN_SHARE,
    NUM_PERM,
    SEED,
    THRESHOLD,
)

if TYPE_CHECKING:
    from typing_extensions import Self


@dataclass(frozen=True, slots=True)
class BoilerplateOptions:
    """When a paragraph counts as a site's boilerplate: it was seen in at least
    ``min_docs`` documents of the site and in at least ``min_share`` (0-1] of them."""

    min_docs: int = INDEX_MIN_DOCS
    min_share: float = MIN_SHARE

    def __post_init__(self) -> None:
        if self.min_docs < 1:
            raise OptionsError(f"min_docs must be at least 1, not {self.min_docs}")
        if not 0.0 < self.min_share <= 1.0:
            raise OptionsError(f"min_share must be in (0, 1], not {self.min_share}")

    def needed(self, site_documents: int) -> int:
        """Documents a paragraph must be seen in, on a site of ``site_documents``."""
        return max(self.min_docs, math.ceil(self.min_share * site_documents - 1e-9))


@dataclass(frozen=True, slots=True)
class BoilerplateRemoval:
    """A paragraph removed as boilerplate: ``documents`` of the site's
    ``site_documents`` indexed documents hold it (same comparison key)."""

    paragraph: Paragraph
    documents: int
    site_documents: int


@dataclass(frozen=True, slots=True)
class IndexCleanResult:
    """A text cleaned of its own repeats (``cleaned``, as :func:`dedupe.clean`
    gives it) and of the boilerplate the index learned for ``site``; ``text`` is
    the input with both kinds of paragraphs cut out."""

    text: str
    cleaned: CleanResult
    boilerplate: tuple[BoilerplateRemoval, ...]
    site: str | None
    options: BoilerplateOptions

    @property
    def changed(self) -> bool:
        return self.cleaned.changed or bool(self.boilerplate)

    @property
    def paragraphs_removed(self) -> int:
        return len(self.cleaned.removed) + len(self.boilerplate)

    def as_clean_result(self) -> CleanResult:
        """One :class:`CleanResult` holding both kinds of removal: the
        boilerplate as ``Method.BOILERPLATE`` removals (no twins, block 0,
        similarity the share of the site's documents that hold the paragraph)."""
        found = tuple(
            Removal(
                paragraph=b.paragraph,
                twins=(),
                method=Method.BOILERPLATE,
                similarity=b.documents / b.site_documents,
                in_block=False,
                block=0,
                kept_because=KeptBecause.SITE,
            )
            for b in self.boilerplate
        )
        removed = tuple(sorted((*self.cleaned.removed, *found), key=lambda r: r.paragraph.index))
        return replace(self.cleaned, text=self.text, removed=removed)


def open_store(url_or_path: str | os.PathLike[str]) -> IndexStore:
    """The backend for ``url_or_path``: ``redis://host:port/db`` (also
    ``rediss://``, ``unix://``), ``sqlite:///relative/path``,
    ``sqlite:////absolute/path``, or a plain file path (SQLite)."""
    location = os.fspath(url_or_path)
    scheme, sep, rest = location.partition("://")
    if not sep:
        from dedupe.index.sqlite import SQLiteStore

        return SQLiteStore(location)
    if scheme == "sqlite":
        from dedupe.index.sqlite import SQLiteStore

        if not rest.startswith("/") or rest == "/":
            raise IndexStoreError(f"an SQLite URL is sqlite:///path, not {location}")
        return SQLiteStore(rest[1:])
    if scheme in {"redis", "rediss", "unix"}:
        from dedupe.index.redis import RedisStore

        return RedisStore(location)
    raise IndexStoreError(
        f"unknown index URL scheme {scheme!r}: use a path, sqlite:/// or redis://"
    )


class NearDuplicateIndex:
    """A persistent near-duplicate index of documents.

    ``url_or_path``: ``seen.db`` or ``sqlite:///seen.db`` (SQLite, the
    default backend) or ``redis://host:port/db`` (needs the ``redis`` extra).
    ``threshold``: exact Jaccard similarity of shingle sets at or above which a
    text is a near-duplicate; ``num_perm``, ``ngram``, ``seed``, ``max_miss``:
    see :class:`IndexParams`. They are stored in a new index and must match an
    existing one (else :class:`IndexStoreError`); :meth:`existing` opens one
    with whatever it holds. ``min_docs``/``min_share``: see
    :class:`BoilerplateOptions` (read time only, not stored). ``create=False``:
    fail instead of creating a missing index.

    Document ids and sites are any valid Unicode (a lone surrogate is an
    :class:`~dedupe.errors.InputError`). If the store loses the index while it
    is open (a Redis flushed or restarted without persistence, the SQLite file
    deleted or replaced), every later call raises
    :class:`~dedupe.errors.IndexLostError` instead of answering or writing.
    """

    def __init__(
        self,
        url_or_path: str | os.PathLike[str],
        *,
        threshold: float = THRESHOLD,
        num_perm: int = NUM_PERM,
        ngram: int = DOCUMENT_NGRAM,
        seed: int = SEED,
        max_miss: float = INDEX_MAX_MISS,
        min_docs: int = INDEX_MIN_DOCS,
        min_share: float = MIN_SHARE,
        create: bool = True,
    ) -> None:
        params = IndexParams(
            threshold=threshold, num_perm=num_perm, ngram=ngram, seed=seed, max_miss=max_miss
        )
        boilerplate = BoilerplateOptions(min_docs, min_share)
        self._open(url_or_path, params, boilerplate, create=params if create else None)

    @classmethod
    def existing(
        cls,
        url_or_path: str | os.PathLike[str],
        *,
        min_docs: int = INDEX_MIN_DOCS,
        min_share: float = MIN_SHARE,
        create_with: IndexParams | None = None,
    ) -> Self:
        """Open an index with the parameters stored in it. A missing index is
        created with ``create_with``, or without it is an :class:`IndexStoreError`."""
        index = cls.__new__(cls)
        index._open(url_or_path, None, BoilerplateOptions(min_docs, min_share), create=create_with)
        return index

    def _open(
        self,
        url_or_path: str | os.PathLike[str],
        params: IndexParams | None,
        boilerplate: BoilerplateOptions,
        *,
        create: IndexParams | None,
    ) -> None:
        self._store = open_store(url_or_path)
        self.params = self._store.open(params, create=create)
        self.boilerplate = boilerplate
        self._encoder = Encoder(self.params)

    @property
    def location(self) -> str:
        return self._store.location

    def check(self, text: str) -> IndexMatch | None:
        """The indexed document ``text`` near-duplicates best (highest exact
        Jaccard; the earliest added on a tie), or ``None``."""
        probe = self._encoder.probe(text)
        if not probe.bands:
            return None
        return self._encoder.verifier(probe)(self._store.candidates(probe.bands))

    def add(self, doc_id: str, text: str, *, site: str | None = None) -> None:
        """Index ``text`` as ``doc_id`` (replacing a document of that id), whether
        or not it near-duplicates another. With ``site``, its paragraphs count
        toward the site's boilerplate."""
        _, entry = self._encoder.entry(doc_id, text, site=site)
        self._store.check_and_add(entry, None)

    def check_and_add(
        self, doc_id: str, text: str, *, site: str | None = None
    ) -> IndexMatch | None:
        """:meth:`check`, then :meth:`add` only if nothing matched, as one atomic
        step: of several processes adding near-duplicates at once, exactly one is
        told ``None`` (new). A near-duplicate is not added, and its paragraphs
        are not counted for the site."""
        probe, entry = self._encoder.entry(doc_id, text, site=site)
        return self._store.check_and_add(entry, self._encoder.verifier(probe))

    def remove(self, doc_id: str) -> bool:
        """Forget ``doc_id`` (and its paragraph counts); False if it was not indexed."""
        return self._store.remove(checked_name(doc_id, what="document id"))

    def __contains__(self, doc_id: object) -> bool:
        """Whether a document of this id is indexed."""
        if not isinstance(doc_id, str):
            return False
        return self._store.contains(checked_name(doc_id, what="document id"))

    def clean(
        self, text: str, *, site: str | None = None, options: CleanOptions | None = None
    ) -> IndexCleanResult:
        """:func:`dedupe.clean` of ``text``, then, with ``site``, the removal of the
        paragraphs this index has learned are boilerplate on that site (see
        :class:`BoilerplateOptions`). Does not add ``text`` to the index."""
        return self.remove_boilerplate(clean_with(text, options or CleanOptions()), site=site)

    def remove_boilerplate(self, cleaned: CleanResult, *, site: str | None) -> IndexCleanResult:
        """The kept paragraphs of ``cleaned`` that are ``site`` boilerplate, cut
        out as well (nothing more without a ``site``)."""
        removed = {r.paragraph.index for r in cleaned.removed}
        found: list[BoilerplateRemoval] = []
        if site is not None:
            checked_name(site, what="site")
            keyed = [
                (p, paragraph_hash(key))
                for p in cleaned.paragraphs
                if p.index not in removed and (key := paragraph_key(p.text))
            ]
            site_documents, counts = self._store.site_counts(site, sorted({h for _, h in keyed}))
            needed = self.boilerplate.needed(site_documents)
            found = [
                BoilerplateRemoval(p, counts[h], site_documents)
                for p, h in keyed
                if counts.get(h, 0) >= needed
            ]
        gone = removed | {b.paragraph.index for b in found}
        return IndexCleanResult(
            text=join_kept(cleaned.original, cleaned.paragraphs, gone) if found else cleaned.text,
            cleaned=cleaned,
            boilerplate=tuple(found),
            site=site,
            options=self.boilerplate,
        )

    def stats(self) -> IndexStats:
        return self._store.stats(self.params)

    def __len__(self) -> int:
        return self._store.count()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NearDuplicateIndex({self.location!r}, {self.params.describe()})"
