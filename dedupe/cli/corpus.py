"""``dedupe corpus``: parse options, call :func:`dedupe.corpus.pipeline.write_corpus`,
render the band choice, progress and summary on stderr, pick the exit status.

Exit status: 0 when the corpus was written; 2 for bad options and for every
:class:`~dedupe.errors.DedupeError` (one line on stderr, no output directory);
130 on Ctrl-C (one line, no output directory).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from dedupe.cleaning.groups import KeepPolicy
from dedupe.cleaning.pipeline import CleanOptions
from dedupe.cli.common import OneLineError, error_message
from dedupe.core.candidates import BandChoice
from dedupe.corpus.boilerplate import BoilerplateOptions
from dedupe.corpus.executors import Executor
from dedupe.corpus.incremental import AgainstIndex
from dedupe.corpus.near_duplicates import NearDupOptions
from dedupe.corpus.pipeline import (
    CorpusOptions,
    CorpusSummary,
    OnError,
    check_first_record,
    write_corpus,
)
from dedupe.errors import DedupeError, OptionsError
from dedupe.io.sinks import is_url
from dedupe.io.sources import InputFormat, open_source
from dedupe.params import (
    CHUNK_SIZE,
    CORPUS_MIN_DOCS,
    DOCUMENT_NGRAM,
    MIN_SHARE,
    NUM_PERM,
    SEED,
    THRESHOLD,
)


class Interrupted(OneLineError):
    """Ctrl-C: one line, and the exit status of a process ended by SIGINT."""

    exit_code = 128 + signal.SIGINT


def format_band_choice(choice: BandChoice) -> str:
    return (
        f"LSH: {choice.bands} bands x {choice.rows} rows for threshold {choice.threshold:g}: "
        f"false positive {choice.false_positive:.4f}, false negative {choice.false_negative:.4f} "
        f"(a pair at the threshold is missed with probability {choice.miss_at_threshold:.2g})"
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in counts.items())


def summary_table(summary: CorpusSummary, out_dir: str) -> Table:
    table = Table(title=f"dedupe corpus -> {out_dir}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    removed = summary.bytes_removed
    rows = [
        ("documents in", f"{summary.documents_in:,}"),
        ("documents out", f"{summary.documents_out:,}"),
        ("bad records skipped", f"{summary.bad_records:,}"),
        *(
            [("records not documents (WARC)", _kinds(summary.skipped_records))]
            if summary.skipped_records
            else []
        ),
        *(
            [
                ("near-duplicates of indexed documents", f"{summary.indexed_duplicates:,}"),
                ("added to the index", f"{summary.added_to_index:,}"),
            ]
            if summary.indexed_duplicates or summary.added_to_index
            else []
        ),
        ("clusters (2+ documents)", f"{summary.clusters:,}"),
        ("near-duplicates dropped", f"{summary.duplicates:,}"),
        ("candidate pairs / verified", f"{summary.candidate_pairs:,} / {summary.verified_pairs:,}"),
        ("boilerplate paragraphs", f"{summary.boilerplate_paragraphs:,}"),
        ("documents emptied (kept, no text left)", f"{summary.documents_emptied:,}"),
        ("text in", _size(summary.bytes_in)),
        ("removed: near-duplicates", _size(removed.near_dups)),
        ("removed: boilerplate", _size(removed.boilerplate)),
        ("removed: repeats in documents", _size(removed.clean)),
        ("workers", str(summary.workers)),
        ("time", f"{summary.timings.get('total', 0.0):.1f} s"),
        (
            "peak memory",
            _size(summary.peak_memory),
        ),
    ]
    if summary.workers > 1:
        worker = _size(summary.peak_worker_memory)
        rows[-1] = ("peak memory (main / worker)", f"{_size(summary.peak_memory)} / {worker}")
    for row in rows:
        table.add_row(*row)
    return table


# What each stage of dedupe.corpus.pipeline counts.
UNITS = {
    "read": "documents",
    "candidates": "pairs",
    "near-duplicates": "pairs",
    "shingles": "documents",
    "verify": "pairs",
    "clusters": "clusters",
    "boilerplate": "paragraphs",
    "output": "documents",
}


class CountColumn(ProgressColumn):
    """``done/total unit``, or ``done unit`` for a stage whose total was not
    known when it started (never ``0/?``)."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        if task.fields.get("known") and task.total is not None:
            return Text(f"{int(task.completed):,}/{int(task.total):,} {unit}")
        return Text(f"{int(task.completed):,} {unit}")


class RichProgress:
    """One progress bar per stage, on a terminal."""

    def __init__(self, console: Console) -> None:
        self._bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<12}"),
            BarColumn(),
            CountColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._task: TaskID | None = None

    def start(self, stage: str, total: int | None) -> None:
        self._end_task()
        self._task = self._bars.add_task(
            stage, total=total, known=total is not None, unit=UNITS.get(stage, "")
        )

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._bars.advance(self._task, count)

    def _end_task(self) -> None:
        if self._task is not None:
            task = self._bars.tasks[-1]
            self._bars.update(self._task, total=task.completed)
            self._task = None

    @contextmanager
    def shown(self) -> Iterator[RichProgress]:
        with self._bars:
            yield self
            self._end_task()


def cluster_executor(
    scheduler: str | None, local: bool, workers: int | None, tmp_dir: Path | None
) -> AbstractContextManager[Executor | None]:
    """The Dask executor ``--scheduler``/``--dask local`` ask for, or ``None``
    (the local process pool)."""
    if scheduler is None and not local:
        return nullcontext()
    try:
        from dedupe.corpus.dask import dask_executor
    except ImportError:
        raise OptionsError(
            "running on Dask needs the dask extra (pip install 'dedupe-text[dask]')"
        ) from None
    return dask_executor(scheduler, local_workers=workers, tmp_dir=tmp_dir)


@click.command("corpus")
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    "out_dir",
    metavar="OUT_DIR",
    required=True,
    help="Output directory (written beside it, renamed when complete), or an "
    "fsspec URL such as s3://bucket/out (uploaded when complete, summary.json last).",
)
@click.option(
    "--field", default="text", show_default=True, help="Text field of JSON/Parquet records."
)
@click.option("--id-field", default=None, help="Id field (default: FILE:LINE).")
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=THRESHOLD,
    show_default=True,
    help="Exact Jaccard similarity of shingle sets that makes two documents duplicates.",
)
@click.option(
    "--ngram",
    "--shingle-size",
    "ngram",
    type=click.IntRange(1),
    default=DOCUMENT_NGRAM,
    show_default=True,
    help="Words per shingle.",
)
@click.option(
    "--num-perm",
    type=click.IntRange(1, 4096),
    default=NUM_PERM,
    show_default=True,
    help="MinHash permutations.",
)
@click.option("--seed", type=int, default=SEED, show_default=True, help="MinHash seed.")
@click.option(
    "--keep",
    type=click.Choice([KeepPolicy.FIRST.value, KeepPolicy.LONGEST.value]),
    default=KeepPolicy.FIRST.value,
    show_default=True,
    help="Which document of a cluster stays.",
)
@click.option(
    "--keep-by",
    metavar="FIELD",
    default=None,
    help="Keep the document with the largest numeric FIELD.",
)
@click.option(
    "--workers", type=click.IntRange(1), default=None, help="Processes (default: every core)."
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786).",
)
@click.option(
    "--dask",
    "dask_mode",
    type=click.Choice(["local"]),
    default=None,
    help="Run on a Dask cluster started on this machine (loopback only): --workers "
    "single-threaded worker processes, at most one per core.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1),
    default=CHUNK_SIZE,
    show_default=True,
    help="Records per partition of the input (one task each).",
)
@click.option(
    "--tmp-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where band keys and shingle sets spill.",
)
@click.option(
    "--on-error",
    type=click.Choice([e.value for e in OnError]),
    default=OnError.STOP.value,
    show_default=True,
    help="Bad records: stop the run, or skip and count them.",
)
@click.option("--no-near-dups", is_flag=True, help="Keep near-duplicate documents.")
@click.option(
    "--no-boilerplate", is_flag=True, help="Keep paragraphs shared across a site's documents."
)
@click.option("--no-clean", is_flag=True, help="Keep repeats inside documents.")
@click.option(
    "--boilerplate-min-docs",
    type=click.IntRange(2),
    default=CORPUS_MIN_DOCS,
    show_default=True,
    help="Documents of a site a paragraph must appear in to be boilerplate.",
)
@click.option(
    "--boilerplate-min-share",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=MIN_SHARE,
    show_default=True,
    help="Share of a site's documents it must appear in.",
)
@click.option(
    "--boilerplate-near",
    type=click.FloatRange(0.0, 1.0, max_open=False),
    default=THRESHOLD,
    show_default=True,
    help="Similarity (word triples) at which repeated variants of a paragraph are "
    "counted together; 0 counts exact repeats only.",
)
@click.option(
    "--jsonl",
    "as_jsonl",
    is_flag=True,
    help="WARC/WET input: write the kept records as JSON Lines (id, url, WARC "
    "headers, cleaned text) instead of copying the WARC records.",
)
@click.option(
    "--against",
    metavar="INDEX",
    default=None,
    help="Drop documents that near-duplicate one in this index (a path or "
    "redis:// URL); they are listed in indexed.jsonl.",
)
@click.option(
    "--add",
    "add_to_index",
    is_flag=True,
    help="With --against: add the kept documents to the index (created if missing).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
@click.option("-q", "--quiet", is_flag=True, help="No band choice, progress or summary on stderr.")
def corpus(
    inputs: Sequence[str],
    out_dir: str,
    field: str,
    id_field: str | None,
    threshold: float,
    ngram: int,
    num_perm: int,
    seed: int,
    keep: str,
    keep_by: str | None,
    workers: int | None,
    scheduler: str | None,
    dask_mode: str | None,
    chunk_size: int,
    tmp_dir: Path | None,
    on_error: str,
    no_near_dups: bool,
    no_boilerplate: bool,
    no_clean: bool,
    boilerplate_min_docs: int,
    boilerplate_min_share: float,
    boilerplate_near: float,
    as_jsonl: bool,
    against: str | None,
    add_to_index: bool,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Deduplicate a corpus: drop near-duplicate documents, cut boilerplate
    shared across a site's pages, clean repeats inside documents.

    INPUT: JSON Lines files (.jsonl, .jsonl.gz, .jsonl.zst; local, or URLs
    such as s3://bucket/part.jsonl.gz read through fsspec), Parquet files,
    WARC/WET files (.warc.gz, .wet.gz; kept records copied as they were, or
    --jsonl), one directory of .txt files, or .txt files (one document each).
    OUT_DIR gets corpus/ (the kept records in the input's format),
    clusters.jsonl, boilerplate.jsonl and summary.json.
    """
    console = Console(stderr=True)
    if scheduler is not None and dask_mode is not None:
        raise click.UsageError("give --scheduler or --dask local, not both")
    out: Path | str = out_dir if is_url(out_dir) else Path(out_dir)
    try:
        options = CorpusOptions(
            near_dups=None
            if no_near_dups
            else NearDupOptions(threshold=threshold, ngram=ngram, num_perm=num_perm, seed=seed),
            boilerplate=None
            if no_boilerplate
            else BoilerplateOptions(
                min_docs=boilerplate_min_docs,
                min_share=boilerplate_min_share,
                near_threshold=boilerplate_near or None,
            ),
            clean=None if no_clean else CleanOptions(),
            keep=KeepPolicy(keep),
            keep_by=keep_by,
            workers=workers,
            chunk_size=chunk_size,
            tmp_dir=tmp_dir,
            on_error=OnError(on_error),
        )
        source = open_source(inputs, text_field=field, id_field=id_field)
        output_format = InputFormat.JSONL if as_jsonl else None
        if add_to_index and against is None:
            raise click.UsageError("--add needs --against INDEX")
        seen = AgainstIndex(against, add=add_to_index) if against is not None else None
        # A wrong --field shows in the first record: say so before the LSH line.
        check_first_record(source, options.on_error)
        if not quiet and options.near_dups is not None:
            choice = format_band_choice(options.near_dups.band_choice())
            console.print(choice, highlight=False, soft_wrap=True)
        with cluster_executor(scheduler, dask_mode == "local", workers, tmp_dir) as executor:
            if not quiet and console.is_terminal:
                with RichProgress(console).shown() as progress:
                    summary = write_corpus(
                        source,
                        out,
                        options=options,
                        overwrite=overwrite,
                        progress=progress,
                        executor=executor,
                        output_format=output_format,
                        against=seen,
                    )
            else:
                summary = write_corpus(
                    source,
                    out,
                    options=options,
                    overwrite=overwrite,
                    executor=executor,
                    output_format=output_format,
                    against=seen,
                )
    except DedupeError as exc:
        raise OneLineError(error_message(exc)) from None
    except KeyboardInterrupt:
        # The output directory and temporary files are already removed.
        raise Interrupted("interrupted; no output written") from None
    if not quiet:
        console.print(summary_table(summary, out_dir))
