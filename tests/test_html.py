"""clean_html: real pages from the Readability test set through each extractor."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedupe import Extractor, OptionsError, clean_html
from dedupe.cleaning.html import available, extract_text

PAGES = Path(__file__).resolve().parent / "data" / "html"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
LINES = (SAMPLES / "rudaw-article.txt").read_text(encoding="utf-8").split("\n")


def twice_page() -> str:
    body = "".join(f"<p>{line}</p>" for line in LINES[:23])  # lines 13-23 repeat 2-12
    nav = "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
    return f"<html><head><title>t</title></head><body>{nav}<article>{body}</article></body></html>"


@pytest.mark.parametrize("extractor", [e.value for e in Extractor if e is not Extractor.AUTO])
def test_each_extractor_keeps_paragraphs_and_cleans(extractor: str) -> None:
    pytest.importorskip(extractor)
    result = clean_html(twice_page(), extractor=extractor)
    assert result.extractor is Extractor(extractor)
    lines = result.extracted.splitlines()
    # One paragraph per line, whole.
    assert all(line in lines for line in LINES[:12])
    assert result.text.count(LINES[1]) == 1
    assert [r.paragraph.text for r in result.result.removed] == LINES[12:23]


def test_auto_prefers_trafilatura() -> None:
    pytest.importorskip("trafilatura")
    result = clean_html(twice_page())
    assert result.extractor is Extractor.TRAFILATURA
    assert available()[0] is Extractor.TRAFILATURA
    assert "Home" not in result.text  # navigation is not article text


def test_options_pass_through() -> None:
    pytest.importorskip("trafilatura")
    strict = clean_html(twice_page(), threshold=1.0, mode="line")
    assert len(strict.result.removed) == 11
    with pytest.raises(OptionsError, match="extractor must be one of"):
        clean_html("<p>x</p>", extractor="lynx")


def test_real_page_main_text() -> None:
    pytest.importorskip("trafilatura")
    html = (PAGES / "ars-1.html").read_text(encoding="utf-8")
    main = (PAGES / "ars-1.main.txt").read_text(encoding="utf-8")
    extractor, text = extract_text(html)
    assert extractor is Extractor.TRAFILATURA
    wanted = [p.strip() for p in main.splitlines() if len(p.split()) >= 15]
    assert len(wanted) >= 10
    found = sum(p in text.splitlines() for p in wanted)
    assert found >= 0.8 * len(wanted)
