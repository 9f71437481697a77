"""Deduplicate a corpus: near-duplicate documents, cross-document
boilerplate, within-document repeats.

The input is cut into partitions (:meth:`dedupe.io.sources.Source.partitions`)
that the executor's workers read and parse themselves, a few times rather
than holding it in memory; the main process keeps a few numbers per
document (where it is, its length, site, keep-by value and size) and
writes the output.

1. read: per partition, MinHash signatures reduced to band keys (spilled to
   disk, :mod:`dedupe.corpus.near_duplicates`) and the paragraph keys of each document
   (:mod:`dedupe.corpus.boilerplate`).
2. candidates: star edges per band bucket, one band at a time.
3. verify: the shingle sets of candidate documents only are recomputed from
   their partitions, and every candidate pair gets its exact Jaccard
   similarity.
4. clusters: components of verified pairs, members checked against the kept
   document (:mod:`dedupe.corpus.clusters`).
5. boilerplate: paragraph keys counted per site over the kept documents.
6. output: kept documents with boilerplate cut and repeats cleaned
   (:func:`dedupe.cleaning.pipeline.clean_with`), rendered as output lines by the
   workers for JSON Lines, in input order.

Everything that decides the output depends on document numbers (input
order), never on chunking or the number of workers.

Where each part lives:

- :mod:`dedupe.corpus.options`: the run's options and progress protocol;
- :mod:`dedupe.corpus.tasks`: the per-partition functions the workers run;
- :mod:`dedupe.corpus.documents`: the few numbers kept per document;
- :mod:`dedupe.corpus.stages`: the stages above, run in order;
- :mod:`dedupe.corpus.summary`: the summary and how it is built;
- :mod:`dedupe.corpus.run`: the executor and temporary directory a run owns;
- :mod:`dedupe.corpus.result`: :class:`CorpusResult`, what a caller gets;
- this module: :func:`dedupe_corpus` and :func:`write_corpus`, the entry points.
"""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, BinaryIO

from dedupe.core.keys import site_of
from dedupe.corpus.documents import check_first_record
from dedupe.corpus.executors import Executor, make_executor
from dedupe.corpus.incremental import AgainstIndex, add_kept, screen
from dedupe.corpus.options import CorpusOptions, NoProgress, OnError, Progress
from dedupe.corpus.result import CorpusResult
from dedupe.corpus.summary import BytesRemoved, ClusterMember, CorpusSummary
from dedupe.corpus.workdirs import fresh_dir, remove_stale_outputs, temp_dir
from dedupe.errors import InputError, OptionsError, OutputError
from dedupe.io.records import json_line
from dedupe.io.sinks import RemoteDir, is_url, open_writer
from dedupe.io.sources import (
    InputFormat,
    RecordsSource,
    Source,
    TextDirSource,
)
from dedupe.params import IN_PROCESS_MAX_BYTES

__all__ = [
    "BytesRemoved",
    "ClusterMember",
    "CorpusOptions",
    "CorpusResult",
    "CorpusSummary",
    "OnError",
    "Progress",
    "check_first_record",
    "dedupe_corpus",
    "is_small",
    "site_of",
    "write_corpus",
]


class _Spool:
    """A one-shot iterable of records, written once to a file and read back as often as needed."""

    def __init__(self, records: Iterable[Mapping[str, Any]], path: Path) -> None:
        self.path = path
        with path.open("wb") as file:
            for record in records:
                pickle.dump(record, file, protocol=pickle.HIGHEST_PROTOCOL)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        with self.path.open("rb") as file:
            yield from self._read(file)

    @staticmethod
    def _read(file: BinaryIO) -> Iterator[Mapping[str, Any]]:
        while True:
            try:
                yield pickle.load(file)
            except EOFError:
                return


def dedupe_corpus(
    records: Source | Iterable[Mapping[str, Any]],
    *,
    options: CorpusOptions | None = None,
    text_field: str = "text",
    id_field: str | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> CorpusResult:
    """Deduplicate a corpus: drop near-duplicate documents, cut boilerplate
    paragraphs shared across a site's documents, clean repeats inside each.

    ``records``: a source from :func:`dedupe.io.sources.open_source`, or
    mappings holding ``text_field`` (and ``id_field`` for ids; default: the
    0-based position). A list or any re-iterable is read several times; a
    one-shot iterator is first spooled to a temporary file.

    Runs the analysis now (in ``executor``, by default a process pool unless
    ``options.workers`` is 1 or, with ``options.workers`` left ``None``, the
    input is small (:func:`is_small`); the run closes it) and returns a
    :class:`CorpusResult` that yields the kept records.
    """
    options = options or CorpusOptions()
    workdir = temp_dir("corpus", options.tmp_dir)
    try:
        if isinstance(records, Source):
            source: Source = records
        else:
            iterable = records
            if iter(iterable) is iterable:
                iterable = _Spool(iterable, Path(workdir.name) / "records.pickle")
            source = RecordsSource(iterable, text_field=text_field, id_field=id_field)
        check_first_record(source, options.on_error)
        small = is_small(source)
        if executor is None:
            executor = make_executor(1 if small and options.workers is None else options.workers)
    except BaseException:
        workdir.cleanup()
        raise
    result = CorpusResult(
        source=source,
        options=options,
        executor=executor,
        workdir=workdir,
        progress=progress or NoProgress(),
        compiled=not small,
    )
    try:
        result.analyse()
    except BaseException:
        result.close(abort=True)
        raise
    return result


def is_small(source: Source, limit: int = IN_PROCESS_MAX_BYTES) -> bool:
    """Whether ``source`` is known to hold fewer than ``limit`` bytes: the
    texts of records held in memory (a list or other sized collection, or a
    spooled iterator), or local input files as stored (compressed ones
    compressed, a directory's ``.txt`` files). URLs and other sources count
    as large. Reads no more than ``limit`` bytes' worth to tell."""
    total = 0
    if isinstance(source, RecordsSource):
        records = source.records
        if not isinstance(records, (Collection, _Spool)):
            return False
        for record in records:
            text = record.get(source.text_field) if isinstance(record, Mapping) else None
            total += len(text) if isinstance(text, str) else 1
            if total >= limit:
                return False
        return True
    if not source.paths:
        return False
    for path in source.paths:
        if not isinstance(path, Path):
            return False
        files = (f for f in path.rglob("*.txt") if f.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                total += file.stat().st_size
            except OSError:
                return False
            if total >= limit:
                return False
    return True


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json_line(row))


def _no_documents(source: Source) -> str:
    where = ", ".join(str(p) for p in source.paths) or "the records"
    if isinstance(source, TextDirSource) and source.files is None:
        return f"{where}: no documents (no .txt files in it)"
    return f"{where}: no documents"


def _check_apart(source: Source, out_dir: Path) -> None:
    """Refuse an output directory that is an input, holds one, or lies inside
    one: replacing it (``overwrite``) would delete the input, and an output
    inside a directory of ``.txt`` files would be read as input."""
    out = out_dir.resolve()
    for path in source.paths:
        if not isinstance(path, Path):
            continue
        given = path.resolve()
        if given == out or out in given.parents:
            raise OutputError(f"{out_dir}: holds the input {path}; choose another output directory")
        if given in out.parents:
            raise OutputError(
                f"{out_dir}: lies inside the input {path}; choose an output directory outside it"
            )


def write_corpus(
    source: Source,
    out_dir: Path | str,
    *,
    options: CorpusOptions | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    executor: Executor | None = None,
    output_format: InputFormat | None = None,
    against: AgainstIndex | None = None,
) -> CorpusSummary:
    """Deduplicate ``source`` into ``out_dir``: ``corpus/`` (the kept records
    in the input's format), ``clusters.jsonl``, ``boilerplate.jsonl`` and
    ``summary.json``.

    Everything is written to a hidden temporary directory beside ``out_dir``
    and renamed to it at the end, so an interrupted run leaves no
    ``out_dir`` (and an existing one, with ``overwrite``, stays as it was).
    An fsspec URL (``s3://bucket/out``) is written locally first (under the
    options' ``tmp_dir``) and uploaded at the end (:class:`RemoteDir`).

    WARC/WET input is written as WARC: each kept record copied byte for
    byte, so boilerplate and repeats are not cut (those stages are turned
    off); ``output_format=InputFormat.JSONL`` writes the kept records as JSON
    Lines instead (id, url, WARC headers, text), cleaned.

    ``against``: first drop the documents that near-duplicate one in an
    index (listed in ``indexed.jsonl`` with the indexed id), and with
    ``against.add`` add the kept documents to it (original text) before the
    output is renamed into place; an add that fails leaves the documents
    added so far in the index and no output.

    Raises :class:`OutputError` when ``out_dir`` (symbolic links resolved) is
    an input, holds one or lies inside one, or holds the ``against`` index,
    and :class:`InputError` (with nothing written) when the input holds no records at all.
    """
    if is_url(out_dir):
        remote = RemoteDir(str(out_dir))
        if remote.exists() and not overwrite:
            raise OutputError(f"{out_dir}: already exists (use --overwrite to replace it)")
        tmp_dir = options.tmp_dir if options is not None else None
        with temp_dir("output", tmp_dir) as staging:
            local = Path(staging) / "out"
            summary = write_corpus(
                source,
                local,
                options=options,
                progress=progress,
                executor=executor,
                output_format=output_format,
                against=against,
            )
            remote.upload(local, overwrite=overwrite)
        return summary
    if output_format not in {None, source.format} and source.format is not InputFormat.WARC:
        raise OptionsError("only WARC/WET input can be written as JSON Lines")
    out_dir = Path(out_dir)
    if source.format is InputFormat.WARC and output_format is not InputFormat.JSONL:
        # Kept records are copied as they were: nothing would be cut.
        options = replace(options or CorpusOptions(), boilerplate=None, clean=None)
    _check_apart(source, out_dir)
    if against is not None and "://" not in str(against.index):
        index_path = Path(against.index).resolve()
        out = out_dir.resolve()
        if index_path == out or out in index_path.parents:
            # Replacing out_dir, or renaming the new one onto it, would lose the index.
            raise OutputError(
                f"{out_dir}: holds the index {against.index}; choose another output directory"
            )
    if out_dir.exists() and not overwrite:
        raise OutputError(f"{out_dir}: already exists (use --overwrite to replace it)")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a directory")
    parent = out_dir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        # Left by a run into out_dir that was killed (kill -9, power loss).
        remove_stale_outputs(parent, out_dir.name)
        partial = fresh_dir(parent, out_dir.name, "partial")
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    index = None
    try:
        run = options or CorpusOptions()
        index = against.open(run.near_dups) if against is not None else None
        screened = screen(source, index, size=run.chunk_size) if index is not None else None
        run_source = screened.source if screened is not None else source
        with dedupe_corpus(run_source, options=run, progress=progress, executor=executor) as result:
            if not result.records_read and screened is None:
                raise InputError(_no_documents(source))
            corpus_dir = partial / "corpus"
            corpus_dir.mkdir()
            writer = open_writer(source, corpus_dir, output_format=output_format)
            try:
                writer.write_all(result)
            finally:
                writer.close()
            _write_jsonl(partial / "clusters.jsonl", (asdict(m) for m in result.cluster_members()))
            _write_jsonl(partial / "boilerplate.jsonl", (asdict(b) for b in result.boilerplate))
            summary = result.summary
            dropped = result.clusters.dropped
        if screened is not None and index is not None and against is not None:
            rows = (asdict(d) for d in screened.duplicates)
            _write_jsonl(partial / "indexed.jsonl", rows)
            added = add_kept(run_source, dropped, index, size=run.chunk_size) if against.add else 0
            summary = replace(
                summary, indexed_duplicates=len(screened.duplicates), added_to_index=added
            )
        (partial / "summary.json").write_text(
            json_line(summary.to_json(), indent=2), encoding="utf-8"
        )
        if out_dir.exists():
            old = fresh_dir(parent, out_dir.name, "old")
            out_dir.rename(old / out_dir.name)
            partial.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            partial.rename(out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        if index is not None:
            index.close()
    return summary
