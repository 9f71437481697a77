"""Exact measures that decide whether a candidate is a duplicate.

LSH only proposes pairs; every removal is decided by one of these, computed
on the full shingle sets or keys, never on signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from rapidfuzz import fuzz


class Method(str, Enum):
    """How a removed text matched what was kept.

    ``EXACT``: equal comparison keys (after normalisation).
    ``NEAR``: Jaccard similarity of shingle sets (or, for short segments, the
    rapidfuzz Indel ratio of the keys) at or above the threshold.
    ``CONTAINED``: at least ``threshold`` of its shingles lie in one longer kept text.
    ``COVERED``: at least ``threshold`` of its shingles lie in two or three kept texts
    together (two paragraphs merged into one).
    """

    EXACT = "exact"
    NEAR = "near"
    CONTAINED = "contained"
    COVERED = "covered"


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """|a & b| / |a | b|; 0.0 when both are empty."""
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def containment(a: frozenset[int], b: frozenset[int]) -> float:
    """|a & b| / |a|: the share of ``a`` that lies in ``b`` (0.0 for empty ``a``)."""
    if not a:
        return 0.0
    return len(a & b) / len(a)


def cover(
    a: frozenset[int],
    candidates: Sequence[tuple[int, frozenset[int]]],
    *,
    max_parts: int = 3,
    min_gain: float = 0.1,
) -> tuple[tuple[int, ...], float]:
    """Greedily cover ``a`` with at most ``max_parts`` candidate sets.

    Each part must add at least ``min_gain`` of ``a``. Returns the ids of the
    parts in the order taken and the share of ``a`` they cover together. Ties
    go to the candidate listed first.
    """
    if not a:
        return (), 0.0
    sets = dict(candidates)
    left = set(a)
    taken: list[int] = []
    for _ in range(max_parts):
        best_id, best_gain = -1, 0
        for cid, cset in candidates:
            if cid in taken:
                continue
            gain = len(left.intersection(cset))
            if gain > best_gain:
                best_id, best_gain = cid, gain
        if best_id < 0 or best_gain < min_gain * len(a):
            break
        taken.append(best_id)
        left.difference_update(sets[best_id])
    return tuple(taken), 1.0 - len(left) / len(a)


def ratio(a: str, b: str) -> float:
    """Normalised Indel similarity of two keys, in [0, 1] (rapidfuzz ``fuzz.ratio``)."""
    return float(fuzz.ratio(a, b)) / 100.0


def segment_containment(short: str, long: str) -> float:
    """How wholly the key ``short`` lies inside the key ``long``, in [0, 1].

    1.0 when it appears there as whole words; otherwise, for keys of three
    words or more, the best partial alignment (rapidfuzz ``partial_ratio``);
    0.0 for shorter keys, which must appear exactly.
    """
    if not short or len(short) > len(long):
        return 0.0
    if f" {short} " in f" {long} ":
        return 1.0
    if short.count(" ") < 2:
        return 0.0
    return float(fuzz.partial_ratio(short, long)) / 100.0
