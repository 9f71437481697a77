"""Shingles: the overlapping n-grams of a comparison key, hashed to 64 bits.

Word n-grams for space-separated scripts; in scripts written without spaces
(CJK, Thai ...) every character is a token, so the same n-grams are character
n-grams there. A key with fewer tokens than the n-gram size is shingled by
character n-grams instead, so short lines still get a set that changes little
with a one-letter edit.

A shingle is the UTF-8 encoding of its tokens joined by one space (character
shingles: the characters as they are), hashed with XXH3-64, seed 0. The hash
is the same on every machine and in every process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

from dedupe.errors import OptionsError
from dedupe.normalize import tokens

DEFAULT_SIZE = 3
DEFAULT_CHAR_SIZE = 4


@dataclass(frozen=True, slots=True)
class ShingleOptions:
    """``size``: tokens per shingle; ``char_size``: characters per shingle for
    keys shorter than ``size`` tokens."""

    size: int = DEFAULT_SIZE
    char_size: int = DEFAULT_CHAR_SIZE

    def __post_init__(self) -> None:
        if self.size < 1:
            raise OptionsError(f"shingle size must be at least 1, not {self.size}")
        if self.char_size < 1:
            raise OptionsError(f"character shingle size must be at least 1, not {self.char_size}")


def shingle_strings(key: str, options: ShingleOptions = ShingleOptions()) -> list[str]:
    """The shingles of a comparison key, in order, repeats included."""
    toks = tokens(key)
    size = options.size
    if len(toks) >= size:
        return [" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1)]
    if not key:
        return []
    n = options.char_size
    if len(key) <= n:
        return [key]
    return [key[i : i + n] for i in range(len(key) - n + 1)]


def hash_shingles(shingles: Iterable[str]) -> frozenset[int]:
    """The set of 64-bit shingle hashes."""
    return frozenset(xxh3_64_intdigest(s.encode("utf-8")) for s in shingles)


def shingle_set(key: str, options: ShingleOptions = ShingleOptions()) -> frozenset[int]:
    """The hashed shingle set of a comparison key (empty for an empty key)."""
    return hash_shingles(shingle_strings(key, options))


def as_array(shingles: frozenset[int]) -> npt.NDArray[np.uint64]:
    """A shingle set as a sorted uint64 array, for the vectorised stages."""
    return np.sort(np.fromiter(shingles, dtype=np.uint64, count=len(shingles)))
