"""Word diffs of the text and HTML reports: what counts as a word."""

from __future__ import annotations

import re

import pytest

from dedupe.cleaning.pipeline import CleanResult, clean
from dedupe.cleaning.report import format_html, format_text

SENTENCE = (
    "The deaths of the commanders were followed by a non-binding resolution from the Iraqi "
    "parliament in {month}, calling for the withdrawal of US troops in the country and for "
    "an end to the agreements that had kept them there since the war against ISIS began."
)
OTHER = "Something else entirely, said once and only once in this short text."


def near(first: str, second: str) -> CleanResult:
    result = clean(f"{first}\n{OTHER}\n{second}\n")
    assert [r.method.value for r in result.removed] == ["near"]
    return result


@pytest.mark.parametrize("bom_on", ["twin", "copy", "both"])
def test_a_bom_is_no_word_change(bom_on: str) -> None:
    # A BOM starts a file, and the middle of two files joined with cat.
    twin = ("\ufeff" if bom_on != "copy" else "") + SENTENCE.format(month="January")
    copy = "* " + ("\ufeff" if bom_on != "twin" else "") + SENTENCE.format(month="February")
    result = near(twin, copy)
    report = format_text(result, "bom.txt")
    diff = report.splitlines()[3]
    assert "\ufeff" not in diff
    assert diff.startswith("    {+*+} The deaths of \u2026 "), diff
    assert re.findall(r"\[-.*?-\]|\{\+.*?\+\}", diff) == ["{+*+}", "[-January,-]", "{+February,+}"]
    page = format_html([("bom.txt", result)]).split("<main>")[1]
    marked = re.findall(r'<mark class="only-(?:copy|twin)">(.*?)</mark>', page)
    assert marked
    assert not any("The" in m or "\ufeff" in m for m in marked), marked
