"""``dedupe index``: add files to a near-duplicate index, check files against
it, show what it holds. Each command is one library call per file
(:class:`dedupe.index.NearDuplicateIndex`); the ``format_*`` functions only
render what it returns.

Files ending ``.html``/``.htm`` (or any file, with ``--html``) are read as
HTML: their text is extracted first (:func:`dedupe.cleaning.html.extract_text`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click
from click.core import ParameterSource

from dedupe.cli.common import page_text
from dedupe.index import (
    IndexMatch,
    IndexParams,
    IndexStats,
    NearDuplicateIndex,
)
from dedupe.io.files import ReadOptions, read_text
from dedupe.params import DOCUMENT_NGRAM, NUM_PERM, SEED, THRESHOLD

T = TypeVar("T")


def read_document(path: str, *, html: bool) -> str:
    """The text of ``path``; for HTML, the extracted page text."""
    return page_text(path, read_text(Path(path), ReadOptions()), html=html)


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """What the index said about one file: ``match`` is ``None`` for a new one.
    ``added``: ``None`` when only checked, else whether the file was added.
    ``indexed``: under ``index add``, the file's own path was already indexed
    (then ``match`` is ``None``: a file is not a near-duplicate of itself)."""

    path: str
    match: IndexMatch | None
    added: bool | None
    indexed: bool = False


@dataclass(frozen=True, slots=True)
class IndexReport:
    answers: tuple[FileAnswer, ...]
    check: bool

    @property
    def duplicates(self) -> int:
        return sum(a.match is not None for a in self.answers)

    @property
    def return_code(self) -> int:
        """1 under ``index check`` when any file is a near-duplicate, else 0."""
        return 1 if self.check and self.duplicates else 0


def format_answer(answer: FileAnswer) -> str:
    if answer.indexed:
        return f"{answer.path}: already indexed, {'replaced' if answer.added else 'not added'}"
    if answer.match is None:
        said = "new"
    else:
        said = f"near-duplicate of {answer.match.doc_id} (Jaccard {answer.match.similarity:.3f})"
    if answer.added is None:
        return f"{answer.path}: {said}"
    return f"{answer.path}: {said}, {'added' if answer.added else 'not added'}"


def format_stats(stats: IndexStats) -> str:
    p = stats.params
    size = stats.size_bytes
    shown = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size} bytes"
    lines = [
        f"index:           {stats.location} ({stats.backend})",
        f"documents:       {stats.documents}",
        f"sites:           {stats.sites} ({stats.site_paragraphs} distinct paragraphs counted)",
        f"size:            {shown}",
        f"threshold:       {p.threshold} (exact Jaccard of {p.ngram}-word shingle sets)",
        f"signatures:      num_perm={p.num_perm} seed={p.seed} max_miss={p.max_miss}",
        f"scheme:          {p.scheme}",
    ]
    return "\n".join(lines)


def _given(name: str, value: T) -> T | None:
    """``value`` if option ``name`` was given (not left to its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return None if source in (None, ParameterSource.DEFAULT) else value


def _params(
    threshold: float | None, num_perm: int | None, ngram: int | None, seed: int | None
) -> IndexParams | None:
    """The parameters asked for on the command line, ``None`` when none was."""
    if threshold is None and num_perm is None and ngram is None and seed is None:
        return None
    default = IndexParams()
    return IndexParams(
        threshold=default.threshold if threshold is None else threshold,
        num_perm=default.num_perm if num_perm is None else num_perm,
        ngram=default.ngram if ngram is None else ngram,
        seed=default.seed if seed is None else seed,
    )


def _answers(
    index: NearDuplicateIndex,
    files: Sequence[str],
    *,
    add: bool,
    add_all: bool,
    site: str | None,
    html: bool,
) -> Iterator[FileAnswer]:
    for path in files:
        text = read_document(path, html=html)
        if not add:
            yield FileAnswer(path, index.check(text), added=None)
        elif path in index:
            # Added before (an earlier run, or the same path twice): its stored
            # version is kept, or replaced under --all, never called its own twin.
            if add_all:
                index.add(path, text, site=site)
            yield FileAnswer(path, None, added=add_all, indexed=True)
        elif add_all:
            match = index.check(text)
            index.add(path, text, site=site)
            yield FileAnswer(path, match, added=True)
        else:
            match = index.check_and_add(path, text, site=site)
            if match is not None and match.doc_id == path:  # added meanwhile by another process
                yield FileAnswer(path, None, added=False, indexed=True)
            else:
                yield FileAnswer(path, match, added=match is None)


def _run(answers: Iterator[FileAnswer], *, check: bool, quiet: bool) -> None:
    seen = []
    for answer in answers:
        seen.append(answer)
        if not quiet:
            click.echo(format_answer(answer))
    report = IndexReport(tuple(seen), check=check)
    click.get_current_context().exit(report.return_code)


@click.group(short_help="A persistent near-duplicate index: add, check, stats.")
def index() -> None:
    """A persistent near-duplicate index (a SQLite file, or redis://host:port/db).

    Documents are named by the path given on the command line.
    """


_html_option = click.option(
    "--html", is_flag=True, help="Read every FILE as HTML (default: only *.html, *.htm)."
)
_quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing.")


@index.command(short_help="Add files to the index (created if missing).")
@click.argument("index_url", metavar="INDEX")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--site", metavar="HOST", help="Count the files' paragraphs for this site.")
@click.option(
    "--all", "add_all", is_flag=True, help="Add near-duplicates too (default: skip them)."
)
# The defaults are what a new index gets; an existing index keeps its own
# parameters, so only the options given on the command line count (_given).
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=THRESHOLD,
    show_default=True,
    help="For a new index: Jaccard similarity.",
)
@click.option(
    "--num-perm",
    type=click.IntRange(1, 4096),
    default=NUM_PERM,
    show_default=True,
    help="For a new index: MinHash signature length.",
)
@click.option(
    "--ngram",
    "--shingle-size",
    "ngram",
    type=click.IntRange(1),
    default=DOCUMENT_NGRAM,
    show_default=True,
    help="For a new index: words per shingle.",
)
@click.option(
    "--seed",
    type=int,
    default=SEED,
    show_default=True,
    help="For a new index: MinHash permutation seed.",
)
@_html_option
@_quiet_option
def add(
    index_url: str,
    files: tuple[str, ...],
    site: str | None,
    add_all: bool,
    threshold: float,
    num_perm: int,
    ngram: int,
    seed: int,
    html: bool,
    quiet: bool,
) -> None:
    """Add each FILE to INDEX unless it near-duplicates a document already there.

    A FILE whose path is already indexed is reported as such and kept as
    stored (replaced by its current text under --all).
    An existing INDEX keeps its own parameters; giving others is an error.
    """
    params = _params(
        _given("threshold", threshold),
        _given("num_perm", num_perm),
        _given("ngram", ngram),
        _given("seed", seed),
    )
    if params is None:
        opened = NearDuplicateIndex.existing(index_url, create_with=IndexParams())
    else:
        opened = NearDuplicateIndex(
            index_url,
            threshold=params.threshold,
            num_perm=params.num_perm,
            ngram=params.ngram,
            seed=params.seed,
        )
    with opened:
        answers = _answers(opened, files, add=True, add_all=add_all, site=site, html=html)
        _run(answers, check=False, quiet=quiet)


@index.command(short_help="Check files against the index; exit 1 if any is a near-duplicate.")
@click.argument("index_url", metavar="INDEX")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@_html_option
@_quiet_option
def check(index_url: str, files: tuple[str, ...], html: bool, quiet: bool) -> None:
    """Print, for each FILE, the indexed document it near-duplicates, if any.
    Adds nothing. Exit status: 0 all new, 1 some near-duplicate, 2 error."""
    with NearDuplicateIndex.existing(index_url) as opened:
        answers = _answers(opened, files, add=False, add_all=False, site=None, html=html)
        _run(answers, check=True, quiet=quiet)


@index.command(short_help="What the index holds and how it was built.")
@click.argument("index_url", metavar="INDEX")
def stats(index_url: str) -> None:
    """Documents, sites, size and parameters of INDEX."""
    with NearDuplicateIndex.existing(index_url) as opened:
        click.echo(format_stats(opened.stats()))
