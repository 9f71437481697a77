"""The per-document table a corpus run keeps in its main process, and the first-record check."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dedupe.cleaning.groups import KeepPolicy
from dedupe.corpus.options import CorpusOptions, OnError
from dedupe.corpus.tasks import ReadResult
from dedupe.errors import InputError
from dedupe.io.sources import (
    BadRecord,
    Partition,
    Source,
)

_MAX_EXAMPLES = 10


def stopped_by(message: str) -> str:
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
                    raise InputError(stopped_by(item.message))
                return
    finally:
        close = getattr(partitions, "close", None)
        if close is not None:
            close()


@dataclass(slots=True)
class Documents:
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
                raise InputError(stopped_by(message))
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


def keep_rank(docs: Documents, options: CorpusOptions) -> npt.NDArray[np.int64]:
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
