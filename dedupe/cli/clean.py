"""``dedupe clean``: parse options, clean each input with :func:`dedupe.clean`,
write the cleaned text, render the report, pick the exit status.

Inputs are handled one at a time. An input that cannot be read or written
gets one error line and the run goes on with the next; the exit status is
then 2. Outputs are replaced atomically (:func:`dedupe.io.files.atomic_write`),
and an output that is one of the inputs is refused before anything is written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import BinaryIO

import click

from dedupe.cleaning.groups import KeepPolicy
from dedupe.cleaning.pipeline import CleanOptions, CleanResult
from dedupe.cleaning.pipeline import clean as clean_text
from dedupe.cleaning.report import format_diff, format_html, format_json, format_text
from dedupe.cli.common import is_html, page_text
from dedupe.core.paragraphs import ParagraphMode
from dedupe.errors import InputError, OutputError
from dedupe.index import NearDuplicateIndex
from dedupe.io.files import (
    DEFAULT_MAX_BYTES,
    DecodeErrors,
    ReadOptions,
    atomic_write,
    backup_path,
    decode,
    read_text,
)
from dedupe.io.records import records

STDIN = "-"
REPORTS = ("text", "diff", "json", "html")
INTERRUPTED_EXIT = 130  # 128 + SIGINT, as shells report it
_DEFAULTS = CleanOptions()


def check_clean_usage(
    sources: Sequence[str], *, html: bool, in_place: bool, index_url: str | None, site: str | None
) -> None:
    """The usage errors of ``dedupe clean --html/--index/--site``."""
    if in_place and any(is_html(s, force=html) for s in sources):
        raise click.UsageError(
            "HTML input is cleaned as text: use -o or --output-dir, not --in-place"
        )
    if (index_url is None) != (site is None):
        raise click.UsageError("--index and --site go together: the boilerplate of one site")


def boilerplate_cleaner(
    cleaner: Callable[[str], CleanResult], *, index_url: str, site: str
) -> Callable[[str], CleanResult]:
    """``cleaner`` followed by the removal of the boilerplate that the index at
    ``index_url`` has learned for ``site`` (the report lists each cut once, as
    site boilerplate). The index closes with the click context."""
    opened = NearDuplicateIndex.existing(index_url)
    click.get_current_context().call_on_close(opened.close)

    def clean(text: str) -> CleanResult:
        return opened.remove_boilerplate(cleaner(text), site=site).as_clean_result()

    return clean


def _encode_report(text: str) -> bytes:
    # Only a lone surrogate from a JSON string escape cannot be UTF-8; written
    # as "\udXXX" it is still the same JSON escape in a JSON report.
    return text.encode("utf-8", errors="backslashreplace")


def report_on_stdout(kind: str | None, *, report_file: str | None) -> bool:
    """Whether the report goes to stdout, in place of the cleaned text: with
    ``--report-file -``, and a diff (for ``patch -p1``) or an HTML page with no
    ``--report-file``."""
    if kind is None:
        return False
    return report_file == STDIN or (kind in ("diff", "html") and report_file is None)


class Report:
    """Renders each result as it arrives and counts the changed ones.

    ``kind`` is one of :data:`REPORTS`, or ``None`` for no report. Text, diff
    and JSON Lines reports stream to ``stream`` as they are made; with a
    ``path`` they are gathered and written there by :meth:`close`, like the
    HTML page, which needs every result first.
    """

    def __init__(self, kind: str | None, *, check: bool, path: Path | None, stream: BinaryIO):
        self.kind = kind
        self.check = check
        self.path = path
        self.stream = stream
        self.color = path is None and stream.isatty()
        self.changed = 0
        self._held: list[str] = []
        self._pages: list[tuple[str, CleanResult]] = []

    def add(self, source: str, result: CleanResult) -> None:
        self.changed += result.changed
        if self.kind == "html":
            self._pages.append((source, result))
        elif self.kind is not None:
            rendered = self._render(source, result)
            if self.path is None:
                self.stream.write(_encode_report(rendered))
                self.stream.flush()
            else:
                self._held.append(rendered)

    def _render(self, source: str, result: CleanResult) -> str:
        if self.kind == "diff":
            return format_diff(result, source)
        if self.kind == "json":
            return format_json(result, source)
        return format_text(result, source, color=self.color)

    def close(self) -> None:
        """Write what was held: the HTML page, or the report for ``path``."""
        if self.kind is None or (self.path is None and self.kind != "html"):
            return
        text = format_html(self._pages) if self.kind == "html" else "".join(self._held)
        if self.path is None:
            self.stream.write(_encode_report(text))
        else:
            atomic_write(self.path, _encode_report(text))

    @property
    def return_code(self) -> int:
        """0 when done; 1 under ``--check`` when anything would be removed."""
        return 1 if self.check and self.changed else 0


def _clean_one(
    text: str, name: str, *, field: str | None, cleaner: Callable[[str], CleanResult]
) -> tuple[str, list[tuple[str, CleanResult]]]:
    """The cleaned ``text`` (the whole text, or the ``field`` of each JSON Lines
    record) and each result with the name the report gives it."""
    if field is None:
        result = cleaner(text)
        return result.text, [(name, result)]
    pieces: list[str] = []
    results: list[tuple[str, CleanResult]] = []
    for record in records(text, field=field, name=name):
        if isinstance(record, str):
            pieces.append(record)
            continue
        result = cleaner(record.value)
        results.append((f"{name}:{record.number}", result))
        pieces.append(record.replaced(result.text))
    return "".join(pieces), results


def _check_usage(
    sources: Sequence[str],
    *,
    output: str | None,
    output_dir: Path | None,
    in_place: bool,
    backup: str | None,
    overwrite_backup: bool,
    check: bool,
    jsonl: bool,
    field: str | None,
    errors: DecodeErrors,
    quiet: bool,
    report_file: str | None,
    report_on_stdout: bool,
) -> None:
    targets = [output is not None, output_dir is not None, in_place]
    if sum(targets) > 1:
        raise click.UsageError("use only one of -o, --output-dir and --in-place")
    if check and any(targets):
        raise click.UsageError("--check writes nothing; drop -o, --output-dir and --in-place")
    if len(sources) > 1 and not (check or output_dir or in_place or report_on_stdout):
        raise click.UsageError("several files need --output-dir or --in-place")
    if sources.count(STDIN) > 1:
        raise click.UsageError("stdin ('-') can be read only once")
    if STDIN in sources and (in_place or output_dir):
        raise click.UsageError("stdin has no file to write in place or name in --output-dir")
    if backup is not None and not in_place:
        raise click.UsageError("--backup needs --in-place")
    if overwrite_backup and backup is None:
        raise click.UsageError("--overwrite-backup needs --backup")
    if backup is not None and (not backup or "/" in backup):
        raise click.UsageError("--backup needs a suffix such as .orig")
    if in_place and errors is DecodeErrors.REPLACE:
        raise click.UsageError(
            "--errors replace cannot be used with --in-place, which would rewrite replaced bytes"
        )
    if field is not None and not jsonl:
        raise click.UsageError("--field needs --jsonl")
    if quiet and report_file is not None:
        raise click.UsageError("--quiet and --report-file contradict each other")
    if output_dir is not None:
        names = [Path(s).name for s in sources]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise click.UsageError(f"two inputs would both be written to {output_dir / twice[0]}")


def _same_file(a: Path, b: Path) -> bool:
    """True when both names reach one file (symlinks followed, hard links alike)."""
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _check_targets(
    sources: Sequence[str],
    *,
    output: str | None,
    output_dir: Path | None,
    in_place: bool,
    backup: str | None,
    overwrite_backup: bool,
    report_file: Path | None,
    html: bool,
    errors: DecodeErrors,
) -> None:
    """Refuse, before anything is written, an output that would replace an input
    (the same file by any name) and a backup that exists already."""
    files = [(j, Path(s)) for j, s in enumerate(sources) if s != STDIN]
    for i, source in enumerate(sources):
        if source == STDIN:
            continue
        destination = _destination(source, output=output, output_dir=output_dir, in_place=in_place)
        if destination is None:
            continue
        for j, other in files:
            if (in_place and i == j) or not _same_file(destination, other):
                continue
            if in_place:
                raise click.UsageError(f"{source} is named twice; it would be cleaned twice")
            hint = (
                ""
                if is_html(source, force=html) or errors is DecodeErrors.REPLACE
                else "; --in-place rewrites it safely"
            )
            raise click.UsageError(
                f"{destination}: the output is the input {other}, which it would destroy{hint}"
            )
        kept = backup_path(Path(source), backup) if backup is not None else None
        if kept is not None and not overwrite_backup and kept.exists():
            raise click.UsageError(f"{kept}: exists already (--overwrite-backup replaces it)")
    if report_file is not None:
        for _, other in files:
            if _same_file(report_file, other):
                raise click.UsageError(f"{report_file}: the report file is the input {other}")
        if output not in (None, STDIN) and os.path.realpath(report_file) == os.path.realpath(
            str(output)
        ):
            raise click.UsageError(f"{report_file}: the report file is also the output (-o)")


def _encode_text(text: str, name: str) -> bytes:
    """``text`` as UTF-8; :class:`OutputError` for a lone surrogate, which UTF-8
    cannot hold (only JSON Lines can carry one, as an escape)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        point = ord(exc.object[exc.start])
        raise OutputError(
            f"{name}: the cleaned text holds a lone surrogate (U+{point:04X}), "
            "which UTF-8 cannot hold; nothing written"
        ) from None


def _read(source: str, options: ReadOptions) -> tuple[str, str]:
    """The name reports and errors give ``source``, and its text."""
    if source == STDIN:
        return "stdin", decode(sys.stdin.buffer.read(options.max_bytes + 1), "stdin", options)
    return source, read_text(Path(source), options)


def _destination(
    source: str, *, output: str | None, output_dir: Path | None, in_place: bool
) -> Path | None:
    """Where the cleaned text of ``source`` goes; ``None`` for stdout."""
    if in_place:
        return Path(source)
    if output_dir is not None:
        return output_dir / Path(source).name
    if output is None or output == STDIN:
        return None
    return Path(output)


@click.command(short_help="Remove repeated and near-repeated paragraphs from texts.")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("-o", "--output", metavar="PATH", help="Write the cleaned text here ('-': stdout).")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each cleaned file here under its own name (created if missing).",
)
@click.option("--in-place", is_flag=True, help="Replace each file with its cleaned text.")
@click.option(
    "--backup",
    metavar="SUFFIX",
    help="With --in-place, keep the original as FILE+SUFFIX (refused if that exists).",
)
@click.option("--overwrite-backup", is_flag=True, help="Let --backup replace an existing backup.")
@click.option(
    "--report",
    "report_kind",
    type=click.Choice(REPORTS),
    default="text",
    show_default=True,
    help="What was removed and why: text, a unified diff, JSON Lines, or one HTML page.",
)
@click.option(
    "--report-file",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the report here instead of stderr (a diff or a page: instead of "
    "stdout); '-': stdout, in place of the cleaned text.",
)
@click.option("-q", "--quiet", is_flag=True, help="No report.")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; report, and exit 1 if anything would be removed.",
)
@click.option("--jsonl", is_flag=True, help="Input is JSON Lines: clean one field of each record.")
@click.option("--field", metavar="NAME", help="The field --jsonl cleans.  [default: text]")
@click.option(
    "--threshold",
    type=float,
    default=_DEFAULTS.threshold,
    show_default=True,
    help="Similarity (0-1] a paragraph needs with a kept one to be removed.",
)
@click.option(
    "--shingle-size",
    "--ngram",
    type=int,
    default=_DEFAULTS.shingle_size,
    show_default=True,
    help="Words per shingle (characters for CJK/Thai).",
)
@click.option(
    "--keep",
    type=click.Choice([k.value for k in KeepPolicy]),
    default=_DEFAULTS.keep.value,
    show_default=True,
    help="Which copy stays: the one that reads as the article (its own line of prose, "
    "not one in a link, URL or markup; the first between equals), the first, or the longest.",
)
@click.option(
    "--min-words",
    type=int,
    default=_DEFAULTS.min_words,
    show_default=True,
    help="Words a paragraph needs to go as a near or contained copy on its own; shorter "
    "lines go as exact repeats (six words or more, or links only) or in repeated blocks.",
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in ParagraphMode]),
    default=_DEFAULTS.mode.value,
    show_default=True,
    help="Paragraphs are lines, or separated by blank lines; auto decides per text.",
)
@click.option("--fold-digits", is_flag=True, help="Compare with every digit as 0.")
@click.option(
    "--num-perm",
    type=int,
    default=_DEFAULTS.num_perm,
    show_default=True,
    help="MinHash signature length.",
)
@click.option(
    "--seed", type=int, default=_DEFAULTS.seed, show_default=True, help="MinHash permutation seed."
)
@click.option(
    "--errors",
    type=click.Choice([e.value for e in DecodeErrors]),
    default=DecodeErrors.STRICT.value,
    show_default=True,
    help="Input that is not UTF-8: refuse it, or read bad bytes as U+FFFD.",
)
@click.option(
    "--html",
    is_flag=True,
    help="Read every input as HTML and clean its extracted text (default: *.html, *.htm).",
)
@click.option(
    "--index",
    "index_url",
    metavar="INDEX",
    help="Also cut what INDEX learned is boilerplate on --site.",
)
@click.option("--site", metavar="HOST", help="The site whose boilerplate --index cuts.")
@click.option(
    "--max-bytes",
    type=int,
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Refuse larger inputs.",
)
def clean(
    files: tuple[str, ...],
    output: str | None,
    output_dir: Path | None,
    in_place: bool,
    backup: str | None,
    overwrite_backup: bool,
    report_kind: str,
    report_file: str | None,
    quiet: bool,
    check: bool,
    jsonl: bool,
    field: str | None,
    threshold: float,
    shingle_size: int,
    keep: str,
    min_words: int,
    mode: str,
    fold_digits: bool,
    num_perm: int,
    seed: int,
    errors: str,
    html: bool,
    index_url: str | None,
    site: str | None,
    max_bytes: int,
) -> None:
    """Remove repeated and near-repeated paragraphs from each FILE ('-' or none: stdin).

    The cleaned text goes to stdout (one input), -o, --output-dir or back into
    the file (--in-place); the report goes to stderr. A diff or an HTML page
    with no --report-file, and any report with --report-file -, go to stdout
    instead of the cleaned text (a diff pipes to patch -p1; a page is not
    written onto a terminal); write the text with -o, --output-dir or
    --in-place. An input that cannot be
    read or written gets one error line and the others are still cleaned.
    Exit status: 0 done, 1 --check found something to remove, 2 bad usage or
    an input that failed, 130 interrupted (Ctrl-C).
    """
    if not files and sys.stdin.isatty():
        raise click.UsageError("no input: name a FILE, or pipe text in ('-' reads the terminal)")
    sources = list(files) or [STDIN]
    decode_errors = DecodeErrors(errors)
    kind = None if quiet else report_kind
    on_stdout = report_on_stdout(kind, report_file=report_file)
    # '-' is stdout, as for -o; './-' names a file.
    report_path = None if report_file is None or report_file == STDIN else Path(report_file)
    if on_stdout and output == STDIN:
        raise click.UsageError(
            f"-o - and the {kind} report would both go to stdout: give --report-file"
        )
    if kind == "html" and report_file is None and sys.stdout.isatty():
        raise click.UsageError(
            "--report html writes a page: give --report-file report.html, or redirect stdout"
        )
    _check_usage(
        sources,
        output=output,
        output_dir=output_dir,
        in_place=in_place,
        backup=backup,
        overwrite_backup=overwrite_backup,
        check=check,
        jsonl=jsonl,
        field=field,
        errors=decode_errors,
        quiet=quiet,
        report_file=report_file,
        report_on_stdout=on_stdout,
    )
    check_clean_usage(sources, html=html, in_place=in_place, index_url=index_url, site=site)
    if not check:
        _check_targets(
            sources,
            output=output,
            output_dir=output_dir,
            in_place=in_place,
            backup=backup,
            overwrite_backup=overwrite_backup,
            report_file=report_path,
            html=html,
            errors=decode_errors,
        )
    read_options = ReadOptions(errors=decode_errors, max_bytes=max_bytes)
    record_field = ("text" if field is None else field) if jsonl else None
    cleaner: Callable[[str], CleanResult] = partial(
        clean_text,
        threshold=threshold,
        shingle_size=shingle_size,
        keep=keep,
        min_words=min_words,
        mode=mode,
        fold_digits=fold_digits,
        num_perm=num_perm,
        seed=seed,
    )
    if index_url is not None and site is not None:
        cleaner = boilerplate_cleaner(cleaner, index_url=index_url, site=site)
    stdout = sys.stdout.buffer
    report = Report(
        kind,
        check=check,
        path=report_path,
        stream=stdout if on_stdout else sys.stderr.buffer,
    )
    if output_dir is not None and not check:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{output_dir}: cannot create ({exc.strerror or exc})") from None
    ctx = click.get_current_context()
    failed = 0
    try:
        for source in sources:
            try:
                _clean_file(
                    source,
                    report,
                    read_options=read_options,
                    html=html,
                    field=record_field,
                    cleaner=cleaner,
                    write=not check,
                    destination=_destination(
                        source, output=output, output_dir=output_dir, in_place=in_place
                    ),
                    in_place=in_place,
                    backup=backup,
                    overwrite_backup=overwrite_backup,
                    stdout=None if on_stdout else stdout,
                )
            except (InputError, OutputError) as exc:
                # One line, as for any error, and on to the next input.
                failed += 1
                click.echo(f"dedupe: error: {exc}", err=True)
        report.close()
    except KeyboardInterrupt:
        # A file being written is left as it was (atomic_write removes its temporary).
        click.echo("dedupe: interrupted", err=True)
        ctx.exit(INTERRUPTED_EXIT)
    ctx.exit(2 if failed else report.return_code)


def _clean_file(
    source: str,
    report: Report,
    *,
    read_options: ReadOptions,
    html: bool,
    field: str | None,
    cleaner: Callable[[str], CleanResult],
    write: bool,
    destination: Path | None,
    in_place: bool,
    backup: str | None,
    overwrite_backup: bool,
    stdout: BinaryIO | None,
) -> None:
    """Clean one input, write it (``destination`` ``None``: ``stdout``, or nowhere
    when ``stdout`` is ``None`` because the report has it) and add it to the
    report; :class:`InputError`/:class:`OutputError` when it fails."""
    name, text = _read(source, read_options)
    if is_html(source, force=html):
        text = page_text(source, text, html=html)
        if not text.strip():
            raise InputError(f"{name}: no text found in the HTML; nothing written")
    cleaned, results = _clean_one(text, name, field=field, cleaner=cleaner)
    if destination is None and stdout is None:
        write = False
    if write and not (in_place and cleaned == text):
        data = _encode_text(cleaned, name)
        if stdout is not None and destination is None:
            stdout.write(data)
            stdout.flush()
        elif destination is not None:
            atomic_write(destination, data, backup_suffix=backup, overwrite_backup=overwrite_backup)
    # Reported once written, so a report never describes an output that failed.
    for result_name, result in results:
        report.add(result_name, result)
