"""Properties of clean() on generated texts, checked against plain oracles:
shingle sets built from strings (no hashing, no MinHash), whole-paragraph
cutting, idempotence, and agreement of the LSH and all-pairs paths."""

from __future__ import annotations

import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe import Method, clean
from dedupe.cleaning.pipeline import CleanResult
from dedupe.core.normalize import normalize, tokens
from tests.strategies import WORDS


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    n = draw(st.integers(min_value=1, max_value=40))
    return " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n)))


@st.composite
def edited(draw: st.DrawFn, text: str) -> str:
    words = text.split(" ")
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        i = draw(st.integers(min_value=0, max_value=len(words) - 1))
        words[i] = draw(st.sampled_from([*WORDS, words[i].upper(), words[i] + "s"]))
    return " ".join(words)


@st.composite
def documents(draw: st.DrawFn) -> str:
    pool = draw(st.lists(paragraphs(), min_size=1, max_size=6))
    picks = draw(st.lists(st.integers(min_value=0, max_value=len(pool) - 1), max_size=14))
    body = []
    for i in picks:
        op = draw(st.sampled_from(["same", "edit", "piece", "merge"]))
        if op == "edit":
            body.append(draw(edited(pool[i])))
        elif op == "piece":
            words = pool[i].split(" ")
            lo = draw(st.integers(min_value=0, max_value=len(words) - 1))
            hi = draw(st.integers(min_value=lo + 1, max_value=len(words)))
            body.append(" ".join(words[lo:hi]))
        elif op == "merge":
            body.append(pool[i] + " " + pool[(i + 1) % len(pool)])
        else:
            body.append(pool[i])
    sep = draw(st.sampled_from(["\n", "\n\n", "\r\n", "  \n"]))
    end = draw(st.sampled_from(["", "\n", sep]))
    return sep.join(body) + (end if body else "")


SETTINGS = settings(
    max_examples=int(os.environ.get("DEDUPE_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def string_shingles(text: str, size: int = 3, char_size: int = 4) -> set[str]:
    """Shingles as strings, built independently of dedupe.core.shingles' hashing."""
    key = normalize(text)
    toks = tokens(key)
    if len(toks) >= size:
        return {" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1)}
    if len(key) <= char_size:
        return {key} if key else set()
    return {key[i : i + char_size] for i in range(len(key) - char_size + 1)}


def kept_in_order(result: CleanResult) -> bool:
    gone = {r.paragraph.index for r in result.removed}
    at = 0
    for p in result.paragraphs:
        if p.index in gone:
            continue
        found = result.text.find(p.text, at)
        if found < 0:
            return False
        at = found + len(p.text)
    return True


MIN_WORDS = st.sampled_from([0, 3, 15])


@SETTINGS
@given(documents(), MIN_WORDS)
def test_output_is_input_minus_whole_paragraphs(text: str, min_words: int) -> None:
    result = clean(text, min_words=min_words)
    cut = text
    for r in sorted(result.removed, key=lambda r: -r.paragraph.start):
        cut = cut[: r.paragraph.start] + cut[r.paragraph.end :]
    # Same non-space characters as the input with the removed spans cut out ...
    assert "".join(result.text.split()) == "".join(cut.split())
    # ... every kept paragraph verbatim and in order ...
    assert kept_in_order(result)
    # ... and only separators of the input between them.
    assert set(result.text) <= set(text)
    if result.removed:
        assert text.endswith(("\n", "\r")) == result.text.endswith(("\n", "\r"))
    else:
        assert result.text == text


@SETTINGS
@given(documents(), MIN_WORDS)
def test_idempotent(text: str, min_words: int) -> None:
    first = clean(text, min_words=min_words)
    if first.settled:
        assert clean(first.text, min_words=min_words).text == first.text


@SETTINGS
@given(documents(), st.sampled_from([0.6, 0.8, 0.9]), MIN_WORDS)
def test_every_removal_has_a_kept_twin_at_the_threshold(
    text: str, threshold: float, min_words: int
) -> None:
    result = clean(text, threshold=threshold, min_words=min_words)
    gone = {r.paragraph.index for r in result.removed}
    for r in result.removed:
        assert r.twins
        assert all(t.index not in gone for t in r.twins)
        assert r.similarity >= threshold
        mine = string_shingles(r.paragraph.text)
        if r.method is Method.EXACT:
            assert normalize(r.paragraph.text) == normalize(r.twins[0].text) or (
                not normalize(r.paragraph.text)
                and r.paragraph.text.strip() == r.twins[0].text.strip()
            )
        elif r.method is Method.NEAR and not r.in_block:
            theirs = string_shingles(r.twins[0].text)
            assert len(mine & theirs) / len(mine | theirs) == r.similarity
        elif r.method is Method.CONTAINED and not r.in_block:
            theirs = string_shingles(r.twins[0].text)
            assert len(mine & theirs) / len(mine) == r.similarity
        elif r.method is Method.CONTAINED:
            key, twin = normalize(r.paragraph.text), normalize(r.twins[0].text)
            assert f" {key} " in f" {twin} "
        elif r.method is Method.COVERED and r.in_block:
            # A merged short line: its key is its twins' keys joined.
            joined = " ".join(normalize(t.text) for t in r.twins)
            assert normalize(r.paragraph.text) == joined
            assert r.similarity == 1.0
        elif r.method is Method.COVERED:
            union = set().union(*(string_shingles(t.text) for t in r.twins))
            assert len(mine & union) / len(mine) == r.similarity
            # Several distinct kept paragraphs, in text order.
            indexes = [t.index for t in r.twins]
            assert len(indexes) > 1
            assert indexes == sorted(set(indexes))


@SETTINGS
@given(documents(), MIN_WORDS)
def test_lsh_and_all_pairs_agree(text: str, min_words: int) -> None:
    exact = clean(text, use_lsh=False, min_words=min_words)
    lsh = clean(text, use_lsh=True, min_words=min_words)
    assert [r.paragraph.index for r in lsh.removed] == [r.paragraph.index for r in exact.removed]
    assert lsh.text == exact.text


@SETTINGS
@given(documents())
def test_options_only(text: str) -> None:
    a, b = clean(text, min_words=0), clean(text, min_words=0)
    assert a == b


def test_same_result_in_other_processes() -> None:
    """No Python hash() anywhere: another process with another hash seed agrees."""
    text = "\n".join(
        [" ".join(WORDS[i : i + 20]) for i in range(0, 30, 3)] * 2 + ["short line", "short line"]
    )
    here = repr([(r.paragraph.index, r.twins[0].index, r.similarity) for r in clean(text).removed])
    code = (
        "import sys; from dedupe import clean; t = sys.stdin.read();"
        "print(repr([(r.paragraph.index, r.twins[0].index, r.similarity)"
        " for r in clean(t).removed]))"
    )
    for seed in ("1", "12345"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        assert out.stdout.strip() == here


@SETTINGS
@given(st.text(alphabet="ab \n\t\u2028", max_size=40))
def test_line_split_fast_path_agrees(text: str) -> None:
    from dedupe.core.paragraphs import _lines_any, _lines_lf

    assert _lines_lf(text) == _lines_any(text)
