"""clean(clean(x)) == clean(x) on texts that mix line breaks and blank lines,
where the automatic paragraph mode has to decide between lines and blocks."""

from __future__ import annotations

import os
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe import clean
from dedupe.core.paragraphs import ParagraphMode, split
from tests.strategies import WORDS

X = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat by the door"


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    n = draw(st.integers(min_value=1, max_value=40))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n))
    end = draw(st.sampled_from(["", "", "."]))
    return " ".join(words) + end


@st.composite
def blank_line_texts(draw: st.DrawFn) -> str:
    """Paragraphs, some repeated, each on one line or hard-wrapped at a width,
    joined by a line break or blank lines chosen gap by gap."""
    pool = draw(st.lists(paragraphs(), min_size=1, max_size=5))
    picks = draw(st.lists(st.integers(min_value=0, max_value=len(pool) - 1), max_size=12))
    pieces: list[str] = []
    for i in picks:
        width = draw(st.sampled_from([0, 0, 35, 50, 72, 90]))
        lines = textwrap.wrap(pool[i], width) if width else [pool[i]]
        pieces.append("\n".join(lines))
    text = ""
    for k, piece in enumerate(pieces):
        if k:
            text += draw(st.sampled_from(["\n", "\n", "\n\n", "\n \n", "\n\n\n"]))
        text += piece
    return text + draw(st.sampled_from(["", "\n", "\n\n"]))


def assert_stable(text: str, min_words: int) -> None:
    first = clean(text, min_words=min_words)
    if first.settled:
        second = clean(first.text, min_words=min_words)
        assert second.text == first.text, (first.mode, second.mode)


def test_issue_reproduction() -> None:
    text = f"{X}\n{X}\n{X}\n\n{X}\n"
    first = clean(text)
    assert clean(first.text).text == first.text


def test_lines_cut_then_blocks() -> None:
    # Repeated lines make the text split by lines; once they are cut, the rest
    # splits into hard-wrapped blocks, one inside the other: cut in the same run.
    long = "the the the the the the the said"
    text = f"said the said\n\n{long}\n{long}\n{long}\n{long}\n\nthe said\n{long}"
    first = clean(text, min_words=0)
    assert first.mode is ParagraphMode.LINE
    assert split(first.text)[0] is ParagraphMode.BLANK_LINE
    assert clean(first.text, min_words=0).text == first.text
    assert first.text == f"{long}\nthe said"
    # Each removal is a line of the input, with a kept twin.
    gone = {r.paragraph.index for r in first.removed}
    assert all(r.twins and not gone & {t.index for t in r.twins} for r in first.removed)


MIN_WORDS = st.sampled_from([0, 3, 15])
QUICK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(
    max_examples=int(os.environ.get("DEDUPE_IDEMPOTENCE_EXAMPLES", "5000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@QUICK
@given(blank_line_texts(), MIN_WORDS)
def test_idempotent_with_blank_lines(text: str, min_words: int) -> None:
    assert_stable(text, min_words)


@pytest.mark.slow
@MANY
@given(blank_line_texts(), MIN_WORDS)
def test_idempotent_with_blank_lines_many(text: str, min_words: int) -> None:
    assert_stable(text, min_words)
