"""Which HTML extractor should ``dedupe clean page.html`` use?

For each raw page in ``--html-dir`` (Mozilla Readability's test pages, named
``NAME.html`` or ``readability-NAME.html``) the expected article is the
``main_text`` of the same page in ``--expected`` (JSON Lines, gzipped or not;
by default the copy in ``tests/data/pages/readability.jsonl.gz``). The raw
pages are not in the repository (``tests/data/html`` holds one), so
``--html-dir`` has no default. Each installed extractor is scored on:

* word recall / precision / F1: bag-of-words overlap of the extracted text with
  the expected article (comparison keys from :mod:`dedupe.core.normalize`);
* paragraph recall: the share of the article's paragraphs of 8 words or more
  that come out whole inside one extracted line (paragraph structure kept);
* lines: extracted lines per page (how much page furniture comes along);
* time per page.

Run: ``python -m benchmarks.html_extractors --html-dir DIR [--expected FILE] [--json PATH]``
(results go to ``benchmarks/results/html_extractors.json`` by default).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from dedupe.cleaning.html import Extractor, available, extract_text
from dedupe.core.normalize import normalize, tokens

HERE = Path(__file__).resolve().parent
EXPECTED = HERE.parent / "tests" / "data" / "pages" / "readability.jsonl.gz"
MIN_WORDS = 8


@dataclass(frozen=True, slots=True)
class PageScore:
    page: str
    extractor: str
    recall: float
    precision: float
    paragraph_recall: float
    lines: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Summary:
    extractor: str
    pages: int
    recall: float
    precision: float
    f1: float
    paragraph_recall: float
    lines: float
    ms_per_page: float


def _bag(text: str) -> Counter[str]:
    return Counter(tokens(normalize(text)))


def score(page: str, extractor: Extractor, html: str, expected: str) -> PageScore:
    start = time.perf_counter()
    _, text = extract_text(html, extractor=extractor)
    seconds = time.perf_counter() - start
    got, want = _bag(text), _bag(expected)
    common = sum((got & want).values())
    lines = [f" {normalize(line)} " for line in text.splitlines() if line.strip()]
    paragraphs = [
        normalize(p) for p in expected.splitlines() if len(tokens(normalize(p))) >= MIN_WORDS
    ]
    whole = sum(1 for p in paragraphs if any(f" {p} " in line for line in lines))
    return PageScore(
        page=page,
        extractor=extractor.value,
        recall=common / max(1, sum(want.values())),
        precision=common / max(1, sum(got.values())),
        paragraph_recall=whole / max(1, len(paragraphs)),
        lines=len(lines),
        seconds=seconds,
    )


def summarise(scores: list[PageScore]) -> Summary:
    recall = statistics.fmean(s.recall for s in scores)
    precision = statistics.fmean(s.precision for s in scores)
    return Summary(
        extractor=scores[0].extractor,
        pages=len(scores),
        recall=recall,
        precision=precision,
        f1=2 * recall * precision / (recall + precision) if recall + precision else 0.0,
        paragraph_recall=statistics.fmean(s.paragraph_recall for s in scores),
        lines=statistics.fmean(s.lines for s in scores),
        ms_per_page=1000 * statistics.fmean(s.seconds for s in scores),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--html-dir", type=Path, help="directory of raw Readability test pages (required)"
    )
    parser.add_argument("--expected", type=Path, default=EXPECTED, help="JSON Lines with main_text")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "html_extractors.json")
    args = parser.parse_args(argv)
    if args.html_dir is None or not args.html_dir.is_dir():
        parser.error(
            "--html-dir DIR is required: a directory of Mozilla Readability's raw test "
            "pages (NAME.html; tests/data/html holds one)"
        )

    expected: dict[str, str] = {}
    opener = gzip.open if args.expected.suffix == ".gz" else open
    with opener(args.expected, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            expected[row["id"].removeprefix("readability/")] = row["main_text"]
    pages = []
    for path in sorted(args.html_dir.glob("*.html")):
        name = path.stem.removeprefix("readability-")
        if name in expected:
            pages.append((name, path.read_text(encoding="utf-8", errors="replace")))
    if not pages:
        parser.error(f"no page in {args.html_dir} has an expected text in {args.expected}")

    summaries = []
    per_page = []
    for extractor in available():
        extract_text("<p>warm-up</p>", extractor=extractor)  # imports out of the timing
        scores = [score(name, extractor, html, expected[name]) for name, html in pages]
        per_page.extend(scores)
        summaries.append(summarise(scores))

    header = f"{'extractor':<12} {'pages':>5} {'recall':>7} {'prec.':>7} {'F1':>7} "
    header += f"{'para.rec':>8} {'lines':>6} {'ms/page':>8}"
    print(header)
    for s in summaries:
        print(
            f"{s.extractor:<12} {s.pages:>5} {s.recall:>7.3f} {s.precision:>7.3f} {s.f1:>7.3f} "
            f"{s.paragraph_recall:>8.3f} {s.lines:>6.0f} {s.ms_per_page:>8.1f}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"summary": [asdict(s) for s in summaries], "pages": [asdict(p) for p in per_page]},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
