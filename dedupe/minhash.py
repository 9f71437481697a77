"""MinHash signatures: the only module that knows the hashing scheme.

The scheme is datasketch's ``affine32`` (datasketch >= 2.0), bit for bit:

* a shingle's 32-bit input hash is the low 32 bits of its XXH3-64 hash
  (see :mod:`dedupe.shingles`);
* it is pre-mixed once with the MurmurHash3 32-bit finalizer;
* permutation ``k`` maps it to ``a_k * h + b_k mod 2**32`` (``a_k`` odd), with
  ``a``/``b`` drawn from ``numpy.random.RandomState(seed)`` exactly as
  datasketch draws them;
* a signature row is the minimum over the shingles, as ``uint32``; an empty set
  gives ``2**32 - 1`` everywhere.

So a signature row equals ``datasketch.MinHash(num_perm, seed=seed,
scheme="affine32", hashfunc=dedupe.minhash.datasketch_hashfunc)`` updated
with the same shingles, and :func:`to_lean_minhash` hands it to datasketch's
LSH structures. datasketch itself is imported only there (it is slow to import).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

from dedupe.errors import OptionsError

DEFAULT_NUM_PERM = 128
DEFAULT_SEED = 1
EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK_ROWS = 1 << 15

Signatures = npt.NDArray[np.uint32]


@dataclass(frozen=True, slots=True)
class SignatureOptions:
    """``num_perm``: permutations (signature length); ``seed``: permutation seed."""

    num_perm: int = DEFAULT_NUM_PERM
    seed: int = DEFAULT_SEED

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
    """The 32-bit input hash, as a ``hashfunc`` for ``datasketch.MinHash``."""
    return xxh3_64_intdigest(data) & 0xFFFFFFFF


def sign_hashes(
    sets: Sequence[npt.NDArray[np.uint64]], options: SignatureOptions = SignatureOptions()
) -> Signatures:
    """Signatures of shingle-hash arrays: one ``uint32`` row of ``num_perm`` per set."""
    a, b = permutations(options.num_perm, options.seed)
    out = np.full((len(sets), options.num_perm), EMPTY, dtype=np.uint32)
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    rows = np.flatnonzero(sizes)
    start = 0
    while start < len(rows):
        # Take whole sets until the chunk holds about _CHUNK_ROWS shingles.
        stop = start + 1
        total = int(sizes[rows[start]])
        while stop < len(rows) and total + int(sizes[rows[stop]]) <= _CHUNK_ROWS:
            total += int(sizes[rows[stop]])
            stop += 1
        chunk = rows[start:stop]
        hashes = np.concatenate([sets[i] for i in chunk]).astype(np.uint32)
        mixed = _fmix32(hashes)
        permuted = mixed[:, None] * a[None, :] + b[None, :]
        offsets = np.zeros(len(chunk), dtype=np.int64)
        np.cumsum(sizes[chunk][:-1], out=offsets[1:])
        out[chunk] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = stop
    return out


def signatures(
    texts: Iterable[str],
    *,
    num_perm: int = DEFAULT_NUM_PERM,
    ngram: int = 5,
    seed: int = DEFAULT_SEED,
) -> Signatures:
    """MinHash signatures of whole texts: an ``(n, num_perm)`` ``uint32`` array.

    Each text is normalised (:func:`dedupe.normalize.normalize`) and shingled
    into ``ngram``-token shingles (:mod:`dedupe.shingles`), so row ``i``
    equals the signature of ``shingle_set(normalize(texts[i]), ...)``.
    """
    from dedupe.normalize import normalize
    from dedupe.shingles import ShingleOptions, as_array, shingle_set

    options = SignatureOptions(num_perm=num_perm, seed=seed)
    shingling = ShingleOptions(size=ngram)
    sets = [as_array(shingle_set(normalize(t), shingling)) for t in texts]
    return sign_hashes(sets, options)


def jaccard_estimate(x: Signatures, y: Signatures) -> float:
    """The share of equal signature positions: an estimate of Jaccard similarity."""
    return float(np.count_nonzero(x == y)) / float(len(x))


def to_lean_minhash(signature: Signatures, *, seed: int = DEFAULT_SEED) -> Any:
    """A ``datasketch.LeanMinHash`` holding ``signature`` (for datasketch's LSH classes)."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=np.asarray(signature), scheme="affine32")
