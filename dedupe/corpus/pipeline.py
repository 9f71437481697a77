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
"""

from __future__ import annotations

import json
import math
import pickle
import resource
import shutil
import tempfile
import time
from array import array
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

from dedupe.cleaning.groups import KeepPolicy
from dedupe.cleaning.pipeline import CleanOptions, clean_with
from dedupe.core.candidates import BandChoice, Pairs
from dedupe.core.keys import site_of
from dedupe.core.minhash import use_compiled
from dedupe.core.paragraphs import join_kept
from dedupe.corpus.boilerplate import (
    Boilerplate,
    BoilerplateOptions,
    BoilerplateParagraph,
    KeyStore,
    count_keys,
    cut_boilerplate,
    describe,
    document_keys,
    family_documents,
    find_boilerplate,
    key_texts,
    near_candidates,
    near_families,
)
from dedupe.corpus.clusters import Clusters, resolve_clusters
from dedupe.corpus.engines import NearDupEngine, NearDupJob
from dedupe.corpus.executors import Executor, ProcessExecutor, make_executor
from dedupe.corpus.incremental import AgainstIndex, add_kept, screen
from dedupe.corpus.near_duplicates import (
    BandStore,
    ChunkBands,
    ChunkShingles,
    NearDupOptions,
    ShingleStore,
    ShingleTask,
    SignTask,
    VerifyTask,
    shingle_chunk,
    sign_chunk,
    verify_chunk,
)
from dedupe.corpus.workdirs import fresh_dir, remove_stale_outputs, temp_dir
from dedupe.errors import InputError, OptionsError, OutputError
from dedupe.io.records import comparable, json_line
from dedupe.io.sinks import JsonlWriter, RemoteDir, WarcWriter, is_url, open_writer, render_line
from dedupe.io.sources import (
    BadRecord,
    InputFormat,
    LinePartition,
    LineRange,
    Partition,
    Record,
    RecordsSource,
    SkipsRecords,
    Source,
    SpanPartition,
    TextDirSource,
    records_of,
)
from dedupe.params import CHUNK_SIZE, IN_PROCESS_MAX_BYTES

T = TypeVar("T")
R = TypeVar("R")
_NO_KEYS = np.empty(0, np.uint64)
_VERIFY_CHUNK = 4096
_MAX_EXAMPLES = 10


class OnError(str, Enum):
    """What a bad record does: ``stop`` the run with an :class:`InputError`,
    or ``skip`` it and count it."""

    STOP = "stop"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class CorpusOptions:
    """Options of :func:`dedupe_corpus`.

    ``near_dups``/``boilerplate``/``clean``: each stage's options, ``None``
    to turn the stage off. ``keep``: which document of a cluster stays;
    ``keep_by``: a numeric field whose largest value stays instead (missing
    values rank last; ties by input order). ``workers``: processes (``None``:
    every core, or this process alone for an input known to be smaller than
    :data:`dedupe.params.IN_PROCESS_MAX_BYTES`; the output is the same).
    ``chunk_size``: records per partition of the input (a task).
    ``tmp_dir``: where the spilled band keys and shingle sets go (``None``:
    the system temp dir)."""

    near_dups: NearDupOptions | None = field(default_factory=NearDupOptions)
    boilerplate: BoilerplateOptions | None = field(default_factory=BoilerplateOptions)
    clean: CleanOptions | None = field(default_factory=CleanOptions)
    keep: KeepPolicy = KeepPolicy.FIRST
    keep_by: str | None = None
    workers: int | None = None
    chunk_size: int = CHUNK_SIZE
    tmp_dir: Path | None = None
    on_error: OnError = OnError.STOP

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise OptionsError(f"chunk size must be at least 1, not {self.chunk_size}")
        if self.workers is not None and self.workers < 1:
            raise OptionsError(f"workers must be at least 1, not {self.workers}")
        if self.keep_by is not None and self.keep is not KeepPolicy.FIRST:
            raise OptionsError("give either a keep policy or a keep-by field, not both")
        if self.keep is KeepPolicy.ARTICLE:
            # Forms judge paragraphs of one text; documents have no such order.
            raise OptionsError("corpus documents are kept first or longest, not by article form")

    def parameters(self) -> dict[str, Any]:
        """The options as JSON values."""
        text = json.dumps(
            asdict(self), default=lambda v: v.value if isinstance(v, Enum) else str(v)
        )
        parameters: dict[str, Any] = json.loads(text)
        return parameters


class Progress(Protocol):
    """Receives progress: a stage starts (``total`` units, ``None`` if
    unknown), then advances. Units: documents (read, shingles, output),
    candidate pairs (candidates, verify, near-duplicates), clusters, and
    boilerplate paragraphs; a stage of unknown total advances by what it
    found once it has found it."""

    def start(self, stage: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


class _NoProgress:
    def start(self, stage: str, total: int | None) -> None:
        return None

    def advance(self, count: int) -> None:
        return None


@dataclass(frozen=True, slots=True)
class BytesRemoved:
    """UTF-8 bytes of text removed by each stage."""

    near_dups: int = 0
    boilerplate: int = 0
    clean: int = 0


@dataclass(frozen=True, slots=True)
class ClusterMember:
    """A document in a cluster of two or more (the ``clusters.jsonl`` line)."""

    id: str
    cluster: int
    kept: str
    similarity_to_kept: float


@dataclass(frozen=True, slots=True)
class CorpusSummary:
    """What a run did. ``timings``: seconds per stage; ``peak_memory``: the
    largest resident set of the main process and of any worker, in bytes."""

    documents_in: int
    documents_out: int
    bad_records: int
    bad_record_examples: tuple[str, ...]
    clusters: int
    duplicates: int
    candidate_pairs: int
    verified_pairs: int
    boilerplate_paragraphs: int
    documents_emptied: int
    bytes_in: int
    bytes_removed: BytesRemoved
    band_choice: BandChoice | None
    parameters: dict[str, Any]
    workers: int
    timings: dict[str, float]
    peak_memory: int
    peak_worker_memory: int
    skipped_records: dict[str, int] = field(default_factory=dict)
    """Input records that are not documents, by kind (WARC ``request``,
    ``warcinfo``, ``response (not HTML)``...)."""
    indexed_duplicates: int = 0
    """Documents dropped as near-duplicates of indexed ones (``against``)."""
    added_to_index: int = 0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["bad_record_examples"] = list(self.bad_record_examples)
        return out


@runtime_checkable
class MeasuresWorkers(Protocol):
    """An executor whose workers are not child processes of this one (a
    cluster): it reports each worker's peak resident set itself, in bytes."""

    def peak_worker_memory(self) -> dict[str, int]: ...


def _peak_memory() -> tuple[int, int]:
    # ru_maxrss is in KiB on Linux.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return own, children


# ---- per-partition stage functions (run in the executor) ----
#
# Each takes a partition of the input (dedupe.io.sources.Partition) and reads
# and parses it itself, so the main process never parses a record.


def _keep_value(record: Record, keep_by: str) -> float | None:
    """The record's keep-by value as a float (NaN when missing), None when
    unusable; an integer beyond the float range counts as infinite."""
    value = (record.fields or {}).get(keep_by)
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # 10**400 in JSON
        return math.inf if value > 0 else -math.inf


def _utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class ReadTask:
    partition: Partition
    near: NearDupOptions | None
    choice: BandChoice | None
    boilerplate: BoilerplateOptions | None
    keep_by: str | None
    # Whether to load the compiled signer (same results, faster on large
    # inputs, seconds to load: not worth it for a small one).
    compiled: bool = True


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What the read pass keeps of a partition's good records: their
    positions, band keys, distinct paragraph keys (``key_sizes`` per record),
    UTF-8 sizes, lengths in characters, sites, keep-by values and id
    hashes; and the messages of its bad records, in input order."""

    positions: npt.NDArray[np.int64]
    bands: ChunkBands | None
    keys: npt.NDArray[np.uint64]
    key_sizes: npt.NDArray[np.int64]
    nbytes: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    sites: tuple[str, ...]
    keep_values: npt.NDArray[np.float64]
    id_hashes: npt.NDArray[np.uint64]
    bad: tuple[str, ...]
    skipped: tuple[tuple[str, int], ...] = ()


def read_chunk(task: ReadTask) -> ReadResult:
    """Read a partition: band keys, paragraph keys and a few numbers per good record."""
    positions: list[int] = []
    records: list[Record] = []
    keep_values: list[float] = []
    bad: list[str] = []
    for position, item in task.partition.items():
        if isinstance(item, Record) and task.keep_by is not None:
            value = _keep_value(item, task.keep_by)
            if value is None:
                bad.append(f"{item.where}: field {task.keep_by!r} is not a number")
                continue
            keep_values.append(value)
        if isinstance(item, BadRecord):
            bad.append(item.message)
            continue
        positions.append(position)
        records.append(item)
    texts = tuple(comparable(r.text) for r in records)
    bands = None
    if task.near is not None and task.choice is not None:
        if task.compiled:
            # A corpus worker signs many partitions: loading numba pays off.
            use_compiled()
        bands = sign_chunk(SignTask(texts, task.near, task.choice))
    sets = [document_keys(t, task.boilerplate) for t in texts] if task.boilerplate else []
    return ReadResult(
        positions=np.array(positions, dtype=np.int64),
        bands=bands,
        keys=np.concatenate([np.empty(0, np.uint64), *sets]),
        key_sizes=np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets)),
        nbytes=np.fromiter((_utf8(r.text) for r in records), dtype=np.int64, count=len(texts)),
        lengths=np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)),
        sites=tuple(site_of((r.fields or {}).get("url")) for r in records),
        keep_values=np.array(keep_values, dtype=np.float64),
        id_hashes=np.fromiter(
            (_id_hash(r.id) for r in records), dtype=np.uint64, count=len(records)
        ),
        bad=tuple(bad),
        skipped=task.partition.skipped if isinstance(task.partition, SkipsRecords) else (),
    )


@dataclass(frozen=True, slots=True)
class CandidateShingles:
    """Shingle sets and ids of the candidate documents of a partition."""

    shingles: ChunkShingles
    ids: tuple[str, ...]


def candidate_shingles(task: tuple[Partition, int, bool]) -> CandidateShingles:
    """Shingle sets (``ngram`` words) and ids of a partition's records
    (``compiled``: load the compiled shingler first)."""
    partition, ngram, compiled = task
    records = records_of(partition)
    if compiled:
        use_compiled()
    return CandidateShingles(
        shingle_chunk(ShingleTask(tuple(comparable(r.text) for r in records), ngram)),
        tuple(r.id for r in records),
    )


def record_ids(partition: Partition) -> tuple[str, ...]:
    return tuple(r.id for r in records_of(partition))


def record_places(partition: Partition) -> tuple[tuple[str, str], ...]:
    """The id and place (``file:line``) of each record."""
    return tuple((r.id, r.where) for r in records_of(partition))


def _id_hash(record_id: str) -> int:
    return xxh3_64_intdigest(record_id.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class KeyTextTask:
    """Records of a partition and, for each, the paragraph key hashes whose
    key text is wanted."""

    partition: Partition
    wanted: tuple[npt.NDArray[np.uint64], ...]
    options: BoilerplateOptions


def paragraph_key_texts(task: KeyTextTask) -> dict[int, str]:
    """Key hash to key text of the wanted paragraphs of each record."""
    found: dict[int, str] = {}
    for record, wanted in zip(records_of(task.partition), task.wanted, strict=True):
        found.update(key_texts(comparable(record.text), wanted, task.options))
    return found


@dataclass(frozen=True, slots=True)
class OutputTask:
    """Kept records with the boilerplate keys of each one's site (``cut``, in
    record order). ``text_field``: render each record as its output JSON
    Lines line (``None``: return the records)."""

    partition: Partition
    cut: tuple[npt.NDArray[np.uint64], ...]
    boilerplate: BoilerplateOptions | None
    clean: CleanOptions | None
    text_field: str | None


@dataclass(frozen=True, slots=True)
class OutputResult:
    """A partition's kept records and their cleaned texts, or (when rendered)
    their output lines as UTF-8 bytes; bytes cut by each stage, documents
    emptied, and one removed paragraph per boilerplate key."""

    source: int
    count: int
    records: tuple[Record, ...]
    texts: tuple[str, ...]
    rendered: bytes
    boilerplate_bytes: int
    clean_bytes: int
    emptied: int
    samples: tuple[tuple[int, str], ...]


def output_chunk(task: OutputTask) -> OutputResult:
    """Cut boilerplate from each kept record's text, then clean its within-document repeats."""
    partition = task.partition
    unchanged = task.boilerplate is None and task.clean is None
    if unchanged and task.text_field is not None and isinstance(partition, LinePartition):
        # Nothing to change in a kept record: its line goes out as read.
        lines = [line for _, line in partition.raw_lines()]
        rendered = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
        return OutputResult(partition.source, len(lines), (), (), rendered, 0, 0, 0, ())
    records = records_of(partition)
    texts: list[str] = []
    cut_bytes = clean_bytes = emptied = 0
    samples: dict[int, str] = {}
    cuts = task.cut or (_NO_KEYS,) * len(records)
    for record, keys in zip(records, cuts, strict=True):
        text = record.text
        if task.boilerplate is not None and len(keys):
            cut = cut_boilerplate(text, keys, task.boilerplate)
            for key, paragraph in cut.removed:
                samples.setdefault(key, paragraph)
            cut_bytes += _utf8(text) - _utf8(cut.text)
            text = cut.text
        if task.clean is not None and text:
            cleaned = _clean(text, task.clean)
            clean_bytes += _utf8(text) - _utf8(cleaned)
            text = cleaned
        emptied += not text and bool(record.text)
        texts.append(text)
    rendered = b""
    if task.text_field is not None:
        field_name = task.text_field
        rendered = b"".join(
            render_line(r, t, field_name) for r, t in zip(records, texts, strict=True)
        )
        records, texts = [], []
    return OutputResult(
        source=task.partition.source,
        count=len(cuts),
        records=tuple(records),
        texts=tuple(texts),
        rendered=rendered,
        boilerplate_bytes=cut_bytes,
        clean_bytes=clean_bytes,
        emptied=emptied,
        samples=tuple(samples.items()),
    )


def _clean(text: str, options: CleanOptions) -> str:
    """``text`` cleaned of its repeats, compared without lone surrogates but
    cut in ``text`` itself, so that a kept paragraph keeps every character."""
    plain = comparable(text)
    result = clean_with(plain, options)
    if plain is text:
        return result.text
    return join_kept(text, result.paragraphs, (r.paragraph.index for r in result.removed))


# ---- the run ----


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


def _stopped_by(message: str) -> str:
    return f"{message} (use --on-error skip to skip bad records)"


def check_first_record(source: Source, on_error: OnError) -> None:
    """Raise the :class:`InputError` a run that stops on bad records would
    raise if the input's first record is bad (a text field it lacks, say),
    before any worker starts. Reads that record only."""
    if on_error is not OnError.STOP:
        return
    # A source cut once already (screened against an index) reads in its own cut.
    partitions = source.partitions(getattr(source, "partition_size", 1))
    try:
        for partition in partitions:
            for _, item in partition.items():
                if isinstance(item, BadRecord):
                    raise InputError(_stopped_by(item.message))
                return
    finally:
        close = getattr(partitions, "close", None)
        if close is not None:
            close()


@dataclass(slots=True)
class _Documents:
    """A few numbers per document, gathered in the read pass.

    Document ``d`` is the record at ``positions[d]`` of partition ``p`` where
    ``starts[p] <= d < starts[p + 1]``.
    """

    # Typed arrays: 8 bytes a document, not a Python object each.
    lengths: array[int] = field(default_factory=lambda: array("q"))
    sites: array[int] = field(default_factory=lambda: array("q"))
    keep_values: array[float] = field(default_factory=lambda: array("d"))
    id_hashes: array[int] = field(default_factory=lambda: array("Q"))
    positions: array[int] = field(default_factory=lambda: array("q"))
    starts: array[int] = field(default_factory=lambda: array("q", [0]))
    site_names: list[str] = field(default_factory=list)
    site_numbers: dict[str, int] = field(default_factory=dict)
    bad: int = 0
    bad_examples: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def site(self, name: str) -> int:
        number = self.site_numbers.get(name)
        if number is None:
            number = self.site_numbers[name] = len(self.site_names)
            self.site_names.append(name)
        return number

    def add(self, result: ReadResult, on_error: OnError) -> None:
        """Take a partition's read result (the next in input order)."""
        for message in result.bad:
            if on_error is OnError.STOP:
                raise InputError(_stopped_by(message))
            self.bad += 1
            if len(self.bad_examples) < _MAX_EXAMPLES:
                self.bad_examples.append(message)
        for kind, count in result.skipped:
            self.skipped[kind] = self.skipped.get(kind, 0) + count
        self.lengths.extend(result.lengths.tolist())
        self.sites.extend(self.site(name) for name in result.sites)
        self.keep_values.extend(result.keep_values.tolist())
        self.id_hashes.extend(result.id_hashes.tolist())
        self.positions.extend(result.positions.tolist())
        self.starts.append(self.starts[-1] + len(result.positions))

    def selected(
        self, partitions: Iterable[Partition], chosen: npt.NDArray[np.bool_]
    ) -> Iterator[tuple[npt.NDArray[np.int64], Partition]]:
        """For each partition with a ``chosen`` document: those documents'
        numbers and the partition narrowed to them."""
        starts = np.frombuffer(self.starts, dtype=np.int64)
        positions = np.frombuffer(self.positions, dtype=np.int64)
        for p, partition in enumerate(partitions):
            lo, hi = int(starts[p]), int(starts[p + 1])
            numbers = lo + np.flatnonzero(chosen[lo:hi])
            if len(numbers):
                yield numbers, partition.only(positions[numbers].tolist())


def _keep_rank(docs: _Documents, options: CorpusOptions) -> npt.NDArray[np.int64]:
    n = len(docs.lengths)
    position = np.arange(n, dtype=np.int64)
    if options.keep_by is not None:
        values = np.frombuffer(docs.keep_values, dtype=np.float64)
        missing = np.isnan(values)
        order = np.lexsort((position, -np.where(missing, 0.0, values), missing))
    elif options.keep is KeepPolicy.LONGEST:
        order = np.lexsort((position, -np.frombuffer(docs.lengths, dtype=np.int64)))
    else:
        return position
    rank = np.empty(n, dtype=np.int64)
    rank[order] = position
    return rank


class CorpusResult:
    """The outcome of :func:`dedupe_corpus`.

    The analysis (clusters, boilerplate keys) is done when it is returned.
    Iterating yields each kept record as a dict, in input order, with its
    text field cleaned; :attr:`summary` and :attr:`boilerplate` are available
    once the iteration has ended. Use it as a context manager (or call
    :meth:`close`) to stop the workers and remove temporary files early.

    ``clusters`` holds document numbers (0-based input positions of the good
    records); ``edges`` every candidate pair verified at or above the
    threshold, with its exact Jaccard similarity in ``edge_similarity``: the
    evidence the clusters were built from.
    """

    def __init__(
        self,
        *,
        source: Source,
        options: CorpusOptions,
        executor: Executor,
        workdir: tempfile.TemporaryDirectory[str],
        progress: Progress,
        compiled: bool = True,
    ) -> None:
        self.source = source
        self._compiled = compiled
        self.options = options
        self._executor = executor
        self._workdir = workdir
        self._progress = progress
        self._timings: dict[str, float] = {}
        self._docs = _Documents()
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
        self._summary: CorpusSummary | None = None
        self._described: list[BoilerplateParagraph] | None = None
        self._started = time.perf_counter()

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
        pending: deque[npt.NDArray[np.int64]] = deque()

        def tasks() -> Iterator[T]:
            for numbers, partition in self._docs.selected(self._partitions(), chosen):
                pending.append(numbers)
                yield task(numbers, partition)

        for result in self._executor.map(fn, tasks()):
            yield pending.popleft(), result

    def _kept(self) -> npt.NDArray[np.bool_]:
        """Whether each document survives the near-duplicate stage."""
        kept = np.ones(len(self._nbytes), dtype=bool)
        kept[self.clusters.dropped] = False
        return kept

    def _timed(self, stage: str, started: float) -> None:
        self._timings[stage] = round(time.perf_counter() - started, 3)

    def analyse(self) -> None:
        options = self.options
        work = Path(self._workdir.name)
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
        self._progress.start("read", None)

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
            for result in self._executor.map(read_chunk, tasks()):
                self._docs.add(result, options.on_error)
                if bands is not None and result.bands is not None:
                    bands.append(result.bands)
                if keys is not None:
                    keys.append(result.keys, result.key_sizes)
                nbytes.append(result.nbytes)
                self._progress.advance(len(result.nbytes))
        finally:
            if bands is not None:
                bands.close()
            if keys is not None:
                keys.close()
        self._kept_partitions = kept
        self._nbytes = np.concatenate([np.empty(0, np.int64), *nbytes])
        self._check_ids()
        self._timed("read", started)

        if bands is not None and near is not None:
            self.clusters = self._near_duplicates(bands, near, work)
        if keys is not None and options.boilerplate is not None:
            started = time.perf_counter()
            self._progress.start("boilerplate", None)
            self._boilerplate = self._count_boilerplate(keys, self._kept(), options.boilerplate)
            self._progress.advance(len(np.unique(self._boilerplate.key)))
            self._timed("boilerplate", started)

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
        if isinstance(self._executor, NearDupEngine):
            return self._near_duplicates_on(self._executor, bands, near)
        started = time.perf_counter()
        self._progress.start("candidates", None)
        pairs = bands.candidates(self._executor)
        self._candidate_pairs = len(pairs)
        self._progress.advance(len(pairs))
        self._timed("candidates", started)
        if not len(pairs):
            return self.clusters

        started = time.perf_counter()
        candidates = np.unique(pairs)
        wanted = np.zeros(len(self._nbytes), dtype=bool)
        wanted[candidates] = True
        store = ShingleStore(work / "shingles", candidates)
        self._progress.start("shingles", len(candidates))

        def task(_: npt.NDArray[np.int64], partition: Partition) -> tuple[Partition, int, bool]:
            return partition, near.ngram, self._compiled

        try:
            for numbers, found in self._map_chosen(candidate_shingles, wanted, task):
                self._ids.update(zip(numbers.tolist(), found.ids, strict=True))
                store.append(found.shingles)
                self._progress.advance(len(numbers))
        finally:
            store.close()
        self._timed("shingles", started)

        started = time.perf_counter()
        self._progress.start("verify", len(pairs))

        def measure(docs: Pairs) -> npt.NDArray[np.float64]:
            rows = store.rows(docs)
            tasks = (
                VerifyTask(store.hashes_path, store.offsets_path, rows[i : i + _VERIFY_CHUNK])
                for i in range(0, len(rows), _VERIFY_CHUNK)
            )
            parts = []
            for sims in self._executor.map(verify_chunk, tasks):
                parts.append(sims)
                self._progress.advance(len(sims))
            return np.concatenate([np.empty(0, np.float64), *parts])

        similarity = measure(pairs)
        good = similarity >= near.threshold
        self.edges, self.edge_similarity = pairs[good], similarity[good]
        self._verified_pairs = len(self.edges)
        self._timed("verify", started)

        started = time.perf_counter()
        self._progress.start("clusters", None)
        clusters = resolve_clusters(
            pairs,
            similarity,
            _keep_rank(self._docs, self.options),
            threshold=near.threshold,
            measure=measure,
        )
        self._progress.advance(clusters.count)
        self._timed("clusters", started)
        return clusters

    def _near_duplicates_on(
        self, engine: NearDupEngine, bands: BandStore, near: NearDupOptions
    ) -> Clusters:
        started = time.perf_counter()
        self._progress.start("near-duplicates", None)

        def reads(
            wanted: npt.NDArray[np.bool_],
        ) -> Iterator[tuple[npt.NDArray[np.int64], Partition]]:
            return self._docs.selected(self._partitions(), wanted)

        rank = _keep_rank(self._docs, self.options)
        found = engine.near_duplicates(NearDupJob(bands, near, rank, reads))
        self.edges, self.edge_similarity = found.edges, found.similarity
        self._candidate_pairs, self._verified_pairs = found.candidate_pairs, len(found.edges)
        self._progress.advance(found.candidate_pairs)
        self._fetch_ids(found.clusters.documents)
        self._timed("near-duplicates", started)
        return found.clusters

    def _fetch_ids(self, documents: npt.NDArray[np.int64]) -> None:
        """Read the ids of ``documents`` (for the cluster report)."""
        wanted = np.zeros(len(self._nbytes), dtype=bool)
        wanted[documents] = True
        for numbers, ids in self._map_chosen(record_ids, wanted, lambda _, p: p):
            self._ids.update(zip(numbers.tolist(), ids, strict=True))

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
        self._progress.start("output", int(kept.sum()))

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
            self._progress.advance(result.count)
        self._timed("output", started)
        self._described = describe(self._boilerplate, self._docs.site_names, samples)
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
        self._progress.start("output", int(kept.sum()))
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
            self._progress.advance(len(numbers))
        if run is not None:
            yield run
        self._timed("output", started)
        self._described = describe(self._boilerplate, self._docs.site_names, {})
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
        self._executor.close()
        own, workers = _peak_memory()
        if isinstance(self._executor, MeasuresWorkers):
            workers = max(self._executor.peak_worker_memory().values(), default=0)
        self._timings["total"] = round(time.perf_counter() - self._started, 3)
        dropped = self.clusters.dropped
        self._summary = CorpusSummary(
            documents_in=len(self._nbytes),
            documents_out=out,
            bad_records=self._docs.bad,
            bad_record_examples=tuple(self._docs.bad_examples),
            clusters=self.clusters.count,
            duplicates=len(dropped),
            candidate_pairs=self._candidate_pairs,
            verified_pairs=self._verified_pairs,
            boilerplate_paragraphs=len(self._described or ()),
            documents_emptied=emptied,
            bytes_in=int(self._nbytes.sum()),
            bytes_removed=BytesRemoved(
                near_dups=int(self._nbytes[dropped].sum()),
                boilerplate=cut_bytes,
                clean=clean_bytes,
            ),
            band_choice=self.band_choice,
            parameters=self.options.parameters(),
            workers=self._executor.workers,
            timings=dict(self._timings),
            peak_memory=own,
            peak_worker_memory=workers,
            skipped_records=dict(sorted(self._docs.skipped.items())),
        )
        self.close()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        field_name = self.source.text_field
        for record, text in self.documents():
            fields = dict(record.fields) if record.fields is not None else {"id": record.id}
            fields[field_name] = text
            yield fields

    @property
    def summary(self) -> CorpusSummary:
        if self._summary is None:
            raise RuntimeError(
                "the summary is ready once every record has been read from the result"
            )
        return self._summary

    @property
    def boilerplate(self) -> list[BoilerplateParagraph]:
        if self._described is None:
            raise RuntimeError("boilerplate is described once every record has been read")
        return self._described

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers (``abort``: at once, without waiting for running
        tasks) and remove the temporary files."""
        if abort and isinstance(self._executor, ProcessExecutor):
            self._executor.terminate()
        else:
            self._executor.close()
        self._workdir.cleanup()

    def __enter__(self) -> CorpusResult:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(abort=kind is not None)


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
        progress=progress or _NoProgress(),
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
    an input, holds one or lies inside one, and :class:`InputError` (with
    nothing written) when the input holds no records at all.
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
                if isinstance(writer, WarcWriter):
                    for number, path, start, end in result.kept_runs():
                        writer.copy(number, path, start, end)
                elif isinstance(writer, JsonlWriter) and result.copies_lines():
                    for number, path, start, end in result.kept_runs():
                        writer.copy_lines(number, path, start, end)
                elif isinstance(writer, JsonlWriter):
                    for number, lines in result.lines():
                        writer.write_rendered(number, lines)
                else:
                    for record, text in result.documents():
                        writer.write(record, text)
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
