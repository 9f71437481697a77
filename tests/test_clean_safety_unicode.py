"""Any Python string goes through cleaning, shingling and signing: lone
surrogates included (JSON Lines and scraped JSON carry them as "\\ud800")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe import clean, signatures
from dedupe.cli.main import main
from dedupe.core import minhash
from dedupe.core.minhash import sign_hashes
from dedupe.core.normalize import normalize
from dedupe.core.shingles import ShingleOptions, as_array, hash_array, shingle_set, shingle_strings

# Every code point, surrogates included (st.characters() leaves them out by default).
ANY_CHAR = st.characters(blacklist_categories=())
# Runs of any characters mixed with lone surrogates, words and line breaks, so
# that most texts hold a surrogate and several paragraphs.
PIECES = st.sampled_from(["\ud800", "\udfff", "\udc80x", " ", "\n", "\n\n", "word", "the end"])
ANY_TEXT = st.lists(st.one_of(st.text(ANY_CHAR, max_size=6), PIECES), max_size=30).map("".join)
LINE = "a lone \ud800 surrogate in a paragraph long enough to count on its own, twenty words or so"
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(params=["numpy", "compiled"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "compiled":
        pytest.importorskip("numba")
        monkeypatch.setattr(minhash, "_COMPILED_MIN_CHARS", 0)
    else:
        monkeypatch.setattr(minhash, "_compiled", lambda: None)
    return str(request.param)


@SETTINGS
@given(ANY_TEXT)
def test_clean_takes_any_string(text: str) -> None:
    result = clean(text, min_words=0)
    # Whole paragraphs cut, every kept character as it came, surrogates included.
    gone = {r.paragraph.index for r in result.removed}
    kept = [p for p in result.paragraphs if p.index not in gone]
    at = 0
    for p in kept:
        at = result.text.index(p.text, at) + len(p.text)
    assert set(result.text) <= set(text)


@SETTINGS
@given(st.lists(ANY_TEXT, max_size=4), st.integers(min_value=1, max_value=4))
def test_signatures_take_any_string(path: str, batch: list[str], ngram: int) -> None:
    got = signatures(batch, num_perm=16, ngram=ngram)
    sets = [as_array(shingle_set(normalize(t), ShingleOptions(size=ngram))) for t in batch]
    want = sign_hashes(sets, minhash.SignatureOptions(num_perm=16))
    np.testing.assert_array_equal(got, want)


def test_surrogate_hashes_as_its_code_point() -> None:
    # The scheme is a polynomial over code points: a surrogate is 0xD800 like
    # any other value, and valid text keeps its hashes.
    assert hash_array(["\ud800"])[0] != hash_array(["\ud801"])[0]
    assert hash_array(["abc"]).tolist() == hash_array(["abc"]).tolist()
    assert shingle_strings("a \ud800 b") == ["a \ud800 b"]


def test_repeats_with_a_surrogate_are_removed() -> None:
    result = clean(f"{LINE}\n{LINE}\n")
    assert result.text == f"{LINE}\n"


def test_jsonl_keeps_the_escape(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    escaped = LINE.replace("\ud800", "\\ud800")
    source.write_text(f'{{"id": 1, "text": "{escaped}\\n{escaped}"}}\n', encoding="utf-8")
    result = CliRunner().invoke(
        main, ["clean", "-q", "--jsonl", str(source)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    line = result.stdout_bytes.decode("utf-8")
    assert "\\ud800" in line
    assert json.loads(line) == {"id": 1, "text": LINE}
