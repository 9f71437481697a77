"""MinHash signatures against independent oracles: datasketch's own MinHash
fed the plain shingle strings, exact Jaccard, another process, and the
numpy path against the compiled one."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.core import minhash
from dedupe.core.minhash import (
    datasketch_hashfunc,
    jaccard_estimate,
    sign_hashes,
    signatures,
    text_shingle_sets,
    to_lean_minhash,
)
from dedupe.core.normalize import normalize
from dedupe.core.shingles import ShingleOptions, as_array, shingle_set, shingle_strings
from dedupe.errors import OptionsError
from tests.strategies import WORDS, texts


def datasketch_row(text: str, *, num_perm: int, ngram: int, seed: int) -> list[int]:
    m = MinHash(num_perm, seed=seed, scheme="affine32", hashfunc=datasketch_hashfunc)
    for shingle in shingle_strings(normalize(text), ShingleOptions(size=ngram)):
        m.update(shingle.encode("utf-8"))
    return [int(v) for v in m.hashvalues]


def plain_signatures(batch: list[str], *, num_perm: int, ngram: int, seed: int) -> np.ndarray:
    sets = [as_array(shingle_set(normalize(t), ShingleOptions(size=ngram))) for t in batch]
    return sign_hashes(sets, minhash.SignatureOptions(num_perm=num_perm, seed=seed))


def document(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


# The fixture only sets a module constant, the same for every generated example.
SHARED_FIXTURE = [HealthCheck.function_scoped_fixture]


@pytest.fixture(params=["numpy", "compiled"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test through the numpy path and through the compiled one."""
    if request.param == "compiled":
        pytest.importorskip("numba")
        monkeypatch.setattr(minhash, "_COMPILED_MIN_CHARS", 0)
    else:
        monkeypatch.setattr(minhash, "_compiled", lambda: None)
    return str(request.param)


@settings(max_examples=200, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(
    batch=st.lists(texts, max_size=6),
    ngram=st.integers(min_value=1, max_value=6),
    num_perm=st.sampled_from([1, 16, 128]),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_signatures_equal_plain_path(
    path: str, batch: list[str], ngram: int, num_perm: int, seed: int
) -> None:
    got = signatures(batch, num_perm=num_perm, ngram=ngram, seed=seed)
    want = plain_signatures(batch, num_perm=num_perm, ngram=ngram, seed=seed)
    assert got.shape == (len(batch), num_perm)
    np.testing.assert_array_equal(got, want)


def plain_sets(batch: list[str], ngram: int) -> list[list[int]]:
    return [sorted(shingle_set(normalize(t), ShingleOptions(size=ngram))) for t in batch]


def shingle_sets(batch: list[str], ngram: int) -> list[list[int]]:
    return [s.tolist() for s in text_shingle_sets(batch, ShingleOptions(size=ngram))]


@settings(max_examples=200, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(batch=st.lists(texts, max_size=6), ngram=st.integers(min_value=1, max_value=6))
def test_shingle_sets_equal_plain_path(path: str, batch: list[str], ngram: int) -> None:
    assert minhash.use_compiled() is (path == "compiled")
    assert shingle_sets(batch, ngram) == plain_sets(batch, ngram)


@settings(max_examples=40, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(batch=st.lists(texts, min_size=1, max_size=4), seed=st.sampled_from([1, 7]))
def test_rows_are_datasketch_hashvalues(path: str, batch: list[str], seed: int) -> None:
    got = signatures(batch, num_perm=64, ngram=3, seed=seed)
    for row, text in zip(got, batch, strict=True):
        assert row.tolist() == datasketch_row(text, num_perm=64, ngram=3, seed=seed)


def test_real_text_through_both_paths(path: str) -> None:
    rng = random.Random(4)
    batch = [document(rng, n) for n in (0, 1, 4, 5, 6, 300)]
    batch += [document(rng, 50).upper(), "THE QUICK BROWN FOX JUMPS OVER A LAZY DOG\t\x1cX\x0bY"]
    batch += ["Visit https://Example.com/a-b?c=d, or www.example.org. 中文字符很好 สวัสดีครับ 😀"]
    got = signatures(batch)
    for row, text in zip(got, batch, strict=True):
        assert row.tolist() == datasketch_row(text, num_perm=128, ngram=5, seed=1)
    minhash.use_compiled()
    assert shingle_sets(batch, 5) == plain_sets(batch, 5)


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "http://x",
        "HTTP://X.Y",
        "WWW.X.Y",
        "Www.x-Y",
        "a.b://",
        "a.b://.",
        "1a://b",
        "1-a://b",
        "1.2a://b",
        "x-y.www.z",
        "9http://x.y",
        "a.http://x",
        "-a://b",
        "a!b://c",
        "abc:// d",
        "ftp+x.1-a://q/r,s",
        "www.",
        "www.x",
        "wwww.x",
        "x.www.y",
        "a\u200bb://c.d",
        "http://a://b",
        "中www.文.字",
    ],
)
@pytest.mark.parametrize("template", ["one two {} three four", "one two, {}. three four"])
def test_url_edges_through_both_paths(path: str, url: str, template: str) -> None:
    text = template.format(url)
    row = signatures([text], num_perm=16, ngram=3).tolist()[0]
    assert row == datasketch_row(text, num_perm=16, ngram=3, seed=1)
    minhash.use_compiled()
    assert shingle_sets([text], 3) == plain_sets([text], 3)


def test_lean_minhash_goes_into_datasketch_lsh() -> None:
    rng = random.Random(5)
    base = document(rng, 200)
    batch = [base, base + " and more", document(rng, 200)]
    sigs = signatures(batch)
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for i, row in enumerate(sigs):
        lsh.insert(str(i), to_lean_minhash(row))
    assert set(lsh.query(to_lean_minhash(sigs[0]))) == {"0", "1"}


def test_estimate_close_to_exact_jaccard() -> None:
    rng = random.Random(6)
    errors = []
    for _ in range(200):
        words = [rng.choice(WORDS) + str(rng.randrange(50)) for _ in range(300)]
        edited = list(words)
        for i in rng.sample(range(len(words)), rng.randint(15, 60)):
            edited[i] = rng.choice(WORDS)
        a, b = " ".join(words), " ".join(edited)
        sa, sb = (shingle_set(normalize(t), ShingleOptions(size=5)) for t in (a, b))
        exact = len(sa & sb) / len(sa | sb)
        sig = signatures([a, b])
        errors.append(abs(jaccard_estimate(sig[0], sig[1]) - exact))
    # The standard error at 128 permutations is at most 0.044; its mean about 0.03.
    assert float(np.mean(errors)) < 0.04


def test_workers_give_the_same_rows(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minhash, "SIGNATURE_BATCH_CHARS", 5000)
    rng = random.Random(7)
    batch = [document(rng, rng.randint(0, 400)) for _ in range(60)]
    one = signatures(batch, workers=1)
    for workers in (2, 3):
        np.testing.assert_array_equal(signatures(batch, workers=workers), one)
    np.testing.assert_array_equal(one, plain_signatures(batch, num_perm=128, ngram=5, seed=1))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_batch_raises_what_one_process_raises(
    path: str, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(minhash, "SIGNATURE_BATCH_CHARS", 5000)
    rng = random.Random(9)
    batch = [document(rng, 300) for _ in range(40)]
    # Not a string: the plain path and the fast ones fail alike.
    batch[-3] = b"bytes, not text"
    with pytest.raises(TypeError):
        signatures(batch, workers=workers)


def test_same_rows_in_another_process() -> None:
    rng = random.Random(8)
    # Over a million characters: the compiled path, where numba is installed.
    batch = [document(rng, 300) for _ in range(700)] + ["中文字符很好", "www.x.org/a b"]
    code = (
        "import sys, json; from dedupe.core.minhash import signatures;"
        "sys.stdout.write(signatures(json.load(sys.stdin)).tobytes().hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(batch),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "99"},
    ).stdout
    assert out == signatures(batch).tobytes().hex()


def test_small_batches_do_not_load_numba() -> None:
    code = (
        "import sys, dedupe; dedupe.signatures(['a short text of a few words here']);"
        "from dedupe.cleaning.pipeline import clean; clean('one paragraph\\n\\none paragraph\\n');"
        "print('numba' in sys.modules, 'datasketch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_empty_input_and_bad_options() -> None:
    assert signatures([]).shape == (0, 128)
    assert (signatures([""]) == minhash.EMPTY).all()
    with pytest.raises(OptionsError):
        signatures(["x"], workers=0)
    with pytest.raises(OptionsError):
        signatures(["x"], num_perm=0)
