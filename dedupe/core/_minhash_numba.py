"""Signatures straight from code points in one compiled pass (numba), for
the ``fast`` extra.

:mod:`dedupe.core.minhash` imports this module only for large batches (or
long-lived workers). From the NFKC, case-folded text
(:func:`dedupe.core.normalize.fold`) it does the rest of
:func:`dedupe.core.normalize.normalize` (URLs made one token, punctuation to a
space, format characters dropped, whitespace collapsed), cuts tokens as
:func:`dedupe.core.normalize.tokens` does, hashes word shingles as
:mod:`dedupe.core.shingles` does and keeps the MinHash minimums
(:func:`sign_points`) or the shingle hashes themselves
(:func:`shingle_points`, for exact verification), without building a
string. Texts whose keys have fewer tokens than the n-gram size are left to
the caller (they take character shingles). The tests hold this module to
the plain path.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from dedupe.core.normalize import UNSPACED_RANGES
from dedupe.core.shingles import HASH_BASE, HASH_LENGTH_FACTOR

# Character kinds, in normalize()'s order of precedence: punctuation and
# format characters are handled before whitespace and scripts.
WORD = 0  # part of a word token
SPACE = 1  # str.isspace(): ends a token and bounds a URL
PUNCT = 2  # Unicode category P*: a space, or nothing inside a URL
FORMAT = 3  # category Cf: dropped
UNSPACED = 4  # a script written without spaces: a token on its own

_P = HASH_BASE
_K = HASH_LENGTH_FACTOR
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_ONE = np.uint64(1)
_BLANK = np.uint64(0x20)
_LOW32 = np.uint64(0xFFFFFFFF)
_COLON, _SLASH, _W, _DOT = 0x3A, 0x2F, 0x77, 0x2E

# Code points: uint8 for ASCII text, uint32 otherwise.
Points = npt.NDArray[np.uint8] | npt.NDArray[np.uint32]
Offsets = npt.NDArray[np.int64]
Kinds = npt.NDArray[np.uint8]
Signatures = npt.NDArray[np.uint32]
Hashes = npt.NDArray[np.uint64]


def _kind(point: int) -> int:
    char = chr(point)
    category = unicodedata.category(char)
    if category.startswith("P"):
        return PUNCT
    if category == "Cf":
        return FORMAT
    if char.isspace():
        return SPACE
    if any(lo <= point <= hi for lo, hi in UNSPACED_RANGES):
        return UNSPACED
    return WORD


# Filled for the Basic Multilingual Plane now, for other planes as met.
_TABLE = np.array([_kind(point) for point in range(0x10000)] + [0] * 0x100000, dtype=np.uint8)
_KNOWN = np.zeros(len(_TABLE), dtype=bool)
_KNOWN[:0x10000] = True


def kinds(points: Points) -> Kinds:
    """The character kind table, filled for every code point in ``points``."""
    if points.dtype == np.uint8:
        return _TABLE
    astral = points[points >= 0x10000]
    if len(astral):
        for point in np.unique(astral[~_KNOWN[astral]]).tolist():
            _TABLE[point] = _kind(point)
            _KNOWN[point] = True
    return _TABLE


def _is_scheme(c: int) -> bool:
    return 0x61 <= c <= 0x7A or 0x30 <= c <= 0x39 or c in (0x2B, 0x2E, 0x2D)


def _mark_urls(
    points: Points, start: int, end: int, table: Kinds, in_url: npt.NDArray[np.bool_]
) -> bool:
    """Set ``in_url[j - start]`` where ``points[j]`` lies in a URL as
    ``normalize()``'s pattern ``(?:[a-z][a-z0-9+.-]*://|www\\.)\\S+`` finds
    them: from the leftmost match start to the end of its run of non-space
    characters. Other entries are left as they are. Returns whether any was set."""
    found = False
    i = start
    # Only runs holding "://" or "www." are looked at closely.
    while i + 3 < end:
        c = points[i]
        if not (
            (c == _COLON and points[i + 1] == _SLASH and points[i + 2] == _SLASH)
            or (c == _W and points[i + 1] == _W and points[i + 2] == _W and points[i + 3] == _DOT)
        ):
            i += 1
            continue
        run_start = i
        while run_start > start and table[points[run_start - 1]] != SPACE:
            run_start -= 1
        run_end = i
        while run_end < end and table[points[run_end]] != SPACE:
            run_end += 1
        url = run_end
        first_letter = -1
        for j in range(run_start, run_end):
            c = points[j]
            if (
                c == _COLON
                and first_letter >= 0
                and j + 3 < run_end
                and points[j + 1] == _SLASH
                and points[j + 2] == _SLASH
            ):
                url = min(url, first_letter)
            if (
                c == _W
                and j + 4 < run_end
                and points[j + 1] == _W
                and points[j + 2] == _W
                and points[j + 3] == _DOT
            ):
                url = min(url, j)
            if not _is_scheme(c):
                first_letter = -1
            elif first_letter < 0 and 0x61 <= c <= 0x7A:
                first_letter = j
        in_url[url - start : run_end - start] = True
        found = found or url < run_end
        i = run_end
    return found


def _shingle_hash(
    poly: np.uint64,
    power: np.uint64,
    length: int,
    ring_poly: npt.NDArray[np.uint64],
    ring_power: npt.NDArray[np.uint64],
    ring_len: npt.NDArray[np.int64],
) -> np.uint64:
    """Add a token (its ``poly``, ``P**length`` and length) to the ring of
    the last ``ngram`` tokens, oldest first, and return the 64-bit hash of
    the shingle they make (meaningful once ``ngram`` tokens were added)."""
    # Shifting beats a modulo.
    ngram = ring_poly.shape[0]
    for s in range(ngram - 1):
        ring_poly[s] = ring_poly[s + 1]
        ring_power[s] = ring_power[s + 1]
        ring_len[s] = ring_len[s + 1]
    ring_poly[ngram - 1] = poly
    ring_power[ngram - 1] = power
    ring_len[ngram - 1] = length
    # poly(t + " " + rest) = poly(t) + P**len(t) * (32 + P * poly(rest))
    acc = poly
    total = length
    for s in range(ngram - 2, -1, -1):
        acc = ring_poly[s] + ring_power[s] * (_BLANK + _P * acc)
        total += ring_len[s] + 1
    h = acc + np.uint64(total) * _K
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    hashed: np.uint64 = h
    return hashed


def _premix(h: np.uint64) -> np.uint32:
    """fmix32 of the low half of a shingle hash: what the MinHash permutes."""
    # numba widens uint32 products, so each step is cut back to 32 bits.
    m = h & _LOW32
    m ^= m >> np.uint64(16)
    m = (m * np.uint64(0x85EBCA6B)) & _LOW32
    m ^= m >> np.uint64(13)
    m = (m * np.uint64(0xC2B2AE35)) & _LOW32
    m ^= m >> np.uint64(16)
    mixed: np.uint32 = np.uint32(m)
    return mixed


def _min_into(mixed: Signatures, a: Signatures, b: Signatures, row: Signatures) -> None:
    """``row[k] = min(row[k], min over h in mixed of a[k] * h + b[k] mod 2**32)``."""
    # Four shingles a pass: the row is loaded and stored a quarter as often,
    # which makes the loop three times faster than one shingle a pass.
    n = mixed.shape[0]
    j = 0
    while j + 4 <= n:
        h0, h1, h2, h3 = mixed[j], mixed[j + 1], mixed[j + 2], mixed[j + 3]
        for k in range(a.shape[0]):
            ak, bk = a[k], b[k]
            v01 = min(np.uint32(ak * h0 + bk), np.uint32(ak * h1 + bk))
            v23 = min(np.uint32(ak * h2 + bk), np.uint32(ak * h3 + bk))
            row[k] = min(row[k], v01, v23)
        j += 4
    for h in mixed[j:]:
        for k in range(a.shape[0]):
            row[k] = min(row[k], np.uint32(a[k] * h + b[k]))


def _make_scan(wide: bool) -> Callable[..., npt.NDArray[np.int64]]:
    """The compiled pass over texts: with ``wide``, it writes the 64-bit
    shingle hashes of every text into ``hashes``, text after text; without,
    it folds the MinHash of text ``t`` into ``out[t]``. (Two compiled
    functions: the choice is made once, not per shingle.)"""
    dtype = np.uint64 if wide else np.uint32

    def scan(
        points: Points,
        starts: Offsets,
        table: Kinds,
        ngram: int,
        a: Signatures,
        b: Signatures,
        out: Signatures,
        hashes: Hashes,
    ) -> npt.NDArray[np.int64]:
        counts = np.zeros(len(starts) - 1, dtype=np.int64)
        ring_poly = np.zeros(ngram, dtype=np.uint64)
        ring_power = np.zeros(ngram, dtype=np.uint64)
        ring_len = np.zeros(ngram, dtype=np.int64)
        longest = int(np.max(np.diff(starts))) if len(starts) > 1 else 0
        in_url = np.zeros(longest, dtype=np.bool_)
        found: npt.NDArray[Any] = np.empty(longest, dtype=dtype)
        written = 0
        for t in range(len(starts) - 1):
            start = starts[t]
            end = starts[t + 1]
            url_text = _mark_urls(points, start, end, table, in_url)
            count = 0
            poly = np.uint64(0)
            power = _ONE
            length = 0
            for j in range(start, end + 1):
                kind = SPACE
                if j < end:
                    c = points[j]
                    kind = table[c]
                    if kind == WORD:
                        poly += np.uint64(c) * power
                        power *= _P
                        length += 1
                        continue
                    if kind == FORMAT or (kind == PUNCT and url_text and in_url[j - start]):
                        continue
                # A token ends here: a word (if any), then an unspaced character.
                for token in range(2):
                    if token == 0 and length:
                        h = _shingle_hash(poly, power, length, ring_poly, ring_power, ring_len)
                    elif token == 1 and kind == UNSPACED:
                        h = _shingle_hash(np.uint64(c), _P, 1, ring_poly, ring_power, ring_len)
                    else:
                        continue
                    count += 1
                    if count >= ngram:
                        found[count - ngram] = h if wide else _premix(h)
                poly = np.uint64(0)
                power = _ONE
                length = 0
            counts[t] = count
            if url_text:
                in_url[: end - start] = False
            shingles = max(count - ngram + 1, 0)
            if wide:
                hashes[written : written + shingles] = found[:shingles]
                written += shingles
            else:
                _min_into(found[:shingles], a, b, out[t])
        return counts

    return _jit(scan)


_jit = numba.njit(cache=True, nogil=True)
_inline = numba.njit(cache=True, nogil=True, inline="always")
_is_scheme = _inline(_is_scheme)
_mark_urls = _jit(_mark_urls)
_shingle_hash = _inline(_shingle_hash)
_premix = _inline(_premix)
_min_into = _jit(_min_into)
_sign_scan = _make_scan(wide=False)
_hash_scan = _make_scan(wide=True)

_NO_HASHES = np.empty(0, dtype=np.uint64)
_NO_ROWS = np.empty((0, 0), dtype=np.uint32)
_NO_PERMUTATION = np.empty(0, dtype=np.uint32)


def sign_points(
    points: Points,
    starts: Offsets,
    table: Kinds,
    ngram: int,
    a: Signatures,
    b: Signatures,
    out: Signatures,
) -> npt.NDArray[np.int64]:
    """Fold into ``out[t]`` the MinHash of the word shingles of text ``t``
    (``points[starts[t] : starts[t + 1]]``, NFKC and case folded); return
    each text's token count."""
    return _sign_scan(points, starts, table, ngram, a, b, out, _NO_HASHES)


def shingle_points(
    points: Points, starts: Offsets, table: Kinds, ngram: int
) -> tuple[Hashes, npt.NDArray[np.int64]]:
    """The 64-bit word shingle hashes of every text (as
    :func:`dedupe.core.shingles.key_shingle_hashes` makes them from the text's
    key), text after text, and each text's token count."""
    hashes = np.empty(max(len(points), 1), dtype=np.uint64)
    counts = _hash_scan(
        points, starts, table, ngram, _NO_PERMUTATION, _NO_PERMUTATION, _NO_ROWS, hashes
    )
    used = int(np.maximum(counts - ngram + 1, 0).sum())
    return hashes[:used], counts
