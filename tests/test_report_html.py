# ruff: noqa: RUF001  (Chinese text with its full-width commas)
"""The HTML report as markup: self-contained, an index of files, removed
copies beside their twins with a correct word diff, folded clean files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dedupe.cleaning.pipeline import CleanResult, clean
from dedupe.cleaning.report import format_html

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SEED_TEXT = (SAMPLES / "rudaw-article.txt").read_text(encoding="utf-8")
EXPECTED_TEXT = (SAMPLES / "rudaw-article.expected.txt").read_text(encoding="utf-8")
SENTENCE = (
    "The deaths of the commanders were followed by a non-binding resolution from the Iraqi "
    "parliament in {month}, calling for the withdrawal of US troops in the country and for "
    "an end to the agreements that had kept them there since the war against ISIS began."
)
OTHER = "Something else entirely, said once and only once in this short text."
ZH = (
    "北京市政府今天宣布，从下个月起将在全市范围内推行新的垃圾分类制度，"
    "居民需要把厨余垃圾和其他垃圾分开投放，违者将被处以罚款。"
)
EVIL = (
    "Read more at https://tracker.example/a?b=c <img src=http://tracker.example/p.gif> "
    '<link rel="stylesheet" href="//cdn.example/x.css"> and <script src="http://x.example"></script>'
)


def near_text() -> str:
    return f"{SENTENCE.format(month='January')}\n{OTHER}\n* {SENTENCE.format(month='February')}\n"


def chinese_text() -> str:
    # The list item goes (the prose line reads as the article); it says 明年一月 for 下个月.
    changed = ZH.replace("下个月", "明年一月")
    return f"{ZH}\n天气预报说明天会下雨，请大家出门记得带伞。\n* {changed}\n"


def pages() -> list[tuple[str, CleanResult]]:
    """Files a reviewer meets: a near copy, a repeated block, a clean file,
    Chinese, and scraped markup with URLs."""
    results = [
        ("near.txt", clean(near_text())),
        ("rudaw-article.txt", clean(SEED_TEXT)),
        ("clean.txt", clean(EXPECTED_TEXT)),
        ("中文.txt", clean(chinese_text())),
        ("evil.txt", clean(f"{EVIL}\n{OTHER}\n{EVIL}\n", min_words=1)),
    ]
    assert [bool(r.removed) for _, r in results] == [True, True, False, True, True]
    return results


class Markup(HTMLParser):
    """Every start tag with its attributes, and the text inside each ``<mark>``."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.marks: list[tuple[str, str]] = []
        self._mark: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "mark":
            self._mark = dict(attrs).get("class") or ""
            self.marks.append((self._mark, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._mark = None

    def handle_data(self, data: str) -> None:
        if self._mark is not None:
            css, text = self.marks[-1]
            self.marks[-1] = (css, text + data)


def parse(page: str) -> Markup:
    markup = Markup()
    markup.feed(page)
    return markup


@pytest.fixture(scope="module")
def page() -> str:
    return format_html(pages())


def test_self_contained(page: str) -> None:
    markup = parse(page)
    tags = {tag for tag, _ in markup.tags}
    assert tags.isdisjoint({"script", "link", "img", "iframe", "object", "embed", "base"})
    for _, attrs in markup.tags:
        for name, value in attrs.items():
            assert name not in {"src", "srcset", "action", "poster", "data"}
            if name == "href":
                assert value is not None
                assert value.startswith("#"), value
            assert "://" not in (value or "")
    style = page.split("<style>")[1].split("</style>")[0]
    assert "url(" not in style
    assert "@import" not in style
    # The scraped URLs are there, as text.
    assert "https://tracker.example/a?b=c" in page
    assert "&lt;img src=http://tracker.example/p.gif&gt;" in page


def test_index_of_files_with_counts(page: str) -> None:
    rows = re.findall(r'<tr(?: class="clean")?><td><a href="#(s\d)">(.*?)</a></td>(.*?)</tr>', page)
    assert [(anchor, name) for anchor, name, _ in rows] == [
        ("s1", "near.txt"),
        ("s2", "rudaw-article.txt"),
        ("s3", "clean.txt"),
        ("s4", "中文.txt"),
        ("s5", "evil.txt"),
    ]
    counts = {name: re.findall(r'<td class="n">([\d,]+)</td>', cells) for _, name, cells in rows}
    assert counts["rudaw-article.txt"] == ["11", "29", "3,266"]
    assert counts["clean.txt"] == ["0", "18", "0"]
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert {"s1", "s2", "s3", "s4", "s5"} <= ids
    assert set(re.findall(r'href="#([^"]+)"', page)) <= ids
    assert "5 files; removed 14 of 56 paragraphs" in page


def test_nothing_removed_is_folded(page: str) -> None:
    sections = re.findall(r'<section class="file( clean)?" id="(s\d)">\n<details( open)?>', page)
    assert sections == [
        ("", "s1", " open"),
        ("", "s2", " open"),
        (" clean", "s3", ""),
        ("", "s4", " open"),
        ("", "s5", " open"),
    ]


def section(page: str, n: int) -> str:
    return page.split(f'id="s{n}">')[1].split("</section>")[0]


def test_removed_copy_beside_its_twin_with_a_word_diff_both_ways(page: str) -> None:
    near = section(page, 1)
    copy, twin = near.split('<div class="side twin">')
    assert '<div class="side copy"><h3>removed copy, line 3</h3>' in copy
    assert '<h3>kept twin, <a href="#s1-p0">line 1</a></h3>' in twin
    # Words only in the removed copy are marked in it; words only in the twin, in the twin.
    assert parse(copy).marks == [("only-copy", "*"), ("only-copy", "February,")]
    assert parse(twin).marks == [("only-twin", "January,")]
    assert "only in the removed copy" in page.split("<main>")[0]
    assert "only in the kept twin" in page.split("<main>")[0]


def test_exact_copies_say_they_are_the_same(page: str) -> None:
    seed = section(page, 2)
    assert seed.count('<div class="pair">') == 11
    assert seed.count("same words") == 11
    assert "<mark" not in seed


def test_chinese_is_diffed_by_characters(page: str) -> None:
    chinese = section(page, 4)
    copy, twin = chinese.split('<div class="side twin">')
    assert parse(copy).marks == [("only-copy", "*"), ("only-copy", "明年一")]
    assert parse(twin).marks == [("only-twin", "下个")]


def test_why_the_twin_was_kept(page: str) -> None:
    assert "Kept line 1 because: it reads as the article, this copy sits in a link" in section(
        page, 1
    )
    assert section(page, 2).count("Kept line 2 because: the first of equal copies.") == 1
