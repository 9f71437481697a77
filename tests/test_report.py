"""The pure report formatters, on results of the real cleaning pipeline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dedupe.cleaning.pipeline import CleanResult, clean
from dedupe.cleaning.report import (
    SCHEMA,
    format_diff,
    format_html,
    format_json,
    format_text,
    report_data,
)

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SEED_TEXT = (SAMPLES / "rudaw-article.txt").read_bytes().decode("utf-8")
EXPECTED_TEXT = (SAMPLES / "rudaw-article.expected.txt").read_bytes().decode("utf-8")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

SENTENCE = (
    "The deaths of the commanders were followed by a non-binding resolution from the Iraqi "
    "parliament in {month}, calling for the withdrawal of US troops in the country and for "
    "an end to the agreements that had kept them there since the war against ISIS began."
)


@pytest.fixture(scope="module")
def seed() -> CleanResult:
    return clean(SEED_TEXT)


@pytest.fixture(scope="module")
def near() -> CleanResult:
    text = "\n".join(
        [
            SENTENCE.format(month="January"),
            "Something else entirely, said once and only once in this short text.",
            # A list item: it reads worse than the article's own line, so it goes
            # though it differs (a lone near copy of equal standing would stay).
            "* " + SENTENCE.format(month="February"),
            "",
        ]
    )
    result = clean(text)
    assert [r.method.value for r in result.removed] == ["near"]
    return result


def test_text_seed_lists_the_block_and_each_paragraph(seed: CleanResult) -> None:
    lines = format_text(seed, "rudaw.txt").splitlines()
    assert lines[0] == "rudaw.txt"
    assert lines[1] == "block 1: lines 13-23 repeat lines 2-12 (11 paragraphs, exact)"
    entries = lines[2:-1]
    assert len(entries) == 11
    for n, entry in enumerate(entries):
        assert re.match(rf"  line {13 + n} +repeats line {2 + n} +exact +1\.0000  \S", entry)
    assert lines[-1] == "removed 11 of 29 paragraphs, 3,266 of 7,490 characters"


def test_text_when_nothing_is_removed_is_one_line() -> None:
    result = clean(EXPECTED_TEXT)
    assert format_text(result, "clean.txt") == "clean.txt: nothing removed (18 paragraphs)\n"


def test_text_near_duplicate_has_a_word_diff(near: CleanResult) -> None:
    report = format_text(near, "near.txt")
    entry, diff = report.splitlines()[2:4]
    assert re.match(r"  line 3 repeats line 1  near  0\.\d{4}  \* The deaths", entry)
    assert diff.startswith("    {+*+} The deaths of \u2026 ")
    assert "[-January,-] {+February,+}" in diff
    assert diff.endswith("\u2026")


def test_colour_only_adds_styles(near: CleanResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    plain = format_text(near, "near.txt")
    coloured = format_text(near, "near.txt", color=True)
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert ANSI.sub("", coloured) == plain


def test_excerpts_drop_control_characters() -> None:
    line = "\x1b[2J\x1b]0;pwned\x07 A paragraph long enough to be removed when it shows up again."
    result = clean(f"{line}\n{line}\n", min_words=1)
    assert result.removed
    report = format_text(result, "x.txt")
    assert "\x1b" not in report
    assert "\x07" not in report


def test_diff_is_empty_when_nothing_is_removed() -> None:
    assert format_diff(clean(EXPECTED_TEXT), "clean.txt") == ""


def test_diff_headers_and_no_final_newline(seed: CleanResult) -> None:
    diff = format_diff(seed, "rudaw.txt")
    assert diff.startswith("--- a/rudaw.txt\n+++ b/rudaw.txt\n@@ ")
    assert diff.count("\n-") == 11
    assert "\n+" not in diff.split("\n", 2)[2]
    tail = clean("One paragraph with enough words to count, surely.\nX\n" * 2, min_words=1)
    assert format_diff(tail, "t.txt").count("\\ No newline at end of file") == 0
    unterminated = clean(SEED_TEXT.rstrip("\n"))
    assert format_diff(unterminated, "u.txt").endswith("\n")


@pytest.mark.skipif(shutil.which("patch") is None, reason="patch is not installed")
@pytest.mark.parametrize(
    "text",
    [
        SEED_TEXT,
        SEED_TEXT.rstrip("\n"),
        "\ufeff" + SEED_TEXT.replace("\n", "\r\n"),
        SEED_TEXT.replace("\n", "\r\n").rstrip("\r\n"),
        SEED_TEXT + SEED_TEXT.splitlines()[3],
        "Line with a form feed \x0c and a line separator \u2028 inside it, long enough.\n" * 2,
    ],
    ids=["lf", "lf-unterminated", "bom-crlf", "crlf-unterminated", "last-line-removed", "odd"],
)
def test_diff_applies_with_patch(tmp_path: Path, text: str) -> None:
    result = clean(text, min_words=1)
    assert result.removed
    name = "some dir/the article.txt"
    target = tmp_path / name
    target.parent.mkdir()
    target.write_bytes(text.encode())
    patch = tmp_path / "fix.patch"
    patch.write_bytes(format_diff(result, name).encode())
    applied = subprocess.run(
        ["patch", "-p1", "--quiet", "--input", str(patch)],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert target.read_bytes() == result.text.encode()


def test_json_schema(seed: CleanResult) -> None:
    line = format_json(seed, "rudaw.txt")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    data = json.loads(line)
    assert data == report_data(seed, "rudaw.txt")
    assert list(data) == ["schema", "source", "options", "mode", "counts", "blocks", "removed"]
    assert data["schema"] == SCHEMA == "dedupe.clean/1"
    assert data["mode"] == "line"
    assert data["options"]["keep"] == "article"
    assert data["options"]["threshold"] == seed.options.threshold
    assert data["counts"] == {
        "paragraphs": 29,
        "removed": 11,
        "chars_in": len(SEED_TEXT),
        "chars_out": len(EXPECTED_TEXT),
        "chars_removed": len(SEED_TEXT) - len(EXPECTED_TEXT),
    }
    first = data["removed"][0]
    assert list(first) == [
        "paragraph",
        "line_start",
        "line_end",
        "start",
        "end",
        "twins",
        "method",
        "similarity",
        "in_block",
        "block",
        "kept_because",
        "text",
    ]
    assert first["twins"] == [{"paragraph": 1, "line_start": 2, "line_end": 2}]
    assert SEED_TEXT[first["start"] : first["end"]] == first["text"]
    assert (first["line_start"], first["method"], first["block"]) == (13, "exact", 1)


def test_json_rounds_similarity(near: CleanResult) -> None:
    (removed,) = report_data(near, "near.txt")["removed"]
    assert removed["similarity"] == round(near.removed[0].similarity, 4)
    assert len(str(removed["similarity"]).split(".")[1]) <= 4


def test_html_links_each_removed_paragraph_to_its_twin(seed: CleanResult) -> None:
    page = format_html([("rudaw.txt", seed), ("again.txt", seed)])
    assert page.count("<!DOCTYPE html>") == 1
    ids = set(re.findall(r'id="([^"]+)"', page))
    links = re.findall(r'href="#([^"]+)"', page)
    assert links
    assert set(links) <= ids
    assert page.count("<del>") == 22
    assert '<a href="#s1-p12">lines 13-23</a> repeat <a href="#s1-p1">lines 2-12</a>' in page
    assert "<script" not in page
    assert "http" not in page


def test_html_escapes_scraped_text() -> None:
    line = 'Click <a href="http://x.example">here</a> & <script>steal()</script> now, really now.'
    result = clean(f"{line}\n{line}\n", min_words=1)
    page = format_html([("<b>name</b>", result)])
    assert "<script>" not in page
    assert '<a href="http' not in page
    assert "<b>name" not in page
    assert "&lt;script&gt;steal()&lt;/script&gt;" in page


def test_html_shows_the_word_diff_of_a_near_duplicate(near: CleanResult) -> None:
    page = format_html([("near.txt", near)]).split("<main>")[1]
    assert re.findall(r'<mark class="only-copy">(.*?)</mark>', page) == ["*", "February,"]
    assert re.findall(r'<mark class="only-twin">(.*?)</mark>', page) == ["January,"]


def test_a_paragraph_of_several_lines_repeat_in_the_plural() -> None:
    para = (
        "The council met for six hours on Monday and adjourned\n"
        "without a vote, diplomats said, as two members asked\n"
        "for more time to read the draft text of the resolution."
    )
    other = "Another paragraph entirely, written over two lines of text\nand said once here."
    third = "Third paragraph here with some words in it, said\nonce only and never again."
    result = clean("\n\n".join([para, other, third, para]) + "\n")
    report = format_text(result, "x.txt")
    assert "  lines 11-13 repeat  lines 1-3  exact" in report
    assert "repeats lines" not in report
