"""Shingles and their hashes, checked against plain oracles: the hash formula
written out character by character, and the batch path against shingle
strings built one key at a time."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.core.normalize import normalize
from dedupe.core.shingles import (
    ShingleOptions,
    as_array,
    hash_array,
    hash_shingles,
    key_shingle_hashes,
    shingle_set,
    shingle_strings,
)
from tests.strategies import texts

MASK64 = (1 << 64) - 1


def oracle_hash(text: str) -> int:
    """The shingle hash exactly as the module docstring states it."""
    p, k = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F
    poly = sum(ord(c) * pow(p, i, 1 << 64) for i, c in enumerate(text)) & MASK64
    h = (poly + len(text) * k) & MASK64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    return h ^ (h >> 33)


@given(st.lists(texts, max_size=8))
def test_hash_array_follows_the_formula(strings: list[str]) -> None:
    assert hash_array(strings).tolist() == [oracle_hash(s) for s in strings]


def test_hash_separates_trailing_nul() -> None:
    assert len(set(hash_array(["a", "a\x00", "a\x00\x00", "\x00a"]).tolist())) == 4


@settings(max_examples=300)
@given(
    st.lists(texts, max_size=6),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=5),
    st.booleans(),
)
def test_batch_equals_plain_shingles(
    raw: list[str], size: int, char_size: int, as_keys: bool
) -> None:
    keys = [normalize(t) for t in raw] if as_keys else raw
    options = ShingleOptions(size=size, char_size=char_size)
    batch = key_shingle_hashes(keys, options)
    assert list(batch.owners) == sorted(batch.owners)
    for i, key in enumerate(keys):
        plain = Counter(oracle_hash(s) for s in shingle_strings(key, options))
        assert Counter(batch.hashes[batch.owners == i].tolist()) == plain


def test_shingle_set_is_the_hashed_strings() -> None:
    key = normalize("The army said on Monday that its forces had taken the town")
    strings = shingle_strings(key, ShingleOptions(size=3))
    assert len(strings) == 10
    assert shingle_set(key, ShingleOptions(size=3)) == {oracle_hash(s) for s in strings}
    assert hash_shingles(strings) == shingle_set(key, ShingleOptions(size=3))
    assert as_array(shingle_set(key)).tolist() == sorted(shingle_set(key))


def test_hash_is_the_same_in_another_process() -> None:
    strings = ["the army said", "中 文 字", "สวัสดี", "😀 x"]
    code = f"from dedupe.core.shingles import hash_array;print(hash_array({strings!r}).tolist())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
    ).stdout
    assert out.strip() == str(hash_array(strings).tolist())
