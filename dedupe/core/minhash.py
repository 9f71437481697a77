"""MinHash signatures: the only module that knows the hashing scheme.

The scheme is datasketch's ``affine32`` (datasketch >= 2.0), bit for bit:

* a shingle's 32-bit input hash is the low 32 bits of its 64-bit shingle
  hash (a polynomial over its code points with the MurmurHash3 64-bit
  finalizer, see :mod:`dedupe.core.shingles`);
* it is pre-mixed once with the MurmurHash3 32-bit finalizer;
* permutation ``k`` maps it to ``a_k * h + b_k mod 2**32`` (``a_k`` odd), with
  ``a``/``b`` drawn from ``numpy.random.RandomState(seed)`` exactly as
  datasketch draws them (default seed 1);
* a signature row is the minimum over the shingles, as ``uint32``; an empty set
  gives ``2**32 - 1`` everywhere.

So a signature row equals ``datasketch.MinHash(num_perm, seed=seed,
scheme="affine32", hashfunc=dedupe.core.minhash.datasketch_hashfunc)`` updated
with the UTF-8 bytes of the same shingles, and :func:`to_lean_minhash` hands it
to datasketch's LSH structures. datasketch itself is imported only there (it
is slow to import).

:func:`signatures` hashes whole batches: with the ``fast`` extra (numba)
installed, a batch of at least a million characters, or any batch once
numba is loaded, goes through one compiled pass from code points to
signature (:mod:`dedupe.core._minhash_numba`, about 10 ms a megabyte; loading it
takes about 0.6 s a process, compiling it once per installation several
seconds); otherwise through numpy array operations
(:func:`dedupe.core.shingles.key_shingle_hashes`, about ten times slower). Both
give the same rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from dedupe.core.shingles import Hashes, KeyShingles, ShingleOptions
from dedupe.errors import OptionsError
from dedupe.params import DOCUMENT_NGRAM, NUM_PERM, SEED, SIGNATURE_BATCH_CHARS

EMPTY = np.uint32(0xFFFFFFFF)
# Code points: uint8 for ASCII text, uint32 otherwise.
Points = npt.NDArray[np.uint8] | npt.NDArray[np.uint32]
_NO_SHINGLES = np.empty(0, dtype=np.uint64)
# Shingles per numpy chunk: the (shingles, num_perm) product stays in cache.
_CHUNK_ROWS = 1 << 12
# Below this many characters in a batch, numpy is fast enough and loading
# numba (about 0.6 s) is not worth it unless it is loaded already.
_COMPILED_MIN_CHARS = 1 << 20

Signatures = npt.NDArray[np.uint32]


@dataclass(frozen=True, slots=True)
class SignatureOptions:
    """``num_perm``: permutations (signature length); ``seed``: permutation seed."""

    num_perm: int = NUM_PERM
    seed: int = SEED

    def __post_init__(self) -> None:
        if not 1 <= self.num_perm <= 4096:
            raise OptionsError(f"num_perm must be between 1 and 4096, not {self.num_perm}")


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[Signatures, Signatures]:
    """The ``(a, b)`` parameters of the affine permutations, as datasketch draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = False
    b.flags.writeable = False
    return a, b


def _fmix32(h: Signatures) -> Signatures:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    mixed: Signatures = h ^ (h >> np.uint32(16))
    return mixed


def datasketch_hashfunc(data: bytes) -> int:
    """The 32-bit input hash of a UTF-8 encoded shingle, as a ``hashfunc`` for
    ``datasketch.MinHash`` (a lone surrogate encoded with ``"surrogatepass"``)."""
    from dedupe.core.shingles import hash_array

    return int(hash_array([data.decode("utf-8", "surrogatepass")])[0]) & 0xFFFFFFFF


def _sign(shingles: KeyShingles, rows: int, options: SignatureOptions) -> Signatures:
    """Signatures of ``rows`` sets given as shingle hashes with their owners
    (sorted by owner); a row that owns nothing is empty."""
    a, b = permutations(options.num_perm, options.seed)
    out = np.full((rows, options.num_perm), EMPTY, dtype=np.uint32)
    mixed = _fmix32(shingles.hashes.astype(np.uint32))
    owners = shingles.owners
    for start in range(0, len(mixed), _CHUNK_ROWS):
        chunk = mixed[start : start + _CHUNK_ROWS]
        chunk_owners = owners[start : start + _CHUNK_ROWS]
        # Permutations by shingles, so each set's minimum runs along contiguous
        # memory (several times faster than reducing down the columns).
        permuted = a[:, None] * chunk[None, :]
        permuted += b[:, None]
        firsts = np.flatnonzero(np.diff(chunk_owners, prepend=-1))
        mins = np.minimum.reduceat(permuted, firsts, axis=1).T
        # A set cut by the chunk border keeps the smaller of its two partial minimums.
        target = chunk_owners[firsts]
        out[target] = np.minimum(out[target], mins)
    return out


def sign_hashes(
    sets: Sequence[Hashes], options: SignatureOptions = SignatureOptions()
) -> Signatures:
    """Signatures of shingle-hash arrays: one ``uint32`` row of ``num_perm`` per set."""
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    hashes = np.concatenate([np.empty(0, dtype=np.uint64), *sets]).astype(np.uint64)
    owners = np.repeat(np.arange(len(sets), dtype=np.int64), sizes)
    return _sign(KeyShingles(hashes=hashes, owners=owners), len(sets), options)


def signatures(
    texts: Iterable[str],
    *,
    num_perm: int = NUM_PERM,
    ngram: int = DOCUMENT_NGRAM,
    seed: int = SEED,
    workers: int = 1,
) -> Signatures:
    """MinHash signatures of whole texts: an ``(n, num_perm)`` ``uint32`` array.

    Each text is normalised (:func:`dedupe.core.normalize.normalize`) and shingled
    into ``ngram``-token shingles (:mod:`dedupe.core.shingles`), so row ``i``
    equals the signature of ``shingle_set(normalize(texts[i]), ...)``.
    ``workers`` > 1 shares batches of about two million characters between
    this process and ``workers - 1`` others (forked where the platform
    allows, so the texts are not copied); the result is the same for any
    number of workers.
    """
    if workers < 1:
        raise OptionsError(f"workers must be at least 1, not {workers}")
    shingling = ShingleOptions(size=ngram)
    options = SignatureOptions(num_perm=num_perm, seed=seed)
    sign = partial(_sign_texts, shingling=shingling, options=options)
    if workers == 1:
        parts = [sign(batch) for batch in char_batches(texts)]
    else:
        compiled = _compiled()
        if compiled is not None:
            # Loaded and compiled before the workers start, so none of them does it again.
            _sign_compiled(compiled, ["warm up", "wärm up"], shingling, options)
        return _sign_in_processes(list(texts), sign, workers, num_perm)
    return np.concatenate([np.empty((0, num_perm), dtype=np.uint32), *parts])


def _sign_in_processes(
    texts: list[str], sign: Callable[[list[str]], Signatures], workers: int, num_perm: int
) -> Signatures:
    """The rows of all texts, signed by this process and ``workers - 1`` others."""
    # Imported here: they cost tens of milliseconds that a single process never needs.
    import mmap
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = pool.map(sign, _pool_batches(texts, workers))
            return np.concatenate([np.empty((0, num_perm), dtype=np.uint32), *parts])
    # Forked workers inherit the texts (nothing is pickled), cut the same
    # batches, take the next unclaimed one until none is left, and write its
    # rows into shared memory; with no queues there are no helper threads to
    # hold up this process.
    context = multiprocessing.get_context("fork")
    shared = mmap.mmap(-1, max(len(texts) * num_perm * 4, 1))
    out: Signatures = np.frombuffer(shared, dtype=np.uint32, count=len(texts) * num_perm)
    out = out.reshape(len(texts), num_perm)
    claimed = context.Value("q", 0)
    work = partial(_sign_claimed, texts, workers, sign, out, claimed)
    processes = [context.Process(target=work, daemon=True) for _ in range(workers - 1)]
    for process in processes:
        process.start()
    try:
        work()
    except BaseException:
        for process in processes:
            process.terminate()
        raise
    finally:
        for process in processes:
            process.join()
    if any(process.exitcode for process in processes):
        # Redone here, so that the caller sees the error one process would raise.
        parts = map(sign, _pool_batches(texts, workers))
        return np.concatenate([np.empty((0, num_perm), dtype=np.uint32), *parts])
    detached: Signatures = out.copy()
    return detached


def _sign_claimed(
    texts: list[str],
    workers: int,
    sign: Callable[[list[str]], Signatures],
    out: Signatures,
    claimed: Any,
) -> None:
    batches = _pool_batches(texts, workers)
    starts = np.zeros(len(batches) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in batches], out=starts[1:])
    while True:
        with claimed.get_lock():
            index = int(claimed.value)
            claimed.value = index + 1
        if index >= len(batches):
            return
        out[starts[index] : starts[index + 1]] = sign(batches[index])


def _pool_batches(texts: list[str], workers: int) -> list[list[str]]:
    batches = list(char_batches(texts))
    # The last batches cut finer, so that the processes finish nearly together.
    tail = max(len(batches) - 2 * workers, 0)
    finer = [part for b in batches[tail:] for part in char_batches(b, SIGNATURE_BATCH_CHARS // 4)]
    return batches[:tail] + finer


def char_batches(texts: Iterable[str], size: int | None = None) -> Iterator[list[str]]:
    """Consecutive texts in lists of at least ``size`` characters (default
    ``SIGNATURE_BATCH_CHARS``), the last one excepted; ``texts`` is read as it goes."""
    limit = SIGNATURE_BATCH_CHARS if size is None else size
    batch: list[str] = []
    chars = 0
    for text in texts:
        batch.append(text)
        chars += len(text)
        if chars >= limit:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _sign_texts(
    texts: list[str], *, shingling: ShingleOptions, options: SignatureOptions
) -> Signatures:
    from dedupe.core.normalize import normalize
    from dedupe.core.shingles import key_shingle_hashes

    large = sum(len(t) for t in texts) >= _COMPILED_MIN_CHARS
    compiled = _compiled() if large or "dedupe.core._minhash_numba" in sys.modules else None
    if compiled is not None:
        return _sign_compiled(compiled, texts, shingling, options)
    keys = [normalize(t) for t in texts]
    return _sign(key_shingle_hashes(keys, shingling), len(keys), options)


def _point_groups(
    texts: Sequence[str],
) -> Iterator[tuple[npt.NDArray[np.int64], Points, npt.NDArray[np.int64]]]:
    """The NFKC, case-folded code points of the texts, ASCII texts and the
    others apart: ``(rows, points, starts)``, text ``rows[k]`` being
    ``points[starts[k] : starts[k + 1]]``."""
    from dedupe.core.normalize import fold

    ascii = np.fromiter((t.isascii() for t in texts), dtype=bool, count=len(texts))
    for rows in (np.flatnonzero(ascii), np.flatnonzero(~ascii)):
        if not len(rows):
            continue
        points: Points
        if ascii[rows[0]]:
            # ASCII text is already NFKC, and case folds to lower case.
            parts = [texts[i] for i in rows.tolist()]
            points = np.frombuffer("".join(parts).encode("ascii").lower(), dtype=np.uint8)
        else:
            parts = [fold(texts[i]) for i in rows.tolist()]
            # surrogatepass: lone surrogates are code points too (see shingles).
            joined = "".join(parts).encode("utf-32-le", "surrogatepass")
            points = np.frombuffer(joined, dtype=np.uint32)
        starts = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=starts[1:])
        yield rows, points, starts


def _sign_compiled(
    compiled: ModuleType, texts: list[str], shingling: ShingleOptions, options: SignatureOptions
) -> Signatures:
    from dedupe.core.normalize import normalize
    from dedupe.core.shingles import key_shingle_hashes

    a, b = permutations(options.num_perm, options.seed)
    out = np.empty((len(texts), options.num_perm), dtype=np.uint32)
    counts = np.zeros(len(texts), dtype=np.int64)
    for rows, points, starts in _point_groups(texts):
        part = np.full((len(rows), options.num_perm), EMPTY, dtype=np.uint32)
        counts[rows] = compiled.sign_points(
            points, starts, compiled.kinds(points), shingling.size, a, b, part
        )
        out[rows] = part
    # Keys with too few tokens for one word shingle take character shingles.
    short = np.flatnonzero((counts > 0) & (counts < shingling.size))
    if len(short):
        keys = [normalize(texts[i]) for i in short.tolist()]
        out[short] = _sign(key_shingle_hashes(keys, shingling), len(keys), options)
    return out


def _distinct(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The distinct values, sorted (``np.unique``, without its per-call cost)."""
    ordered = np.sort(hashes)
    if len(ordered) < 2:
        return ordered
    fresh = np.empty(len(ordered), dtype=bool)
    fresh[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    return ordered[fresh]


def text_shingle_sets(
    texts: Sequence[str], shingling: ShingleOptions
) -> list[npt.NDArray[np.uint64]]:
    """The shingle set of each whole text as a sorted uint64 array: the
    hashes of ``shingle_strings(normalize(text))``, the sets the signatures
    are made from. Uses the compiled pass when it is loaded
    (:func:`use_compiled`)."""
    from dedupe.core.normalize import normalize
    from dedupe.core.shingles import key_shingle_hashes

    sets: list[npt.NDArray[np.uint64]] = [_NO_SHINGLES] * len(texts)
    rest = range(len(texts))
    compiled = _compiled() if "dedupe.core._minhash_numba" in sys.modules else None
    if compiled is not None:
        counts = np.zeros(len(texts), dtype=np.int64)
        for rows, points, starts in _point_groups(texts):
            hashes, counts[rows] = compiled.shingle_points(
                points, starts, compiled.kinds(points), shingling.size
            )
            ends = np.cumsum(np.maximum(counts[rows] - shingling.size + 1, 0))
            for row, part in zip(rows.tolist(), np.split(hashes, ends[:-1]), strict=True):
                sets[row] = _distinct(part)
        # Keys with too few tokens for one word shingle take character shingles.
        rest = np.flatnonzero((counts > 0) & (counts < shingling.size)).tolist()
    keys = [normalize(texts[i]) for i in rest]
    if keys:
        found = key_shingle_hashes(keys, shingling)
        by_owner = np.argsort(found.owners, kind="stable")
        bounds = np.cumsum(np.bincount(found.owners, minlength=len(keys)))[:-1]
        for row, part in zip(rest, np.split(found.hashes[by_owner], bounds), strict=True):
            sets[row] = _distinct(part)
    return sets


def use_compiled() -> bool:
    """Load the compiled signer now, if the ``fast`` extra is installed, so
    that every later call in this process uses it whatever its size (for a
    long-lived worker signing small batches). True if it is loaded."""
    return _compiled() is not None


@lru_cache(maxsize=1)
def _compiled() -> ModuleType | None:
    try:
        from dedupe.core import _minhash_numba
    except ImportError:
        return None
    return _minhash_numba


def jaccard_estimate(x: Signatures, y: Signatures) -> float:
    """The share of equal signature positions: an estimate of Jaccard similarity."""
    return float(np.count_nonzero(x == y)) / float(len(x))


def to_lean_minhash(signature: Signatures, *, seed: int = SEED) -> Any:
    """A ``datasketch.LeanMinHash`` holding ``signature`` (for datasketch's LSH classes)."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=np.asarray(signature), scheme="affine32")
