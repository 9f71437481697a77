"""The clean() API at its edges: options, empty input, result types."""

from __future__ import annotations

import dataclasses

import pytest

from dedupe import CleanOptions, OptionsError, clean
from dedupe.cleaning.pipeline import clean_with


@pytest.mark.parametrize(
    "options",
    [
        {"threshold": 0.0},
        {"threshold": 1.5},
        {"shingle_size": 0},
        {"min_words": -1},
        {"num_perm": 0},
        {"keep": "random"},
        {"mode": "sentences"},
    ],
)
def test_bad_options_are_options_errors(options: dict[str, object]) -> None:
    with pytest.raises(OptionsError):
        clean("some text\nsome text\n", **options)  # type: ignore[arg-type]


def test_options_check_themselves() -> None:
    with pytest.raises(OptionsError):
        clean_with("a\n", CleanOptions(shingle_size=0))


@pytest.mark.parametrize("text", ["", "\n", "   \n\t\n", "\r\n\r\n"])
def test_nothing_to_clean(text: str) -> None:
    result = clean(text)
    assert result.text == text
    assert result.removed == ()
    assert result.paragraphs == ()


def test_results_are_frozen() -> None:
    line = "a paragraph long enough to count on its own, with more than fifteen words in it"
    result = clean(f"{line}\n{line}\n")
    assert len(result.removed) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = ""  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.removed[0].similarity = 0.0  # type: ignore[misc]


def test_min_words_zero_removes_short_exact_repeats_only() -> None:
    result = clean("cat\ndog\ncat\ncats\n", min_words=0)
    assert result.text == "cat\ndog\ncats\n"
    assert [r.paragraph.line_start for r in result.removed] == [3]


def test_shingle_batches_do_not_change_the_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    from dedupe.cleaning import pipeline as cleaning
    from dedupe.core.normalize import normalize
    from dedupe.core.shingles import ShingleOptions, shingle_set

    keys = [normalize(line) for line in ("one two three four", "", "中文段落", "a b", "x") * 7]
    options = ShingleOptions(size=3)
    monkeypatch.setattr(cleaning, "SHINGLE_BATCH_CHARS", 10)
    assert cleaning.shingle_sets(keys, options) == [shingle_set(k, options) for k in keys]


def test_removals_that_cycle_stop_and_say_so() -> None:
    """Highly repetitive text where each pass undoes part of the last: the
    passes stop, the result says it did not settle, and every twin is kept."""
    # Found by a random search over texts of a few words in many orders.
    text = "\n".join(
        [
            "army army the the army",
            "town army the army",
            "the army the the the the the town army army town army said the said"
            " the the the army army said",
            "town army the army",
            "the army the the the the the town army army army army said the said"
            " the the the army army said",
            "the army the the the the the town army army army army said the said"
            " the the the army army said",
            "the army the the the the the town the army army army said the said the"
            " town the army army the",
            "army army army",
            "the army the the the the said town army army town army said the said"
            " the the the army army said",
            "the town",
            "the army the the the the said town army army town army said the said"
            " the the the army army said",
            "the said",
            "army army the",
            "the army the the the the the town the army army army said the said the"
            " town the army army the",
        ]
    )
    result = clean(text, min_words=0)
    assert not result.settled
    gone = {r.paragraph.index for r in result.removed}
    assert all(t.index not in gone for r in result.removed for t in r.twins)
    said = "the the said"
    assert clean(f"{said}\n{said}\n", min_words=0).settled
