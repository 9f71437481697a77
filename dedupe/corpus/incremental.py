"""A corpus run against what was kept before: a :class:`NearDuplicateIndex`
("a new crawl every week").

Documents that near-duplicate an indexed one are dropped before the run
(:func:`screen`), the rest are deduplicated among themselves as usual, and
what the run keeps can then be added to the index (:func:`add_kept`), with
its original text, so that next week's crawl is checked against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dedupe.core.keys import site_of
from dedupe.corpus.near_duplicates import NearDupOptions
from dedupe.index import NearDuplicateIndex
from dedupe.io.sources import InputFormat, Item, Partition, Record, Source, Url


@dataclass(frozen=True, slots=True)
class AgainstIndex:
    """Run against the :class:`NearDuplicateIndex` at ``index`` (a path or an
    index URL); ``add``: add the kept documents to it at the end (creating it,
    with the run's near-duplicate parameters, when missing)."""

    index: str | Path
    add: bool = False

    def open(self, near: NearDupOptions | None) -> NearDuplicateIndex:
        """The index; without ``add`` it must exist."""
        near = near or NearDupOptions()
        create = near.index_params()
        return NearDuplicateIndex.existing(self.index, create_with=create if self.add else None)


@dataclass(frozen=True, slots=True)
class IndexedDuplicate:
    """A document dropped as a near-duplicate of the indexed ``indexed_id``
    (one line of ``indexed.jsonl``), with their exact Jaccard similarity."""

    id: str
    indexed_id: str
    similarity: float


class _Without:
    """``source`` with some records left out: the partitions cut with
    ``size`` records, narrowed to ``wanted[k]`` where partition ``k`` lost
    records."""

    def __init__(self, source: Source, size: int, wanted: dict[int, list[int]]) -> None:
        self._source = source
        self._size = size
        self._wanted = wanted

    @property
    def partition_size(self) -> int:
        """Records a partition: the only cut this source reads in."""
        return self._size

    @property
    def format(self) -> InputFormat:
        return self._source.format

    @property
    def text_field(self) -> str:
        return self._source.text_field

    @property
    def names(self) -> tuple[str, ...]:
        return self._source.names

    @property
    def paths(self) -> tuple[Path | Url, ...]:
        return self._source.paths

    def __iter__(self) -> Iterator[Item]:
        for partition in self.partitions(self._size):
            for _, item in partition.items():
                yield item

    def partitions(self, size: int) -> Iterator[Partition]:
        if size != self._size:
            raise ValueError(f"cut with {self._size} records a partition, not {size}")
        for k, partition in enumerate(self._source.partitions(size)):
            wanted = self._wanted.get(k)
            yield partition if wanted is None else partition.only(wanted)


@dataclass(frozen=True, slots=True)
class Screened:
    """The source without the documents the index already holds, and those documents."""

    source: Source
    duplicates: tuple[IndexedDuplicate, ...]


def screen(source: Source, index: NearDuplicateIndex, *, size: int) -> Screened:
    """Check every document of ``source`` against ``index`` (in this process,
    one at a time); bad records stay for the run to report."""
    wanted: dict[int, list[int]] = {}
    found: list[IndexedDuplicate] = []
    for k, partition in enumerate(source.partitions(size)):
        keep: list[int] = []
        lost = False
        for position, item in partition.items():
            match = index.check(item.text) if isinstance(item, Record) else None
            if match is None or not isinstance(item, Record):
                keep.append(position)
                continue
            lost = True
            found.append(IndexedDuplicate(item.id, match.doc_id, round(match.similarity, 6)))
        if lost:
            wanted[k] = keep
    return Screened(_Without(source, size, wanted), tuple(found))


def add_kept(
    source: Source, dropped: npt.NDArray[np.int64], index: NearDuplicateIndex, *, size: int
) -> int:
    """Add the good records of ``source`` not in ``dropped`` (document
    numbers: good records counted in input order) to ``index``, each with its
    original text and the host of its ``url`` as its site; how many."""
    drop = set(dropped.tolist())
    number = added = 0
    for partition in source.partitions(size):
        for _, item in partition.items():
            if not isinstance(item, Record):
                continue
            if number not in drop:
                fields: Any = item.fields or {}
                index.add(item.id, item.text, site=site_of(fields.get("url")) or None)
                added += 1
            number += 1
    return added
