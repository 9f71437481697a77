"""What `dedupe clean` removes from real scraped pages, next to two baselines.

Pages: the trafilatura evaluation set, Mozilla Readability's and goose3's test
pages (tests/data/pages). For every method it counts, per page and in total:

* repeats of substantial paragraphs (15 words or more): exact (equal after
  normalisation) and near (word-triple Jaccard >= 0.8 with an earlier one,
  computed exactly over all pairs), and how many of them were removed;
* repeats of short lines (menus, "Share", a chorus line), and how many were removed;
* must-keep snippets (trafilatura set) that lost their last copy;
* lines of the goose3 lyrics page's chorus that were removed.

Baselines in the same run: exact line dedup (keep the first copy of each
stripped line: `awk '!seen[$0]++'`), and exact dedup of normalised lines.

    python benchmarks/clean_quality.py [--json PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dedupe import clean
from dedupe.core.normalize import normalize, tokens
from dedupe.core.paragraphs import ParagraphMode, split_paragraphs

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "data" / "pages"
LONG = 15


def pages(limit: int | None) -> Iterator[dict[str, Any]]:
    count = 0
    for name in ("trafilatura-eval", "readability", "goose3"):
        with gzip.open(PAGES / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield json.loads(line)


def triples(key: str) -> set[str]:
    toks = tokens(key)
    return {" ".join(toks[i : i + 3]) for i in range(len(toks) - 2)}


@dataclass
class Truth:
    """Which lines of a page repeat an earlier one, by kind."""

    exact_long: set[int] = field(default_factory=set)
    near_long: set[int] = field(default_factory=set)
    short: set[int] = field(default_factory=set)


def truth(text: str) -> Truth:
    out = Truth()
    seen: set[str] = set()
    earlier_long: list[set[str]] = []
    for p in split_paragraphs(text, mode=ParagraphMode.LINE):
        key = normalize(p.text)
        if not key:
            continue
        long = len(tokens(key)) >= LONG
        if key in seen:
            (out.exact_long if long else out.short).add(p.line_start)
        elif long:
            mine = triples(key)
            if any(len(mine & s) / len(mine | s) >= 0.8 for s in earlier_long):
                out.near_long.add(p.line_start)
        seen.add(key)
        if long:
            earlier_long.append(triples(key))
    return out


def removed_lines_dedupe(text: str) -> tuple[str, set[int]]:
    result = clean(text, mode=ParagraphMode.LINE)
    lines = {
        n for r in result.removed for n in range(r.paragraph.line_start, r.paragraph.line_end + 1)
    }
    return result.text, lines


def _line_dedup(text: str, key: Callable[[str], str]) -> tuple[str, set[int]]:
    seen: set[str] = set()
    out, gone = [], set()
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        k = key(line)
        if k and k in seen:
            gone.add(number)
            continue
        seen.add(k)
        out.append(line)
    return "".join(out), gone


def removed_lines_exact(text: str) -> tuple[str, set[int]]:
    return _line_dedup(text, str.strip)


def removed_lines_normalised(text: str) -> tuple[str, set[int]]:
    return _line_dedup(text, normalize)


METHODS: dict[str, Callable[[str], tuple[str, set[int]]]] = {
    "dedupe clean": removed_lines_dedupe,
    "exact line dedup": removed_lines_exact,
    "normalised line dedup": removed_lines_normalised,
}


@dataclass
class Score:
    exact_long: int = 0
    exact_long_removed: int = 0
    near_long: int = 0
    near_long_removed: int = 0
    short: int = 0
    short_removed: int = 0
    lines_removed: int = 0
    must_keep: int = 0
    must_keep_lost: int = 0
    chorus_lines_removed: int = 0
    seconds: float = 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/clean_quality.json")
    parser.add_argument("--limit", type=int, default=None, help="first N pages only")
    args = parser.parse_args(argv)

    scores = {name: Score() for name in METHODS}
    for page in pages(args.limit):
        text = page["page_text"]
        want = truth(text)
        for name, method in METHODS.items():
            score = scores[name]
            start = time.perf_counter()
            cleaned, gone = method(text)
            score.seconds += time.perf_counter() - start
            score.exact_long += len(want.exact_long)
            score.exact_long_removed += len(want.exact_long & gone)
            score.near_long += len(want.near_long)
            score.near_long_removed += len(want.near_long & gone)
            score.short += len(want.short)
            score.short_removed += len(want.short & gone)
            score.lines_removed += len(gone)
            for snippet in page.get("must_keep") or []:
                if snippet in text:
                    score.must_keep += 1
                    if snippet not in cleaned and normalize(snippet) not in normalize(cleaned):
                        score.must_keep_lost += 1
            if page["id"] == "goose3/test_allnewlyrics1":
                score.chorus_lines_removed = len(gone)

    header = (
        f"{'method':<24}{'exact>=15w':>12}{'near>=15w':>12}{'short':>12}"
        f"{'lines cut':>11}{'must-keep lost':>16}{'chorus cut':>12}{'seconds':>9}"
    )
    print(header)
    for name, s in scores.items():
        print(
            f"{name:<24}"
            f"{s.exact_long_removed:>6}/{s.exact_long:<5}"
            f"{s.near_long_removed:>6}/{s.near_long:<5}"
            f"{s.short_removed:>6}/{s.short:<5}"
            f"{s.lines_removed:>11}"
            f"{s.must_keep_lost:>9}/{s.must_keep:<6}"
            f"{s.chorus_lines_removed:>12}"
            f"{s.seconds:>9.2f}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({name: asdict(s) for name, s in scores.items()}, indent=2) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
