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
    ``COVERED``: at least ``threshold`` of its shingles lie in several kept texts
    together (paragraphs merged into one, a blob holding the body).
    ``BOILERPLATE``: a paragraph a near-duplicate index has learned recurs on its
    site (no twin in the text; the similarity is the share of the site's
    documents that hold it).
    """

    EXACT = "exact"
    NEAR = "near"
    CONTAINED = "contained"
    COVERED = "covered"
    BOILERPLATE = "boilerplate"


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


def cover(a: frozenset[int], parts: Sequence[frozenset[int]], *, min_gain: float = 0.1) -> float:
    """The share of ``a`` found in the union of ``parts``; 0.0 unless every part
    adds at least ``min_gain`` of ``a`` that the parts before it did not."""
    if not a:
        return 0.0
    left = set(a)
    for part in parts:
        before = len(left)
        left.difference_update(part)
        if before - len(left) < min_gain * len(a):
            return 0.0
    return (len(a) - len(left)) / len(a)


def ratio(a: str, b: str) -> float:
    """Normalised Indel similarity of two keys, in [0, 1] (rapidfuzz ``fuzz.ratio``)."""
    return float(fuzz.ratio(a, b)) / 100.0
