"""The keys the corpus and the index must compute alike."""

from __future__ import annotations

import pytest

from dedupe.corpus import pipeline

# (url, site): http and https, other schemes, no scheme, no url at all.
CASES = [
    ("http://www.Example.com/a", "example.com"),
    ("https://example.com:8443/b?x=1", "example.com"),
    ("HTTPS://WWW.EXAMPLE.COM", "example.com"),
    ("ftp://files.example.com/c", "files.example.com"),
    ("s3://bucket/crawl/part-0.jsonl", "bucket"),
    ("//example.com/d", "example.com"),
    ("example.com/e", ""),
    ("not a url", ""),
    ("xxh3:0123456789abcdef", ""),
    ("http://[::1", ""),
    ("", ""),
]


@pytest.mark.parametrize(("url", "site"), CASES)
def test_corpus_site_is_the_host_of_any_scheme(url: str, site: str) -> None:
    assert pipeline.site_of(url) == site


@pytest.mark.parametrize(("url", "site"), CASES)
def test_corpus_and_index_agree_on_the_site_of_a_url(url: str, site: str) -> None:
    scrapy = pytest.importorskip("dedupe.contrib.scrapy")
    # The index takes None for "no site"; the corpus counts such records as one site "".
    assert scrapy.item_site(url) == (pipeline.site_of(url) or None)
    assert scrapy.item_site(url) == (site or None)
