"""The ground-truth cleaning benchmark (benchmarks/clean_truth.py): its metrics
must tell a wrong output from a right one, its edited copies must be what they
claim, and its stored data must load."""

from __future__ import annotations

import json
import random
import shutil
import textwrap
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from benchmarks import clean_truth as ct
from dedupe.core.normalize import normalize

MENU = "Home | World News | Business | Sport | Culture | Contact us"  # 58 characters
SHORT = "Share"
ARTICLE = [
    "The council voted on Tuesday to close the old bridge for repairs next spring.",
    "Residents said the detour would add twenty minutes to their daily commute.",
    "The work is expected to cost 4.2 million pounds, paid from the roads budget.",
]


def page(*middle: str) -> str:
    return "\n\n".join([MENU, SHORT, *middle, MENU, SHORT]) + "\n"


def test_right_output_scores_full_marks() -> None:
    source = page(*ARTICLE)
    right = "\n\n".join([MENU, SHORT, *ARTICLE, SHORT]) + "\n"
    s = ct.score_lines(ARTICLE, source, right)
    assert (s.article_kept, s.article_need) == (3, 3)
    assert (s.repeat_removed, s.repeat_extra) == (1, 1)
    assert s.article_gone == 0
    assert s.lost == ()
    assert s.junk_left == ()


def test_dropping_an_article_line_scores_below_full() -> None:
    source = page(*ARTICLE)
    output = "\n".join([MENU, ARTICLE[0], ARTICLE[2]])
    s = ct.score_lines(ARTICLE, source, output)
    assert s.article_kept < s.article_need
    assert (s.article_gone, s.article_distinct) == (1, 3)
    assert (s.article_singles_lost, s.article_singles) == (1, 3)
    assert [(text, n) for text, n, _ in s.lost] == [(ARTICLE[1], 1)]


def test_keeping_a_junk_repeat_scores_below_full() -> None:
    source = page(*ARTICLE)
    s = ct.score_lines(ARTICLE, source, source)
    assert (s.repeat_removed, s.repeat_extra) == (0, 1)
    assert s.junk_left == ((MENU, 1),)


def test_short_repeats_are_not_counted_as_repeats() -> None:
    # "Share" (5 characters) repeats too, but only lines of 40+ characters count.
    source = page(*ARTICLE)
    s = ct.score_lines(ARTICLE, source, "\n".join(ARTICLE))
    assert s.repeat_extra == 1


def test_lines_are_compared_by_their_normalised_key() -> None:
    # Markdown emphasis, list markers and extra spaces do not make another line.
    source = "\n".join([f"* **{ARTICLE[0]}**", f"  {ARTICLE[1]}  ", f"## {ARTICLE[2]}"])
    s = ct.score_lines(ARTICLE, source, source)
    assert (s.article_kept, s.article_need) == (3, 3)


def test_article_kept_counts_only_what_stands_as_a_line_in_the_input() -> None:
    # The second paragraph is not a line of its own in the input: nothing to keep.
    source = "\n".join([ARTICLE[0], ARTICLE[1] + " " + ARTICLE[2]])
    s = ct.score_lines(ARTICLE, source, source)
    assert (s.article_kept, s.article_need) == (1, 1)


def test_copies_the_article_itself_repeats_are_needed_not_junk() -> None:
    chorus = "We will sing this line again and again and again, all night long."
    article = [chorus, ARTICLE[0], chorus]
    source = "\n".join([chorus, ARTICLE[0], chorus, chorus])
    s = ct.score_lines(article, source, "\n".join([chorus, ARTICLE[0], chorus]))
    assert (s.article_kept, s.article_need) == (3, 3)
    assert (s.repeat_removed, s.repeat_extra) == (1, 1)
    cut = ct.score_lines(article, source, "\n".join([chorus, ARTICLE[0]]))
    assert (cut.article_kept, cut.article_need) == (2, 3)
    assert cut.article_gone == 0  # one copy is left


def test_singles_removed_counts_non_article_lines_seen_once() -> None:
    source = "\n".join(["Advertisement", *ARTICLE, "Related stories"])
    s = ct.score_lines(ARTICLE, source, "\n".join(ARTICLE))
    assert (s.singles_removed, s.singles) == (2, 2)


def test_a_lost_paragraph_shows_the_line_that_holds_its_text() -> None:
    link = f"[Pin it](http://pinterest.com/pin/?description={ARTICLE[1]})"
    holder = f"Pin it: {ARTICLE[1]} (share)"
    source = "\n".join([*ARTICLE, holder, link])
    s = ct.score_lines(ARTICLE, source, "\n".join([ARTICLE[0], ARTICLE[2], holder]))
    assert s.lost == ((ARTICLE[1], 1, holder),)


def test_blank_and_punctuation_only_lines_are_ignored() -> None:
    source = "\n".join([*ARTICLE, "", "   ", "---", "* * *"])
    s = ct.score_lines(ARTICLE, source, "\n".join(ARTICLE))
    assert s.singles == 0


def test_score_edit_right_only_for_the_article_in_order() -> None:
    assert ct.score_edit(ARTICLE, "\n\n".join(ARTICLE) + "\n").right
    swapped = ct.score_edit(ARTICLE, "\n".join([ARTICLE[1], ARTICLE[0], ARTICLE[2]]))
    assert not swapped.right
    assert (swapped.lost, swapped.leftover) == ((), ())
    short = ct.score_edit(ARTICLE, "\n".join([ARTICLE[0], ARTICLE[2], "left over"]))
    assert not short.right
    assert short.lost == (ARTICLE[1],)
    assert short.leftover == ("left over",)


LONG = [" ".join(f'word{i}x{j} it\'s "quoted" 12 times' for j in range(14)) for i in range(7)]


def test_exact_copy_is_the_article() -> None:
    assert ct.exact_copy(LONG) == LONG


def test_rewrapped_copy_fits_72_columns_and_keeps_the_words() -> None:
    copy = ct.rewrapped_copy(LONG)
    assert len(copy) == len(LONG)
    for wrapped, original in zip(copy, LONG, strict=True):
        assert "\n" in wrapped
        assert all(len(line) <= 72 for line in wrapped.split("\n"))
        assert wrapped.split() == original.split()


def test_merged_copy_joins_pairs() -> None:
    copy = ct.merged_copy(LONG)
    assert len(copy) == 4  # 7 paragraphs: 3 pairs and the last alone
    assert copy[0] == LONG[0] + " " + LONG[1]
    assert copy[-1] == LONG[-1]
    assert " ".join(copy) == " ".join(LONG)


def small_edit(edited: str, original: str) -> bool:
    """At most two typos, digits or space changes, once quote style is set aside."""
    return edited != original and Levenshtein.distance(straight(edited), original) <= 4


def straight(text: str) -> str:
    return text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))


def test_edited_copy_changes_every_paragraph_a_little() -> None:
    copy = ct.edited_copy(LONG, random.Random(1))
    assert len(copy) == len(LONG)
    for edited, original in zip(copy, LONG, strict=True):
        assert small_edit(edited, original), edited
    assert ct.edited_copy(LONG, random.Random(1)) == copy
    assert ct.edited_copy(LONG, random.Random(2)) != copy


@pytest.mark.parametrize(
    ("edit", "text", "check"),
    [
        (ct._typo, "the bridge", lambda t: sorted(t) == sorted("the bridge") and t != "the bridge"),
        (ct._number, "cost 42 pounds", lambda t: t[:5] == "cost " and t[5:7] != "42"),
        (ct._quotes, 'it\'s "so"', lambda t: t == "it\u2019s \u201cso\u201d"),
        (ct._quotes, "it\u2019s \u201cso\u201d", lambda t: t == 'it\'s "so"'),
        (ct._spaces, "a b", lambda t: t in ("a  b", "a b  ")),
    ],
)
def test_each_light_edit_does_what_it_says(edit, text, check) -> None:  # type: ignore[no-untyped-def]
    for seed in range(5):
        out = edit(random.Random(seed), text)
        assert out is not None
        assert check(out), out


def test_light_edits_that_do_not_apply_say_so() -> None:
    assert ct._number(random.Random(0), "no digits") is None
    assert ct._quotes(random.Random(0), "no quotes") is None
    assert ct._typo(random.Random(0), "a b c") is None


def test_truncated_copy_is_the_first_60_percent_edited() -> None:
    article = LONG + LONG[:3]  # 10 paragraphs
    copy = ct.truncated_copy(article, random.Random(3))
    assert len(copy) == 6
    for edited, original in zip(copy, article, strict=False):
        assert small_edit(edited, original), edited


def test_edited_input_is_the_article_then_the_copy() -> None:
    text = ct.edited_input(ARTICLE, ct.rewrapped_copy(ARTICLE))
    assert text.startswith("\n\n".join(ARTICLE) + "\n\n")
    assert text.endswith(textwrap.fill(ARTICLE[-1], 72) + "\n")


def test_edit_article_drops_repeats_and_empty_keys() -> None:
    assert ct.edit_article([ARTICLE[0], "---", ARTICLE[1], "  " + ARTICLE[0]]) == ARTICLE[:2]


def test_qualifies_needs_three_paragraphs_of_15_words() -> None:
    assert ct.qualifies(LONG[:3])
    assert not ct.qualifies([*LONG[:2], ARTICLE[0], ARTICLE[1]])


def test_python_line_dedup_keeps_first_exact_copies() -> None:
    assert ct.python_exact_dedup("a\nb\na\nb \n\n\nc\n") == "a\nb\nb \n\nc\n"
    assert ct.python_exact_dedup("a\na") == "a\n"


@pytest.mark.skipif(shutil.which("awk") is None, reason="no awk on this machine")
def test_awk_baseline_is_awk() -> None:
    text = "a\nb\na\nb \n\n\nc\u00e9\n" + "\n".join(ARTICLE * 2)
    assert ct.awk_dedup(text) == ct.python_exact_dedup(text)
    assert ct.awk_dedup(text + "\n") == ct.python_exact_dedup(text + "\n")


def test_normalised_dedup_keeps_the_first_line_per_key() -> None:
    text = "\n".join([ARTICLE[0], f"**{ARTICLE[0]}**", ARTICLE[1], "", "---", "---"])
    assert ct.normalised_dedup(text) == "\n".join([ARTICLE[0], ARTICLE[1], "", "---", "---"])


def test_trafilatura_dedup_drops_long_segments_seen_three_times() -> None:
    pytest.importorskip("trafilatura")
    long = " ".join(ARTICLE)  # over 100 characters
    text = "\n".join([long, MENU, long, MENU, long, MENU, long, MENU, long])
    assert ct.trafilatura_dedup(text) == "\n".join([long, MENU, long, MENU, long, MENU, MENU])


def test_article_paragraphs_split_at_block_elements() -> None:
    pytest.importorskip("lxml")
    html = (
        "<div><h1>Title</h1><p>One <b>two</b>\n  three</p>"
        "<blockquote><p>Quoted</p>- Someone</blockquote>"
        "<ul><li>first</li><li><p>second</p></li></ul>"
        "<p>line<br>break</p><pre>x = 1\n\n  y = 2</pre>"
        "<table><tr><td>cell</td><th>head</th></tr></table>"
        "<script>var no;</script></div>"
    )
    assert ct.article_paragraphs(html) == [
        "Title",
        "One two three",
        "Quoted",
        "- Someone",
        "first",
        "second",
        "line",
        "break",
        "x = 1",
        "y = 2",
        "cell",
        "head",
    ]


def test_stored_data_has_130_pages_through_the_converters() -> None:
    pages = ct.load()
    assert len(pages) == 130
    assert len({p["name"] for p in pages}) == 130
    for p in pages:
        assert {"html2text", "inscriptis", "html-text", "bs4"} <= set(p["converted"])
        assert len(p["converted"]) >= 4
        assert p["article"], p["name"]
        assert all(text.strip() for text in p["converted"].values()), p["name"]
    articles = sum(len(p["article"]) for p in pages)
    assert articles > 5000
    assert sum(ct.qualifies(ct.edit_article(p["article"])) for p in pages) >= 90


def test_main_writes_the_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "truth.json"
    args = ["--limit", "3", "--converter", "html2text", "--no-held", "--json", str(out)]
    assert ct.main([*args, "--show-failures", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("command: python benchmarks/clean_truth.py --limit 3")
    assert "dedupe clean" in printed
    assert "normalised line dedup" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    rows = {(r["method"], r["converter"]): r for r in result["totals"]}
    assert rows["dedupe clean", "html2text"]["pages"] == 3
    assert {r["kind"] for r in result["edited"]} == set(ct.KINDS)


def test_main_without_data_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ct.main(["--data", str(tmp_path / "missing.jsonl.gz")]) == 2
    assert "--build" in capsys.readouterr().err


def test_keys_here_are_the_projects_keys() -> None:
    # The benchmark must compare with the key dedupe itself uses.
    assert ct.normalize is normalize


def test_build_without_pages_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl.gz"
    assert ct.main(["--build", "--source", str(tmp_path / "none"), "--data", str(out)]) == 2
    assert "no page folders" in capsys.readouterr().err
    assert not out.exists()


def test_build_is_deterministic_and_matches_the_stored_data(tmp_path: Path) -> None:
    for module in ("bs4", "html_text", "html2text", "inscriptis", "trafilatura"):
        pytest.importorskip(module)
    if not ct.SOURCE.is_dir():
        pytest.skip("the shared page folders are not here")
    source = tmp_path / "pages"
    for name in ("001", "ars-1"):
        shutil.copytree(ct.SOURCE / name, source / name)
    first, second = tmp_path / "a" / "out.jsonl.gz", tmp_path / "b" / "out.jsonl.gz"
    assert ct.main(["--build", "--source", str(source), "--data", str(first)]) == 0
    assert ct.main(["--build", "--source", str(source), "--data", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    stored = {p["name"]: p for p in ct.load()}
    built = ct.load(first)
    assert [p["name"] for p in built] == ["001", "ars-1"]
    for p in built:
        assert p == stored[p["name"]]
