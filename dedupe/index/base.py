"""What every index backend stores, the protocol it implements, and the
logic the backends share: turning a text into what is stored, and deciding
a match from stored candidates.

For each document a backend keeps:

* its id (any string: a URL, a path, a database key);
* its shingle set, exactly: the sorted, distinct 64-bit shingle hashes of
  :mod:`dedupe.core.shingles` as one little-endian ``uint64`` blob (8 bytes a
  shingle, about 8 bytes a word of text), so that every match is verified by
  exact Jaccard similarity, never decided by the signature alone;
* its LSH band keys (:func:`dedupe.core.candidates.band_keys`), one per band,
  as rows ``(band, key) -> document`` in the store, and once more in the
  document's own record so that it can be removed;
* with a site: the site and the 64-bit hashes of its distinct paragraph keys
  (:func:`dedupe.core.keys.paragraph_key`: the comparison key, digits folded), counted once per
  document in the site's paragraph document-frequencies.

The text itself is not stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import BandChoice, band_keys, choose_bands
from dedupe.core.keys import key_hash, paragraph_key
from dedupe.core.minhash import SignatureOptions, sign_hashes
from dedupe.core.normalize import normalize
from dedupe.core.paragraphs import split_paragraphs
from dedupe.core.shingles import ShingleOptions, as_array, shingle_set
from dedupe.core.verify import jaccard
from dedupe.errors import IndexStoreError, InputError, OptionsError
from dedupe.params import (
    DOCUMENT_NGRAM,
    INDEX_MAX_MISS,
    NUM_PERM,
    SEED,
    THRESHOLD,
)

# Bump when what is stored, or how it is hashed, changes: old indexes then
# refuse to open instead of answering wrongly.
SCHEME = 1
FORMAT = "dedupe-near-duplicate-index"
# A pair exactly at the threshold is missed with at most this probability:
# 21 bands of 6 rows for the defaults (0.17% missed at 0.8).

_BLOB = np.dtype("<u8")
_INT64 = np.dtype("<i8")


@dataclass(frozen=True, slots=True)
class IndexParams:
    """What decides the answers of an index; stored in it and checked on every open.

    ``threshold``: Jaccard similarity of shingle sets at or above which a
    document is a near-duplicate. ``num_perm``/``seed``: MinHash signature
    length and permutation seed. ``ngram``: words per shingle. ``max_miss``:
    the LSH banding is chosen so that a pair exactly at ``threshold`` is
    missed with at most this probability. ``scheme``: the storage and hashing
    version of this code.
    """

    threshold: float = THRESHOLD
    num_perm: int = NUM_PERM
    ngram: int = DOCUMENT_NGRAM
    seed: int = SEED
    max_miss: float = INDEX_MAX_MISS
    scheme: int = SCHEME

    def __post_init__(self) -> None:
        SignatureOptions(num_perm=self.num_perm, seed=self.seed)
        ShingleOptions(size=self.ngram)
        choose_bands(self.threshold, self.num_perm, max_miss=self.max_miss)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, where: str) -> IndexParams:
        """The parameters stored in an index; :class:`IndexStoreError` if unreadable."""
        try:
            raw = json.loads(text)
            names = {f.name for f in fields(cls)}
            if not isinstance(raw, dict) or set(raw) != names:
                raise ValueError("unexpected fields")
            return cls(**raw)
        except (ValueError, TypeError, OptionsError):
            raise IndexStoreError(f"{where}: the stored index parameters are unreadable") from None

    def describe(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def check_params(stored: IndexParams, wanted: IndexParams | None, *, where: str) -> IndexParams:
    """``stored``, when ``wanted`` is ``None`` or equal; otherwise :class:`IndexStoreError`."""
    if wanted is None or stored == wanted:
        return stored
    if stored.scheme != wanted.scheme:
        raise IndexStoreError(
            f"{where} was written by index scheme {stored.scheme}; this version reads "
            f"scheme {wanted.scheme}: rebuild the index"
        )
    differ = ", ".join(
        f"{f.name}={getattr(stored, f.name)} (asked {getattr(wanted, f.name)})"
        for f in fields(stored)
        if getattr(stored, f.name) != getattr(wanted, f.name)
    )
    raise IndexStoreError(f"{where} was built with other parameters: {differ}")


@dataclass(frozen=True, slots=True)
class IndexMatch:
    """The kept document a text near-duplicates, and their exact Jaccard
    similarity of shingle sets (at or above the index threshold)."""

    doc_id: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Entry:
    """One document as a backend writes it; see the module docstring.

    ``bands``: the band keys as signed 64-bit integers (``bands[b]`` is band
    ``b``; empty for a text without shingles, which is never a candidate).
    ``paragraphs``: sorted distinct paragraph-key hashes, as signed 64-bit
    integers; empty without a ``site``.
    """

    doc_id: str
    shingles: bytes
    bands: tuple[int, ...]
    site: str | None
    paragraphs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Probe:
    """A text as the index compares it: its exact shingle set and band keys."""

    shingles: frozenset[int]
    bands: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What an index holds. ``size_bytes``: the file size on disk (SQLite, with
    its write-ahead log) or the server's memory in use (Redis, all databases)."""

    location: str
    backend: str
    params: IndexParams
    documents: int
    sites: int
    site_paragraphs: int
    size_bytes: int


# Given candidates as (document id, shingle blob), in the order they were
# added, the best verified match or None.
Verifier = Callable[[Iterable[tuple[str, bytes]]], IndexMatch | None]


class IndexStore(Protocol):
    """A backend: where documents, band rows and site counts live.

    Every method is one atomic unit against the store; failures of the store
    (unreachable, corrupt, locked past its timeout) raise :class:`IndexStoreError`.
    After :meth:`open`, every method first checks that the store still holds
    the index it opened, and raises :class:`~dedupe.errors.IndexLostError`
    rather than answer or write without it.
    """

    location: str
    backend: str

    def open(self, params: IndexParams | None, *, create: IndexParams | None) -> IndexParams:
        """Check the stored parameters against ``params`` (``None`` accepts any)
        and return them; a missing index is first created with ``create``, or
        without it is an error."""
        ...

    def candidates(self, bands: Sequence[int]) -> list[tuple[str, bytes]]:
        """Documents sharing at least one band key, oldest first, with their shingle blobs."""
        ...

    def check_and_add(self, entry: Entry, verify: Verifier | None) -> IndexMatch | None:
        """Atomically: ask ``verify`` about the candidates of ``entry``; unless it
        returns a match, add ``entry`` (replacing a document of the same id).
        ``verify=None`` adds unconditionally."""
        ...

    def remove(self, doc_id: str) -> bool:
        """Forget a document and its paragraph counts; False if it was not there."""
        ...

    def contains(self, doc_id: str) -> bool: ...

    def count(self) -> int: ...

    def site_counts(self, site: str, paragraphs: Sequence[int]) -> tuple[int, dict[int, int]]:
        """The documents of ``site``, and how many of them hold each paragraph hash."""
        ...

    def stats(self, params: IndexParams) -> IndexStats: ...

    def close(self) -> None: ...


def to_signed(values: npt.NDArray[np.uint64]) -> tuple[int, ...]:
    """64-bit unsigned values as signed integers (what SQLite's INTEGER holds)."""
    return tuple(np.ascontiguousarray(values, dtype=np.uint64).view(np.int64).tolist())


def shingle_blob(shingles: frozenset[int]) -> bytes:
    return as_array(shingles).astype(_BLOB, copy=False).tobytes()


def blob_shingles(blob: bytes) -> frozenset[int]:
    return frozenset(np.frombuffer(blob, dtype=_BLOB).tolist())


def checked_shingles(blob: object, *, where: str) -> bytes:
    """``blob`` if it reads as a stored shingle set (8 bytes a shingle, strictly
    increasing); else :class:`IndexStoreError` naming ``where`` (the index and
    the document), so that a damaged row is never compared as if it were sound."""
    data = _checked_blob(blob, where=where, what="shingle set")
    values = np.frombuffer(data, dtype=_BLOB)
    if values.size > 1 and not bool(np.all(values[1:] > values[:-1])):
        raise IndexStoreError(f"{where} has a damaged shingle set (not sorted): {_REBUILD}")
    return data


def checked_ints(blob: object, *, where: str, what: str) -> list[int]:
    """The 64-bit integers of a stored ``what`` blob (band keys, paragraph
    hashes); :class:`IndexStoreError` naming ``where`` if it is damaged."""
    return blob_ints(_checked_blob(blob, where=where, what=what))


_REBUILD = "remove that document or rebuild the index"


def _checked_blob(blob: object, *, where: str, what: str) -> bytes:
    if not isinstance(blob, bytes):
        damage = f"a {type(blob).__name__}, not a blob"
    elif len(blob) % 8:
        damage = f"{len(blob)} bytes, not a multiple of 8"
    else:
        return blob
    raise IndexStoreError(f"{where} has a damaged {what} ({damage}): {_REBUILD}")


def checked_name(name: str, *, what: str) -> str:
    """``name`` (a document id, a site) if every store can hold it as UTF-8;
    else :class:`InputError`: a lone surrogate has no UTF-8 form."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"the {what} {name!r} is not valid Unicode (a lone surrogate at position "
            f"{exc.start}) and cannot be stored"
        ) from None
    return name


def int_blob(values: Sequence[int]) -> bytes:
    """Signed 64-bit integers as a little-endian blob."""
    return np.asarray(values, dtype=_INT64).tobytes()


def blob_ints(blob: bytes) -> list[int]:
    return np.frombuffer(blob, dtype=_INT64).tolist()  # type: ignore[no-any-return]


def paragraph_hash(key: str) -> int:
    """:func:`dedupe.core.keys.key_hash` of a paragraph key, signed for the store."""
    value = key_hash(key)
    return value - (1 << 64) if value >= 1 << 63 else value


class Encoder:
    """Turns texts into probes and entries for one set of :class:`IndexParams`."""

    def __init__(self, params: IndexParams) -> None:
        self.params = params
        self.bands: BandChoice = choose_bands(
            params.threshold, params.num_perm, max_miss=params.max_miss
        )
        self._shingling = ShingleOptions(size=params.ngram)
        self._signing = SignatureOptions(num_perm=params.num_perm, seed=params.seed)

    def probe(self, text: str) -> Probe:
        shingles = shingle_set(normalize(text), self._shingling)
        if not shingles:
            return Probe(shingles, ())
        signature = sign_hashes([as_array(shingles)], self._signing)
        return Probe(shingles, to_signed(band_keys(signature, self.bands)[0]))

    def entry(self, doc_id: str, text: str, *, site: str | None) -> tuple[Probe, Entry]:
        checked_name(doc_id, what="document id")
        if site is not None:
            checked_name(site, what="site")
        probe = self.probe(text)
        paragraphs: tuple[int, ...] = ()
        if site is not None:
            keys = {paragraph_key(p.text) for p in split_paragraphs(text)}
            paragraphs = tuple(sorted({paragraph_hash(k) for k in keys if k}))
        entry = Entry(
            doc_id=doc_id,
            shingles=shingle_blob(probe.shingles),
            bands=probe.bands,
            site=site,
            paragraphs=paragraphs,
        )
        return probe, entry

    def verifier(self, probe: Probe) -> Verifier:
        """The best candidate by exact Jaccard at or above the threshold; the
        earliest added wins a tie."""
        threshold = self.params.threshold

        def verify(candidates: Iterable[tuple[str, bytes]]) -> IndexMatch | None:
            best: IndexMatch | None = None
            for doc_id, blob in candidates:
                similarity = jaccard(probe.shingles, blob_shingles(blob))
                if similarity >= threshold and (best is None or similarity > best.similarity):
                    best = IndexMatch(doc_id, similarity)
            return best

        return verify
