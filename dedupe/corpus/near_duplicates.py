"""Near-duplicate documents of a corpus: signatures per chunk, band keys
spilled to disk, star candidates per band, exact Jaccard verification.

Memory stays bounded by the corpus size in a few bytes per document: the
signature of a chunk lives only until its band keys are written, one file per
band under a temporary directory; candidates are made one band at a time
(about 50 bytes per document while a band is sorted); the shingle sets needed
for verification are recomputed for candidate documents only and kept on disk
too. The page cache keeps these files in RAM when it can.

Stage functions (:func:`sign_chunk`, :func:`shingle_chunk`,
:func:`verify_chunk`) are pure functions of one picklable task, so any
:class:`dedupe.corpus.executors.Executor` can run them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import (
    BandChoice,
    Pairs,
    band_keys,
    choose_bands,
    star_pairs,
)
from dedupe.core.minhash import EMPTY, char_batches, signatures, text_shingle_sets
from dedupe.core.shingles import ShingleOptions
from dedupe.errors import OptionsError
from dedupe.index.base import IndexParams
from dedupe.params import (
    CORPUS_MAX_MISS,
    DOCUMENT_NGRAM,
    NUM_PERM,
    SEED,
    SHINGLE_BATCH_CHARS,
    THRESHOLD,
)

if TYPE_CHECKING:  # the executors import this module
    from dedupe.corpus.executors import Executor

_SHINGLE_DTYPE = np.uint64


@dataclass(frozen=True, slots=True)
class NearDupOptions:
    """``threshold``: exact Jaccard similarity of shingle sets at which two
    documents are duplicates; ``ngram``: words per shingle; ``num_perm``/``seed``:
    MinHash signature; ``max_miss``: the chance a pair exactly at the threshold
    is never proposed, from which the bands are chosen."""

    threshold: float = THRESHOLD
    ngram: int = DOCUMENT_NGRAM
    num_perm: int = NUM_PERM
    seed: int = SEED
    max_miss: float = CORPUS_MAX_MISS

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise OptionsError(f"threshold must be in (0, 1], not {self.threshold}")
        ShingleOptions(size=self.ngram)

    def band_choice(self) -> BandChoice:
        return choose_bands(self.threshold, self.num_perm, max_miss=self.max_miss)

    def index_params(self) -> IndexParams:
        """The parameters of an index that answers as these options do:
        the same threshold, shingles and signatures. Its allowed miss rate is
        the index's own (:data:`dedupe.params.INDEX_MAX_MISS`), since it is
        stored in the index and decides its bands."""
        return IndexParams(
            threshold=self.threshold, num_perm=self.num_perm, ngram=self.ngram, seed=self.seed
        )


@dataclass(frozen=True, slots=True)
class SignTask:
    texts: tuple[str, ...]
    options: NearDupOptions
    choice: BandChoice


@dataclass(frozen=True, slots=True)
class ChunkBands:
    """Band keys ``(n, bands)`` of a chunk; ``signable[i]`` is False for a
    document with no shingles (never a duplicate of anything)."""

    keys: npt.NDArray[np.uint64]
    signable: npt.NDArray[np.bool_]


def sign_chunk(task: SignTask) -> ChunkBands:
    """Signatures of a chunk of texts, reduced to their band keys."""
    options = task.options
    sigs = signatures(task.texts, num_perm=options.num_perm, ngram=options.ngram, seed=options.seed)
    signable = ~np.all(sigs == EMPTY, axis=1)
    return ChunkBands(band_keys(sigs, task.choice), signable)


class BandStore:
    """Band keys of every document, one append-only file per band."""

    def __init__(self, directory: Path, bands: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._paths = [directory / f"band-{b:03d}.u64" for b in range(bands)]
        self._files = [p.open("wb") for p in self._paths]
        self._signable: list[npt.NDArray[np.bool_]] = []
        self.documents = 0

    def append(self, chunk: ChunkBands) -> None:
        for band, file in enumerate(self._files):
            file.write(np.ascontiguousarray(chunk.keys[:, band]).tobytes())
        self._signable.append(chunk.signable)
        self.documents += len(chunk.signable)

    def close(self) -> None:
        for file in self._files:
            file.close()

    @property
    def bands(self) -> int:
        return len(self._paths)

    def signable(self) -> npt.NDArray[np.int64]:
        """Numbers of the documents with at least one shingle, sorted."""
        signable = np.concatenate([np.empty(0, dtype=bool), *self._signable])
        return np.flatnonzero(signable).astype(np.int64)

    def band(self, band: int) -> npt.NDArray[np.uint64]:
        """The keys of every document in one band (read once the store is closed)."""
        return np.fromfile(self._paths[band], dtype=np.uint64)

    def candidates(self, executor: Executor | None = None) -> Pairs:
        """Unique candidate pairs ``(i, j)``, ``i < j``, sorted, over document
        numbers: star edges per bucket and band, so their number is at most
        ``bands * (documents - 1)`` whatever the buckets look like. Bands are
        made in ``executor`` (one task each) when one is given."""
        self.close()
        ids = self.signable()
        ids_path = self._paths[0].with_name("signable.i64")
        ids.tofile(ids_path)
        n = max(self.documents, 1)
        tasks = [BandTask(path, ids_path, n) for path in self._paths]
        parts = executor.map(band_pairs, tasks) if executor is not None else map(band_pairs, tasks)
        found = np.unique(np.concatenate([np.empty(0, np.int64), *parts]))
        return (
            np.stack([found // n, found % n], axis=1) if len(found) else np.empty((0, 2), np.int64)
        )


@dataclass(frozen=True, slots=True)
class BandTask:
    """One band of a closed :class:`BandStore`: its keys, the numbers of the
    signable documents, and how many documents there are."""

    band_path: Path
    ids_path: Path
    documents: int


def band_pairs(task: BandTask) -> npt.NDArray[np.int64]:
    """The star edges of one band's buckets, each pair ``(i, j)`` encoded as
    ``i * documents + j``, sorted and without repeats."""
    ids = np.fromfile(task.ids_path, dtype=np.int64)
    local = star_pairs(np.fromfile(task.band_path, dtype=np.uint64)[ids])
    if not len(local):
        return np.empty(0, np.int64)
    pairs = np.sort(ids[local], axis=1)
    # One int64 a pair, so that merging the bands is one np.unique.
    encoded: npt.NDArray[np.int64] = np.unique(pairs[:, 0] * task.documents + pairs[:, 1])
    return encoded


@dataclass(frozen=True, slots=True)
class ShingleTask:
    texts: tuple[str, ...]
    ngram: int


@dataclass(frozen=True, slots=True)
class ChunkShingles:
    """Sorted shingle hashes of each text, concatenated; ``sizes[i]`` per text."""

    hashes: npt.NDArray[np.uint64]
    sizes: npt.NDArray[np.int64]


def _shingle_batch(texts: list[str], ngram: int) -> ChunkShingles:
    sets = text_shingle_sets(texts, ShingleOptions(size=ngram))
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    return ChunkShingles(np.concatenate([np.empty(0, _SHINGLE_DTYPE), *sets]), sizes)


def shingle_chunk(task: ShingleTask) -> ChunkShingles:
    """The shingle set of each whole text, as :func:`dedupe.core.minhash.signatures`
    sees it (``shingle_set(normalize(text))``), hashed a batch of texts at
    once (batches of about a million characters bound the memory)."""
    parts = [
        _shingle_batch(batch, task.ngram) for batch in char_batches(task.texts, SHINGLE_BATCH_CHARS)
    ] or [_shingle_batch([], task.ngram)]
    return ChunkShingles(
        np.concatenate([p.hashes for p in parts]), np.concatenate([p.sizes for p in parts])
    )


def document_shingles(text: str, ngram: int) -> npt.NDArray[np.uint64]:
    """The sorted shingle set of a whole document, as the verification stage sees it."""
    return shingle_chunk(ShingleTask((text,), ngram)).hashes


class ShingleStore:
    """Shingle sets of the candidate documents, in document order, on disk.

    ``rows`` maps a document number to its row (``searchsorted`` over the
    sorted candidate numbers).
    """

    def __init__(self, directory: Path, documents: npt.NDArray[np.int64]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.documents = documents
        self.hashes_path = directory / "shingles.u64"
        self.offsets_path = directory / "offsets.i64"
        self._file = self.hashes_path.open("wb")
        self._sizes: list[npt.NDArray[np.int64]] = []

    def append(self, chunk: ChunkShingles) -> None:
        self._file.write(chunk.hashes.tobytes())
        self._sizes.append(chunk.sizes)

    def close(self) -> None:
        self._file.close()
        sizes = np.concatenate([np.empty(0, np.int64), *self._sizes])
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        offsets.tofile(self.offsets_path)

    def rows(self, docs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.searchsorted(self.documents, docs)


@dataclass(frozen=True, slots=True)
class VerifyTask:
    """Pairs of rows of a :class:`ShingleStore` whose Jaccard similarity is wanted."""

    hashes_path: Path
    offsets_path: Path
    rows: Pairs


@lru_cache(maxsize=4)
def _open_store(
    hashes_path: Path, offsets_path: Path
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    offsets = np.fromfile(offsets_path, dtype=np.int64)
    if offsets[-1] == 0:
        return np.empty(0, dtype=np.uint64), offsets
    return np.memmap(hashes_path, dtype=np.uint64, mode="r"), offsets


def sorted_jaccard(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> float:
    """Jaccard similarity of two sorted sets given as arrays (0.0 when both are
    empty), equal to :func:`dedupe.core.verify.jaccard` on the same sets."""
    if not len(a) and not len(b):
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return 0.0
    at = np.searchsorted(b, a)
    at[at == len(b)] = len(b) - 1
    inter = int(np.count_nonzero(b[at] == a))
    return inter / (len(a) + len(b) - inter)


def verify_chunk(task: VerifyTask) -> npt.NDArray[np.float64]:
    """Exact Jaccard similarity of each pair of store rows."""
    hashes, offsets = _open_store(task.hashes_path, task.offsets_path)
    out = np.empty(len(task.rows), dtype=np.float64)
    for k, (i, j) in enumerate(task.rows.tolist()):
        a = np.asarray(hashes[offsets[i] : offsets[i + 1]])
        b = np.asarray(hashes[offsets[j] : offsets[j + 1]])
        out[k] = sorted_jaccard(a, b)
    return out
