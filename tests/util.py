"""Helpers shared by the tests: golden cases and the report summary they compare."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dedupe.cleaning.pipeline import CleanResult

DATA = Path(__file__).parent / "data"
CASES = DATA / "cases"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Case:
    """One golden case: input, options, expected text and expected report summary."""

    name: str
    note: str
    options: dict[str, Any]
    input: str
    expected: str
    report: dict[str, Any]


def read_case(path: Path) -> Case:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Case(
        path.stem, raw["note"], raw["options"], raw["input"], raw["expected"], raw["report"]
    )


def all_cases() -> list[Case]:
    return [read_case(p) for p in sorted(CASES.glob("*.json"))]


def summary(result: CleanResult) -> dict[str, Any]:
    """The part of a result a golden case pins: blocks and removals by line number."""
    return {
        "blocks": [
            [b.line_start, b.line_end, b.twin_line_start, b.twin_line_end, len(b.paragraphs)]
            for b in result.blocks
        ],
        "removed": [
            [r.paragraph.line_start, r.twins[0].line_start, r.method.value, r.in_block]
            for r in result.removed
        ],
    }


def endless_writer(words: int) -> str:
    """A Python program that adds documents of ``words`` words to the index
    named by its first argument until it is killed."""
    return f"""
import sys
from dedupe import NearDuplicateIndex
index = NearDuplicateIndex(sys.argv[1])
body = " ".join(f"word{{i}}" for i in range({words}))
i = 0
while True:
    index.add(f"doc{{i}}", f"document {{i}} " + body + f" end {{i}}", site="a.example")
    i += 1
"""
