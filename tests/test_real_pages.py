"""clean() on real scraped pages (tests/data/pages, see tests/data/LICENSES.md)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest

from dedupe import clean
from dedupe.core.normalize import normalize
from tests.util import DATA


def pages(name: str) -> Iterator[dict[str, Any]]:
    with gzip.open(DATA / "pages" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def page(name: str, prefix: str) -> dict[str, Any]:
    return next(p for p in pages(name) if p["id"].startswith(prefix))


def still_there(snippet: str, cleaned: str) -> bool:
    """A copy survives: verbatim, or the same text up to what dedupe ignores when
    comparing (case, punctuation, spacing)."""
    return snippet in cleaned or normalize(snippet) in normalize(cleaned)


@pytest.mark.slow
def test_no_must_keep_snippet_loses_its_last_copy() -> None:
    checked, lost = 0, []
    for p in pages("trafilatura-eval"):
        cleaned = clean(p["page_text"]).text
        for snippet in p.get("must_keep") or []:
            if snippet in p["page_text"]:
                checked += 1
                if not still_there(snippet, cleaned):
                    lost.append((p["id"], snippet))
    assert checked > 2500
    assert lost == []


def test_eldeber_body_comes_out_once() -> None:
    p = page("trafilatura-eval", "trafilatura/eldeber.com.bo")
    text = p["page_text"]
    body = [line for line in text.split("\n") if len(line.split()) >= 15]
    twice = [line for line in body if text.count(line) == 2]
    assert len(twice) >= 10
    cleaned = clean(text).text
    assert [line for line in twice if cleaned.count(line) != 1] == []


def test_chorus_is_content_and_stays() -> None:
    p = page("goose3", "goose3/test_allnewlyrics1")
    assert p["page_text"].count("You know that you\u2019re the only one that I need") >= 6
    assert clean(p["page_text"]).text == p["page_text"]


def test_every_removal_on_real_pages_is_explained() -> None:
    for p in pages("readability"):
        result = clean(p["page_text"])
        gone = {r.paragraph.index for r in result.removed}
        for r in result.removed:
            assert r.similarity >= result.options.threshold
            assert all(t.index not in gone for t in r.twins)
        assert sum(len(b.paragraphs) for b in result.blocks) == len(result.removed)
