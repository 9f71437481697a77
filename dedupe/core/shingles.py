"""Shingles: the overlapping n-grams of a comparison key, hashed to 64 bits.

Word n-grams for space-separated scripts; in scripts written without spaces
(CJK, Thai ...) every character is a token, so the same n-grams are character
n-grams there. A key with fewer tokens than the n-gram size is shingled by
character n-grams instead, so short lines still get a set that changes little
with a one-letter edit.

A shingle is its tokens joined by one space (character shingles: the
characters as they are). Its 64-bit hash is a polynomial over its Unicode
code points ``c_0 .. c_(L-1)``, finished with the MurmurHash3 64-bit
finalizer::

    poly = sum(c_i * P**i for i in range(L))      mod 2**64
    hash = fmix64((poly + L * K) mod 2**64)

with ``P = 0x9E3779B97F4A7C15`` and ``K = 0xC2B2AE3D27D4EB4F``. It is the same
on every machine and in every process, and because ``poly(x + y) = poly(x) +
P**len(x) * poly(y)``, the hash of a word shingle is computed from the hashes
of its tokens: :func:`key_shingle_hashes` hashes whole batches of keys with
array operations, never building a shingle string. The length term keeps
strings that differ only by trailing NUL characters apart. Any Python string
is accepted: a lone surrogate (``"\\ud800"`` from a JSON escape) is hashed as
its code point like every other character.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dedupe.core.normalize import UNSPACED_RANGES, tokens
from dedupe.errors import OptionsError
from dedupe.params import CHAR_SHINGLE_SIZE, SHINGLE_SIZE

Hashes = npt.NDArray[np.uint64]

# P and K of the hash formula (module docstring).
HASH_BASE = np.uint64(0x9E3779B97F4A7C15)
HASH_LENGTH_FACTOR = np.uint64(0xC2B2AE3D27D4EB4F)
_SPACE = 0x20
# Code points at or above this are neither a space nor in an unspaced script.
_CLASS_LIMIT = max(hi for _, hi in UNSPACED_RANGES) + 1
_WORD, _GAP, _CHAR = 0, 1, 2


@dataclass(frozen=True, slots=True)
class ShingleOptions:
    """``size``: tokens per shingle; ``char_size``: characters per shingle for
    keys shorter than ``size`` tokens."""

    size: int = SHINGLE_SIZE
    char_size: int = CHAR_SHINGLE_SIZE

    def __post_init__(self) -> None:
        if self.size < 1:
            raise OptionsError(f"shingle size must be at least 1, not {self.size}")
        if self.char_size < 1:
            raise OptionsError(f"character shingle size must be at least 1, not {self.char_size}")


@dataclass(frozen=True, slots=True)
class KeyShingles:
    """The shingle hashes of a batch of keys: ``hashes[i]`` belongs to key
    ``owners[i]`` (an index into the batch). Repeats are kept; keys with no
    shingles (empty keys) own nothing."""

    hashes: Hashes
    owners: npt.NDArray[np.int64]


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


def hash_array(strings: Sequence[str]) -> Hashes:
    """The 64-bit hash of each string, in order (see the module docstring)."""
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    points = _code_points("".join(strings))
    starts = np.zeros(len(strings), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return _finish(_segment_polys(points, starts, lengths), lengths)


def hash_shingles(shingles: Iterable[str]) -> frozenset[int]:
    """The set of 64-bit shingle hashes."""
    return frozenset(hash_array(list(shingles)).tolist())


def shingle_set(key: str, options: ShingleOptions = ShingleOptions()) -> frozenset[int]:
    """The hashed shingle set of a comparison key (empty for an empty key)."""
    return hash_shingles(shingle_strings(key, options))


def as_array(shingles: frozenset[int]) -> Hashes:
    """A shingle set as a sorted uint64 array, for the vectorised stages."""
    return np.sort(np.fromiter(shingles, dtype=np.uint64, count=len(shingles)))


def key_shingle_hashes(
    keys: Sequence[str], options: ShingleOptions = ShingleOptions()
) -> KeyShingles:
    """The shingle hashes of many comparison keys at once.

    Key ``i`` owns exactly the hashes of ``shingle_strings(keys[i], options)``
    (as a multiset), computed with array operations over the whole batch.
    Memory is about 60 bytes per character of the batch.
    """
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    key_starts = np.zeros(len(keys), dtype=np.int64)
    np.cumsum(lengths[:-1], out=key_starts[1:])
    points = _code_points("".join(keys))
    cls = _classes()[np.minimum(points, _CLASS_LIMIT)]
    word = cls == _WORD
    # A token starts at every unspaced character and at a word character that
    # follows no word character of the same key.
    word_before = np.zeros(len(points), dtype=bool)
    word_before[1:] = word[:-1]
    word_before[key_starts[lengths > 0]] = False
    tok_starts = np.flatnonzero((cls == _CHAR) | (word & ~word_before))
    word_after = np.zeros(len(points), dtype=bool)
    word_after[:-1] = word[1:]
    word_after[(key_starts + lengths - 1)[lengths > 0]] = False
    tok_ends = np.flatnonzero((cls == _CHAR) | (word & ~word_after)) + 1
    tok_lengths = tok_ends - tok_starts
    tok_polys = _segment_polys(points, tok_starts, tok_lengths)
    tok_owners = np.searchsorted(key_starts, tok_starts, side="right") - 1
    tok_counts = np.bincount(tok_owners, minlength=len(keys))

    size = options.size
    count = max(len(tok_starts) - size + 1, 0)
    # A window of `size` tokens is a shingle when its first and last token share a key.
    first = np.flatnonzero(tok_owners[:count] == tok_owners[size - 1 : size - 1 + count])
    polys = tok_polys[first + size - 1]
    shingle_lengths = tok_lengths[first + size - 1].copy()
    powers = _powers(int(tok_lengths.max(initial=0)) + 2)
    for k in range(size - 2, -1, -1):
        # poly(t + " " + rest) = poly(t) + P**len(t) * (32 + P * poly(rest))
        polys = polys * HASH_BASE + np.uint64(_SPACE)
        left = tok_lengths[first + k]
        polys = tok_polys[first + k] + powers[left] * polys
        shingle_lengths += left + 1
    hashes = [_finish(polys, shingle_lengths)]
    owners = [tok_owners[first]]

    short = np.flatnonzero((tok_counts < size) & (lengths > 0))
    if len(short):
        char_hashes, char_owners = _char_shingles(
            points, key_starts[short], lengths[short], options.char_size
        )
        hashes.append(char_hashes)
        owners.append(short[char_owners])
        all_owners = np.concatenate(owners)
        order = np.argsort(all_owners, kind="stable")
        return KeyShingles(hashes=np.concatenate(hashes)[order], owners=all_owners[order])
    return KeyShingles(hashes=hashes[0], owners=owners[0])


def _char_shingles(
    points: npt.NDArray[np.uint64],
    starts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    size: int,
) -> tuple[Hashes, npt.NDArray[np.int64]]:
    """Hashes of the character ``size``-grams of the given keys (a key of at most
    ``size`` characters is one shingle), with the index of the key each belongs to."""
    widths = np.minimum(lengths, size)
    counts = lengths - widths + 1
    owners = np.repeat(np.arange(len(starts)), counts)
    first = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    shingle_starts = starts[owners] + np.arange(len(owners)) - first[owners]
    shingle_widths = widths[owners]
    return _finish(_segment_polys(points, shingle_starts, shingle_widths), shingle_widths), owners


def _segment_polys(
    points: npt.NDArray[np.uint64], starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
) -> Hashes:
    """``poly`` of each segment ``points[start : start + length]`` (lengths may be 0)."""
    width = int(lengths.max(initial=0))
    polys = np.zeros(len(starts), dtype=np.uint64)
    if width <= 8:
        # Short segments (character shingles): one pass per position is cheaper.
        powers = _powers(width)
        for i in range(width):
            inside = lengths > i
            polys[inside] += points[starts[inside] + i] * powers[i]
        return polys
    # Long segments: every character weighted by P**(offset in its segment),
    # then summed per segment.
    total = int(lengths.sum())
    seg = np.repeat(np.arange(len(starts)), lengths)
    seg_first = np.zeros(len(starts), dtype=np.int64)
    np.cumsum(lengths[:-1], out=seg_first[1:])
    offsets = np.arange(total) - seg_first[seg]
    terms = points[starts[seg] + offsets] * _powers(width)[offsets]
    nonempty = lengths > 0
    polys[nonempty] = np.add.reduceat(terms, seg_first[nonempty])
    return polys


def _finish(polys: Hashes, lengths: npt.NDArray[np.int64]) -> Hashes:
    h: Hashes = polys + lengths.astype(np.uint64) * HASH_LENGTH_FACTOR
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _code_points(text: str) -> npt.NDArray[np.uint64]:
    # surrogatepass: a lone surrogate (from a JSON escape) hashes as its code
    # point, like any other; valid text encodes exactly as with "strict".
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(
        np.uint64
    )


@lru_cache(maxsize=1)
def _classes() -> npt.NDArray[np.uint8]:
    """Token class of every code point below ``_CLASS_LIMIT``, and ``_WORD`` at the limit."""
    table = np.full(_CLASS_LIMIT + 1, _WORD, dtype=np.uint8)
    for lo, hi in UNSPACED_RANGES:
        table[lo : hi + 1] = _CHAR
    # Keys hold only plain spaces, but a caller's text may hold any whitespace.
    # The last Unicode whitespace character is U+3000.
    for point in range(0x3001):
        if chr(point).isspace():
            table[point] = _GAP
    return table


_POWER_CACHE: list[Hashes] = [np.ones(1, dtype=np.uint64)]


def _powers(n: int) -> Hashes:
    """``P**i mod 2**64`` for ``i`` in ``range(n)`` (at least)."""
    cached = _POWER_CACHE[0]
    if len(cached) < n:
        grown = np.full(max(n, 2 * len(cached)), HASH_BASE, dtype=np.uint64)
        grown[0] = 1
        cached = np.cumprod(grown, dtype=np.uint64)
        _POWER_CACHE[0] = cached
    return cached
