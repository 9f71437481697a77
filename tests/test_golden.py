"""Golden cases: each file in tests/data/cases holds an input, its options, the
expected cleaned text and the expected removals, built by construction."""

from __future__ import annotations

import pytest

from dedupe import clean
from tests.util import Case, all_cases, summary

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_text(case: Case) -> None:
    result = clean(case.input, **case.options)
    assert result.text == case.expected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_report(case: Case) -> None:
    result = clean(case.input, **case.options)
    assert summary(result) == case.report


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("use_lsh", [True, False])
def test_golden_same_on_both_candidate_paths(case: Case, use_lsh: bool) -> None:
    result = clean(case.input, **case.options, use_lsh=use_lsh)
    assert result.text == case.expected


def test_seed_case_is_the_shipped_sample() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "samples"
    seed = next(c for c in CASES if c.name == "seed")
    assert seed.input == (root / "rudaw-article.txt").read_text(encoding="utf-8")
    assert seed.expected == (root / "rudaw-article.expected.txt").read_text(encoding="utf-8")
