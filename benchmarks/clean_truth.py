"""What `dedupe clean` keeps and removes on real converter output, against ground truth.

Data (``tests/data/truth/converted.jsonl.gz``, made by ``--build``): Mozilla
Readability's 130 test pages, each turned into text by the converters
scrapers use (html2text with ``body_width=0`` and its default markdown
links, inscriptis, html-text, BeautifulSoup ``get_text("\\n")``, trafilatura
with its fallbacks), and the article's paragraphs taken from the page's
``expected.html`` (the text of each block element: p, li, h1-h6, blockquote,
pre lines, td/th ...; whitespace collapsed; ``<br>`` ends a paragraph).

Measured in lines: every non-blank line of input and output is a unit, keyed
by :func:`dedupe.core.normalize.normalize`; lines whose key is empty are ignored.

* article kept: for each article paragraph key, need = min(times it is an
  article paragraph, times it stands as its own line in the input); the share
  of the needs still standing as their own line in the output. Target 100%.
* repeats removed: for each key of a line of 40 characters or more (stripped)
  that occurs k >= 2 times in the input, extra = k - max(1, times it is an
  article paragraph); removed = min(extra, k - times in the output), at least
  0; the share removed. Target >= 95%.
* article gone: distinct article paragraphs (keys) standing in the input of
  which no copy is left (a paragraph the article repeats, cut to one copy,
  lowers "article kept" but is not gone).
* singles removed (informational): non-article lines whose key occurs once
  in the input and is gone from the output; article singles lost: article
  paragraphs standing once in the input that are gone.
* edited copies: for pages with at least 3 article paragraphs of 15 words or
  more, input = the article (one paragraph a line, blank lines between)
  followed by a copy that is exact / lightly edited (seeded typos, a changed
  digit, straight<->curly quotes, doubled or trailing spaces; one or two a
  paragraph) / re-wrapped at 72 columns / merged in pairs / truncated at 60%
  with light edits. Right when the output's non-blank stripped lines are the
  article's paragraphs, in order.
* still held: the seed byte for byte, goose3's lyrics page untouched,
  no trafilatura must-keep snippet losing its last copy (tests/data/pages,
  the pages of benchmarks/clean_quality.py; its checks live inside its main(),
  so they are redone here on the same pages), idempotence on every converter
  input. ``--no-held`` skips them all.
* dedupe clean is called as a user would, ``clean(text)`` (``--mode`` to
  force line or blank-line paragraphs); the measurement is in lines anyway.

Baselines, same metrics: exact line dedup (the real ``awk '!seen[$0]++'``
when awk is on the PATH), normalised line dedup (first line per key), and
trafilatura's segment dedup (``trafilatura.deduplication.duplicate_test``
with a fresh ``LRUCache`` per text and trafilatura's default settings,
applied to each non-blank line as one element: a line of more than 100
characters goes from its fourth occurrence on).

    python benchmarks/clean_truth.py [--converter NAME] [--kind KIND] [--page NAME]
        [--limit N] [--workers N] [--no-baselines] [--no-held] [--show-failures N]
        [--json PATH]
    python benchmarks/clean_truth.py --build [--source DIR]   # needs the converters
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import io
import json
import math
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dedupe import clean
from dedupe.core.normalize import normalize, tokens
from dedupe.core.paragraphs import ParagraphMode

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "tests" / "data" / "truth" / "converted.jsonl.gz"
PAGES = ROOT / "tests" / "data" / "pages"
SAMPLES = ROOT / "samples"
SOURCE = ROOT.parent / "shared" / "data" / "html" / "readability-test-pages"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "clean_truth.json"

CONVERTERS = ("html2text", "inscriptis", "html-text", "bs4", "trafilatura")
KINDS = ("exact", "edited", "rewrapped", "merged", "truncated")
REPEAT_CHARS = 40
LONG_WORDS = 15
MIN_LONG_PARAGRAPHS = 3
WRAP = 72
TRUNCATE = 0.6
SEED = 20240610
LYRICS = "goose3/test_allnewlyrics1"

# Line ends as dedupe.core.paragraphs sees them; str.splitlines would also split
# at form feeds and U+2028, which converters leave inside lines.
_LINE_END = re.compile(r"\r\n|\r|\n")


def lines(text: str) -> list[str]:
    """The non-blank lines of ``text``, unstripped."""
    return [line for line in _LINE_END.split(text) if line.strip()]


# ---- building the data ----

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LISTS = ("ul", "ol", "li", "dl", "dt", "dd")
_TABLES = ("table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th")
_BOXES = ("address", "article", "aside", "blockquote", "center", "details", "dialog", "div")
_MORE = ("fieldset", "figcaption", "figure", "footer", "form", "header", "legend", "main")
_BREAKS = ("nav", "p", "section", "summary", "hr", "br")
_BLOCK = frozenset((*_HEADINGS, *_LISTS, *_TABLES, *_BOXES, *_MORE, *_BREAKS))
_SKIP = frozenset(("script", "style", "noscript", "template"))


def article_paragraphs(html: str) -> list[str]:
    """The article's paragraphs in an ``expected.html``: the text between block
    boundaries (every block element and ``<br>`` starts and ends one), each
    line of a ``<pre>`` on its own, whitespace collapsed, empty ones dropped."""
    import lxml.html

    root = lxml.html.fromstring(html)
    out: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join("".join(buffer).split())
        if text:
            out.append(text)
        buffer.clear()

    def walk(element: Any) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag and tag.lower() not in _SKIP:
            tag = tag.lower()
            if tag == "pre":
                flush()
                out.extend(" ".join(s.split()) for s in element.text_content().splitlines())
                out[:] = [p for p in out if p]
            else:
                if tag in _BLOCK:
                    flush()
                if element.text:
                    buffer.append(element.text)
                for child in element:
                    walk(child)
                if tag in _BLOCK:
                    flush()
        if element.tail:
            buffer.append(element.tail)

    walk(root)
    flush()
    return out


def _convert_html2text(html: str) -> str:
    import html2text

    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping; links, images and emphasis as by default
    text: str = converter.handle(html)
    return text


def _convert_inscriptis(html: str) -> str:
    from inscriptis import get_text

    text: str = get_text(html)
    return text


def _convert_html_text(html: str) -> str:
    import html_text

    text: str = html_text.extract_text(html)
    return text


def _convert_bs4(html: str) -> str:
    from bs4 import BeautifulSoup

    text: str = BeautifulSoup(html, "lxml").get_text("\n")
    return text


def _convert_trafilatura(html: str) -> str:
    import trafilatura

    # Defaults: fallback extractors on (fast=False), no deduplication.
    return trafilatura.extract(html) or ""


_CONVERT: dict[str, Callable[[str], str]] = {
    "html2text": _convert_html2text,
    "inscriptis": _convert_inscriptis,
    "html-text": _convert_html_text,
    "bs4": _convert_bs4,
    "trafilatura": _convert_trafilatura,
}
_DISTRIBUTION = {
    "html2text": "html2text",
    "inscriptis": "inscriptis",
    "html-text": "html-text",
    "bs4": "beautifulsoup4",
    "trafilatura": "trafilatura",
}


def _convert_page(folder: Path) -> dict[str, Any]:
    source = gzip.decompress((folder / "source.html.gz").read_bytes()).decode("utf-8")
    expected = gzip.decompress((folder / "expected.html.gz").read_bytes()).decode("utf-8")
    return {
        "name": folder.name,
        "article": article_paragraphs(expected),
        "converted": {name: convert(source) for name, convert in _CONVERT.items()},
    }


def build(source: Path, out: Path, *, workers: int) -> int:
    """Convert every page folder under ``source`` and write ``out`` (gzip with
    no timestamp, pages by name, keys sorted: the same bytes on every run)."""
    folders = (
        sorted(p for p in source.iterdir() if (p / "source.html.gz").is_file())
        if source.is_dir()
        else []
    )
    if not folders:
        print(f"error: no page folders with source.html.gz in {source}", file=sys.stderr)
        return 2
    with _pool(workers) as run:
        pages = list(run(_convert_page, folders))
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
        for page in pages:
            f.write(json.dumps(page, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(raw.getvalue())
    tmp.replace(out)
    versions = {name: importlib.metadata.version(d) for name, d in _DISTRIBUTION.items()}
    (out.parent / "converters.json").write_text(
        json.dumps(versions, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{len(pages)} pages x {len(_CONVERT)} converters -> {out} ({len(raw.getvalue())} bytes)")
    return 0


def load(path: Path = TRUTH) -> list[dict[str, Any]]:
    """The stored pages: ``name``, ``article`` (paragraphs), ``converted``
    (converter name -> text)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# ---- methods ----


def dedupe_method(mode: ParagraphMode) -> Callable[[str], str]:
    def run(text: str) -> str:
        return clean(text, mode=mode).text

    return run


def awk_dedup(text: str) -> str:
    """``awk '!seen[$0]++'``, the real awk when one is on the PATH."""
    awk = shutil.which("awk")
    if awk is None:
        return python_exact_dedup(text)
    done = subprocess.run(
        [awk, "!seen[$0]++"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    return done.stdout.decode("utf-8")


def python_exact_dedup(text: str) -> str:
    """What ``awk '!seen[$0]++'`` does: the first copy of each exact line."""
    records = text.split("\n")
    if text.endswith("\n"):
        records.pop()
    seen: set[str] = set()
    out = []
    for record in records:
        if record not in seen:
            seen.add(record)
            out.append(record + "\n")  # awk ends every record it prints
    return "".join(out)


def normalised_dedup(text: str) -> str:
    """The first line of each :func:`normalize` key; lines with an empty key stay."""
    seen: set[str] = set()
    out = []
    for line in _LINE_END.split(text):
        key = normalize(line)
        if key and key in seen:
            continue
        seen.add(key)
        out.append(line)
    return "\n".join(out)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def trafilatura_dedup(text: str) -> str:
    """trafilatura's segment dedup as its extractor applies it to each element,
    here to each non-blank line: a fresh LRU cache per text, default settings
    (a segment of more than 100 characters goes once seen more than twice)."""
    from lxml import etree
    from trafilatura.deduplication import LRUCache, duplicate_test
    from trafilatura.settings import LRU_SIZE, Extractor

    options = Extractor(dedup=LRUCache(maxsize=LRU_SIZE))
    out = []
    for line in _LINE_END.split(text):
        if line.strip():
            element = etree.Element("p")
            element.text = _XML_INVALID.sub("", line)
            if duplicate_test(element, options):
                continue
        out.append(line)
    return "\n".join(out)


def methods(mode: ParagraphMode, *, baselines: bool) -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"dedupe clean": dedupe_method(mode)}
    if not baselines:
        return found
    if shutil.which("awk"):
        found["awk '!seen[$0]++'"] = awk_dedup
    else:
        found["exact line dedup (python, no awk)"] = python_exact_dedup
    found["normalised line dedup"] = normalised_dedup
    try:
        import trafilatura.deduplication  # noqa: F401
    except ImportError:
        pass
    else:
        found["trafilatura segment dedup"] = trafilatura_dedup
    return found


# ---- metrics on converter output ----


@dataclass(frozen=True, slots=True)
class LineScore:
    """One method on one input, in lines (see the module docstring).

    ``lost``: (input line, copies lost, an output line whose key holds the
    lost key or "") for article keys short of their need;
    ``junk_left``: (input line, copies left) for repeated keys not fully removed.
    """

    article_need: int
    article_kept: int
    article_distinct: int
    article_gone: int
    repeat_extra: int
    repeat_removed: int
    singles: int
    singles_removed: int
    article_singles: int
    article_singles_lost: int
    lost: tuple[tuple[str, int, str], ...] = ()
    junk_left: tuple[tuple[str, int], ...] = ()


def score_lines(article: Sequence[str], source: str, output: str) -> LineScore:
    """Score ``output`` (a method's result on ``source``) against the article's paragraphs."""
    want = Counter(k for k in map(normalize, article) if k)
    have: Counter[str] = Counter()
    width: dict[str, int] = {}
    first: dict[str, str] = {}
    for line in lines(source):
        key = normalize(line)
        if key:
            have[key] += 1
            width[key] = max(width.get(key, 0), len(line.strip()))
            first.setdefault(key, line.strip())
    out_lines = [(normalize(line), line.strip()) for line in lines(output)]
    got = Counter(k for k, _ in out_lines if k)

    need_total = kept_total = distinct = gone = 0
    lost = []
    for key, times in want.items():
        need = min(times, have[key])
        kept = min(need, got[key])
        need_total += need
        kept_total += kept
        distinct += need > 0
        gone += need > 0 and kept == 0
        if kept < need:
            holder = next(
                (line for k, line in out_lines if k != key and f" {key} " in f" {k} "), ""
            )
            lost.append((first[key], need - kept, holder))

    extra_total = removed_total = 0
    junk = []
    singles = singles_removed = article_singles = article_singles_lost = 0
    for key, k in have.items():
        if k == 1:
            if key in want:
                article_singles += 1
                article_singles_lost += got[key] == 0
            else:
                singles += 1
                singles_removed += got[key] == 0
            continue
        if width[key] < REPEAT_CHARS:
            continue
        extra = k - max(1, want[key])
        if extra <= 0:
            continue
        removed = min(extra, max(0, k - got[key]))
        extra_total += extra
        removed_total += removed
        if removed < extra:
            junk.append((first[key], extra - removed))
    return LineScore(
        article_need=need_total,
        article_kept=kept_total,
        article_distinct=distinct,
        article_gone=gone,
        repeat_extra=extra_total,
        repeat_removed=removed_total,
        singles=singles,
        singles_removed=singles_removed,
        article_singles=article_singles,
        article_singles_lost=article_singles_lost,
        lost=tuple(lost),
        junk_left=tuple(junk),
    )


# ---- edited copies ----


def edit_article(article: Sequence[str]) -> list[str]:
    """The article the edited-copy cases start from: paragraphs in order, those
    with an empty key or the key of an earlier one left out (an article that
    repeats itself has no single right answer)."""
    seen: set[str] = set()
    out = []
    for p in article:
        key = normalize(p)
        if key and key not in seen:
            seen.add(key)
            out.append(p)
    return out


def qualifies(article: Sequence[str]) -> bool:
    """Pages used for edited copies: 3 or more paragraphs of 15 words or more."""
    long = sum(1 for p in article if len(tokens(normalize(p))) >= LONG_WORDS)
    return long >= MIN_LONG_PARAGRAPHS


_WORD = re.compile(r"[^\W\d_]{4,}")
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _typo(rng: random.Random, text: str) -> str | None:
    """Two neighbouring letters swapped inside a word of 4 letters or more."""
    spots = [
        i
        for m in _WORD.finditer(text)
        for i in range(m.start() + 1, m.end() - 2)
        if text[i] != text[i + 1]
    ]
    if not spots:
        return None
    i = rng.choice(spots)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _number(rng: random.Random, text: str) -> str | None:
    spots = [i for i, c in enumerate(text) if "0" <= c <= "9"]
    if not spots:
        return None
    i = rng.choice(spots)
    digit = rng.choice([d for d in "0123456789" if d != text[i]])
    return text[:i] + digit + text[i + 1 :]


def _quotes(rng: random.Random, text: str) -> str | None:
    straight = text.translate(_CURLY)
    if straight != text:
        return straight
    if "'" not in text and '"' not in text:
        return None
    out, opened = [], False
    for c in text:
        if c == "'":
            out.append("\u2019")
        elif c == '"':
            out.append("\u201d" if opened else "\u201c")
            opened = not opened
        else:
            out.append(c)
    return "".join(out)


def _spaces(rng: random.Random, text: str) -> str | None:
    spots = [i for i, c in enumerate(text) if c == " "]
    if spots and rng.random() < 0.5:
        i = rng.choice(spots)
        return text[:i] + "  " + text[i + 1 :]
    return text + "  "


_EDITS = (_typo, _number, _quotes, _spaces)


def light_edit(rng: random.Random, text: str) -> str:
    """``text`` with one or two small edits (typo, digit, quote style, spaces)."""
    wanted = rng.choice((1, 2))
    done = 0
    for edit in rng.sample(_EDITS, len(_EDITS)):
        edited = edit(rng, text)
        if edited is not None and edited != text:
            text = edited
            done += 1
            if done == wanted:
                break
    return text


def exact_copy(article: Sequence[str]) -> list[str]:
    return list(article)


def edited_copy(article: Sequence[str], rng: random.Random) -> list[str]:
    return [light_edit(rng, p) for p in article]


def rewrapped_copy(article: Sequence[str], width: int = WRAP) -> list[str]:
    """Each paragraph hard-wrapped at ``width`` columns (one paragraph may hold newlines)."""
    return [textwrap.fill(p, width) for p in article]


def merged_copy(article: Sequence[str]) -> list[str]:
    """Paragraphs 1+2, 3+4, ... joined with a space (an odd last one alone)."""
    return [" ".join(article[i : i + 2]) for i in range(0, len(article), 2)]


def truncated_copy(
    article: Sequence[str], rng: random.Random, share: float = TRUNCATE
) -> list[str]:
    """The first ``share`` of the paragraphs (at least one), lightly edited."""
    keep = max(1, math.floor(len(article) * share))
    return edited_copy(article[:keep], rng)


def make_copy(kind: str, article: Sequence[str], rng: random.Random) -> list[str]:
    if kind == "exact":
        return exact_copy(article)
    if kind == "edited":
        return edited_copy(article, rng)
    if kind == "rewrapped":
        return rewrapped_copy(article)
    if kind == "merged":
        return merged_copy(article)
    if kind == "truncated":
        return truncated_copy(article, rng)
    raise ValueError(f"unknown kind {kind!r}")


def edited_input(article: Sequence[str], copy: Sequence[str]) -> str:
    """The article, then the copy, paragraphs separated by blank lines."""
    return "\n\n".join([*article, *copy]) + "\n"


@dataclass(frozen=True, slots=True)
class EditScore:
    """One edited-copy case: ``lost`` article paragraphs missing from the
    output, ``leftover`` output lines that are not article paragraphs."""

    right: bool
    lost: tuple[str, ...]
    leftover: tuple[str, ...]


def score_edit(article: Sequence[str], output: str) -> EditScore:
    got = [line.strip() for line in lines(output)]
    lost = Counter(article) - Counter(got)
    leftover = Counter(got) - Counter(article)
    return EditScore(
        right=got == list(article),
        lost=tuple(lost.elements()),
        leftover=tuple(leftover.elements()),
    )


# ---- running ----


@dataclass(frozen=True, slots=True)
class Options:
    mode: ParagraphMode
    converters: tuple[str, ...]
    kinds: tuple[str, ...]
    baselines: bool
    idempotence: bool
    seed: int


@dataclass(frozen=True, slots=True)
class PageResult:
    name: str
    edit_paragraphs: int  # paragraphs of the edited-copy article, 0 when the page is not used
    lines: dict[tuple[str, str], LineScore]  # (method, converter)
    edits: dict[tuple[str, str], EditScore]  # (method, kind)
    seconds: dict[str, float]  # method -> seconds on this page
    not_idempotent: tuple[str, ...]  # converters


def run_page(page: dict[str, Any], options: Options) -> PageResult:
    found = methods(options.mode, baselines=options.baselines)
    line_scores: dict[tuple[str, str], LineScore] = {}
    edit_scores: dict[tuple[str, str], EditScore] = {}
    seconds: dict[str, float] = dict.fromkeys(found, 0.0)
    not_idempotent = []
    article: list[str] = page["article"]
    for converter in options.converters:
        text = page["converted"].get(converter)
        if text is None:
            continue
        for name, method in found.items():
            start = time.perf_counter()
            output = method(text)
            seconds[name] += time.perf_counter() - start
            line_scores[name, converter] = score_lines(article, text, output)
            if options.idempotence and name == "dedupe clean" and method(output) != output:
                not_idempotent.append(converter)
    base = edit_article(article)
    used = qualifies(base)
    if used:
        for kind in options.kinds:
            rng = random.Random(f"{options.seed}:{page['name']}:{kind}")
            text = edited_input(base, make_copy(kind, base, rng))
            for name, method in found.items():
                start = time.perf_counter()
                output = method(text)
                seconds[name] += time.perf_counter() - start
                edit_scores[name, kind] = score_edit(base, output)
    return PageResult(
        page["name"],
        len(base) if used else 0,
        line_scores,
        edit_scores,
        seconds,
        tuple(not_idempotent),
    )


@dataclass(frozen=True, slots=True)
class Held:
    check: str
    passed: bool
    detail: str


def _reference_pages() -> Iterator[dict[str, Any]]:
    for name in ("trafilatura-eval", "readability", "goose3"):
        with gzip.open(PAGES / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def held_batch(batch: list[dict[str, Any]], mode: ParagraphMode) -> tuple[int, int, int | None]:
    """(must-keep snippets present, lost, lines removed from the goose3 lyrics
    page or None when it is not in ``batch``)."""
    present = lost = 0
    chorus = None
    for page in batch:
        text = page["page_text"]
        cleaned = clean(text, mode=mode).text
        for snippet in page.get("must_keep") or []:
            if snippet in text:
                present += 1
                if snippet not in cleaned and normalize(snippet) not in normalize(cleaned):
                    lost += 1
        if page["id"] == LYRICS:
            chorus = len(lines(text)) - len(lines(cleaned))
    return present, lost, chorus


def held_checks(
    mode: ParagraphMode, run: Callable[..., Iterable[Any]], not_idempotent: int, inputs: int
) -> list[Held]:
    """The seed byte for byte, the lyrics page, must-keep snippets (on the pages
    of benchmarks/clean_quality.py) and idempotence (counted by the caller)."""
    seed = (SAMPLES / "rudaw-article.txt").read_text(encoding="utf-8")
    expected = (SAMPLES / "rudaw-article.expected.txt").read_text(encoding="utf-8")
    same = clean(seed, mode=mode).text == expected
    out = [Held("seed byte for byte", same, "samples/rudaw-article.txt")]
    pages = list(_reference_pages())
    batches = [pages[i : i + 100] for i in range(0, len(pages), 100)]
    present = lost = 0
    chorus: int | None = None
    for p, gone, c in run(held_batch, batches, [mode] * len(batches)):
        present += p
        lost += gone
        chorus = c if c is not None else chorus
    out.append(
        Held(
            "goose3 lyrics page untouched",
            chorus == 0,
            "page not found" if chorus is None else f"{chorus} lines removed",
        )
    )
    out.append(Held("trafilatura must-keep snippets", lost == 0, f"{lost} of {present} lost"))
    out.append(
        Held(
            "idempotent on converter inputs",
            not_idempotent == 0,
            f"{not_idempotent} of {inputs} inputs change when cleaned again",
        )
    )
    return out


class _pool:
    """``with _pool(n) as run: run(fn, items, *more)``: a process pool for
    n > 1, a plain map otherwise (tracebacks stay readable)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> Callable[..., Iterator[Any]]:
        if self.workers > 1:
            self.executor = ProcessPoolExecutor(max_workers=self.workers)
            return self.executor.map
        return map

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)


# ---- report ----


@dataclass
class Total:
    pages: int = 0
    article_need: int = 0
    article_kept: int = 0
    article_distinct: int = 0
    article_gone: int = 0
    repeat_extra: int = 0
    repeat_removed: int = 0
    singles: int = 0
    singles_removed: int = 0
    article_singles: int = 0
    article_singles_lost: int = 0

    def add(self, s: LineScore) -> None:
        self.pages += 1
        self.article_need += s.article_need
        self.article_kept += s.article_kept
        self.article_distinct += s.article_distinct
        self.article_gone += s.article_gone
        self.repeat_extra += s.repeat_extra
        self.repeat_removed += s.repeat_removed
        self.singles += s.singles
        self.singles_removed += s.singles_removed
        self.article_singles += s.article_singles
        self.article_singles_lost += s.article_singles_lost


@dataclass
class EditTotal:
    cases: int = 0
    right: int = 0
    article: int = 0
    lost: int = 0
    leftover: int = 0


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:6.2f}% {f'{part}/{whole}':<12}" if whole else f"{'-':>7} {'':12}"


def _count(part: int, whole: int) -> str:
    return f"{part:>5}/{whole:<7}"


def report_lines(totals: dict[tuple[str, str], Total]) -> list[str]:
    """One row per (method, converter); the columns are described in the module docstring."""
    out = [
        f"{'method':<27}{'converter':<12}{'pages':>5}  {'article kept':<21}{'article gone':<14}"
        f"{'repeats removed':<21}{'singles removed':<21}{'article singles lost':<20}"
    ]
    for (method, converter), t in totals.items():
        out.append(
            f"{method:<27}{converter:<12}{t.pages:>5}  "
            f"{_share(t.article_kept, t.article_need)} "
            f"{_count(t.article_gone, t.article_distinct)} "
            f"{_share(t.repeat_removed, t.repeat_extra)} {_share(t.singles_removed, t.singles)} "
            f"{_count(t.article_singles_lost, t.article_singles)}"
        )
    return out


def report_edits(totals: dict[tuple[str, str], EditTotal]) -> list[str]:
    """One row per (method, kind of copy)."""
    out = [
        f"{'method':<27}{'kind':<12}{'cases':>5}  {'right':<21}"
        f"{'article paragraphs lost':<25}{'leftover copy lines':>19}"
    ]
    for (method, kind), t in totals.items():
        out.append(
            f"{method:<27}{kind:<12}{t.cases:>5}  {_share(t.right, t.cases)} "
            f"{f'{t.lost} of {t.article}':<25}{t.leftover:>19}"
        )
    return out


def _clip(text: str, width: int = 110) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _input_failures(
    results: Sequence[PageResult], count: int, lines_each: int, *, by_lost: bool
) -> list[str]:
    worst = []
    for r in results:
        for (method, converter), s in r.lines.items():
            lost = s.article_need - s.article_kept
            left = s.repeat_extra - s.repeat_removed
            bad = (lost, left) if by_lost else (left, lost)
            if method == "dedupe clean" and bad[0]:
                worst.append((bad, r.name, converter, s))
    worst.sort(key=lambda w: (-w[0][0], -w[0][1], w[1], w[2]))
    # One input a page (its worst converter), so a few bad pages do not fill the list.
    others = Counter(name for _, name, _, _ in worst)
    shown: set[str] = set()
    out = []
    for _, name, converter, s in worst:
        if name in shown:
            continue
        shown.add(name)
        if len(shown) > count:
            break
        also = f" (and {others[name] - 1} other converters)" if others[name] > 1 else ""
        out.append(
            f"== {name} [{converter}]: article {s.article_kept}/{s.article_need} kept, "
            f"repeats {s.repeat_removed}/{s.repeat_extra} removed{also}"
        )
        for text, n, holder in s.lost[:lines_each]:
            out.append(f"  - lost x{n}: {_clip(text)}")
            if holder:
                out.append(f"      inside: {_clip(holder)}")
        if len(s.lost) > lines_each:
            out.append(f"  - ... {len(s.lost) - lines_each} more lost")
        for text, n in s.junk_left[:lines_each]:
            out.append(f"  + left x{n}: {_clip(text)}")
        if len(s.junk_left) > lines_each:
            out.append(f"  + ... {len(s.junk_left) - lines_each} more left")
    return out


def show_failures(results: Sequence[PageResult], count: int, lines_each: int = 8) -> list[str]:
    """For dedupe clean: the ``count`` pages whose input lost the most article lines
    (with the output line still holding each one's text, if any), the
    ``count`` that left the most junk repeats (one converter a page), and the ``count`` worst
    edited-copy cases (most article paragraphs lost, then most lines left)."""
    out = [f"-- article lines lost: the {count} worst pages"]
    out += _input_failures(results, count, lines_each, by_lost=True)
    out += ["", f"-- junk repeats left: the {count} worst pages"]
    out += _input_failures(results, count, lines_each, by_lost=False)
    edits = [
        (kind, r.name, e)
        for r in results
        for (method, kind), e in r.edits.items()
        if method == "dedupe clean" and not e.right
    ]
    edits.sort(key=lambda x: (-len(x[2].lost), -len(x[2].leftover), KINDS.index(x[0]), x[1]))
    out += ["", f"-- edited copies: the {count} worst cases"]
    for kind, name, e in edits[:count]:
        out.append(
            f"== {kind} copy of {name}: {len(e.lost)} article paragraphs lost, "
            f"{len(e.leftover)} copy lines left"
        )
        out.extend(f"  - lost: {_clip(t)}" for t in e.lost[:lines_each])
        if len(e.lost) > lines_each:
            out.append(f"  - ... {len(e.lost) - lines_each} more lost")
        out.extend(f"  + left: {_clip(t)}" for t in e.leftover[:lines_each])
        if len(e.leftover) > lines_each:
            out.append(f"  + ... {len(e.leftover) - lines_each} more left")
        if not e.lost and not e.leftover:
            out.append("  (the article's lines, in another order)")
    return out


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="convert the pages, write --data")
    parser.add_argument("--source", type=Path, default=SOURCE, help="page folders for --build")
    parser.add_argument("--data", type=Path, default=TRUTH)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--limit", type=_positive, default=None, help="first N pages only")
    parser.add_argument("--page", action="append", default=[], help="pages whose name has this")
    parser.add_argument(
        "--converter", action="append", choices=CONVERTERS, help="only these (repeatable)"
    )
    parser.add_argument(
        "--kind", action="append", choices=KINDS, help="only these edited copies (repeatable)"
    )
    parser.add_argument("--workers", type=_positive, default=1, help="processes (default 1)")
    parser.add_argument(
        "--mode", choices=[m.value for m in ParagraphMode], default=ParagraphMode.AUTO.value
    )
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the edited copies")
    parser.add_argument("--no-baselines", action="store_true", help="dedupe clean only")
    parser.add_argument(
        "--no-held", action="store_true", help="skip the still-held checks (idempotence too)"
    )
    parser.add_argument(
        "--show-failures", type=_positive, default=0, metavar="N", help="print the N worst inputs"
    )
    args = parser.parse_args(argv)
    command = "python benchmarks/clean_truth.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    if args.build:
        return build(args.source, args.data, workers=args.workers)
    if not args.data.is_file():
        print(f"error: no data file {args.data}; make it with --build", file=sys.stderr)
        return 2

    pages = [p for p in load(args.data) if not args.page or any(s in p["name"] for s in args.page)]
    pages = pages[: args.limit]
    options = Options(
        mode=ParagraphMode(args.mode),
        converters=tuple(args.converter or CONVERTERS),
        kinds=tuple(args.kind or KINDS),
        baselines=not args.no_baselines,
        idempotence=not args.no_held,
        seed=args.seed,
    )
    start = time.perf_counter()
    with _pool(args.workers) as run:
        results = list(run(run_page, pages, [options] * len(pages)))
        not_idempotent = sum(len(r.not_idempotent) for r in results)
        inputs = sum(1 for r in results for (m, _c) in r.lines if m == "dedupe clean")
        held = [] if args.no_held else held_checks(options.mode, run, not_idempotent, inputs)
    elapsed = time.perf_counter() - start

    names = list(methods(options.mode, baselines=options.baselines))
    totals: dict[tuple[str, str], Total] = {}
    for method in names:
        for converter in (*options.converters, "all"):
            totals[method, converter] = Total()
    for r in results:
        for (method, converter), s in r.lines.items():
            totals[method, converter].add(s)
            totals[method, "all"].add(s)
    edit_totals: dict[tuple[str, str], EditTotal] = {}
    for method in names:
        for kind in options.kinds:
            edit_totals[method, kind] = EditTotal()
    for r in results:
        for (method, kind), e in r.edits.items():
            t = edit_totals[method, kind]
            t.cases += 1
            t.right += e.right
            t.article += r.edit_paragraphs
            t.lost += len(e.lost)
            t.leftover += len(e.leftover)
    seconds = dict.fromkeys(names, 0.0)
    for r in results:
        for method, spent in r.seconds.items():
            seconds[method] += spent

    print(f"command: {command}")
    print(f"{len(pages)} pages, converters: {', '.join(options.converters)}, mode {args.mode}")
    print()
    print("\n".join(report_lines(totals)))
    print()
    print("\n".join(report_edits(edit_totals)))
    if held:
        print()
        print(f"{'still held':<36}{'result':<8}detail")
        for h in held:
            print(f"{h.check:<36}{'pass' if h.passed else 'FAIL':<8}{h.detail}")
    print()
    print("seconds: " + ", ".join(f"{m} {seconds[m]:.1f}" for m in names) + f"; wall {elapsed:.1f}")
    if args.show_failures:
        print()
        print("\n".join(show_failures(results, args.show_failures)))

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "command": command,
                "pages": len(pages),
                "mode": args.mode,
                "seed": args.seed,
                "totals": [
                    {"method": m, "converter": c, **asdict(t)} for (m, c), t in totals.items()
                ],
                "edited": [
                    {"method": m, "kind": k, **asdict(t)} for (m, k), t in edit_totals.items()
                ],
                "held": [asdict(h) for h in held],
                "seconds": dict(seconds),
                "per_page": [
                    {
                        "page": r.name,
                        "method": m,
                        "converter": c,
                        **{k: v for k, v in asdict(s).items() if k not in ("lost", "junk_left")},
                    }
                    for r in results
                    for (m, c), s in r.lines.items()
                ],
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
