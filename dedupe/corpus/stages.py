"""The stages of a corpus run, in order: read, near duplicates, boilerplate, output."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from dedupe.core.candidates import BandChoice, Pairs
from dedupe.corpus.boilerplate import (
    Boilerplate,
    BoilerplateOptions,
    BoilerplateParagraph,
    KeyStore,
    count_keys,
    describe,
    family_documents,
    find_boilerplate,
    near_candidates,
    near_families,
)
from dedupe.corpus.clusters import Clusters
from dedupe.corpus.documents import Documents, keep_rank
from dedupe.corpus.engines import NearDupJob, map_chosen
from dedupe.corpus.near_duplicates import (
    BandStore,
    NearDupOptions,
)
from dedupe.corpus.options import CorpusOptions
from dedupe.corpus.run import Run
from dedupe.corpus.summary import (
    ClusterMember,
    CorpusSummary,
    OutputCounts,
    build_summary,
    peak_memory,
)
from dedupe.corpus.tasks import (
    KeyTextTask,
    OutputResult,
    OutputTask,
    ReadTask,
    output_chunk,
    paragraph_key_texts,
    read_chunk,
    record_places,
)
from dedupe.errors import InputError
from dedupe.io.sources import (
    LineRange,
    Partition,
    Record,
    Source,
    SpanPartition,
)

T = TypeVar("T")
R = TypeVar("R")


class CorpusStages:
    """Runs the stages of one corpus run and holds what they found.

    :meth:`analyse` runs read, near duplicates and boilerplate; one of the
    output passes (:meth:`documents`, :meth:`lines`, :meth:`kept_runs`) then
    yields the kept records and, once its last one is out, sets
    :attr:`summary` and :attr:`described` and closes the run.
    """

    def __init__(
        self, *, source: Source, options: CorpusOptions, run: Run, compiled: bool = True
    ) -> None:
        self.source = source
        self._compiled = compiled
        self.options = options
        self._run = run
        self._docs = Documents()
        self._nbytes = np.empty(0, np.int64)
        self.band_choice: BandChoice | None = (
            options.near_dups.band_choice() if options.near_dups is not None else None
        )
        self.clusters = Clusters(
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.float64),
            np.empty(0, np.int64),
        )
        self._ids: dict[int, str] = {}
        self._kept_partitions: list[Partition] | None = None
        self.edges: Pairs = np.empty((0, 2), dtype=np.int64)
        self.edge_similarity: npt.NDArray[np.float64] = np.empty(0, dtype=np.float64)
        self._candidate_pairs = 0
        self._verified_pairs = 0
        self._boilerplate = Boilerplate(
            np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, np.int64)
        )
        self.summary: CorpusSummary | None = None
        self.described: list[BoilerplateParagraph] | None = None

    # -- analysis --

    def _partitions(self) -> Iterator[Partition]:
        """The source's partitions, as the read pass cut them."""
        if self._kept_partitions is not None:
            return iter(self._kept_partitions)
        return self.source.partitions(self.options.chunk_size)

    def _map_chosen(
        self,
        fn: Callable[[T], R],
        chosen: npt.NDArray[np.bool_],
        task: Callable[[npt.NDArray[np.int64], Partition], T],
    ) -> Iterator[tuple[npt.NDArray[np.int64], R]]:
        """``fn`` run in the executor on ``task(numbers, partition)`` for each
        partition holding a ``chosen`` document (narrowed to those documents,
        ``numbers``); yields the numbers with each result, in input order."""
        return map_chosen(self._run.executor.map, fn, self._selected(chosen), task)

    def _selected(
        self, chosen: npt.NDArray[np.bool_]
    ) -> Iterator[tuple[npt.NDArray[np.int64], Partition]]:
        return self._docs.selected(self._partitions(), chosen)

    def _kept(self) -> npt.NDArray[np.bool_]:
        """Whether each document survives the near-duplicate stage."""
        kept = np.ones(len(self._nbytes), dtype=bool)
        kept[self.clusters.dropped] = False
        return kept

    def analyse(self) -> None:
        options = self.options
        work = self._run.work
        near = options.near_dups
        bands = None
        if near is not None and self.band_choice is not None:
            bands = BandStore(work / "bands", self.band_choice.bands)
        keys = KeyStore(work / "paragraph-keys.u64") if options.boilerplate is not None else None
        nbytes: list[npt.NDArray[np.int64]] = []
        # Partitions that only say where to read are kept for the later
        # passes; ones that carry their records are cut again each pass.
        kept: list[Partition] | None = []

        started = time.perf_counter()
        self._run.progress.start("read", None)

        def tasks() -> Iterator[ReadTask]:
            nonlocal kept
            for partition in self.source.partitions(options.chunk_size):
                if kept is not None and partition.holds_data:
                    kept = None
                elif kept is not None:
                    kept.append(partition)
                yield ReadTask(
                    partition,
                    near,
                    self.band_choice,
                    options.boilerplate,
                    options.keep_by,
                    self._compiled,
                )

        try:
            for result in self._run.executor.map(read_chunk, tasks()):
                self._docs.add(result, options.on_error)
                if bands is not None and result.bands is not None:
                    bands.append(result.bands)
                if keys is not None:
                    keys.append(result.keys, result.key_sizes)
                nbytes.append(result.nbytes)
                self._run.progress.advance(len(result.nbytes))
        finally:
            if bands is not None:
                bands.close()
            if keys is not None:
                keys.close()
        self._kept_partitions = kept
        self._nbytes = np.concatenate([np.empty(0, np.int64), *nbytes])
        self._check_ids()
        self._run.timed("read", started)

        if bands is not None and near is not None:
            self.clusters = self._near_duplicates(bands, near, work)
        if keys is not None and options.boilerplate is not None:
            started = time.perf_counter()
            self._run.progress.start("boilerplate", None)
            self._boilerplate = self._count_boilerplate(keys, self._kept(), options.boilerplate)
            self._run.progress.advance(len(np.unique(self._boilerplate.key)))
            self._run.timed("boilerplate", started)

    def _check_ids(self) -> None:
        """Refuse two records with one id: ``clusters.jsonl`` names documents
        by id, so it would not say which of them was kept or dropped."""
        hashes = np.frombuffer(self._docs.id_hashes, dtype=np.uint64)
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        same = np.flatnonzero(ordered[1:] == ordered[:-1])
        if not len(same):
            return
        # Equal hashes: compare the ids themselves (a hash collision is not
        # a duplicate).
        chosen = np.zeros(len(hashes), dtype=bool)
        chosen[order[same]] = chosen[order[same + 1]] = True
        first: dict[str, str] = {}
        for _, places in self._map_chosen(record_places, chosen, lambda _, p: p):
            for record_id, where in places:
                if record_id in first:
                    raise InputError(
                        f"{where}: id {record_id!r} already used at {first[record_id]}; "
                        "ids must be unique (fix the id field, or leave out --id-field)"
                    )
                first[record_id] = where

    def _count_boilerplate(
        self, store: KeyStore, counted: npt.NDArray[np.bool_], options: BoilerplateOptions
    ) -> Boilerplate:
        sites = np.frombuffer(self._docs.sites, dtype=np.int64)
        counts = count_keys(store, sites, counted)
        wanted = near_candidates(counts, options)
        texts = self._key_texts(counts.first[wanted], counts.key[wanted], options)
        families = near_families(counts, wanted, texts, options)
        family_docs = family_documents(store, sites, counted, families)
        return find_boilerplate(counts, families, family_docs, options)

    def _key_texts(
        self,
        documents: npt.NDArray[np.int64],
        keys: npt.NDArray[np.uint64],
        options: BoilerplateOptions,
    ) -> dict[int, str]:
        """The key text of each of ``keys``, read from ``documents`` (the
        first document holding each key)."""
        order = np.argsort(documents, kind="stable")
        documents, keys = documents[order], keys[order]
        chosen = np.zeros(len(self._nbytes), dtype=bool)
        chosen[documents] = True

        def task(numbers: npt.NDArray[np.int64], partition: Partition) -> KeyTextTask:
            lo, hi = np.searchsorted(documents, [numbers[0], numbers[-1] + 1])
            bounds = np.searchsorted(documents[lo:hi], numbers[1:])
            return KeyTextTask(partition, tuple(np.split(keys[lo:hi], bounds)), options)

        texts: dict[int, str] = {}
        for _, found in self._map_chosen(paragraph_key_texts, chosen, task):
            texts.update(found)
        return texts

    def _near_duplicates(self, bands: BandStore, near: NearDupOptions, work: Path) -> Clusters:
        rank = keep_rank(self._docs, self.options)
        job = NearDupJob(
            bands,
            near,
            rank,
            self._selected,
            progress=self._run.progress,
            timed=self._run.timed,
            work=work,
            compiled=self._compiled,
        )
        found = self._run.executor.near_duplicates(job)
        self.edges, self.edge_similarity = found.edges, found.similarity
        self._candidate_pairs, self._verified_pairs = found.candidate_pairs, len(found.edges)
        self._ids.update(found.ids)
        return found.clusters

    # -- output --

    @property
    def records_read(self) -> int:
        """Records the read pass found, good and bad."""
        return len(self._nbytes) + self._docs.bad

    def cluster_members(self) -> list[ClusterMember]:
        """Every document in a cluster of two or more, by cluster, kept document first."""
        c = self.clusters
        order = np.lexsort((c.documents, c.documents != c.kept, c.cluster))
        return [
            ClusterMember(
                id=self._ids[int(c.documents[k])],
                cluster=int(c.cluster[k]),
                kept=self._ids[int(c.kept[k])],
                similarity_to_kept=round(float(c.similarity[k]), 6),
            )
            for k in order.tolist()
        ]

    def _outputs(self, text_field: str | None) -> Iterator[OutputResult]:
        """Each partition's kept records cleaned, in input order (rendered as
        JSON Lines lines when ``text_field`` is given); the summary is made
        once the last one is out."""
        options = self.options
        started = time.perf_counter()
        kept = self._kept()
        sites = np.frombuffer(self._docs.sites, dtype=np.int64)
        cut_keys: dict[int, npt.NDArray[np.uint64]] = {}
        self._run.progress.start("output", int(kept.sum()))

        def keys_of(site: int) -> npt.NDArray[np.uint64]:
            if site not in cut_keys:
                cut_keys[site] = self._boilerplate.keys_of(site)
            return cut_keys[site]

        def task(numbers: npt.NDArray[np.int64], partition: Partition) -> OutputTask:
            cut: tuple[npt.NDArray[np.uint64], ...] = ()
            if options.boilerplate is not None:
                cut = tuple(keys_of(site) for site in sites[numbers].tolist())
            return OutputTask(partition, cut, options.boilerplate, options.clean, text_field)

        samples: dict[int, str] = {}
        out = cut_bytes = clean_bytes = emptied = 0
        for _, result in self._map_chosen(output_chunk, kept, task):
            for key, text in result.samples:
                samples.setdefault(key, text)
            out += result.count
            cut_bytes += result.boilerplate_bytes
            clean_bytes += result.clean_bytes
            emptied += result.emptied
            yield result
            self._run.progress.advance(result.count)
        self._run.timed("output", started)
        self.described = describe(self._boilerplate, self._docs.site_names, samples)
        self._finish(out, cut_bytes, clean_bytes, emptied)

    def copies_lines(self) -> bool:
        """Whether the output is the input's lines as read: no stage changes
        a kept record, and every partition is a range of a local,
        uncompressed JSON Lines file (see :meth:`kept_runs`)."""
        options, partitions = self.options, self._kept_partitions
        return (
            options.boilerplate is None
            and options.clean is None
            and partitions is not None
            and all(isinstance(p, LineRange) and isinstance(p.path, Path) for p in partitions)
        )

    def kept_runs(self) -> Iterator[tuple[int, Path, int, int]]:
        """When :meth:`copies_lines`: the kept records as runs of whole lines,
        ``(input file, path, start byte, end byte)``, in input order, for the
        output to copy byte for byte (no worker reads them); the summary is
        made once the last one is out."""
        started = time.perf_counter()
        kept = self._kept()
        self._run.progress.start("output", int(kept.sum()))
        out = 0
        run: tuple[int, Path, int, int] | None = None
        for numbers, partition in self._docs.selected(self._partitions(), kept):
            if not isinstance(partition, SpanPartition) or not isinstance(partition.path, Path):
                raise TypeError("kept_runs needs ranges of local files (see copies_lines)")
            for _, start, end in partition.byte_spans():
                if run is not None and run[1] == partition.path and run[3] == start:
                    run = (run[0], run[1], run[2], end)
                    continue
                if run is not None:
                    yield run
                run = (partition.source, partition.path, start, end)
            out += len(numbers)
            self._run.progress.advance(len(numbers))
        if run is not None:
            yield run
        self._run.timed("output", started)
        self.described = describe(self._boilerplate, self._docs.site_names, {})
        self._finish(out, 0, 0, 0)

    def documents(self) -> Iterator[tuple[Record, str]]:
        """Each kept record with its cleaned text, in input order."""
        for result in self._outputs(None):
            yield from zip(result.records, result.texts, strict=True)

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """For JSON Lines input: the output lines of the kept records, a
        partition at a time, with the input file they belong to (made in
        the workers, so the main process only writes)."""
        for result in self._outputs(self.source.text_field):
            yield result.source, result.rendered

    def _finish(self, out: int, cut_bytes: int, clean_bytes: int, emptied: int) -> None:
        # Workers count in RUSAGE_CHILDREN only once they have exited.
        self._run.executor.close()
        memory = peak_memory(self._run.executor)
        self._run.time_total()
        self.summary = build_summary(
            docs=self._docs,
            nbytes=self._nbytes,
            clusters=self.clusters,
            candidate_pairs=self._candidate_pairs,
            verified_pairs=self._verified_pairs,
            boilerplate_paragraphs=len(self.described or ()),
            output=OutputCounts(out, cut_bytes, clean_bytes, emptied),
            band_choice=self.band_choice,
            options=self.options,
            workers=self._run.executor.workers,
            timings=self._run.timings,
            memory=memory,
        )
        self._run.close()
