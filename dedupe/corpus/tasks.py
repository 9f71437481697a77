"""Per-partition stage functions of a corpus run, run in the executor.

Each takes a partition of the input (:class:`dedupe.io.sources.Partition`)
and reads and parses it itself, so the main process never parses a record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from xxhash import xxh3_64_intdigest

from dedupe.cleaning.pipeline import CleanOptions, clean_with
from dedupe.core.candidates import BandChoice
from dedupe.core.keys import site_of
from dedupe.core.minhash import use_compiled
from dedupe.core.paragraphs import join_kept
from dedupe.corpus.boilerplate import (
    BoilerplateOptions,
    cut_boilerplate,
    document_keys,
    key_texts,
)
from dedupe.corpus.near_duplicates import (
    ChunkBands,
    ChunkShingles,
    NearDupOptions,
    ShingleTask,
    SignTask,
    shingle_chunk,
    sign_chunk,
)
from dedupe.io.records import comparable
from dedupe.io.sinks import render_line
from dedupe.io.sources import (
    BadRecord,
    LinePartition,
    Partition,
    Record,
    SkipsRecords,
    records_of,
)

_NO_KEYS = np.empty(0, np.uint64)


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


def utf8(text: str) -> int:
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
        nbytes=np.fromiter((utf8(r.text) for r in records), dtype=np.int64, count=len(texts)),
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
            cut_bytes += utf8(text) - utf8(cut.text)
            text = cut.text
        if task.clean is not None and text:
            cleaned = _clean(text, task.clean)
            clean_bytes += utf8(text) - utf8(cleaned)
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
