"""Candidate pairs from MinHash signatures by LSH banding.

The signature is cut into ``bands`` bands of ``rows`` rows; two items whose
rows agree in any band become a candidate pair. A pair with Jaccard
similarity ``s`` becomes a candidate with probability ``1 - (1 - s**rows)**bands``.

Bands are chosen for recall: the fewest candidates (most rows) such that a
pair exactly at the threshold is missed with probability at most
``max_miss``. Candidates only propose; the verify stage decides.

Buckets are joined by sorting band keys, never through a dict of lists, and
each member is paired with its bucket's first member and its ``window``
predecessors only, so a bucket with a million members yields a few million
pairs, not 10**12.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dedupe.core.minhash import Signatures
from dedupe.errors import OptionsError
from dedupe.params import BAND_WINDOW, CORPUS_MAX_MISS

_FNV_PRIME = np.uint64(0x100000001B3)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)

Pairs = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BandChoice:
    """A banding of the signature, with its error rates at ``threshold``.

    ``false_positive``/``false_negative``: the area under the candidate
    probability curve below the threshold / above it the area of the miss
    probability (datasketch's definition, comparable to its numbers).
    ``miss_at_threshold``: probability that a pair of similarity exactly
    ``threshold`` is not proposed.
    """

    bands: int
    rows: int
    threshold: float
    false_positive: float
    false_negative: float
    miss_at_threshold: float


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that a pair of Jaccard ``similarity`` shares at least one band."""
    return float(1.0 - (1.0 - similarity**rows) ** bands)


def _areas(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    s = np.linspace(0.0, 1.0, 2001)
    p = 1.0 - (1.0 - s**rows) ** bands
    below = s <= threshold
    fp = float(np.trapezoid(p[below], s[below])) if below.sum() > 1 else 0.0
    above = s >= threshold
    fn = float(np.trapezoid(1.0 - p[above], s[above])) if above.sum() > 1 else 0.0
    return fp, fn


@lru_cache(maxsize=64)
def choose_bands(
    threshold: float, num_perm: int, *, max_miss: float = CORPUS_MAX_MISS
) -> BandChoice:
    """The banding with the most rows per band whose miss rate at ``threshold``
    is at most ``max_miss`` (one row per band if none reaches it)."""
    if not 0.0 < threshold <= 1.0:
        raise OptionsError(f"threshold must be in (0, 1], not {threshold}")
    if not 0.0 < max_miss < 1.0:
        raise OptionsError(f"max_miss must be in (0, 1), not {max_miss}")
    best = (num_perm, 1)
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1.0 - candidate_probability(threshold, bands, rows) <= max_miss:
            best = (bands, rows)
            break
    bands, rows = best
    fp, fn = _areas(threshold, bands, rows)
    return BandChoice(
        bands=bands,
        rows=rows,
        threshold=threshold,
        false_positive=fp,
        false_negative=fn,
        miss_at_threshold=1.0 - candidate_probability(threshold, bands, rows),
    )


def band_keys(signatures: Signatures, choice: BandChoice) -> npt.NDArray[np.uint64]:
    """One 64-bit key per item and band (shape ``(n, bands)``): FNV-1a over the band's rows."""
    n = signatures.shape[0]
    rows = signatures[:, : choice.bands * choice.rows].reshape(n, choice.bands, choice.rows)
    keys = np.full((n, choice.bands), _FNV_OFFSET, dtype=np.uint64)
    # All bands at once, one row position at a time: a few array operations
    # whatever the number of items, so one signature (the index) is cheap too.
    for row in range(choice.rows):
        keys ^= rows[:, :, row].astype(np.uint64)
        keys *= _FNV_PRIME
    # Mixing the band number in keeps equal rows in different bands apart.
    keys ^= np.arange(choice.bands, dtype=np.uint64)
    return keys


def _bucket_pairs(keys: npt.NDArray[np.uint64], window: int) -> list[Pairs]:
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    n = len(ordered)
    if n < 2:
        return []
    out: list[Pairs] = []
    new_bucket = np.ones(n, dtype=bool)
    new_bucket[1:] = ordered[1:] != ordered[:-1]
    if new_bucket.all():
        return out
    first = np.maximum.accumulate(np.where(new_bucket, np.arange(n), 0))
    members = ~new_bucket
    out.append(np.stack([order[first[members]], order[members]], axis=1))
    for d in range(1, window + 1):
        same = ordered[d:] == ordered[:-d]
        if not same.any():
            break
        hi = np.flatnonzero(same) + d
        out.append(np.stack([order[hi - d], order[hi]], axis=1))
    return out


def star_pairs(keys: npt.NDArray[np.uint64]) -> Pairs:
    """Star edges of one band: ``(first, member)`` for every other member of
    every bucket of two or more, where ``first`` is the bucket's smallest
    position in ``keys``. At most ``len(keys) - 1`` pairs however large a
    bucket grows (a corpus of identical documents stays linear); pairs are
    not deduplicated and may repeat across bands."""
    parts = _bucket_pairs(keys, 0)
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    return np.concatenate(parts).astype(np.int64)


def candidate_pairs(
    signatures: Signatures, choice: BandChoice, *, window: int = BAND_WINDOW
) -> Pairs:
    """Unique candidate pairs ``(i, j)``, ``i < j``, sorted, as an ``(m, 2)`` array."""
    keys = band_keys(signatures, choice)
    parts: list[Pairs] = []
    for band in range(choice.bands):
        parts.extend(_bucket_pairs(keys[:, band], window))
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(parts).astype(np.int64)
    pairs.sort(axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0)


def all_pairs(n: int) -> Pairs:
    """Every pair ``(i, j)``, ``i < j``, of ``n`` items: the exact path for small inputs."""
    i, j = np.triu_indices(n, k=1)
    return np.stack([i, j], axis=1).astype(np.int64)
