"""Which copy stays, and what goes with it: the rules of issue-sized mistakes on
real converter output, each as a small text a scraper would produce."""

from __future__ import annotations

import json

import pytest

from dedupe import clean
from dedupe.cleaning.pipeline import KeptBecause
from dedupe.cleaning.report import format_text, report_data
from dedupe.core.forms import Form, form_of, is_fragment, link_only
from dedupe.core.normalize import normalize
from dedupe.core.verify import Method

AP = (
    "WASHINGTON (AP) \u2014 Ambassador Nikki Haley said Tuesday that the United States "
    "will keep pressing the council to act on the crisis, and that patience with "
    "the government in the capital had all but run out after months of talks."
)
BODY = [
    "The council met for six hours on Monday and adjourned without a vote, "
    "diplomats said, as two members asked for more time to read the draft.",
    "A second session is planned for Thursday, when the text could be put to a "
    "vote if the remaining objections are settled over the coming days.",
    "Officials from three delegations said privately that the wording on "
    "sanctions was the main sticking point between the capitals involved.",
    "The draft would also set up a panel of experts to report every ninety days "
    "on whether the measures were being carried out by member states.",
]


def lines_of(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def test_forms() -> None:
    assert form_of(AP) is Form.PROSE
    assert form_of(f"* {AP}") is Form.WRAPPED
    assert form_of(f"\ufeff* {AP}") is Form.WRAPPED
    assert form_of("[Alden: He is sniffing me. Stop it, Lexi.]") is Form.PROSE
    share = f"[Pinterest](<http://pinterest.com/pin/create/button/?url=x&description={AP}>)"
    assert form_of(share) is Form.MARKUP
    assert form_of('{"@context": "http://schema.org", "articleBody": "x"}') is Form.MARKUP
    assert link_only("  * [World](https://www.nytimes.com/section/world)")
    assert not link_only("The [study](http://example.org/a) found more.")
    key = normalize(AP)
    assert is_fragment("WASHINGTON (AP) \u2014 Ambassador Nikki Haley said", "x", key)
    assert is_fragment("Ambassador Nikki Haley said Tuesday\u2026", "y", key)
    assert not is_fragment("It was a long day.", "it was a long day", key)


def test_share_link_copy_goes_and_the_article_line_stays() -> None:
    share = (
        "[Share on Pinterest](<http://pinterest.com/pin/create/button/?url=https://apnews.com/x"
        f"&description={AP}>)"
    )
    text = "\n\n".join([share, AP, *BODY]) + "\n"
    result = clean(text)
    assert AP in lines_of(result.text)
    assert share not in result.text
    (removal,) = result.removed
    assert removal.paragraph.text == share
    assert removal.kept_because is KeptBecause.ARTICLE
    # The rule is the default. With --keep first the share link comes first
    # and stays; the article's line reads better, so no lone match removes it.
    first = clean(text, keep="first")
    assert share in first.text
    assert AP in lines_of(first.text)


def test_image_caption_copy_goes_and_the_paragraph_stays() -> None:
    caption = f"  * ![{AP}](https://s.yimg.com/images/photo-123.jpg)"
    text = "\n".join([caption, *BODY[:2], AP, *BODY[2:]]) + "\n"
    result = clean(text)
    assert AP in lines_of(result.text)
    assert caption not in result.text


def test_blob_holding_the_body_goes_and_its_paragraphs_stay() -> None:
    article = [AP, *BODY]
    blob = '{"@type": "NewsArticle", "articleBody": "' + " ".join(article) + '"}'
    for text in ("\n\n".join([*article, blob]), "\n\n".join([" ".join(article), *article])):
        result = clean(text + "\n")
        assert lines_of(result.text) == article
        (removal,) = result.removed
        assert removal.method is Method.COVERED
        assert len(removal.twins) == len(article)
        assert removal.kept_because is KeptBecause.HOLDS


def test_merged_copy_goes_and_the_original_paragraphs_stay() -> None:
    article = [AP, *BODY, "He declined to comment.", "The talks resume next week."]
    merged = [" ".join(article[i : i + 2]) for i in range(0, len(article), 2)]
    result = clean("\n\n".join(article + merged) + "\n")
    assert lines_of(result.text) == article
    assert {r.method for r in result.removed} <= {Method.COVERED, Method.NEAR, Method.EXACT}


def test_a_sentence_pieced_from_phrases_of_others_stays() -> None:
    """A template filled with other names is new text, not a merged copy."""
    lines = [
        "Star Wars: The Last Jedi is currently streaming on Netflix and available to "
        "digitally rent on Google Play and YouTube.",
        "Ingrid Goes West is currently streaming on Hulu and available to digitally rent "
        "on YouTube and Google Play.",
        "BPM (Beats Per Minute) is a remarkably tender and stirring story of the Paris "
        "chapter of ACT UP, an AIDS activism group, in the early 1990s.",
        "BPM (Beats Per Minute) is currently streaming on Hulu and available to digitally "
        "rent on Google Play and YouTube.",
    ]
    text = "\n\n".join(lines) + "\n"
    assert clean(text).text == text


def test_items_alike_but_for_a_number_stay() -> None:
    items = [
        f"Regarding item# {n}, under sufficiently extreme conditions, quarks may become "
        "deconfined and exist as free particles in a hot plasma of quarks and gluons."
        for n in ("11111", "22222", "33333")
    ]
    text = "\n\n".join(items) + "\n"
    assert clean(text).text == text


def test_an_edited_copy_of_the_body_goes_whole() -> None:
    article = [AP, "Photo: Reuters", *BODY, "Related coverage", "More from the UN"]
    edited = [
        AP.replace("Tuesday", "Tuesdya"),
        "Photo: Reuters",
        BODY[0].replace("six hours", "7 hours"),
        BODY[1],
        BODY[2].replace("privately", "privatley"),
        BODY[3],
        "Related coverage",
        "More form the UN",
    ]
    result = clean("\n".join([*article, "Comments", *edited]) + "\n")
    assert lines_of(result.text) == [*article, "Comments"]


def test_a_menu_repeated_at_the_bottom_goes_as_a_block() -> None:
    menu = ["Home", "World news", "Business and markets", "Opinion and analysis", "Sport"]
    text = "\n".join([*menu, AP, *BODY, *menu]) + "\n"
    result = clean(text)
    assert lines_of(result.text) == [*menu, AP, *BODY]
    assert all(r.in_block for r in result.removed)


def test_a_numbered_list_shown_twice_goes_whole_or_not_at_all() -> None:
    most_read = []
    for n, title in enumerate(
        ["Quake hits coast", "Markets rally", "Team wins cup", "Storm warning", "New law"], 1
    ):
        most_read += [str(n), title]
    text = "\n".join(["Most read", *most_read, AP, *BODY, "Most read", *most_read]) + "\n"
    kept = lines_of(clean(text).text)
    assert kept == ["Most read", *most_read, AP, *BODY]


def test_a_chorus_stays() -> None:
    chorus = [
        "You know that you are the only one that I want",
        "The one that I want, one that I want",
        "You know that you are the only one that I need",
        "The one that I need, one that I need",
    ]
    verses = [
        ["I am pretty sure I do not need anything else", "This is the best feeling"],
        ["I know you have heard me say the same things before", "But this time is new"],
        ["Oh I have made up my mind", "I know just what I want"],
    ]
    song = []
    for verse in verses:
        song += [*verse, "Chorus:", *chorus, *chorus[:2]]
    text = "\n".join(song) + "\n"
    assert clean(text).text == text


def test_a_headline_in_a_second_list_goes_but_short_lines_stay() -> None:
    headline = "Attack stokes instability fears in North Africa"
    text = "\n".join([headline, "Share", AP, *BODY, "Share", "Most popular", headline]) + "\n"
    result = clean(text)
    assert result.text.count(headline) == 1
    assert result.text.count("Share") == 2


def test_reports_say_why_the_twin_stayed() -> None:
    share = f"* [{AP}](https://example.org/share?u=1)"
    result = clean("\n".join([share, AP, *BODY]) + "\n")
    report = format_text(result, "page.txt")
    assert "kept line 2: it reads as the article" in report
    data = report_data(result, "page.txt")
    assert [r["kept_because"] for r in data["removed"]] == ["article"]
    json.dumps(data)


@pytest.mark.parametrize("keep", ["article", "first", "longest"])
def test_every_policy_keeps_one_copy_of_an_exact_repeat(keep: str) -> None:
    text = "\n".join([AP, *BODY, AP]) + "\n"
    result = clean(text, keep=keep)
    assert lines_of(result.text).count(AP) == 1


def test_numbers_of_another_list_beside_a_repeat_stay() -> None:
    """A repeated paragraph followed by a different numbered list: the numbers
    belong to their list and stay with it."""
    first = ["1", "Quake hits coast", "2", "Markets rally", "3", "Team wins cup"]
    second = ["1", "Other story", "2", "Another one", "3", "Third one", "4", "Fourth"]
    text = "\n".join([AP, *first, BODY[0], AP, *second]) + "\n"
    result = clean(text)
    assert [r.paragraph.text for r in result.removed] == [AP]


def test_a_lone_short_line_stays_at_a_low_threshold() -> None:
    text = "\n".join(["Share", AP, "Something else, said here.", "Share", BODY[0]]) + "\n"
    assert clean(text, threshold=0.6).text == text


def test_a_lone_copy_far_away_with_a_typo_goes() -> None:
    edited = AP.replace("pressing", "presssing")
    text = "\n".join([AP, *BODY, "A line said once.", "Another line said once.", edited]) + "\n"
    result = clean(text)
    assert [r.paragraph.text for r in result.removed] == [edited]
