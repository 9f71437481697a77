"""The unified diff deletes the paragraphs that were removed, at the line
numbers the text, JSON and HTML reports give, never an equal-looking twin."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dedupe.cleaning.pipeline import CleanResult, clean
from dedupe.cleaning.report import format_diff, report_data

SEED_TEXT = (Path(__file__).resolve().parents[1] / "samples" / "rudaw-article.txt").read_text(
    encoding="utf-8"
)
HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
POOL = [
    "The river rose overnight and closed the old bridge to traffic until further notice.",
    "Officials said the new school would open in September with room for 600 pupils.",
    "A late frost damaged most of the apple blossom in the valley orchards this spring.",
    "The council voted to keep the library open on Sundays after a public petition.",
    "Fishermen reported the largest catch of mackerel in a decade off the north coast.",
    "Train services between the two cities will resume on Monday, the operator said.",
]


def changed_lines(diff: str) -> tuple[list[int], list[str]]:
    """The original line numbers the diff deletes, and the lines it adds."""
    deleted: list[int] = []
    added: list[str] = []
    line = 0
    for row in diff.splitlines(keepends=True)[2:]:
        head = HUNK.match(row)
        if head:
            line = int(head.group(1)) - (0 if head.group(2) != "0" else -1)
        elif row.startswith("-"):
            deleted.append(line)
            line += 1
        elif row.startswith("+"):
            added.append(row[1:])
        elif row.startswith(" "):
            line += 1
    return deleted, added


def removed_lines(result: CleanResult) -> list[int]:
    return sorted(
        n
        for r in report_data(result, "x")["removed"]
        for n in range(r["line_start"], r["line_end"] + 1)
    )


def test_seed_diff_deletes_lines_13_to_23() -> None:
    result = clean(SEED_TEXT)
    diff = format_diff(result, "rudaw.txt")
    deleted, added = changed_lines(diff)
    assert deleted == list(range(13, 24)) == removed_lines(result)
    assert added == []
    assert diff.splitlines()[2] == "@@ -10,17 +10,6 @@"


def test_diff_deletes_the_removed_copy_not_the_first_equal_line() -> None:
    # The prose copy on line 3 is kept; the equal-looking list item on line 1 goes.
    text = f"* {POOL[0]}\n{POOL[1]}\n{POOL[0]}\n{POOL[2]}\n"
    result = clean(text, min_words=1)
    assert removed_lines(result) == [1]
    deleted, added = changed_lines(format_diff(result, "x.txt"))
    assert (deleted, added) == ([1], [])


def test_blank_line_paragraphs_go_with_their_separator() -> None:
    text = "\n\n".join(
        [
            "First paragraph wraps\nover two lines here.",
            "Second paragraph wraps\nover two lines as well.",
            "First paragraph wraps\nover two lines here.",
            "Last one, kept.",
        ]
    )
    result = clean(text + "\n", min_words=1, mode="blank-line")
    assert removed_lines(result) == [7, 8]
    deleted, added = changed_lines(format_diff(result, "x.txt"))
    assert (deleted, added) == ([7, 8, 9], [])


@pytest.mark.parametrize("seed", range(40))
def test_random_texts_delete_exactly_the_removed_lines(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    lines = [rng.choice(POOL) for _ in range(rng.randint(2, 12))]
    if rng.random() < 0.3:
        lines = [f"* {line}" if rng.random() < 0.3 else line for line in lines]
    ending = rng.choice(["\n", "\r\n"])
    text = ending.join(lines) + rng.choice([ending, ""])
    result = clean(text, min_words=1, mode="line")
    diff = format_diff(result, "x.txt")
    deleted, added = changed_lines(diff)
    if text.endswith("\n") or len(lines) not in deleted:
        assert deleted == removed_lines(result)
        assert added == []
    else:
        # A cut tail: the last kept line loses its ending, as the cleaned text does.
        last_kept = max(set(range(1, len(lines) + 1)) - set(removed_lines(result)))
        assert deleted == sorted({*removed_lines(result), last_kept})
        assert [a.rstrip("\r\n") for a in added] == [lines[last_kept - 1]]
    if shutil.which("patch") is None:
        return
    (tmp_path / "x.txt").write_bytes(text.encode())
    (tmp_path / "fix.patch").write_bytes(diff.encode())
    if diff:
        applied = subprocess.run(
            ["patch", "-p1", "--quiet", "--input", "fix.patch"],
            cwd=tmp_path,
            capture_output=True,
            check=False,
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (tmp_path / "x.txt").read_bytes() == result.text.encode()
